import { describe, expect, it } from "vitest";
import { ev, prompt, score } from "../shared/test-fixtures";
import type { CandidateSnapshot } from "../shared/types";
import {
  addHint,
  applyCandidateEvents,
  canAnswer,
  currentCaption,
  currentSpokenAnswer,
  emptySession,
  isFinished,
  sessionFromSnapshot,
} from "./session";

function snapshot(extra: Partial<CandidateSnapshot> = {}): CandidateSnapshot {
  return {
    interview_id: "i-1",
    mode: "practice",
    state: "consent",
    template_title: "Backend engineer",
    prompt: null,
    draft: "",
    last_seq: 2,
    notice: { ai: "You are talking to an AI.", scoring: "Scored on a rubric." },
    ...extra,
  };
}

describe("candidate session", () => {
  it("starts from the join snapshot", () => {
    const session = sessionFromSnapshot(snapshot(), null);
    expect(session.state).toBe("consent");
    expect(session.prompt).toBeNull();
    expect(canAnswer(session)).toBe(false);
  });

  it("follows prompts and answers", () => {
    let session = sessionFromSnapshot(snapshot(), null);
    session = applyCandidateEvents(session, [
      ev(3, "state_changed", { state: "questioning", previous: "consent" }),
      ev(4, "prompt", prompt("p1", 1)),
    ]);
    expect(session.prompt?.prompt_id).toBe("p1");
    expect(canAnswer(session)).toBe(true);
    session = applyCandidateEvents(session, [ev(5, "answer_final", { prompt_id: "p1", text: "mine", source: "typed" })]);
    expect(canAnswer(session)).toBe(false);
    session = applyCandidateEvents(session, [ev(6, "prompt", prompt("p2", 2))]);
    expect(canAnswer(session)).toBe(true);
    expect(session.prompts.map((p) => p.prompt_id)).toEqual(["p1", "p2"]);
  });

  it("does not accept answers while paused", () => {
    const session = sessionFromSnapshot(snapshot({ state: "paused", prompt: prompt("p1") }), null);
    expect(canAnswer(session)).toBe(false);
  });

  it("keeps what it knew when re-joining, with the snapshot's state and prompt", () => {
    let session = sessionFromSnapshot(snapshot({ state: "questioning", prompt: prompt("p1") }), null);
    session = applyCandidateEvents(session, [ev(3, "score", score("p1"))]);
    const rejoined = sessionFromSnapshot(snapshot({ state: "follow_up", prompt: prompt("p2", 1, { kind: "follow_up" }) }), session);
    expect(rejoined.state).toBe("follow_up");
    expect(rejoined.prompt?.prompt_id).toBe("p2");
    expect(rejoined.scores.p1?.level).toBe(4);
    expect(rejoined.prompts.map((p) => p.prompt_id)).toEqual(["p1", "p2"]);
  });

  it("deduplicates hints given by ack and by event", () => {
    let session = sessionFromSnapshot(snapshot({ state: "questioning", prompt: prompt("p1") }), null);
    session = addHint(session, "p1", { text: "Think about reads", strength: 1 });
    session = applyCandidateEvents(session, [
      ev(3, "hint", { prompt_id: "p1", question_id: "q-p1", text: "Think about reads", strength: 1 }),
      ev(4, "hint", { prompt_id: "p1", question_id: "q-p1", text: "What about writes?", strength: 2 }),
    ]);
    expect(session.hints.p1?.map((hint) => hint.text)).toEqual(["Think about reads", "What about writes?"]);
  });

  it("finishes on ended or a final state", () => {
    const session = sessionFromSnapshot(snapshot({ state: "questioning" }), null);
    expect(isFinished(session)).toBe(false);
    const ended = applyCandidateEvents(session, [ev(3, "ended", { reason: "completed" })]);
    expect(isFinished(ended)).toBe(true);
    expect(ended.endedReason).toBe("completed");
    expect(isFinished(sessionFromSnapshot(snapshot({ state: "cancelled" }), null))).toBe(true);
  });

  it("orders prompts by the join's events when opened fresh mid-interview", () => {
    const snap = snapshot({ state: "questioning", prompt: prompt("p2", 2), last_seq: 5 });
    const events = [ev(1, "prompt", prompt("p1", 1)), ev(3, "prompt", prompt("p2", 2))];
    const session = sessionFromSnapshot(snap, applyCandidateEvents(emptySession(snap), events));
    expect(session.prompts.map((p) => p.prompt_id)).toEqual(["p1", "p2"]);
    expect(session.prompt?.prompt_id).toBe("p2");
  });

  it("takes snapshot.answered: a reloaded tab cannot answer the same prompt twice", () => {
    const session = sessionFromSnapshot(snapshot({ state: "questioning", prompt: prompt("p1"), answered: true }), null);
    expect(canAnswer(session)).toBe(false);
  });
});

describe("candidate captions", () => {
  it("shows the live caption of the current prompt until its final answer", () => {
    let session = sessionFromSnapshot(snapshot({ state: "questioning", prompt: prompt("p1") }), null);
    session = applyCandidateEvents(session, [
      ev(3, "answer_partial", { prompt_id: "p1", text: "I would" }),
      ev(4, "answer_partial", { prompt_id: "p1", text: "I would shard" }),
    ]);
    expect(currentCaption(session)).toEqual({ text: "I would shard", tentative: "" });
    expect(canAnswer(session)).toBe(true);
    session = applyCandidateEvents(session, [
      ev(5, "answer_final", { prompt_id: "p1", text: "I would shard by user.", source: "voice" }),
    ]);
    expect(currentCaption(session)).toBeNull();
    expect(currentSpokenAnswer(session)).toBe("I would shard by user.");
    expect(canAnswer(session)).toBe(false);
    session = applyCandidateEvents(session, [ev(6, "prompt", prompt("p2", 2))]);
    expect(currentCaption(session)).toBeNull();
    expect(currentSpokenAnswer(session)).toBeNull();
  });

  it("does not show a typed answer as spoken, nor a caption of another prompt", () => {
    let session = sessionFromSnapshot(snapshot({ state: "questioning", prompt: prompt("p2") }), null);
    session = applyCandidateEvents(session, [ev(3, "answer_partial", { prompt_id: "p1", text: "old" })]);
    expect(currentCaption(session)).toBeNull();
    session = applyCandidateEvents(session, [ev(4, "answer_final", { prompt_id: "p2", text: "typed", source: "typed" })]);
    expect(currentSpokenAnswer(session)).toBeNull();
  });

  it("keeps captions across a re-join", () => {
    let session = sessionFromSnapshot(snapshot({ state: "questioning", prompt: prompt("p1") }), null);
    session = applyCandidateEvents(session, [ev(3, "answer_partial", { prompt_id: "p1", text: "so far" })]);
    const rejoined = sessionFromSnapshot(snapshot({ state: "questioning", prompt: prompt("p1"), last_seq: 3 }), session);
    expect(currentCaption(rejoined)).toEqual({ text: "so far", tentative: "" });
  });
});
