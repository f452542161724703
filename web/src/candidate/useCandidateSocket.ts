import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import type {
  Ack,
  ApiErrorBody,
  HintAck,
  IceServerConfig,
  RtcOfferAck,
} from "../shared/types";
import { createCandidateLink, NOT_CONNECTED, type CandidateLink, type Connection } from "./candidateLink";
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

export type { Connection } from "./candidateLink";

export interface CandidateConnection {
  connection: Connection;
  /** Why the connection was refused, or the last error the server sent. */
  error: ApiErrorBody | null;
  /** Reconnect attempts that failed since the last join (0 while connected). */
  reconnectAttempts: number;
  session: CandidateSession | null;
  /** The draft the server held at the last join, and a counter that changes on every join. */
  serverDraft: { promptId: string | null; text: string; joinCount: number };
  /** How many joins were acknowledged: a new value means a new (re)join, so voice re-offers. */
  joinCount: number;
  /** ICE servers from the join snapshot (optional; none when the server is on the same host). */
  iceServers: IceServerConfig[];
  /** False once a join says this server takes typed answers only (no microphone asked for). */
  voiceAvailable: boolean;
  /** `rtc_offer` and `rtc_ice`: stable for the hook's lifetime (they use the current socket). */
  voiceSignal: VoiceSignal;
  rtcHangup: () => Promise<Ack>;
  endTurn: (promptId: string) => Promise<Ack>;
  consent: () => Promise<Ack>;
  sendDraft: (draft: Draft) => Promise<boolean>;
  answer: (promptId: string, text: string) => Promise<Ack>;
  hint: (promptId: string) => Promise<HintAck>;
  /** Skip the reconnect wait and try now. */
  retry: () => void;
}

/**
 * The candidate's Socket.IO connection as React state. The link (candidateLink.ts) asks
 * `/owner` before every connect and opens the socket on the node that runs the interview; a
 * drop, or a refusal saying the interview lives elsewhere, starts that again with backoff.
 * The session, and the last seq seen, survive every reconnect.
 */
export function useCandidateSocket(token: string | null): CandidateConnection {
  const [connection, setConnection] = useState<Connection>("connecting");
  const [error, setError] = useState<ApiErrorBody | null>(null);
  const [reconnectAttempts, setReconnectAttempts] = useState(0);
  const [session, setSession] = useState<CandidateSession | null>(null);
  const [serverDraft, setServerDraft] = useState<CandidateConnection["serverDraft"]>({
    promptId: null,
    text: "",
    joinCount: 0,
  });
  const [iceServers, setIceServers] = useState<IceServerConfig[]>([]);
  const [voiceAvailable, setVoiceAvailable] = useState(true);
  const linkRef = useRef<CandidateLink | null>(null);

  useEffect(() => {
    if (!token) return undefined;
    let joinCount = 0;
    const link = createCandidateLink({
      token,
      pageOrigin: window.location.origin,
      listener: {
        connection(state, reason) {
          if (reason) setError(reason);
          setConnection(state);
        },
        joined(snapshot, ready) {
          setSession((current) => {
            const base = current ?? emptySession(snapshot);
            return sessionFromSnapshot(snapshot, applyCandidateEvents(base, ready));
          });
          joinCount += 1;
          setServerDraft({ promptId: snapshot.prompt?.prompt_id ?? null, text: snapshot.draft ?? "", joinCount });
          setVoiceAvailable(snapshot.voice !== false);
          if (Array.isArray(snapshot.ice_servers)) {
            const servers = snapshot.ice_servers;
            setIceServers((current) => (JSON.stringify(current) === JSON.stringify(servers) ? current : servers));
          }
        },
        events(ready) {
          setSession((current) => (current ? applyCandidateEvents(current, ready) : current));
        },
        notice(shown) {
          setError(shown);
          // A passing problem (rate limit, a refused message): let the banner go after a while.
          if (shown) window.setTimeout(() => setError((current) => (current === shown ? null : current)), 8_000);
        },
        attempts: setReconnectAttempts,
      },
    });
    linkRef.current = link;
    link.start();
    return () => {
      link.stop();
      if (linkRef.current === link) linkRef.current = null;
    };
  }, [token]);

  const emit = useCallback(<T extends object>(event: string, data: unknown, timeoutMs?: number): Promise<Ack<T>> => {
    const link = linkRef.current;
    if (!link) return Promise.resolve({ ok: false, error: NOT_CONNECTED });
    return link.emit<T>(event, data, timeoutMs);
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
  const retry = useCallback(() => linkRef.current?.retry(), []);

  return {
    connection,
    error,
    reconnectAttempts,
    session,
    serverDraft,
    joinCount: serverDraft.joinCount,
    iceServers,
    voiceAvailable,
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

