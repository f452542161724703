import { useEffect, useId, useRef, useState, type FormEvent, type KeyboardEvent } from "react";
import type { DraftStatus } from "./drafts";

interface Props {
  promptId: string;
  value: string;
  onChange: (text: string) => void;
  onSubmit: () => Promise<string | null>;
  /** The prompt can be answered (typing allowed, also while reconnecting). */
  enabled: boolean;
  /** Connected, so the answer can be sent. */
  online: boolean;
  /** Why answering or sending is not possible now. */
  blockedReason: string | null;
  draftStatus: DraftStatus;
  /** The textarea's label. */
  label?: string;
}

const DRAFT_LABELS: Record<DraftStatus, string> = {
  idle: "",
  pending: "Draft not saved yet…",
  saving: "Saving draft…",
  saved: "Draft saved",
  failed: "Draft not saved: it is kept here and sent again when the connection is back.",
};

/** The typed-answer box: Submit button or Ctrl+Enter; drafts are saved as the candidate types. */
export function AnswerForm({
  promptId,
  value,
  onChange,
  onSubmit,
  enabled,
  online,
  blockedReason,
  draftStatus,
  label = "Your answer",
}: Props) {
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<string | null>(null);
  const textareaId = useId();
  const helpId = useId();
  const textareaRef = useRef<HTMLTextAreaElement | null>(null);

  useEffect(() => {
    setProblem(null);
    if (enabled) textareaRef.current?.focus({ preventScroll: true });
    // A new prompt: move focus to the answer box so keyboard users can type at once.
  }, [promptId, enabled]);

  const submit = async (): Promise<void> => {
    if (busy || !enabled) return;
    if (!online) {
      setProblem("Not connected right now. Your answer is kept here; submit it once the connection is back.");
      return;
    }
    if (!value.trim()) {
      setProblem("Write your answer first, then submit it.");
      return;
    }
    setBusy(true);
    setProblem(null);
    const failure = await onSubmit();
    setBusy(false);
    if (failure) setProblem(failure);
  };

  const onFormSubmit = (event: FormEvent): void => {
    event.preventDefault();
    void submit();
  };

  const onKeyDown = (event: KeyboardEvent<HTMLTextAreaElement>): void => {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      void submit();
    }
  };

  return (
    <form onSubmit={onFormSubmit} className="answer-form stack" noValidate>
      <label htmlFor={textareaId}>{label}</label>
      <textarea
        id={textareaId}
        ref={textareaRef}
        rows={8}
        value={value}
        onChange={(event) => onChange(event.target.value)}
        onKeyDown={onKeyDown}
        disabled={!enabled || busy}
        aria-describedby={helpId}
        data-testid="answer-input"
      />
      <p id={helpId} className="hint">
        Press <kbd>Ctrl</kbd>+<kbd>Enter</kbd> or the button to submit.{" "}
        <span aria-live="polite" data-testid="draft-status">
          {enabled ? DRAFT_LABELS[draftStatus] : ""}
        </span>
      </p>
      {(!enabled || !online) && blockedReason ? (
        <p className="alert" role="status">
          {blockedReason}
        </p>
      ) : null}
      {problem ? (
        <p className="alert error" role="alert">
          {problem}
        </p>
      ) : null}
      <div>
        <button type="submit" className="primary" disabled={!enabled || !online || busy} data-testid="submit-answer">
          {busy ? "Sending…" : "Submit answer"}
        </button>
      </div>
    </form>
  );
}
