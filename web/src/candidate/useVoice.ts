import { useCallback, useEffect, useState } from "react";
import type { IceServerConfig } from "../shared/types";
import { negotiate, voiceProblemText, VoiceNegotiationError, type VoiceSignal } from "./rtc";

/** How long after the offer the peer may take to connect before voice is reported failed. */
export const CONNECT_TIMEOUT_MS = 20_000;

export type VoiceStatus =
  /** No microphone in use: typed answers only. */
  | "off"
  /** Offering, or waiting for the peer to connect. */
  | "connecting"
  /** The peer is connected: the agent speaks, the candidate may answer aloud. */
  | "live"
  /** The peer lost its connection for a moment (the browser may recover it). */
  | "interrupted"
  /** The socket is down: a new offer goes out after the re-join. */
  | "reconnecting"
  /** Setting up voice failed; a retry is offered. */
  | "failed"
  /** The server has no voice: typed answers only. */
  | "unavailable";

export interface VoiceOptions {
  /** The microphone (and camera) stream; null: no voice. */
  stream: MediaStream | null;
  connected: boolean;
  /** Changes on every (re)join: each join gets a new offer, the server makes a new peer. */
  joinCount: number;
  /** The interview is over: close the peer. */
  finished: boolean;
  signal: VoiceSignal;
  iceServers?: readonly IceServerConfig[];
}

export interface Voice {
  status: VoiceStatus;
  problem: string | null;
  /** The agent's voice, for the <audio> element. */
  remoteStream: MediaStream | null;
  retry: () => void;
}

/**
 * One RTCPeerConnection per join while a microphone stream is given: offer after the join,
 * play the agent's voice, close on disconnect, end of the interview or when the stream goes.
 * A re-join may be on another node (the owner died, or the interview moved): the old peer's
 * media ended with it, so every join closes the old peer and offers a new one, over the socket
 * of that join (`signal` always emits on the current one).
 */
export function useVoice({ stream, connected, joinCount, finished, signal, iceServers }: VoiceOptions): Voice {
  const [status, setStatus] = useState<VoiceStatus>("off");
  const [problem, setProblem] = useState<string | null>(null);
  const [remoteStream, setRemoteStream] = useState<MediaStream | null>(null);
  const [attempt, setAttempt] = useState(0);
  const iceKey = JSON.stringify(iceServers ?? []);

  useEffect(() => {
    if (!stream || finished) {
      setStatus("off");
      setProblem(null);
      return undefined;
    }
    if (!connected || joinCount === 0) {
      setStatus("reconnecting");
      return undefined;
    }
    let cancelled = false;
    let connectTimer: number | null = null;
    const servers = JSON.parse(iceKey) as RTCIceServer[];
    let peer: RTCPeerConnection;
    try {
      peer = new RTCPeerConnection({ iceServers: servers });
    } catch (error) {
      setStatus("failed");
      setProblem(voiceProblemText("peer_failed", error instanceof Error ? error.message : String(error)));
      return undefined;
    }
    setStatus("connecting");
    setProblem(null);

    const fail = (text: string): void => {
      if (cancelled) return;
      if (connectTimer !== null) window.clearTimeout(connectTimer);
      connectTimer = null;
      setStatus("failed");
      setProblem(text);
      setRemoteStream(null);
      peer.close();
    };

    peer.addEventListener("track", (event: RTCTrackEvent) => {
      if (cancelled || event.track.kind !== "audio") return;
      setRemoteStream(event.streams[0] ?? new MediaStream([event.track]));
    });
    const onState = (): void => {
      if (cancelled) return;
      // connectionState where the browser has it; ICE state in older ones.
      const state: string = peer.connectionState ?? peer.iceConnectionState;
      if (state === "connected" || state === "completed") {
        if (connectTimer !== null) window.clearTimeout(connectTimer);
        connectTimer = null;
        setStatus("live");
        setProblem(null);
      } else if (state === "disconnected") {
        setStatus("interrupted");
      } else if (state === "failed") {
        fail("The voice connection was lost. You can keep typing, or try voice again.");
      }
    };
    peer.addEventListener("connectionstatechange", onState);
    peer.addEventListener("iceconnectionstatechange", onState);

    connectTimer = window.setTimeout(() => {
      connectTimer = null;
      fail("The voice connection did not come up in time. You can keep typing, or try voice again.");
    }, CONNECT_TIMEOUT_MS);

    negotiate(peer, stream, signal, { isCancelled: () => cancelled }).catch((error: unknown) => {
      if (cancelled) return;
      const code = error instanceof VoiceNegotiationError ? error.code : "negotiation_failed";
      const message = error instanceof Error ? error.message : String(error);
      if (code === "voice_unavailable" || code === "voice_at_capacity") {
        if (connectTimer !== null) window.clearTimeout(connectTimer);
        connectTimer = null;
        setStatus("unavailable");
        setProblem(voiceProblemText(code, message));
        peer.close();
        return;
      }
      fail(voiceProblemText(code, message));
    });

    return () => {
      cancelled = true;
      if (connectTimer !== null) window.clearTimeout(connectTimer);
      peer.close();
      setRemoteStream(null);
    };
  }, [stream, connected, joinCount, finished, signal, iceKey, attempt]);

  const retry = useCallback(() => setAttempt((value) => value + 1), []);
  return { status, problem, remoteStream, retry };
}
