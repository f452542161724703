import { debounce, realTimers, type Timers } from "../shared/debounce";

export const DRAFT_DEBOUNCE_MS = 500;

export type DraftStatus = "idle" | "pending" | "saving" | "saved" | "failed";

export interface Draft {
  prompt_id: string;
  text: string;
}

export interface DraftSender {
  /** The candidate typed: send this draft once typing pauses for the debounce time. */
  update(promptId: string, text: string): void;
  /** Send the waiting draft now (before submitting, or when the socket comes back). */
  flush(): void;
  /** Forget the waiting draft (the answer was submitted). */
  cancel(): void;
  /** Record that the server already holds this text (e.g. the join snapshot's draft). */
  markSaved(promptId: string, text: string): void;
  /** Send this prompt's latest text again if the server may not hold it (after a reconnect). */
  resend(promptId: string, text: string): void;
}

/**
 * Debounced draft saving. A draft equal to the last one the server acknowledged is not sent
 * again; a draft for another prompt than the waiting one sends the waiting one first, so no
 * prompt's draft is lost when the question changes.
 */
export function createDraftSender(
  send: (draft: Draft) => Promise<boolean>,
  onStatus: (status: DraftStatus) => void = () => undefined,
  ms: number = DRAFT_DEBOUNCE_MS,
  timers: Timers = realTimers,
): DraftSender {
  const saved = new Map<string, string>();
  let waiting: Draft | null = null;

  const deliver = (draft: Draft): void => {
    if (saved.get(draft.prompt_id) === draft.text) {
      onStatus("saved");
      return;
    }
    onStatus("saving");
    send(draft).then(
      (ok) => {
        if (ok) saved.set(draft.prompt_id, draft.text);
        onStatus(ok ? "saved" : "failed");
      },
      () => onStatus("failed"),
    );
  };

  const debounced = debounce(
    () => {
      const draft = waiting;
      waiting = null;
      if (draft) deliver(draft);
    },
    ms,
    timers,
  );

  return {
    update(promptId, text) {
      if (waiting && waiting.prompt_id !== promptId) debounced.flush();
      waiting = { prompt_id: promptId, text };
      onStatus("pending");
      debounced();
    },
    flush() {
      debounced.flush();
    },
    cancel() {
      debounced.cancel();
      waiting = null;
    },
    markSaved(promptId, text) {
      saved.set(promptId, text);
    },
    resend(promptId, text) {
      saved.delete(promptId);
      debounced.cancel();
      waiting = null;
      deliver({ prompt_id: promptId, text });
    },
  };
}
