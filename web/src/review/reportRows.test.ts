import { describe, expect, it } from "vitest";
import { interview, score } from "../shared/test-fixtures";
import type { Report, TranscriptEntry } from "../shared/types";
import { buildReportRows } from "./reportRows";

const entry = (promptId: string, kind: TranscriptEntry["kind"] = "question"): TranscriptEntry => ({
  prompt_id: promptId,
  kind,
  question_text: `Question ${promptId}?`,
  answer_text: "answer",
  asked_at: null,
  answered_at: null,
});

function report(extra: Partial<Report>): Report {
  return {
    interview: interview({ state: "done" }),
    template: { slug: "be", title: "Backend", role: "Engineer" },
    scores: { answers: [], competencies: [], overall: null, hints: [] },
    transcript: [],
    notes: [],
    hints: [],
    ...extra,
  };
}

describe("buildReportRows", () => {
  it("pairs transcript entries with scores and keeps unscored and orphan scores", () => {
    const rows = buildReportRows(
      report({
        transcript: [entry("p1"), entry("p2", "follow_up"), entry("p3", "closing")],
        scores: { answers: [score("p2"), score("p1"), score("lost")], competencies: [], overall: null, hints: [] },
      }),
    );
    expect(rows.map((row) => [row.key, row.entry?.kind ?? null, row.score?.prompt_id ?? null])).toEqual([
      ["p1", "question", "p1"],
      ["p2", "follow_up", "p2"],
      ["p3", "closing", null],
      ["lost", null, "lost"],
    ]);
  });

  it("attaches hints by prompt_id, else by question_id", () => {
    const rows = buildReportRows(
      report({
        transcript: [entry("p1"), entry("p2")],
        scores: { answers: [score("p1"), score("p2")], competencies: [], overall: null, hints: [] },
        hints: [
          { prompt_id: "p2", question_id: "q-p2", text: "by prompt", strength: 1 },
          { question_id: "q-p1", text: "by question", strength: 2 },
        ],
      }),
    );
    expect(rows[0]?.hints.map((hint) => hint.text)).toEqual(["by question"]);
    expect(rows[1]?.hints.map((hint) => hint.text)).toEqual(["by prompt"]);
  });

  it("points a question scored through its follow-up to that row, and hangs hints on the question", () => {
    const rows = buildReportRows(
      report({
        transcript: [
          { ...entry("p1"), question_id: "q-main" },
          { ...entry("p2", "follow_up"), question_id: "q-main" },
        ],
        scores: {
          answers: [score("p2", { question_id: "q-main" })],
          competencies: [],
          overall: null,
          hints: [{ question_id: "q-main", text: "nudge", strength: 1 }],
        },
        hints: undefined as unknown as Report["hints"],
      }),
    );
    expect(rows.map((row) => [row.key, row.score?.prompt_id ?? null, row.scoredWith])).toEqual([
      ["p1", null, "p2"],
      ["p2", "p2", null],
    ]);
    expect(rows[0]?.hints.map((hint) => hint.text)).toEqual(["nudge"]);
  });
});
