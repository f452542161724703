// Builders of wire events for tests.
import type { AnswerScoreView, EventPayloads, EventType, Interview, PromptPayload, RawEvent } from "./types";

export function ev<T extends EventType>(seq: number, type: T, payload: EventPayloads[T]): RawEvent {
  return { seq, type, at: `2026-01-01T10:00:${String(seq).padStart(2, "0")}Z`, payload };
}

export function prompt(id: string, number = 1, extra: Partial<PromptPayload> = {}): PromptPayload {
  return {
    prompt_id: id,
    kind: "question",
    question_id: `q-${id}`,
    text: `Question ${id}?`,
    competency: "design",
    number,
    budget: 6,
    ...extra,
  };
}

export function score(promptId: string, extra: Partial<AnswerScoreView> = {}): AnswerScoreView {
  return {
    prompt_id: promptId,
    question_id: `q-${promptId}`,
    question_text: `Question ${promptId}?`,
    competency: "design",
    answer_text: "I would add a cache in front of the database.",
    level: 4,
    score: 0.75,
    confidence: 0.8,
    insufficient_evidence: false,
    reason: null,
    evidence: [{ start: 14, end: 21, indicator: "caching" }],
    matched_indicators: ["caching"],
    missing_indicators: ["invalidation"],
    ...extra,
  };
}

export function interview(extra: Partial<Interview> = {}): Interview {
  return {
    id: "11111111-2222-3333-4444-555555555555",
    template_id: "t-1",
    template_title: "Backend engineer",
    candidate_id: "99999999-8888-7777-6666-555555555555",
    mode: "real",
    state: "questioning",
    window_start: null,
    window_end: null,
    created_at: "2026-01-01T09:00:00Z",
    started_at: "2026-01-01T10:00:00Z",
    ended_at: null,
    last_seq: 0,
    ...extra,
  };
}
