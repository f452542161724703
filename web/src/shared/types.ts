// The wire model of docs/api.md: REST bodies, interview events and Socket.IO acks.
// Fields the contract marks optional, or that the server may leave out, are typed optional
// or nullable so that the UI handles their absence.

export type Role = "candidate" | "interviewer" | "recruiter" | "admin";

export type InterviewMode = "real" | "practice";

export type InterviewState =
  | "scheduled"
  | "waiting"
  | "consent"
  | "questioning"
  | "follow_up"
  | "closing"
  | "done"
  | "paused"
  | "human_takeover"
  | "cancelled";

/** States in which the server accepts an answer. */
export const ANSWERING_STATES: readonly InterviewState[] = [
  "questioning",
  "follow_up",
  "human_takeover",
];

/** States after which nothing more happens. */
export const FINAL_STATES: readonly InterviewState[] = ["done", "cancelled"];

/** States before the candidate has consented. */
export const PRE_CONSENT_STATES: readonly InterviewState[] = ["scheduled", "waiting", "consent"];

export interface ApiErrorBody {
  code: string;
  message: string;
}

export interface Page<T> {
  items: T[];
  next_offset: number | null;
}

export interface CompetencyRef {
  id: string;
  name: string;
}

export interface TemplateSummary {
  id: string;
  slug: string;
  version: number | string;
  title: string;
  role: string;
  kind: string;
  question_count: number;
  competencies: CompetencyRef[];
}

export interface Interview {
  id: string;
  template_id: string;
  template_title: string;
  candidate_id: string;
  mode: InterviewMode;
  state: InterviewState;
  window_start: string | null;
  window_end: string | null;
  created_at: string;
  started_at: string | null;
  ended_at: string | null;
  last_seq: number;
}

export interface EvidenceSpan {
  /** Character offset (Python str index, i.e. Unicode code points) into the answer text. */
  start: number;
  /** Exclusive end offset. */
  end: number;
  indicator: string | null;
}

/** One level of the question's behaviourally anchored rating scale. */
export interface RubricLevel {
  level: number;
  anchor: string;
  indicators?: string[];
}

/** The question's rubric; optional in reports (see README "contract assumptions"). */
export interface RubricView {
  levels?: RubricLevel[];
  key_indicators?: string[];
  reference_answer?: string | null;
}

export interface SecondOpinionView {
  level: number;
  rationale: string;
}

export interface AnswerScoreView {
  prompt_id: string;
  question_id: string;
  question_text: string;
  competency: string;
  answer_text: string;
  level: number | null;
  score: number | null;
  confidence: number;
  insufficient_evidence: boolean;
  reason: string | null;
  evidence: EvidenceSpan[];
  matched_indicators: string[];
  missing_indicators: string[];
  /** Not in the contract table; shown when the server includes it (either form). */
  rubric?: RubricView | null;
  rubric_levels?: RubricLevel[];
  /** The optional language model's own level, advisory; only in reports, null when none. */
  second_opinion?: SecondOpinionView | null;
}

export interface CompetencyScore {
  id: string;
  name: string;
  score: number | null;
  standard_error: number | null;
  level: number | null;
  answered: number;
  insufficient: boolean;
}

export interface OverallScore {
  score: number;
  standard_error: number | null;
  /** Optional: the overall score on the 1–5 scale. */
  level?: number | null;
}

export interface HintView {
  prompt_id?: string;
  question_id: string;
  text: string;
  strength: number;
}

export interface Scores {
  answers: AnswerScoreView[];
  competencies: CompetencyScore[];
  overall: OverallScore | null;
  hints: HintView[];
}

export type Summary = Omit<Scores, "answers">;

export type PromptKind = "question" | "follow_up" | "injected" | "resume" | "closing";

export interface PromptPayload {
  prompt_id: string;
  kind: PromptKind;
  question_id: string | null;
  text: string;
  competency: string | null;
  number: number;
  budget: number;
}

export interface TranscriptEntry {
  prompt_id: string;
  kind: PromptKind;
  /** Optional: lets a question and its follow-ups share the question's score and hints. */
  question_id?: string | null;
  question_text: string;
  answer_text: string | null;
  asked_at: string | null;
  answered_at: string | null;
}

export interface ReportNote {
  seq: number;
  text: string;
  at: string;
  by?: string;
}

export interface Report {
  interview: Interview;
  template: { slug: string; title: string; role: string };
  scores: Scores;
  transcript: TranscriptEntry[];
  notes: ReportNote[];
  hints: HintView[];
}

export interface EventPayloads {
  state_changed: { state: InterviewState; previous: InterviewState | null };
  prompt: PromptPayload;
  answer_final: { prompt_id: string; text: string; source: "typed" | "voice" };
  /** `text` is stable (each extends the last); `tentative` words may still change. */
  answer_partial: { prompt_id: string; text: string; tentative?: string };
  /** Observers only: what the candidate heard of a spoken prompt (`complete` false: cut short). */
  prompt_played: { prompt_id: string; text_played: string; complete: boolean; seconds: number };
  score: AnswerScoreView;
  hint: { prompt_id: string; question_id: string; text: string; strength: number };
  observer_action: { action: ObserverAction; by: string };
  note: { text: string; by: string };
  summary: Summary;
  /** Observers only: the optional language model's own level for a scored answer. */
  second_opinion: { prompt_id: string; question_id: string } & SecondOpinionView;
  ended: { reason: string };
}

export type EventType = keyof EventPayloads;

interface EventBase<T extends EventType> {
  seq: number;
  type: T;
  at: string;
  payload: EventPayloads[T];
}

/** A discriminated union over every known event type. */
export type InterviewEvent = { [T in EventType]: EventBase<T> }[EventType];

/** Any event on the wire; unknown types are ignored by the reducers. */
export interface RawEvent {
  seq: number;
  type: string;
  at: string;
  payload: unknown;
}

export interface EventsPage {
  items: RawEvent[];
  last_seq: number;
}

export type ObserverAction =
  | "pause"
  | "resume"
  | "inject_question"
  | "take_over"
  | "hand_back"
  | "note"
  | "end";

// ---- Socket.IO acks ----

export type Ack<T extends object = object> =
  | ({ ok: true } & T)
  | { ok: false; error: ApiErrorBody };

export interface CandidateNotice {
  ai: string;
  scoring: string;
}

export interface CandidateSnapshot {
  interview_id: string;
  mode: InterviewMode;
  state: InterviewState;
  template_title: string;
  prompt: PromptPayload | null;
  draft: string;
  last_seq: number;
  notice: CandidateNotice;
  /** Optional: the current prompt was already answered. */
  answered?: boolean;
  /** ICE (STUN/TURN) servers for the voice peer; none: browser and server meet directly. */
  ice_servers?: IceServerConfig[];
  /** False when the server takes typed answers only. */
  voice?: boolean;
}

/** An ICE server as RTCPeerConnection takes it (`{urls, username?, credential?}`). */
export interface IceServerConfig {
  urls: string | string[];
  username?: string;
  credential?: string;
}

/** Voice signalling acks (docs/api.md "Voice (WebRTC)"). */
export type RtcOfferAck = Ack<{ sdp: string }>;

export type JoinAck = Ack<{ snapshot: CandidateSnapshot; events: RawEvent[] }>;
export type HintAck = Ack<{ hint: { text: string; strength: number } }>;
export type ListLiveAck = Ack<{ interviews: Interview[] }>;
export type WatchAck = Ack<{ interview: Interview; events: RawEvent[] }>;
export type ActAck = Ack<{ seq: number }>;

// ---- Recordings ----

export type RecordingTrackName = "candidate-audio" | "candidate-video" | "agent-voice";

export interface RecordingSegment {
  /** File name inside the track, e.g. `0000012000-0010000-a1b2.ogg`. */
  name: string;
  /** Seconds from the recording's time zero (`started_at`). */
  start_offset_s: number;
  duration_s: number;
  content_type: string;
}

export interface RecordingTrack {
  track: RecordingTrackName | string;
  segments: RecordingSegment[];
}

export interface RecordingList {
  items: RecordingTrack[];
  /** Wall-clock time of offset 0; null when the timeline is unknown. */
  started_at: string | null;
}

/** Server → observer `event`: the Event plus the interview it belongs to. */
export type ObserverEvent = RawEvent & { interview_id: string };
