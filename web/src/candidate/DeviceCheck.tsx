import { useEffect, useRef, useState } from "react";
import { levelFromSamples } from "./micLevel";

interface Props {
  onContinue: () => void;
}

type CheckState =
  | { kind: "idle" }
  | { kind: "asking" }
  | { kind: "live"; hasVideo: boolean }
  | { kind: "failed"; message: string };

function mediaErrorMessage(error: unknown): string {
  const name = error instanceof DOMException ? error.name : "";
  if (name === "NotAllowedError" || name === "SecurityError") {
    return "Access to the microphone and camera was not allowed. That is fine: you can type your answers.";
  }
  if (name === "NotFoundError" || name === "OverconstrainedError") {
    return "No microphone or camera was found. That is fine: you can type your answers.";
  }
  return "The microphone and camera could not be started. That is fine: you can type your answers.";
}

/** An optional microphone and camera check; skipping it is always possible. */
export function DeviceCheck({ onContinue }: Props) {
  const [check, setCheck] = useState<CheckState>({ kind: "idle" });
  const [level, setLevel] = useState(0);
  const streamRef = useRef<MediaStream | null>(null);
  const videoRef = useRef<HTMLVideoElement | null>(null);
  const audioRef = useRef<{ context: AudioContext; frame: number } | null>(null);
  const headingRef = useRef<HTMLHeadingElement | null>(null);

  const stop = (): void => {
    if (audioRef.current) {
      cancelAnimationFrame(audioRef.current.frame);
      void audioRef.current.context.close().catch(() => undefined);
      audioRef.current = null;
    }
    streamRef.current?.getTracks().forEach((track) => track.stop());
    streamRef.current = null;
  };

  useEffect(() => {
    headingRef.current?.focus();
    return stop;
  }, []);

  const start = async (): Promise<void> => {
    if (!navigator.mediaDevices?.getUserMedia) {
      setCheck({
        kind: "failed",
        message: "This browser does not allow a device check here. That is fine: you can type your answers.",
      });
      return;
    }
    setCheck({ kind: "asking" });
    let stream: MediaStream;
    try {
      stream = await navigator.mediaDevices.getUserMedia({ audio: true, video: true });
    } catch {
      try {
        stream = await navigator.mediaDevices.getUserMedia({ audio: true });
      } catch (error) {
        setCheck({ kind: "failed", message: mediaErrorMessage(error) });
        return;
      }
    }
    stop();
    streamRef.current = stream;
    const hasVideo = stream.getVideoTracks().length > 0;
    setCheck({ kind: "live", hasVideo });
    if (stream.getAudioTracks().length > 0 && typeof AudioContext !== "undefined") {
      const context = new AudioContext();
      const analyser = context.createAnalyser();
      analyser.fftSize = 1024;
      context.createMediaStreamSource(stream).connect(analyser);
      const samples = new Uint8Array(analyser.fftSize);
      const tick = (): void => {
        analyser.getByteTimeDomainData(samples);
        setLevel(levelFromSamples(samples));
        if (audioRef.current) audioRef.current.frame = requestAnimationFrame(tick);
      };
      audioRef.current = { context, frame: requestAnimationFrame(tick) };
    }
  };

  useEffect(() => {
    if (check.kind === "live" && check.hasVideo && videoRef.current && streamRef.current) {
      videoRef.current.srcObject = streamRef.current;
    }
  }, [check]);

  const finish = (): void => {
    stop();
    onContinue();
  };

  return (
    <main id="main" className="narrow">
      <h1 ref={headingRef} tabIndex={-1}>
        Check your microphone and camera (optional)
      </h1>
      <p>
        Voice answers are coming later. For now you answer by typing, and typed answers are always
        available. You can check your devices if you like, or go straight on.
      </p>

      {check.kind === "idle" ? (
        <button type="button" onClick={() => void start()} data-testid="start-device-check">
          Check microphone and camera
        </button>
      ) : null}
      {check.kind === "asking" ? <p role="status">Waiting for your browser&apos;s permission…</p> : null}
      {check.kind === "failed" ? (
        <p className="alert" role="status">
          {check.message}
        </p>
      ) : null}
      {check.kind === "live" ? (
        <div className="device-live stack">
          <label htmlFor="mic-level">Microphone level (speak to see it move)</label>
          <meter id="mic-level" min={0} max={100} low={10} high={85} optimum={40} value={level}>
            {level} %
          </meter>
          {check.hasVideo ? (
            <video ref={videoRef} className="preview" autoPlay muted playsInline aria-label="Your camera preview" />
          ) : (
            <p className="muted">No camera in use.</p>
          )}
          <p className="muted">Nothing is recorded during this check. The camera and microphone stop when you continue.</p>
          <button type="button" className="primary" onClick={finish} data-testid="device-continue">
            Continue
          </button>
        </div>
      ) : null}

      <p>
        <button
          type="button"
          className={check.kind === "live" ? "" : "primary"}
          onClick={finish}
          data-testid="skip-device-check"
        >
          Continue with typed answers
        </button>
      </p>
    </main>
  );
}
