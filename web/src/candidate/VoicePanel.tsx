import { useEffect, useState } from "react";
import type { LiveCaption } from "../shared/captions";
import { LiveCaptionText } from "../shared/LiveCaptionText";
import type { Ack } from "../shared/types";
import { AgentAudio } from "./AgentAudio";
import { MIC_DENIED_TEXT, voiceSupported } from "./media";
import type { Voice } from "./useVoice";

export interface VoicePanelProps {
  /** A microphone stream is in use (voice wanted). */
  active: boolean;
  voice: Voice;
  /** A note to show while voice is off (e.g. why it stopped). */
  note: string | null;
  promptId: string | null;
  /** The live caption of the spoken answer in progress, or null. */
  caption: LiveCaption | null;
  /** The final answer to the current prompt when it was spoken. */
  spokenAnswer: string | null;
  /** The current prompt can still be answered. */
  answerable: boolean;
  connected: boolean;
  /** Asks for the microphone; the reason when it could not be used. */
  onStart: () => Promise<string | null>;
  onStop: () => void;
  endTurn: (promptId: string) => Promise<Ack>;
}

const STATUS_TEXT: Record<Voice["status"], string> = {
  off: "",
  connecting: "Connecting your microphone to the interview…",
  live: "Microphone on. Speak your answer, or type it below: either works. Pause when you have finished, or press “I'm done”.",
  interrupted: "The voice connection is unsteady; it may come back by itself. You can type meanwhile.",
  reconnecting: "Voice comes back once the connection to the server is back. Your typed draft is kept.",
  failed: "",
  unavailable: "",
};

/** Voice status, the live caption of a spoken answer, "I'm done", and voice on/off. */
export function VoicePanel(props: VoicePanelProps) {
  const { active, voice, note, promptId, caption, spokenAnswer, answerable, connected } = props;
  const [asking, setAsking] = useState(false);
  const [denied, setDenied] = useState<string | null>(null);
  const [ending, setEnding] = useState<string | null>(null);
  const [endProblem, setEndProblem] = useState<string | null>(null);

  useEffect(() => {
    setEnding(null);
    setEndProblem(null);
  }, [promptId]);

  const start = async (): Promise<void> => {
    setAsking(true);
    setDenied(null);
    const problem = await props.onStart();
    setAsking(false);
    setDenied(problem);
  };

  const done = async (): Promise<void> => {
    if (!promptId) return;
    setEnding(promptId);
    setEndProblem(null);
    const ack = await props.endTurn(promptId);
    if (!ack.ok) {
      setEnding(null);
      setEndProblem(`Could not end the spoken answer: ${ack.error.message}`);
    }
  };

  const speaking = caption !== null && answerable;

  if (!active) {
    return (
      <section className="voice-panel voice-off" aria-label="Spoken answers" data-testid="voice-status" data-status="off">
        {note ? <p className="muted">{note}</p> : null}
        {denied ? (
          <p className="alert" role="alert" data-testid="mic-denied">
            {MIC_DENIED_TEXT} <span className="muted">{denied}</span>
          </p>
        ) : null}
        {voiceSupported() ? (
          <p>
            You are answering by typing.{" "}
            <button type="button" onClick={() => void start()} disabled={asking || !connected} data-testid="voice-start">
              {asking ? "Waiting for permission…" : "Answer by voice instead"}
            </button>
          </p>
        ) : null}
      </section>
    );
  }

  return (
    <section
      className={`voice-panel card voice-${voice.status}`}
      aria-label="Spoken answers"
      data-testid="voice-status"
      data-status={voice.status}
    >
      <AgentAudio stream={voice.remoteStream} />
      <p className="voice-state" role="status">
        <span className="mic-dot" aria-hidden="true" /> {voice.problem ?? STATUS_TEXT[voice.status]}
      </p>
      <div className="caption-box">
        <p className="subhead">Live caption of your spoken answer</p>
        <p className="live-caption" aria-live="polite" data-testid="live-caption">
          {speaking ? <LiveCaptionText caption={caption} /> : ""}
        </p>
        {!speaking && !spokenAnswer ? (
          <p className="muted small">{answerable ? "Your words appear here as you speak." : ""}</p>
        ) : null}
        {spokenAnswer ? (
          <p className="spoken-answer" data-testid="spoken-answer">
            Your spoken answer was received: <q>{spokenAnswer}</q>
          </p>
        ) : null}
        {speaking ? (
          <button
            type="button"
            className="primary"
            onClick={() => void done()}
            disabled={ending === promptId || !connected}
            data-testid="done-speaking"
          >
            {ending === promptId ? "Finishing your answer…" : "I'm done"}
          </button>
        ) : null}
        {endProblem ? (
          <p className="alert error" role="alert">
            {endProblem}
          </p>
        ) : null}
      </div>
      <div className="button-row">
        {voice.status === "failed" ? (
          <button type="button" onClick={voice.retry} disabled={!connected} data-testid="voice-retry">
            Try voice again
          </button>
        ) : null}
        <button type="button" onClick={props.onStop} data-testid="voice-stop">
          Stop using my microphone
        </button>
      </div>
    </section>
  );
}
