import type { AnswerScoreView, HintView, Report, TranscriptEntry } from "../shared/types";

export interface ReportRow {
  key: string;
  entry: TranscriptEntry | null;
  score: AnswerScoreView | null;
  /** For an unscored entry whose question was scored on another prompt (e.g. its follow-up). */
  scoredWith: string | null;
  hints: HintView[];
}

function questionOf(row: ReportRow): string | null {
  return row.entry?.question_id ?? row.score?.question_id ?? null;
}

/**
 * One row per transcript entry in order, with its score (by prompt_id) and hints taken (by
 * prompt_id, else by question_id on the first entry of that question); scores without a
 * transcript entry come last, so nothing scored is ever hidden. An entry without a score whose
 * question was scored on another prompt (the server keeps one score per question, a
 * follow-up's replacing the first) points to that row.
 */
export function buildReportRows(report: Report): ReportRow[] {
  const answers = report.scores?.answers ?? [];
  const hints = report.hints ?? report.scores?.hints ?? [];
  const scoreByPrompt = new Map(answers.map((score) => [score.prompt_id, score]));
  const used = new Set<string>();
  const hintUsed = new Set<HintView>();

  const rows: ReportRow[] = (report.transcript ?? []).map((entry) => {
    const score = scoreByPrompt.get(entry.prompt_id) ?? null;
    if (score) used.add(score.prompt_id);
    return { key: entry.prompt_id, entry, score, scoredWith: null, hints: [] };
  });
  for (const score of answers) {
    if (!used.has(score.prompt_id)) {
      rows.push({ key: score.prompt_id, entry: null, score, scoredWith: null, hints: [] });
    }
  }
  for (const row of rows) {
    const question = questionOf(row);
    if (row.score || !question) continue;
    const other = rows.find((candidate) => candidate.score && candidate.score.question_id === question);
    if (other) row.scoredWith = other.key;
  }

  for (const hint of hints) {
    if (!hint.prompt_id) continue;
    const row = rows.find((candidate) => candidate.key === hint.prompt_id);
    if (row) {
      row.hints.push(hint);
      hintUsed.add(hint);
    }
  }
  for (const hint of hints) {
    if (hintUsed.has(hint)) continue;
    const row = rows.find((candidate) => questionOf(candidate) === hint.question_id);
    if (row) row.hints.push(hint);
  }
  return rows;
}
