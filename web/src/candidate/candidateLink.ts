/**
 * The candidate's link to the node that runs the interview, without React: asks `/owner`
 * before every connect and opens the socket there (ownerConnector.ts), joins with the last seq
 * seen, buffers live events until the join is acknowledged, and on a drop or a "not here"
 * refusal closes the socket and finds the owner again. useCandidateSocket turns its reports
 * into React state; tests drive it with a fake socket.
 */
import type { Socket } from "socket.io-client";
import type { Timers } from "../shared/debounce";
import { EventSequencer, isRawEvent } from "../shared/events";
import { connect, connectErrorInfo, emitAck, isAuthRefusal } from "../shared/socket";
import type { Ack, ApiErrorBody, CandidateSnapshot, RawEvent } from "../shared/types";
import { createOwnerConnector } from "./ownerConnector";
import {
  askOwner,
  interviewIdFromToken,
  isMovedCode,
  joinRefusalIsPassing,
  SAME_ORIGIN,
  type OwnerOutcome,
  type SocketTarget,
} from "./ownerRoute";

/**
 * How long opening a socket may take. A dead node's address may not answer at all: waiting
 * socket.io's default 20 s there would hold up the next `/owner` question for that long.
 */
export const SOCKET_OPEN_TIMEOUT_MS = 8_000;

export type Connection =
  | "connecting"
  | "connected"
  /** The socket is down (network, or the node went away): `/owner` is asked again, with backoff. */
  | "reconnecting"
  /** The link or the join was refused: nothing more will happen. */
  | "refused"
  /** The interview was opened in another tab: this one stops. */
  | "superseded";

export const NOT_CONNECTED: ApiErrorBody = {
  code: "disconnected",
  message: "Not connected to the server right now.",
};

/** What a command refused with a "not here" code answers: the socket is already moving. */
export const MOVED: ApiErrorBody = {
  code: "owned_elsewhere",
  message: "The interview moved to another server; reconnecting. Please try again in a moment.",
};

/** What the link reports; every call comes from a socket or timer callback, never re-entrantly. */
export interface CandidateLinkListener {
  /** The connection changed (`reason`: why it was refused, for the link-error screen). */
  connection(state: Connection, reason: ApiErrorBody | null): void;
  /** A join was acknowledged: its snapshot, and the missed events now in order. */
  joined(snapshot: CandidateSnapshot, ready: RawEvent[]): void;
  /** Live events now in order. */
  events(ready: RawEvent[]): void;
  /** A passing problem the server reported (`error` event), or null once connected again. */
  notice(error: ApiErrorBody | null): void;
  /** Failed reconnect attempts since the last join. */
  attempts(failures: number): void;
}

export interface CandidateLinkOptions {
  token: string;
  /** `window.location.origin`: where `/owner` is asked, and what "same origin" means. */
  pageOrigin: string;
  listener: CandidateLinkListener;
  /** Opens a socket at `target` (tests: a fake). */
  openSocket?: (target: SocketTarget, token: string) => Socket;
  /** Asks `/owner` (tests: scripted replies). */
  askOwner?: (interviewId: string, token: string, pageOrigin: string) => Promise<OwnerOutcome>;
  timers?: Timers;
  random?: () => number;
}

export interface CandidateLink {
  start(): void;
  stop(): void;
  /** Skips the reconnect wait. */
  retry(): void;
  /**
   * Emits on the current socket with an acknowledgement. A refusal saying the interview lives
   * elsewhere moves the link (ask `/owner`, reconnect) and answers MOVED.
   */
  emit<T extends object>(event: string, data: unknown, timeoutMs?: number): Promise<Ack<T>>;
}

function openCandidateSocket(target: SocketTarget, token: string): Socket {
  return connect("/candidate", token, {
    origin: target.origin,
    path: target.path,
    reconnection: false,
    timeout: SOCKET_OPEN_TIMEOUT_MS,
  });
}

export function createCandidateLink(options: CandidateLinkOptions): CandidateLink {
  const { token, pageOrigin, listener } = options;
  const openSocket = options.openSocket ?? openCandidateSocket;
  const ask = options.askOwner ?? askOwner;
  const interviewId = interviewIdFromToken(token);
  const sequencer = new EventSequencer(0, false);
  let socket: Socket | null = null;
  let stopped = false;
  let joined = false;
  let buffered: RawEvent[] = [];

  const apply = (events: RawEvent[]): void => {
    const ready = sequencer.push(events);
    if (ready.length > 0) listener.events(ready);
  };

  // Listeners go before the socket is closed: nothing a dead or replaced socket says (its own
  // "disconnect", a "superseded" meant for the old connection) reaches the app.
  const closeSocket = (): void => {
    joined = false;
    const current = socket;
    if (!current) return;
    socket = null;
    current.removeAllListeners();
    current.disconnect();
  };

  const stop = (state: "refused" | "superseded", reason: ApiErrorBody | null): void => {
    stopped = true;
    connector.stop();
    closeSocket();
    listener.connection(state, reason);
  };

  /** The socket is gone or the node said "not here": calmly find the owner again. */
  const lost = (reason: ApiErrorBody | null): void => {
    if (stopped) return;
    closeSocket();
    listener.connection("reconnecting", null);
    connector.reconnect(reason);
  };

  const join = async (on: Socket): Promise<void> => {
    joined = false;
    const ack = await emitAck<{ snapshot: CandidateSnapshot; events: RawEvent[] }>(on, "join", {
      after_seq: sequencer.lastSeq,
    });
    if (stopped || socket !== on) return;
    if (!ack.ok) {
      // Moved, changing hands (a dead owner's lease has not run out yet), or the socket
      // dropped mid-join: ask `/owner` again. Anything else is final, as it always was.
      if (joinRefusalIsPassing(ack.error.code)) lost(ack.error);
      else stop("refused", ack.error);
      return;
    }
    connector.joined();
    const events = Array.isArray(ack.events) ? ack.events : [];
    const ready = sequencer.push(events.filter(isRawEvent));
    sequencer.advanceTo(ack.snapshot.last_seq);
    joined = true;
    listener.joined(ack.snapshot, ready);
    const waiting = buffered;
    buffered = [];
    apply(waiting);
    listener.attempts(0);
    listener.connection("connected", null);
  };

  const open = (target: SocketTarget): void => {
    closeSocket();
    const next = openSocket(target, token);
    socket = next;
    next.on("connect", () => {
      listener.notice(null);
      void join(next);
    });
    next.on("event", (event: unknown) => {
      if (!isRawEvent(event)) return;
      if (joined) apply([event]);
      else buffered.push(event);
    });
    next.on("superseded", () => stop("superseded", null));
    next.on("error", (body: unknown) => {
      const info = body as Partial<ApiErrorBody> | null;
      if (!info || typeof info.code !== "string") return;
      const shown = { code: info.code, message: typeof info.message === "string" ? info.message : info.code };
      if (isMovedCode(shown.code)) lost(shown);
      else listener.notice(shown);
    });
    next.on("connect_error", (err: unknown) => {
      const info = connectErrorInfo(err);
      // An inactive socket was refused by the server itself (its token), not by the network.
      if (isAuthRefusal(info) || !next.active) stop("refused", info);
      else lost(info);
    });
    // Any drop, the server's own included (a draining node closes its sockets so that they go
    // to the next owner): the old node may be gone, so ask `/owner` before reconnecting.
    next.on("disconnect", () => lost(null));
  };

  const connector = createOwnerConnector({
    ask: () =>
      // Without a readable interview id there is nothing to ask: the page's origin says why.
      interviewId === null
        ? Promise.resolve<OwnerOutcome>({ kind: "connect", target: SAME_ORIGIN, nodeId: null })
        : ask(interviewId, token, pageOrigin),
    open,
    onFinal: (reason) => stop("refused", reason),
    onWait: (failures) => listener.attempts(failures),
    ...(options.timers ? { timers: options.timers } : {}),
    ...(options.random ? { random: options.random } : {}),
  });

  return {
    start() {
      connector.start();
    },
    stop() {
      stopped = true;
      connector.stop();
      closeSocket();
    },
    retry() {
      connector.retryNow();
    },
    async emit<T extends object>(event: string, data: unknown, timeoutMs?: number): Promise<Ack<T>> {
      const on = socket;
      if (!on) return { ok: false, error: NOT_CONNECTED };
      const ack = await emitAck<T>(on, event, data, timeoutMs);
      if (!ack.ok && isMovedCode(ack.error.code)) {
        // Another node runs the interview now: reconnect there; the caller may try again after.
        if (on === socket) lost(ack.error);
        return { ok: false, error: MOVED };
      }
      return ack;
    },
  };
}
