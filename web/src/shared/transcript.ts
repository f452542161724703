import type { LiveCaption } from "./captions";
import { asKnownEvent } from "./events";
import { normalizeSummary } from "./summary";
import type {
  AnswerScoreView,
  Interview,
  InterviewState,
  ObserverAction,
  PromptPayload,
  RawEvent,
  Summary,
} from "./types";

export interface TranscriptAnswer {
  text: string;
  source: "typed" | "voice";
  at: string;
}

/** What the candidate heard of a spoken prompt (`prompt_played`). */
export interface PlayedPrompt {
  textPlayed: string;
  /** False: the candidate started speaking and cut the question short (barge-in). */
  complete: boolean;
  seconds: number;
  at: string;
}

/** One prompt and what followed it. */
export interface TranscriptItem {
  prompt: PromptPayload;
  askedAt: string;
  /** Live caption while the candidate speaks; cleared by the final answer. */
  partial: LiveCaption | null;
  /** The latest `prompt_played` of this prompt (spoken again after a voice reconnect). */
  played: PlayedPrompt | null;
  answer: TranscriptAnswer | null;
  score: AnswerScoreView | null;
  hints: { text: string; strength: number; at: string }[];
}

export type LogEntry =
  | { seq: number; at: string; kind: "note"; text: string; by: string }
  | { seq: number; at: string; kind: "action"; action: ObserverAction; by: string }
  | { seq: number; at: string; kind: "state"; state: InterviewState; previous: InterviewState | null };

/** What an observer sees of one interview, built from `watch` and live events. */
export interface WatchState {
  interview: Interview | null;
  state: InterviewState | null;
  items: TranscriptItem[];
  log: LogEntry[];
  summary: Summary | null;
  endedReason: string | null;
  lastSeq: number;
}

export const emptyWatchState: WatchState = {
  interview: null,
  state: null,
  items: [],
  log: [],
  summary: null,
  endedReason: null,
  lastSeq: 0,
};

function placeholderPrompt(promptId: string, questionText = ""): PromptPayload {
  return {
    prompt_id: promptId,
    kind: "question",
    question_id: null,
    text: questionText,
    competency: null,
    number: 0,
    budget: 0,
  };
}

/** Updates the item for `promptId`, creating a placeholder when its prompt came before the watch. */
function updateItem(
  state: WatchState,
  promptId: string,
  at: string,
  change: (item: TranscriptItem) => TranscriptItem,
  questionText?: string,
): WatchState {
  const index = state.items.findIndex((item) => item.prompt.prompt_id === promptId);
  if (index === -1) {
    const fresh: TranscriptItem = {
      prompt: placeholderPrompt(promptId, questionText),
      askedAt: at,
      partial: null,
      played: null,
      answer: null,
      score: null,
      hints: [],
    };
    return { ...state, items: [...state.items, change(fresh)] };
  }
  const items = state.items.slice();
  items[index] = change(items[index] as TranscriptItem);
  return { ...state, items };
}

/** Applies one event. Callers pass events in `seq` order (see EventSequencer); repeats are ignored. */
export function applyWatchEvent(state: WatchState, raw: RawEvent): WatchState {
  if (raw.seq <= state.lastSeq) return state;
  const next = { ...state, lastSeq: raw.seq };
  const event = asKnownEvent(raw);
  if (!event) return next;
  const at = event.at;
  switch (event.type) {
    case "state_changed":
      return {
        ...next,
        state: event.payload.state,
        interview: next.interview ? { ...next.interview, state: event.payload.state } : null,
        log: [
          ...next.log,
          {
            seq: event.seq,
            at,
            kind: "state",
            state: event.payload.state,
            previous: event.payload.previous ?? null,
          },
        ],
      };
    case "prompt": {
      const prompt = event.payload;
      const index = next.items.findIndex((item) => item.prompt.prompt_id === prompt.prompt_id);
      if (index !== -1) {
        const items = next.items.slice();
        items[index] = { ...(items[index] as TranscriptItem), prompt };
        return { ...next, items };
      }
      return {
        ...next,
        items: [
          ...next.items,
          { prompt, askedAt: at, partial: null, played: null, answer: null, score: null, hints: [] },
        ],
      };
    }
    case "answer_partial":
      return updateItem(next, event.payload.prompt_id, at, (item) =>
        item.answer
          ? item
          : { ...item, partial: { text: event.payload.text, tentative: event.payload.tentative ?? "" } },
      );
    case "prompt_played": {
      const { prompt_id: promptId, text_played: textPlayed, complete, seconds } = event.payload;
      return updateItem(next, promptId, at, (item) => ({
        ...item,
        played: {
          textPlayed: typeof textPlayed === "string" ? textPlayed : "",
          complete: complete !== false,
          seconds: typeof seconds === "number" ? seconds : 0,
          at,
        },
      }));
    }
    case "answer_final":
      return updateItem(next, event.payload.prompt_id, at, (item) => ({
        ...item,
        partial: null,
        answer: { text: event.payload.text, source: event.payload.source, at },
      }));
    case "score":
      return updateItem(
        next,
        event.payload.prompt_id,
        at,
        (item) => ({
          ...item,
          score: event.payload,
          prompt: item.prompt.text ? item.prompt : { ...item.prompt, text: event.payload.question_text },
        }),
        event.payload.question_text,
      );
    case "hint":
      return updateItem(next, event.payload.prompt_id, at, (item) => ({
        ...item,
        hints: [...item.hints, { text: event.payload.text, strength: event.payload.strength, at }],
      }));
    case "note":
      return {
        ...next,
        log: [
          ...next.log,
          { seq: event.seq, at, kind: "note", text: event.payload.text, by: event.payload.by },
        ],
      };
    case "observer_action":
      return {
        ...next,
        log: [
          ...next.log,
          { seq: event.seq, at, kind: "action", action: event.payload.action, by: event.payload.by },
        ],
      };
    case "second_opinion": {
      const { level, rationale } = event.payload;
      return updateItem(next, event.payload.prompt_id, at, (item) =>
        // It arrives after the score it comments on; without that score there is nothing to show.
        item.score ? { ...item, score: { ...item.score, second_opinion: { level, rationale } } } : item,
      );
    }
    case "summary":
      return { ...next, summary: normalizeSummary(event.payload) };
    case "ended":
      return {
        ...next,
        endedReason: event.payload.reason,
        state: next.state === "cancelled" ? "cancelled" : "done",
      };
    default:
      return next;
  }
}

export function applyWatchEvents(state: WatchState, events: readonly RawEvent[]): WatchState {
  return events.reduce(applyWatchEvent, state);
}

/** Starts (or refreshes) the state from a `watch` ack's interview. */
export function withInterview(state: WatchState, interview: Interview): WatchState {
  return {
    ...state,
    interview,
    state: state.lastSeq > interview.last_seq && state.state ? state.state : interview.state,
  };
}

/** The prompt being answered now: the newest one. */
export function currentItem(state: WatchState): TranscriptItem | null {
  return state.items[state.items.length - 1] ?? null;
}
