import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import type { Socket } from "socket.io-client";
import { EventSequencer, isRawEvent } from "../shared/events";
import { connect, connectErrorInfo, emitAck, isAuthRefusal } from "../shared/socket";
import type {
  Ack,
  ApiErrorBody,
  CandidateSnapshot,
  HintAck,
  IceServerConfig,
  RawEvent,
  RtcOfferAck,
} from "../shared/types";
import type { Draft } from "./drafts";
import type { IceCandidateMessage, VoiceSignal } from "./rtc";
import {
  addHint,
  applyCandidateEvents,
  emptySession,
  sessionFromSnapshot,
  type CandidateHint,
  type CandidateSession,
} from "./session";

/** The server sets up its peer (ICE gathering included) before it answers an offer. */
export const RTC_OFFER_TIMEOUT_MS = 20_000;

export type Connection =
  | "connecting"
  | "connected"
  | "reconnecting"
  /** The server closed this connection itself (not a network drop); a retry is offered. */
  | "closed"
  /** The link or the join was refused: nothing more will happen. */
  | "refused"
  /** The interview was opened in another tab: this one stops. */
  | "superseded";

export interface CandidateConnection {
  connection: Connection;
  /** Why the connection was refused, or the last error the server sent. */
  error: ApiErrorBody | null;
  session: CandidateSession | null;
  /** The draft the server held at the last join, and a counter that changes on every join. */
  serverDraft: { promptId: string | null; text: string; joinCount: number };
  /** How many joins were acknowledged: a new value means a new (re)join, so voice re-offers. */
  joinCount: number;
  /** ICE servers from the join snapshot (optional; none when the server is on the same host). */
  iceServers: IceServerConfig[];
  /** `rtc_offer` and `rtc_ice`: stable for the connection's lifetime. */
  voiceSignal: VoiceSignal;
  rtcHangup: () => Promise<Ack>;
  endTurn: (promptId: string) => Promise<Ack>;
  consent: () => Promise<Ack>;
  sendDraft: (draft: Draft) => Promise<boolean>;
  answer: (promptId: string, text: string) => Promise<Ack>;
  hint: (promptId: string) => Promise<HintAck>;
  retry: () => void;
}

/**
 * The candidate's Socket.IO connection: joins on every (re)connect with the last seq seen,
 * buffers live events until the join is acknowledged, and keeps the session state.
 */
export function useCandidateSocket(token: string | null): CandidateConnection {
  const [connection, setConnection] = useState<Connection>("connecting");
  const [error, setError] = useState<ApiErrorBody | null>(null);
  const [session, setSession] = useState<CandidateSession | null>(null);
  const [serverDraft, setServerDraft] = useState<CandidateConnection["serverDraft"]>({
    promptId: null,
    text: "",
    joinCount: 0,
  });
  const [iceServers, setIceServers] = useState<IceServerConfig[]>([]);
  const socketRef = useRef<Socket | null>(null);
  const stoppedRef = useRef(false);

  useEffect(() => {
    if (!token) return undefined;
    const socket = connect("/candidate", token);
    socketRef.current = socket;
    stoppedRef.current = false;
    const sequencer = new EventSequencer(0, false);
    let joined = false;
    let buffered: RawEvent[] = [];
    let joinCount = 0;

    const apply = (events: RawEvent[]): void => {
      const ready = sequencer.push(events);
      if (ready.length > 0) setSession((current) => (current ? applyCandidateEvents(current, ready) : current));
    };

    const onJoined = (snapshot: CandidateSnapshot, events: RawEvent[]): void => {
      const ready = sequencer.push(events.filter(isRawEvent));
      sequencer.advanceTo(snapshot.last_seq);
      setSession((current) => {
        const base = current ?? emptySession(snapshot);
        return sessionFromSnapshot(snapshot, applyCandidateEvents(base, ready));
      });
      joinCount += 1;
      setServerDraft({ promptId: snapshot.prompt?.prompt_id ?? null, text: snapshot.draft ?? "", joinCount });
      if (Array.isArray(snapshot.ice_servers)) {
        const servers = snapshot.ice_servers;
        setIceServers((current) => (JSON.stringify(current) === JSON.stringify(servers) ? current : servers));
      }
      joined = true;
      const waiting = buffered;
      buffered = [];
      apply(waiting);
      setConnection("connected");
    };

    const join = async (): Promise<void> => {
      joined = false;
      const ack = await emitAck<{ snapshot: CandidateSnapshot; events: RawEvent[] }>(socket, "join", {
        after_seq: sequencer.lastSeq,
      });
      if (stoppedRef.current) return;
      if (ack.ok) {
        onJoined(ack.snapshot, Array.isArray(ack.events) ? ack.events : []);
      } else if (ack.error.code === "disconnected" || ack.error.code === "timeout") {
        // The socket dropped mid-join: the next "connect" joins again.
        if (ack.error.code === "timeout") socket.disconnect().connect();
      } else {
        stoppedRef.current = true;
        setError(ack.error);
        setConnection("refused");
        socket.disconnect();
      }
    };

    socket.on("connect", () => {
      setError(null);
      void join();
    });
    socket.on("event", (event: unknown) => {
      if (!isRawEvent(event)) return;
      if (joined) apply([event]);
      else buffered.push(event);
    });
    socket.on("superseded", () => {
      stoppedRef.current = true;
      setConnection("superseded");
      socket.disconnect();
    });
    socket.on("error", (body: unknown) => {
      const info = body as Partial<ApiErrorBody> | null;
      if (info && typeof info.code === "string") {
        const shown = { code: info.code, message: typeof info.message === "string" ? info.message : info.code };
        setError(shown);
        // A passing problem (rate limit, a refused message): let the banner go after a while.
        window.setTimeout(() => setError((current) => (current === shown ? null : current)), 8_000);
      }
    });
    socket.on("connect_error", (err: unknown) => {
      if (stoppedRef.current) return;
      const info = connectErrorInfo(err);
      if (!socket.active || isAuthRefusal(info)) {
        stoppedRef.current = true;
        setError(info);
        setConnection("refused");
        socket.disconnect();
      } else {
        setConnection("reconnecting");
      }
    });
    socket.on("disconnect", (reason: string) => {
      joined = false;
      if (stoppedRef.current) return;
      setConnection(reason === "io server disconnect" ? "closed" : "reconnecting");
    });

    return () => {
      stoppedRef.current = true;
      socket.removeAllListeners();
      socket.disconnect();
      socketRef.current = null;
    };
  }, [token]);

  const emit = useCallback(<T extends object>(event: string, data: unknown, timeoutMs?: number): Promise<Ack<T>> => {
    const socket = socketRef.current;
    if (!socket) {
      return Promise.resolve({ ok: false, error: { code: "disconnected", message: "Not connected." } });
    }
    return emitAck<T>(socket, event, data, timeoutMs);
  }, []);

  const consent = useCallback(() => emit("consent", { accepted: true }), [emit]);
  const sendDraft = useCallback(
    async (draft: Draft) => (await emit("draft", draft)).ok,
    [emit],
  );
  const answer = useCallback(
    (promptId: string, text: string) => emit("answer", { prompt_id: promptId, text }),
    [emit],
  );
  const hint = useCallback(
    async (promptId: string): Promise<HintAck> => {
      const ack = await emit<{ hint: CandidateHint }>("hint", { prompt_id: promptId });
      if (ack.ok && ack.hint) {
        setSession((current) => (current ? addHint(current, promptId, ack.hint) : current));
      }
      return ack;
    },
    [emit],
  );
  const voiceSignal = useMemo<VoiceSignal>(
    () => ({
      offer: (sdp: string): Promise<RtcOfferAck> => emit<{ sdp: string }>("rtc_offer", { sdp }, RTC_OFFER_TIMEOUT_MS),
      ice: (candidate: IceCandidateMessage): Promise<Ack> => emit("rtc_ice", { candidate }),
    }),
    [emit],
  );
  const rtcHangup = useCallback(() => emit("rtc_hangup", {}), [emit]);
  const endTurn = useCallback((promptId: string) => emit("end_turn", { prompt_id: promptId }), [emit]);
  const retry = useCallback(() => {
    const socket = socketRef.current;
    if (!socket || stoppedRef.current) return;
    setConnection("reconnecting");
    socket.connect();
  }, []);

  return {
    connection,
    error,
    session,
    serverDraft,
    joinCount: serverDraft.joinCount,
    iceServers,
    voiceSignal,
    rtcHangup,
    endTurn,
    consent,
    sendDraft,
    answer,
    hint,
    retry,
  };
}

