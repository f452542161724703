import { useEffect, useRef, useState } from "react";

interface Props {
  /** The agent's voice from the peer connection. */
  stream: MediaStream | null;
}

/**
 * Plays the interviewer's voice. Autoplay is normally allowed (the candidate clicked to start
 * voice); if the browser still blocks it, a button starts playback.
 */
export function AgentAudio({ stream }: Props) {
  const audioRef = useRef<HTMLAudioElement | null>(null);
  const [blocked, setBlocked] = useState(false);

  useEffect(() => {
    const audio = audioRef.current;
    if (!audio) return;
    audio.srcObject = stream;
    setBlocked(false);
    if (!stream) return;
    audio.play().catch((error: unknown) => {
      if ((error as { name?: unknown } | null)?.name === "NotAllowedError") setBlocked(true);
    });
  }, [stream]);

  useEffect(
    () => () => {
      if (audioRef.current) audioRef.current.srcObject = null;
    },
    [],
  );

  const play = (): void => {
    const audio = audioRef.current;
    if (!audio) return;
    audio.play().then(
      () => setBlocked(false),
      () => setBlocked(true),
    );
  };

  return (
    <>
      <audio ref={audioRef} autoPlay data-testid="agent-audio" />
      {blocked ? (
        <p className="alert" role="alert">
          Your browser did not start the interviewer&apos;s voice by itself.{" "}
          <button type="button" className="primary" onClick={play} data-testid="agent-audio-play">
            Play the interviewer&apos;s voice
          </button>
        </p>
      ) : null}
    </>
  );
}
