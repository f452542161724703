import { afterEach, describe, expect, it, vi } from "vitest";
import type { Ack, RtcOfferAck } from "../shared/types";
import {
  negotiate,
  voiceProblemText,
  VoiceNegotiationError,
  waitForIceGathering,
  type IceCandidateMessage,
  type NegotiatingPeer,
  type VoiceSignal,
} from "./rtc";

/** Just enough of RTCPeerConnection: gathering is driven by the test. */
class FakePeer extends EventTarget implements NegotiatingPeer {
  iceGatheringState: RTCIceGatheringState = "new";
  localDescription: { sdp: string } | null = null;
  remote: { type: string; sdp: string } | null = null;
  transceivers: { kind: string; direction: string | undefined }[] = [];
  private candidates: string[] = [];

  addTransceiver(track: MediaStreamTrack, init: RTCRtpTransceiverInit): unknown {
    this.transceivers.push({ kind: track.kind, direction: init.direction });
    return {};
  }
  async createOffer(): Promise<{ type: RTCSdpType; sdp: string }> {
    return { type: "offer", sdp: "v=0 offer" };
  }
  async setLocalDescription(description: { type: RTCSdpType; sdp?: string }): Promise<void> {
    this.localDescription = { sdp: description.sdp ?? "" };
    this.iceGatheringState = "gathering";
  }
  async setRemoteDescription(description: { type: RTCSdpType; sdp: string }): Promise<void> {
    this.remote = description;
  }
  /** A candidate is found: it joins the local SDP, and an icecandidate event fires. */
  gather(candidate: string): void {
    this.candidates.push(candidate);
    this.localDescription = { sdp: `v=0 offer ${this.candidates.join(" ")}` };
    const event = new Event("icecandidate") as Event & { candidate: unknown };
    event.candidate = { candidate, sdpMid: "0", sdpMLineIndex: 0 };
    this.dispatchEvent(event);
  }
  complete(): void {
    this.iceGatheringState = "complete";
    this.dispatchEvent(new Event("icegatheringstatechange"));
  }
}

function track(kind: "audio" | "video"): MediaStreamTrack {
  return { kind } as MediaStreamTrack;
}

function stream(...kinds: ("audio" | "video")[]): MediaStream {
  const tracks = kinds.map(track);
  return {
    getAudioTracks: () => tracks.filter((t) => t.kind === "audio"),
    getVideoTracks: () => tracks.filter((t) => t.kind === "video"),
  } as unknown as MediaStream;
}

/** A server that answers every offer with `reply` and records what it was sent. */
function server(reply: RtcOfferAck = { ok: true, sdp: "v=0 answer" }) {
  const offers: string[] = [];
  const ice: IceCandidateMessage[] = [];
  const signal: VoiceSignal = {
    offer: async (sdp) => {
      offers.push(sdp);
      return reply;
    },
    ice: async (candidate): Promise<Ack> => {
      ice.push(candidate);
      return { ok: true };
    },
  };
  return { offers, ice, signal };
}

afterEach(() => {
  vi.useRealTimers();
});

describe("negotiate", () => {
  it("offers once gathering is complete, with every candidate in the SDP, and sets the answer", async () => {
    const peer = new FakePeer();
    const fake = server();
    const done = negotiate(peer, stream("audio", "video"), fake.signal);
    await Promise.resolve();
    await Promise.resolve();
    peer.gather("candidate:1 host");
    peer.complete();
    await done;
    expect(peer.transceivers).toEqual([
      { kind: "audio", direction: "sendrecv" },
      { kind: "video", direction: "sendonly" },
    ]);
    expect(fake.offers).toEqual(["v=0 offer candidate:1 host"]);
    expect(peer.remote).toEqual({ type: "answer", sdp: "v=0 answer" });
    expect(fake.ice).toEqual([]); // all in the SDP: nothing trickled
  });

  it("sends after 3 s without complete gathering, then trickles later candidates after the answer", async () => {
    vi.useFakeTimers();
    const peer = new FakePeer();
    let answer: (ack: RtcOfferAck) => void = () => undefined;
    const offers: string[] = [];
    const ice: IceCandidateMessage[] = [];
    const done = negotiate(peer, stream("audio"), {
      offer: (sdp) => {
        offers.push(sdp);
        return new Promise((resolve) => {
          answer = resolve;
        });
      },
      ice: async (candidate) => {
        ice.push(candidate);
        return { ok: true };
      },
    });
    await vi.advanceTimersByTimeAsync(0);
    peer.gather("candidate:1 host");
    await vi.advanceTimersByTimeAsync(2_999);
    expect(offers).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(offers).toEqual(["v=0 offer candidate:1 host"]);
    peer.gather("candidate:2 srflx"); // after the offer, before the answer: held
    expect(ice).toEqual([]);
    answer({ ok: true, sdp: "v=0 answer" });
    await done;
    expect(ice).toEqual([{ candidate: "candidate:2 srflx", sdpMid: "0", sdpMLineIndex: 0 }]);
    peer.gather("candidate:3 relay"); // after the answer: sent at once
    expect(ice.map((c) => c.candidate)).toEqual(["candidate:2 srflx", "candidate:3 relay"]);
  });

  it("throws the server's refusal with its code", async () => {
    const peer = new FakePeer();
    peer.iceGatheringState = "complete";
    peer.setLocalDescription = async (description) => {
      peer.localDescription = { sdp: description.sdp ?? "" };
    };
    const fake = server({ ok: false, error: { code: "voice_unavailable", message: "Voice is not available; please type." } });
    const error = await negotiate(peer, stream("audio"), fake.signal).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(VoiceNegotiationError);
    expect(error).toMatchObject({ code: "voice_unavailable" });
    expect(peer.remote).toBeNull();
    expect(voiceProblemText("voice_unavailable", "")).toMatch(/type your answers/);
  });

  it("needs a microphone track", async () => {
    const error = await negotiate(new FakePeer(), stream("video"), server().signal).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: "no_microphone" });
  });

  it("stops quietly when cancelled before the offer goes out", async () => {
    const peer = new FakePeer();
    peer.iceGatheringState = "complete";
    peer.setLocalDescription = async (description) => {
      peer.localDescription = { sdp: description.sdp ?? "" };
    };
    const fake = server();
    await negotiate(peer, stream("audio"), fake.signal, { isCancelled: () => true });
    expect(fake.offers).toEqual([]);
  });
});

describe("waitForIceGathering", () => {
  it("resolves at once when complete, else on completion or after the cap", async () => {
    const peer = new FakePeer();
    peer.iceGatheringState = "complete";
    await expect(waitForIceGathering(peer, 10)).resolves.toBe(true);
    vi.useFakeTimers();
    const slow = new FakePeer();
    const waiting = waitForIceGathering(slow, 3_000);
    await vi.advanceTimersByTimeAsync(3_000);
    await expect(waiting).resolves.toBe(false);
    const quick = new FakePeer();
    const gathering = waitForIceGathering(quick, 3_000);
    quick.complete();
    await expect(gathering).resolves.toBe(true);
  });
});
