import { useEffect, useRef, useState } from "react";
import type { Socket } from "socket.io-client";

interface Props {
  socket: Socket;
  interviewId: string;
}

interface MediaOffer {
  ok: boolean;
  media_id?: string;
  sdp?: string;
  error?: { code: string; message: string };
}

/** Waits until ICE gathering is complete, or `capMs` has passed (loopback needs no more). */
function gatheringComplete(pc: RTCPeerConnection, capMs: number): Promise<void> {
  if (pc.iceGatheringState === "complete") return Promise.resolve();
  return new Promise((resolve) => {
    const timer = window.setTimeout(resolve, capMs);
    pc.addEventListener("icegatheringstatechange", () => {
      if (pc.iceGatheringState === "complete") {
        window.clearTimeout(timer);
        resolve();
      }
    });
  });
}

/** The candidate's live audio and video and the agent's voice, from the owner node's relay. */
export function LiveMedia({ socket, interviewId }: Props) {
  const [status, setStatus] = useState<"idle" | "connecting" | "live" | "error">("idle");
  const [message, setMessage] = useState<string | null>(null);
  const peer = useRef<RTCPeerConnection | null>(null);
  const video = useRef<HTMLVideoElement | null>(null);
  const audio = useRef<HTMLAudioElement | null>(null);

  // Bumped on every start/stop so that a stale, still-running start() gives up.
  const generation = useRef(0);

  const closePeer = () => {
    generation.current += 1;
    peer.current?.close();
    peer.current = null;
    if (video.current) video.current.srcObject = null;
    if (audio.current) audio.current.srcObject = null;
  };

  const stop = () => {
    closePeer();
    setStatus("idle");
  };

  // Close the peer when leaving the interview or unmounting.
  useEffect(() => closePeer, [interviewId]);

  const fail = (text: string) => {
    closePeer();
    setStatus("error");
    setMessage(text);
  };

  const start = async () => {
    closePeer();
    const mine = generation.current;
    setStatus("connecting");
    setMessage(null);
    try {
      await connect(mine);
    } catch (err) {
      if (generation.current === mine) fail(err instanceof Error ? err.message : "Could not start.");
    }
  };

  const connect = async (mine: number) => {
    const offer = (await socket.emitWithAck("media_watch", { interview_id: interviewId })) as MediaOffer;
    if (generation.current !== mine) return;
    if (!offer.ok || !offer.sdp || !offer.media_id) {
      fail(offer.error?.code === "no_voice" ? "No live voice for this interview." : offer.error?.message ?? "Could not start.");
      return;
    }
    const pc = new RTCPeerConnection();
    peer.current = pc;
    const sound = new MediaStream();
    pc.addEventListener("track", (event) => {
      if (event.track.kind === "video" && video.current) {
        video.current.srcObject = new MediaStream([event.track]);
      } else if (event.track.kind === "audio") {
        sound.addTrack(event.track);
        if (audio.current) audio.current.srcObject = sound;
      }
    });
    await pc.setRemoteDescription({ type: "offer", sdp: offer.sdp });
    await pc.setLocalDescription(await pc.createAnswer());
    await gatheringComplete(pc, 3000);
    if (generation.current !== mine) return;
    const reply = (await socket.emitWithAck("media_answer", {
      media_id: offer.media_id,
      sdp: pc.localDescription?.sdp ?? "",
    })) as MediaOffer;
    if (generation.current !== mine) return;
    if (!reply.ok) {
      fail(reply.error?.message ?? "Could not start.");
      return;
    }
    setStatus("live");
  };

  return (
    <section aria-labelledby="media-heading">
      <h2 id="media-heading">Live audio and video</h2>
      {status === "live" || status === "connecting" ? (
        <button type="button" data-testid="media-stop" onClick={stop}>
          Stop watching
        </button>
      ) : (
        <button type="button" data-testid="media-watch" onClick={() => void start()}>
          Watch and listen live
        </button>
      )}
      {message ? (
        <p className="alert" role="status">
          {message}
        </p>
      ) : null}
      <video
        ref={video}
        data-testid="live-video"
        aria-label="Candidate's camera"
        autoPlay
        playsInline
        muted
        hidden={status !== "live"}
        style={{ width: "100%", maxWidth: "24rem" }}
      />
      <audio ref={audio} data-testid="live-audio" aria-label="Candidate and interviewer voices" autoPlay controls hidden={status !== "live"} />
    </section>
  );
}
