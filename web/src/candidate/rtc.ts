/**
 * WebRTC offer/answer for the spoken interview (docs/api.md "Voice (WebRTC)").
 *
 * Non-trickle first: the offer is sent once ICE gathering is complete (at most
 * ICE_GATHERING_CAP_MS), so it carries every candidate; candidates found after that are sent
 * with `rtc_ice` once the server's answer is set (the server needs its peer first).
 */
import type { Ack, RtcOfferAck } from "../shared/types";

export const ICE_GATHERING_CAP_MS = 3_000;

/** The ICE candidate as `rtc_ice` sends it. */
export interface IceCandidateMessage {
  candidate: string;
  sdpMid: string | null;
  sdpMLineIndex: number | null;
}

/** The signalling messages the peer needs, over the candidate socket. */
export interface VoiceSignal {
  offer(sdp: string): Promise<RtcOfferAck>;
  ice(candidate: IceCandidateMessage): Promise<Ack>;
}

/** Why the voice connection could not be set up; `code` is the server's error code if any. */
export class VoiceNegotiationError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = "VoiceNegotiationError";
  }
}

/** The part of RTCPeerConnection used here (tests pass a fake). */
export interface NegotiatingPeer {
  readonly iceGatheringState: RTCIceGatheringState;
  readonly localDescription: { sdp: string } | null;
  addTransceiver(track: MediaStreamTrack, init: RTCRtpTransceiverInit): unknown;
  createOffer(): Promise<{ type: RTCSdpType; sdp?: string }>;
  setLocalDescription(description: { type: RTCSdpType; sdp?: string }): Promise<void>;
  setRemoteDescription(description: { type: RTCSdpType; sdp: string }): Promise<void>;
  addEventListener(type: string, listener: (event: Event) => void): void;
  removeEventListener(type: string, listener: (event: Event) => void): void;
}

/** Resolves true when ICE gathering is complete, false when `capMs` passed first. */
export function waitForIceGathering(peer: NegotiatingPeer, capMs: number = ICE_GATHERING_CAP_MS): Promise<boolean> {
  if (peer.iceGatheringState === "complete") return Promise.resolve(true);
  return new Promise((resolve) => {
    const done = (complete: boolean): void => {
      clearTimeout(timer);
      peer.removeEventListener("icegatheringstatechange", onChange);
      resolve(complete);
    };
    const onChange = (): void => {
      if (peer.iceGatheringState === "complete") done(true);
    };
    const timer = setTimeout(() => done(false), capMs);
    peer.addEventListener("icegatheringstatechange", onChange);
  });
}

function candidateMessage(event: Event): IceCandidateMessage | null {
  const candidate = (event as Partial<RTCPeerConnectionIceEvent>).candidate;
  // null: gathering finished; an empty string: end of candidates for one m-line.
  if (!candidate || !candidate.candidate) return null;
  return { candidate: candidate.candidate, sdpMid: candidate.sdpMid ?? null, sdpMLineIndex: candidate.sdpMLineIndex ?? null };
}

/**
 * Adds the microphone (send and receive: the agent's voice comes back on it) and the camera
 * (send only), offers, and sets the server's answer. Throws VoiceNegotiationError.
 */
export async function negotiate(
  peer: NegotiatingPeer,
  stream: MediaStream,
  signal: VoiceSignal,
  options: { gatherCapMs?: number; isCancelled?: () => boolean } = {},
): Promise<void> {
  const cancelled = options.isCancelled ?? (() => false);
  const audio = stream.getAudioTracks()[0];
  if (!audio) throw new VoiceNegotiationError("no_microphone", "No microphone track to send.");
  peer.addTransceiver(audio, { direction: "sendrecv", streams: [stream] });
  const video = stream.getVideoTracks()[0];
  if (video) peer.addTransceiver(video, { direction: "sendonly", streams: [stream] });

  let offerSent = false;
  let answered = false;
  const late: IceCandidateMessage[] = [];
  peer.addEventListener("icecandidate", (event) => {
    const message = candidateMessage(event);
    if (!message || !offerSent || cancelled()) return; // before the offer: it is in the SDP
    if (answered) void signal.ice(message);
    else late.push(message);
  });

  const offer = await peer.createOffer();
  await peer.setLocalDescription(offer);
  await waitForIceGathering(peer, options.gatherCapMs ?? ICE_GATHERING_CAP_MS);
  if (cancelled()) return;
  const sdp = peer.localDescription?.sdp ?? offer.sdp;
  offerSent = true;
  if (!sdp) throw new VoiceNegotiationError("no_offer", "The browser made no offer.");

  const ack = await signal.offer(sdp);
  if (cancelled()) return;
  if (!ack.ok) throw new VoiceNegotiationError(ack.error.code, ack.error.message);
  if (typeof ack.sdp !== "string" || !ack.sdp) {
    throw new VoiceNegotiationError("bad_reply", "The server sent no answer to the offer.");
  }
  try {
    await peer.setRemoteDescription({ type: "answer", sdp: ack.sdp });
  } catch (error) {
    throw new VoiceNegotiationError("bad_answer", error instanceof Error ? error.message : String(error));
  }
  answered = true;
  for (const message of late.splice(0)) void signal.ice(message);
}

/** The candidate-facing words for a failed voice set-up. */
export function voiceProblemText(code: string, message: string): string {
  switch (code) {
    case "voice_unavailable":
      return "Spoken answers are not available for this interview right now — please type your answers.";
    case "voice_at_capacity":
      return "Spoken answers are busy on this server right now — please type your answers; you can try voice again later.";
    case "disconnected":
    case "timeout":
      return "The voice connection could not be set up because the server did not answer. You can keep typing; voice is tried again when the connection is back.";
    case "malformed_sdp":
    case "bad_answer":
    case "bad_reply":
    case "no_offer":
      return "Your browser and the interview server could not agree on a voice connection. You can keep typing, or try voice again.";
    default:
      return `The voice connection could not be set up (${message || code}). You can keep typing, or try voice again.`;
  }
}
