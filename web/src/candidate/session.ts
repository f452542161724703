import { applyCaptionEvent, liveCaption, noCaptions, type Captions, type LiveCaption } from "../shared/captions";
import { asKnownEvent } from "../shared/events";
import { normalizeSummary } from "../shared/summary";
import type {
  AnswerScoreView,
  CandidateNotice,
  CandidateSnapshot,
  InterviewMode,
  InterviewState,
  PromptPayload,
  RawEvent,
  Summary,
} from "../shared/types";
import { ANSWERING_STATES, FINAL_STATES } from "../shared/types";

export interface CandidateHint {
  text: string;
  strength: number;
}

/** What the candidate app knows about its interview, built from the join snapshot and events. */
export interface CandidateSession {
  interviewId: string;
  mode: InterviewMode;
  state: InterviewState;
  templateTitle: string;
  notice: CandidateNotice;
  prompt: PromptPayload | null;
  /** Every prompt seen, oldest first (practice feedback names the question). */
  prompts: PromptPayload[];
  /** prompt_id → the submitted answer text. */
  answers: Record<string, string>;
  /** prompt_id → the live caption of a spoken answer (final once the answer is in). */
  captions: Captions;
  /** prompt_id → hints given for it, in order. */
  hints: Record<string, CandidateHint[]>;
  /** prompt_id → the practice-mode score. */
  scores: Record<string, AnswerScoreView>;
  summary: Summary | null;
  endedReason: string | null;
}

/** A session with the snapshot's facts but no prompt yet: the base before the join's events. */
export function emptySession(snapshot: CandidateSnapshot): CandidateSession {
  return { ...sessionFromSnapshot(snapshot, null), prompt: null, prompts: [] };
}

/** The session after a join: the snapshot's state and prompt over what was known before. */
export function sessionFromSnapshot(
  snapshot: CandidateSnapshot,
  previous: CandidateSession | null,
): CandidateSession {
  const base: CandidateSession = previous ?? {
    interviewId: snapshot.interview_id,
    mode: snapshot.mode,
    state: snapshot.state,
    templateTitle: snapshot.template_title,
    notice: snapshot.notice,
    prompt: null,
    prompts: [],
    answers: {},
    captions: noCaptions,
    hints: {},
    scores: {},
    summary: null,
    endedReason: null,
  };
  const session: CandidateSession = {
    ...base,
    interviewId: snapshot.interview_id,
    mode: snapshot.mode,
    state: snapshot.state,
    templateTitle: snapshot.template_title,
    notice: snapshot.notice ?? base.notice,
    prompt: snapshot.prompt ?? null,
  };
  if (!snapshot.prompt) return session;
  const remembered = rememberPrompt(session, snapshot.prompt);
  const promptId = snapshot.prompt.prompt_id;
  if (snapshot.answered && remembered.answers[promptId] === undefined) {
    return { ...remembered, answers: { ...remembered.answers, [promptId]: "" } };
  }
  return remembered;
}

function rememberPrompt(session: CandidateSession, prompt: PromptPayload): CandidateSession {
  if (session.prompts.some((known) => known.prompt_id === prompt.prompt_id)) return session;
  return { ...session, prompts: [...session.prompts, prompt] };
}

/** Applies one candidate-visible event; unknown or irrelevant events change nothing. */
export function applyCandidateEvent(session: CandidateSession, raw: RawEvent): CandidateSession {
  const event = asKnownEvent(raw);
  if (!event) return session;
  switch (event.type) {
    case "state_changed":
      return { ...session, state: event.payload.state };
    case "prompt":
      return rememberPrompt({ ...session, prompt: event.payload }, event.payload);
    case "answer_partial":
      return { ...session, captions: applyCaptionEvent(session.captions, raw) };
    case "answer_final":
      return {
        ...session,
        answers: { ...session.answers, [event.payload.prompt_id]: event.payload.text },
        captions: applyCaptionEvent(session.captions, raw),
      };
    case "hint": {
      const { prompt_id: promptId, text, strength } = event.payload;
      return addHint(session, promptId, { text, strength });
    }
    case "score":
      return {
        ...session,
        scores: { ...session.scores, [event.payload.prompt_id]: event.payload },
      };
    case "summary":
      return { ...session, summary: normalizeSummary(event.payload) };
    case "ended":
      return {
        ...session,
        endedReason: event.payload.reason,
        state: FINAL_STATES.includes(session.state) ? session.state : "done",
      };
    default:
      return session;
  }
}

/** Adds a hint unless the same text was already shown for this prompt (ack and event both carry it). */
export function addHint(
  session: CandidateSession,
  promptId: string,
  hint: CandidateHint,
): CandidateSession {
  const known = session.hints[promptId] ?? [];
  if (known.some((existing) => existing.text === hint.text)) return session;
  return { ...session, hints: { ...session.hints, [promptId]: [...known, hint] } };
}

export function applyCandidateEvents(
  session: CandidateSession,
  events: readonly RawEvent[],
): CandidateSession {
  return events.reduce(applyCandidateEvent, session);
}

export function isFinished(session: CandidateSession): boolean {
  return FINAL_STATES.includes(session.state) || session.endedReason !== null;
}

/** Whether the current prompt can be answered now. */
export function canAnswer(session: CandidateSession): boolean {
  const prompt = session.prompt;
  return (
    prompt !== null &&
    ANSWERING_STATES.includes(session.state) &&
    session.answers[prompt.prompt_id] === undefined
  );
}

/** The live caption of the candidate's spoken answer to the current prompt, while it is open. */
export function currentCaption(session: CandidateSession): LiveCaption | null {
  const prompt = session.prompt;
  if (!prompt || session.answers[prompt.prompt_id] !== undefined) return null;
  return liveCaption(session.captions, prompt.prompt_id);
}

/** The final answer to the current prompt when it was spoken (shown as "we heard"), or null. */
export function currentSpokenAnswer(session: CandidateSession): string | null {
  const prompt = session.prompt;
  if (!prompt) return null;
  const caption = session.captions[prompt.prompt_id];
  return caption?.final && caption.source === "voice" ? caption.text : null;
}
