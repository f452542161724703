import { useId, useState, type FormEvent } from "react";
import type { Socket } from "socket.io-client";
import { emitAck } from "../shared/socket";
import type { InterviewState, ObserverAction } from "../shared/types";
import { FINAL_STATES } from "../shared/types";

interface Props {
  socket: Socket;
  interviewId: string;
  state: InterviewState | null;
  connected: boolean;
}

const ACTION_NAMES: Record<ObserverAction, string> = {
  pause: "Pause",
  resume: "Resume",
  inject_question: "Ask question",
  take_over: "Take over",
  hand_back: "Hand back",
  note: "Note",
  end: "End interview",
};

/** Observer actions via `act`, each acknowledgement shown in a live region. */
export function ActionsPanel({ socket, interviewId, state, connected }: Props) {
  const [question, setQuestion] = useState("");
  const [note, setNote] = useState("");
  const [confirmEnd, setConfirmEnd] = useState(false);
  const [busy, setBusy] = useState<ObserverAction | null>(null);
  const [result, setResult] = useState<{ ok: boolean; text: string } | null>(null);
  const questionId = useId();
  const noteId = useId();

  const finished = state !== null && FINAL_STATES.includes(state);
  const disabled = !connected || finished || busy !== null;

  const act = async (action: ObserverAction, text?: string): Promise<boolean> => {
    setBusy(action);
    const ack = await emitAck<{ seq: number }>(socket, "act", {
      interview_id: interviewId,
      action,
      ...(text === undefined ? {} : { text }),
    });
    setBusy(null);
    if (ack.ok) {
      setResult({ ok: true, text: `${ACTION_NAMES[action]}: done${typeof ack.seq === "number" ? ` (event ${ack.seq})` : ""}.` });
      return true;
    }
    setResult({ ok: false, text: `${ACTION_NAMES[action]} failed: ${ack.error.message} (${ack.error.code})` });
    return false;
  };

  const inject = async (event: FormEvent): Promise<void> => {
    event.preventDefault();
    const text = question.trim();
    if (!text) return;
    if (await act("inject_question", text)) setQuestion("");
  };
  const addNote = async (event: FormEvent): Promise<void> => {
    event.preventDefault();
    const text = note.trim();
    if (!text) return;
    if (await act("note", text)) setNote("");
  };

  return (
    <section aria-labelledby="actions-heading" className="actions stack">
      <h2 id="actions-heading">Actions</h2>
      <p role="status" aria-live="polite" className={result ? (result.ok ? "ack ok" : "ack error") : "ack"} data-testid="action-result">
        {result?.text ?? ""}
      </p>
      <div className="button-row">
        {state === "paused" ? (
          <button type="button" onClick={() => void act("resume")} disabled={disabled} data-testid="resume-button">
            Resume
          </button>
        ) : (
          <button type="button" onClick={() => void act("pause")} disabled={disabled} data-testid="pause-button">
            Pause
          </button>
        )}
        {state === "human_takeover" ? (
          <button type="button" onClick={() => void act("hand_back")} disabled={disabled} data-testid="handback-button">
            Hand back to AI
          </button>
        ) : (
          <button type="button" onClick={() => void act("take_over")} disabled={disabled} data-testid="takeover-button">
            Take over
          </button>
        )}
      </div>

      <form onSubmit={(event) => void inject(event)} className="stack">
        <label htmlFor={questionId}>
          Ask a question {state === "human_takeover" ? "(asked at once)" : "(asked next)"}
        </label>
        <textarea
          id={questionId}
          rows={2}
          value={question}
          onChange={(event) => setQuestion(event.target.value)}
          data-testid="inject-input"
        />
        <div>
          <button type="submit" disabled={disabled || !question.trim()} data-testid="inject-button">
            Ask question
          </button>
        </div>
      </form>

      <form onSubmit={(event) => void addNote(event)} className="stack">
        <label htmlFor={noteId}>Private note (never shown to the candidate)</label>
        <textarea
          id={noteId}
          rows={2}
          value={note}
          onChange={(event) => setNote(event.target.value)}
          data-testid="note-input"
        />
        <div>
          <button type="submit" disabled={!connected || busy !== null || !note.trim()} data-testid="note-button">
            Add note
          </button>
        </div>
      </form>

      <div className="danger-zone">
        {confirmEnd ? (
          <div role="group" aria-label="Confirm ending the interview" className="stack">
            <p>
              <strong>End this interview now?</strong> The candidate sees the closing screen and cannot answer
              any more.
            </p>
            <div className="button-row">
              <button
                type="button"
                className="danger"
                autoFocus
                disabled={disabled}
                onClick={() => {
                  setConfirmEnd(false);
                  void act("end");
                }}
                data-testid="end-confirm"
              >
                Yes, end the interview
              </button>
              <button type="button" onClick={() => setConfirmEnd(false)} data-testid="end-cancel">
                Keep it going
              </button>
            </div>
          </div>
        ) : (
          <button type="button" className="danger" disabled={disabled} onClick={() => setConfirmEnd(true)} data-testid="end-button">
            End interview…
          </button>
        )}
      </div>
    </section>
  );
}
