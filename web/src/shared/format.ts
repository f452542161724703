/** A short form of a UUID for lists (the full one goes in a title attribute). */
export function shortId(id: string): string {
  return id.length > 8 ? id.slice(0, 8) : id;
}

/** A score as a plain number with two decimals, or a dash when there is none. */
export function formatScore(value: number | null | undefined): string {
  return typeof value === "number" && Number.isFinite(value) ? value.toFixed(2) : "—";
}

/** "0.62 ± 0.11", or just the score when no standard error is known. */
export function formatWithError(score: number | null | undefined, error: number | null | undefined): string {
  if (typeof score !== "number" || !Number.isFinite(score)) return "—";
  return typeof error === "number" && Number.isFinite(error)
    ? `${score.toFixed(2)}\u00a0±\u00a0${error.toFixed(2)}`
    : score.toFixed(2);
}

/** A 1–5 level: whole levels as they are, combined (fractional) ones with one decimal. */
export function formatLevel(level: number | null | undefined): string {
  if (typeof level !== "number" || !Number.isFinite(level)) return "—";
  return Number.isInteger(level) ? String(level) : level.toFixed(1);
}

/** A 0–1 confidence as a whole percentage. */
export function formatPercent(value: number | null | undefined): string {
  if (typeof value !== "number" || !Number.isFinite(value)) return "—";
  const clamped = Math.min(1, Math.max(0, value));
  return `${Math.round(clamped * 100)}\u00a0%`;
}

/** A readable local date and time, or a dash. */
export function formatTime(iso: string | null | undefined): string {
  if (!iso) return "—";
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return date.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
}

/** A time of day for live event lists, or a dash. */
export function formatClock(iso: string | null | undefined): string {
  if (!iso) return "—";
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return date.toLocaleTimeString(undefined, { timeStyle: "medium" });
}

const STATE_LABELS: Record<string, string> = {
  scheduled: "Scheduled",
  waiting: "Waiting for candidate",
  consent: "Reading AI notice",
  questioning: "Questioning",
  follow_up: "Follow-up",
  closing: "Closing",
  done: "Done",
  paused: "Paused",
  human_takeover: "Human interviewer",
  cancelled: "Cancelled",
};

export function stateLabel(state: string | null | undefined): string {
  if (!state) return "Unknown";
  return STATE_LABELS[state] ?? state;
}

const KIND_LABELS: Record<string, string> = {
  question: "Question",
  follow_up: "Follow-up",
  injected: "Asked by a human interviewer",
  resume: "About the resume (written by the language model, not scored)",
  closing: "Closing",
};

export function promptKindLabel(kind: string): string {
  return KIND_LABELS[kind] ?? kind;
}
