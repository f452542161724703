import { describe, expect, it } from "vitest";
import { ev, interview, prompt, score } from "./test-fixtures";
import { applyWatchEvent, applyWatchEvents, currentItem, emptyWatchState, withInterview } from "./transcript";

describe("applyWatchEvents", () => {
  it("builds the transcript from prompt, partial, final and score events", () => {
    const state = applyWatchEvents(emptyWatchState, [
      ev(1, "state_changed", { state: "questioning", previous: "consent" }),
      ev(2, "prompt", prompt("p1", 1)),
      ev(3, "answer_partial", { prompt_id: "p1", text: "I would" }),
      ev(4, "answer_partial", { prompt_id: "p1", text: "I would add a" }),
    ]);
    expect(state.state).toBe("questioning");
    expect(state.items).toHaveLength(1);
    expect(currentItem(state)?.partial).toEqual({ text: "I would add a", tentative: "" });
    expect(currentItem(state)?.answer).toBeNull();

    const answered = applyWatchEvents(state, [
      ev(5, "answer_final", { prompt_id: "p1", text: "I would add a cache.", source: "voice" }),
      ev(6, "score", score("p1")),
    ]);
    const item = currentItem(answered);
    expect(item?.partial).toBeNull();
    expect(item?.answer).toEqual({ text: "I would add a cache.", source: "voice", at: "2026-01-01T10:00:05Z" });
    expect(item?.score?.level).toBe(4);
    expect(answered.lastSeq).toBe(6);
  });

  it("attaches a second opinion to the score it comments on", () => {
    const opinion = { prompt_id: "p1", question_id: "q-p1", level: 2, rationale: "No trade-off named." };
    const state = applyWatchEvents(emptyWatchState, [
      ev(1, "prompt", prompt("p1", 1)),
      ev(2, "answer_final", { prompt_id: "p1", text: "A cache.", source: "typed" }),
      ev(3, "score", score("p1")),
      ev(4, "second_opinion", opinion),
    ]);
    expect(currentItem(state)?.score?.level).toBe(4);
    expect(currentItem(state)?.score?.second_opinion).toEqual({ level: 2, rationale: "No trade-off named." });
  });

  it("ignores a late partial after the final answer", () => {
    const state = applyWatchEvents(emptyWatchState, [
      ev(1, "prompt", prompt("p1")),
      ev(2, "answer_final", { prompt_id: "p1", text: "done", source: "typed" }),
      ev(3, "answer_partial", { prompt_id: "p1", text: "do" }),
    ]);
    expect(currentItem(state)?.partial).toBeNull();
    expect(currentItem(state)?.answer?.text).toBe("done");
  });

  it("keeps prompts in order, follow-ups included", () => {
    const state = applyWatchEvents(emptyWatchState, [
      ev(1, "prompt", prompt("p1", 1)),
      ev(2, "answer_final", { prompt_id: "p1", text: "a", source: "typed" }),
      ev(3, "prompt", prompt("p2", 1, { kind: "follow_up" })),
      ev(4, "prompt", prompt("p3", 2, { kind: "injected", question_id: null })),
    ]);
    expect(state.items.map((item) => [item.prompt.prompt_id, item.prompt.kind])).toEqual([
      ["p1", "question"],
      ["p2", "follow_up"],
      ["p3", "injected"],
    ]);
  });

  it("ignores repeated and older events", () => {
    const once = applyWatchEvents(emptyWatchState, [ev(1, "prompt", prompt("p1")), ev(2, "note", { text: "n", by: "u" })]);
    const twice = applyWatchEvents(once, [ev(1, "prompt", prompt("p1")), ev(2, "note", { text: "n", by: "u" })]);
    expect(twice).toBe(once);
    expect(twice.items).toHaveLength(1);
    expect(twice.log).toHaveLength(1);
  });

  it("creates a placeholder for an answer or score whose prompt it never saw", () => {
    const state = applyWatchEvents(emptyWatchState, [ev(10, "score", score("old"))]);
    expect(state.items).toHaveLength(1);
    expect(state.items[0]?.prompt.text).toBe("Question old?");
    expect(state.items[0]?.score?.prompt_id).toBe("old");
  });

  it("collects notes, observer actions and state changes in the log", () => {
    const state = applyWatchEvents(emptyWatchState, [
      ev(1, "observer_action", { action: "pause", by: "staff-1" }),
      ev(2, "state_changed", { state: "paused", previous: "questioning" }),
      ev(3, "note", { text: "Strong on caching", by: "staff-1" }),
    ]);
    expect(state.log.map((entry) => entry.kind)).toEqual(["action", "state", "note"]);
    expect(state.state).toBe("paused");
  });

  it("adds hints to their prompt and keeps the latest summary", () => {
    const summary = { competencies: [], overall: { score: 0.5, standard_error: 0.2 }, hints: [] };
    const state = applyWatchEvents(emptyWatchState, [
      ev(1, "prompt", prompt("p1")),
      ev(2, "hint", { prompt_id: "p1", question_id: "q-p1", text: "Think about reads", strength: 1 }),
      ev(3, "summary", summary),
    ]);
    expect(state.items[0]?.hints.map((hint) => hint.text)).toEqual(["Think about reads"]);
    expect(state.summary).toEqual({ ...summary, overall: { score: 0.5, standard_error: 0.2, level: null } });
  });

  it("marks the interview ended", () => {
    const state = applyWatchEvents(emptyWatchState, [ev(1, "ended", { reason: "completed" })]);
    expect(state.endedReason).toBe("completed");
    expect(state.state).toBe("done");
  });

  it("skips unknown event types but moves the watermark", () => {
    const state = applyWatchEvent(emptyWatchState, { seq: 1, type: "media_quality", at: "", payload: {} });
    expect(state.items).toEqual([]);
    expect(state.lastSeq).toBe(1);
  });

  it("takes the interview from the watch ack and keeps a newer state from events", () => {
    const started = withInterview(emptyWatchState, interview({ state: "questioning", last_seq: 3 }));
    expect(started.state).toBe("questioning");
    const paused = applyWatchEvents(started, [ev(4, "state_changed", { state: "paused", previous: "questioning" })]);
    expect(paused.interview?.state).toBe("paused");
    const rewatched = withInterview(paused, interview({ state: "questioning", last_seq: 3 }));
    expect(rewatched.state).toBe("paused");
  });

  it("records what the candidate heard of a spoken prompt, cut short or in full", () => {
    const state = applyWatchEvents(emptyWatchState, [
      ev(1, "prompt", prompt("p1", 1)),
      ev(2, "prompt_played", { prompt_id: "p1", text_played: "Tell me about a time", complete: false, seconds: 1.8 }),
      ev(3, "answer_partial", { prompt_id: "p1", text: "Sure, once" }),
      ev(4, "answer_final", { prompt_id: "p1", text: "Sure, once we had an outage.", source: "voice" }),
      ev(5, "prompt", prompt("p2", 2)),
      ev(6, "prompt_played", { prompt_id: "p2", text_played: "Question p2?", complete: true, seconds: 2.5 }),
    ]);
    expect(state.items[0]?.played).toEqual({
      textPlayed: "Tell me about a time",
      complete: false,
      seconds: 1.8,
      at: "2026-01-01T10:00:02Z",
    });
    expect(state.items[0]?.answer?.source).toBe("voice");
    expect(state.items[0]?.partial).toBeNull();
    expect(state.items[1]?.played?.complete).toBe(true);
    expect(state.log).toEqual([]);
  });

  it("updates the current prompt's caption with each partial until the voice answer replaces it", () => {
    let state = applyWatchEvents(emptyWatchState, [ev(1, "prompt", prompt("p1"))]);
    state = applyWatchEvents(state, [ev(2, "answer_partial", { prompt_id: "p1", text: "We" })]);
    expect(currentItem(state)?.partial).toEqual({ text: "We", tentative: "" });
    state = applyWatchEvents(state, [ev(3, "answer_partial", { prompt_id: "p1", text: "We used Redis", tentative: "as a" })]);
    expect(currentItem(state)?.partial).toEqual({ text: "We used Redis", tentative: "as a" });
    state = applyWatchEvents(state, [
      ev(4, "answer_final", { prompt_id: "p1", text: "We used Redis as a cache.", source: "voice" }),
    ]);
    expect(currentItem(state)?.partial).toBeNull();
    expect(currentItem(state)?.answer).toMatchObject({ text: "We used Redis as a cache.", source: "voice" });
  });
});
