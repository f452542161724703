import { useEffect, useState } from "react";
import type { Socket } from "socket.io-client";
import { EventSequencer, isRawEvent } from "../shared/events";
import { emitAck } from "../shared/socket";
import {
  applyWatchEvents,
  emptyWatchState,
  withInterview,
  type WatchState,
} from "../shared/transcript";
import type { ApiErrorBody, Interview, RawEvent } from "../shared/types";

/** How long a missing seq may hold later events back before the events are asked for again. */
export const GAP_WAIT_MS = 1_500;

export interface Watch {
  state: WatchState;
  error: ApiErrorBody | null;
  loading: boolean;
}

/**
 * Watches one interview: `watch` with the last seq seen on every (re)connect, live events in
 * seq order, and a re-watch when a seq goes missing.
 */
export function useWatch(socket: Socket, interviewId: string): Watch {
  const [state, setState] = useState<WatchState>(emptyWatchState);
  const [error, setError] = useState<ApiErrorBody | null>(null);
  const [loading, setLoading] = useState(true);

  useEffect(() => {
    setState(emptyWatchState);
    setError(null);
    setLoading(true);
    const sequencer = new EventSequencer(0, true);
    let gapTimer: number | null = null;
    let stopped = false;

    const apply = (events: RawEvent[]): void => {
      if (events.length > 0) setState((current) => applyWatchEvents(current, events));
    };

    const checkGap = (): void => {
      if (!sequencer.hasGap()) {
        if (gapTimer !== null) window.clearTimeout(gapTimer);
        gapTimer = null;
        return;
      }
      if (gapTimer !== null) return;
      gapTimer = window.setTimeout(() => {
        gapTimer = null;
        void watch(true);
      }, GAP_WAIT_MS);
    };

    const watch = async (afterGap = false): Promise<void> => {
      if (!socket.connected || stopped) return;
      const ack = await emitAck<{ interview: Interview; events: RawEvent[] }>(socket, "watch", {
        interview_id: interviewId,
        after_seq: sequencer.lastSeq,
      });
      if (stopped) return;
      setLoading(false);
      if (!ack.ok) {
        if (ack.error.code !== "disconnected") setError(ack.error);
        return;
      }
      setError(null);
      setState((current) => withInterview(current, ack.interview));
      apply(sequencer.push((ack.events ?? []).filter(isRawEvent)));
      // Asked again and still missing: those numbers will not come; go on without them.
      if (afterGap) apply(sequencer.release());
      checkGap();
    };

    const onEvent = (event: unknown): void => {
      if (!isRawEvent(event)) return;
      const target = (event as { interview_id?: unknown }).interview_id;
      if (typeof target === "string" && target !== interviewId) return;
      // Events that come before the watch ack are held by seq; the ack fills any gap before them.
      apply(sequencer.push([event]));
      checkGap();
    };
    const onConnect = (): void => void watch();

    socket.on("event", onEvent);
    socket.on("connect", onConnect);
    if (socket.connected) void watch();

    return () => {
      stopped = true;
      if (gapTimer !== null) window.clearTimeout(gapTimer);
      socket.off("event", onEvent);
      socket.off("connect", onConnect);
      if (socket.connected) void emitAck(socket, "unwatch", { interview_id: interviewId });
    };
  }, [socket, interviewId]);

  return { state, error, loading };
}
