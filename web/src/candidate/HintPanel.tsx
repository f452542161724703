import { useState } from "react";
import type { HintAck } from "../shared/types";
import type { CandidateHint } from "./session";

interface Props {
  promptId: string;
  hints: readonly CandidateHint[];
  onHint: (promptId: string) => Promise<HintAck>;
  disabled: boolean;
}

const HINT_ERRORS: Record<string, string> = {
  hints_not_allowed: "Hints are not available in this interview.",
  no_more_hints: "There are no more hints for this question. Give it your best try!",
};

/** Practice mode: ask for hints, shown in the order given. */
export function HintPanel({ promptId, hints, onHint, disabled }: Props) {
  const [busy, setBusy] = useState(false);
  const [message, setMessage] = useState<{ promptId: string; text: string } | null>(null);

  const ask = async (): Promise<void> => {
    setBusy(true);
    setMessage(null);
    const ack = await onHint(promptId);
    setBusy(false);
    if (!ack.ok) {
      setMessage({ promptId, text: HINT_ERRORS[ack.error.code] ?? `No hint right now: ${ack.error.message}` });
    }
  };

  return (
    <section aria-labelledby="hints-heading" className="hints">
      <h2 id="hints-heading">Hints</h2>
      <p className="muted">Practice mode: ask for a hint if you are stuck. Hints taken are noted with your answer.</p>
      <ul aria-live="polite" className="hint-list">
        {hints.map((hint, index) => (
          <li key={`${index}-${hint.text}`} data-testid="hint-text">
            {hint.text}
          </li>
        ))}
      </ul>
      <button type="button" onClick={() => void ask()} disabled={busy || disabled} data-testid="hint-button">
        {busy ? "Getting a hint…" : hints.length > 0 ? "Another hint" : "Hint"}
      </button>
      <p role="status" className="hint-message">
        {message && message.promptId === promptId ? message.text : ""}
      </p>
    </section>
  );
}
