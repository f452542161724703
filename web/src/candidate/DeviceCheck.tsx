import { useEffect, useId, useRef, useState } from "react";
import { MIC_DENIED_TEXT, requestMedia, stopStream, voiceSupported } from "./media";
import { levelFromSamples } from "./micLevel";

interface Props {
  /** With the microphone (and camera) stream: a spoken interview; null: typed answers only. */
  onContinue: (stream: MediaStream | null) => void;
}

type CheckState =
  | { kind: "idle" }
  | { kind: "asking" }
  | { kind: "live"; hasVideo: boolean; cameraFailed: boolean }
  | { kind: "denied"; detail: string };

/**
 * Asks for the microphone (and, if the candidate wants, the camera). Granted: "Start speaking
 * interview" hands the stream on. Refused: the typed interview goes on. Skipping is always
 * possible and means typed answers only.
 */
export function DeviceCheck({ onContinue }: Props) {
  const [check, setCheck] = useState<CheckState>({ kind: "idle" });
  const [camera, setCamera] = useState(false);
  const [level, setLevel] = useState(0);
  const streamRef = useRef<MediaStream | null>(null);
  const handedOverRef = useRef(false);
  const mountedRef = useRef(true);
  const videoRef = useRef<HTMLVideoElement | null>(null);
  const audioRef = useRef<{ context: AudioContext; frame: number } | null>(null);
  const headingRef = useRef<HTMLHeadingElement | null>(null);
  const cameraId = useId();
  const supported = voiceSupported();

  const stopMeter = (): void => {
    if (audioRef.current) {
      cancelAnimationFrame(audioRef.current.frame);
      void audioRef.current.context.close().catch(() => undefined);
      audioRef.current = null;
    }
  };

  useEffect(() => {
    mountedRef.current = true;
    headingRef.current?.focus();
    return () => {
      mountedRef.current = false;
      stopMeter();
      // A stream handed to the interview stays on; any other is stopped.
      if (!handedOverRef.current) stopStream(streamRef.current);
      streamRef.current = null;
    };
  }, []);

  const start = async (): Promise<void> => {
    setCheck({ kind: "asking" });
    const result = await requestMedia(camera);
    if (!mountedRef.current) {
      // The candidate went on (typed) while the browser was still asking: let the devices go.
      if (result.ok) stopStream(result.stream);
      return;
    }
    if (!result.ok) {
      setCheck({ kind: "denied", detail: result.detail });
      return;
    }
    stopMeter();
    stopStream(streamRef.current);
    const { stream } = result;
    streamRef.current = stream;
    setCheck({ kind: "live", hasVideo: stream.getVideoTracks().length > 0, cameraFailed: result.cameraFailed });
    if (typeof AudioContext !== "undefined") {
      try {
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
      } catch {
        // No level meter: the microphone still works.
      }
    }
  };

  useEffect(() => {
    if (check.kind === "live" && check.hasVideo && videoRef.current && streamRef.current) {
      videoRef.current.srcObject = streamRef.current;
    }
  }, [check]);

  const startSpeaking = (): void => {
    stopMeter();
    handedOverRef.current = true;
    onContinue(streamRef.current);
  };

  const typeOnly = (): void => {
    stopMeter();
    stopStream(streamRef.current);
    streamRef.current = null;
    onContinue(null);
  };

  return (
    <main id="main" className="narrow">
      <h1 ref={headingRef} tabIndex={-1}>
        Speak or type your answers
      </h1>
      <p>
        In a spoken interview the interviewer reads each question aloud and you answer by speaking; a live caption
        shows what was understood. You can always type an answer instead, even in a spoken interview.
      </p>

      {!supported ? (
        <p className="alert" role="status" data-testid="mic-denied">
          {MIC_DENIED_TEXT} This browser does not support spoken answers on this page.
        </p>
      ) : null}

      {supported && (check.kind === "idle" || check.kind === "denied") ? (
        <div className="stack">
          <div className="checkbox-row">
            <input
              id={cameraId}
              type="checkbox"
              checked={camera}
              onChange={(event) => setCamera(event.target.checked)}
              data-testid="camera-checkbox"
            />
            <label htmlFor={cameraId}>Also turn on my camera (optional)</label>
          </div>
          <p>
            <button type="button" onClick={() => void start()} data-testid="start-device-check">
              {check.kind === "denied" ? "Try the microphone again" : "Use my microphone"}
            </button>
          </p>
        </div>
      ) : null}
      {check.kind === "asking" ? <p role="status">Waiting for your browser&apos;s permission…</p> : null}
      {check.kind === "denied" ? (
        <p className="alert" role="alert" data-testid="mic-denied">
          {MIC_DENIED_TEXT} <span className="muted">{check.detail}</span>
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
            <p className="muted">
              {check.cameraFailed ? "The camera could not be started; your microphone works." : "No camera in use."}
            </p>
          )}
          <p className="muted">
            When you start, the questions are spoken aloud: turn your sound on.{" "}
            {check.hasVideo ? "Your voice and camera go" : "Your voice goes"} to the interview as the notice you
            accepted describes.
          </p>
          <button type="button" className="primary" onClick={startSpeaking} data-testid="device-continue">
            Start speaking interview
          </button>
        </div>
      ) : null}

      <p>
        <button
          type="button"
          className={check.kind === "live" ? "" : "primary"}
          onClick={typeOnly}
          data-testid="skip-device-check"
        >
          Continue with typed answers
        </button>
      </p>
    </main>
  );
}
