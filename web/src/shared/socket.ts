import { io, type Socket } from "socket.io-client";
import type { Ack, ApiErrorBody } from "./types";

export type Namespace = "/candidate" | "/observer";

export const ACK_TIMEOUT_MS = 10_000;

export interface ConnectOptions {
  /** Another node's origin (`https://node-2.example.com`); null or absent: this page's origin. */
  origin?: string | null;
  /** Socket.IO's path on that origin; absent: its default, `/socket.io`. */
  path?: string;
  /**
   * false: the caller reconnects by itself (the candidate app asks which node owns the
   * interview first). Such a socket gets a manager of its own, so that a later connection to
   * the same URL never reuses one that is closing.
   */
  reconnection?: boolean;
  /** How long opening the connection may take (socket.io's default: 20 s). */
  timeout?: number;
}

/**
 * Opens a namespace over websocket only, with the token in the handshake auth: on this origin,
 * or on `options.origin` (a node's own address).
 */
export function connect(namespace: Namespace, token: string, options: ConnectOptions = {}): Socket {
  const reconnection = options.reconnection ?? true;
  return io(options.origin ? `${options.origin}${namespace}` : namespace, {
    transports: ["websocket"],
    auth: { token },
    reconnection,
    reconnectionDelay: 500,
    reconnectionDelayMax: 5_000,
    forceNew: !reconnection,
    ...(options.path ? { path: options.path } : {}),
    ...(options.timeout ? { timeout: options.timeout } : {}),
  });
}

/**
 * Emits with an acknowledgement. Never rejects: a dropped socket or a server that does not
 * answer in time gives `{ok: false, error}` like any refusal, so callers handle one shape.
 * Nothing is sent while disconnected (socket.io would buffer and replay it after a reconnect,
 * after our re-join, out of order).
 */
export async function emitAck<T extends object>(
  socket: Socket,
  event: string,
  data: unknown,
  timeoutMs: number = ACK_TIMEOUT_MS,
): Promise<Ack<T>> {
  if (!socket.connected) {
    return { ok: false, error: { code: "disconnected", message: "Not connected to the server right now." } };
  }
  try {
    const reply: unknown = await socket.timeout(timeoutMs).emitWithAck(event, data);
    if (typeof reply === "object" && reply !== null && "ok" in reply) return reply as Ack<T>;
    return { ok: false, error: { code: "bad_reply", message: "The server sent an unexpected reply." } };
  } catch {
    return { ok: false, error: { code: "timeout", message: "The server did not answer in time." } };
  }
}

export const AUTH_ERROR_CODES = ["missing_token", "invalid_token", "expired_token", "forbidden"];

/**
 * The `{code, message}` of a `connect_error`. python-socketio's ConnectionRefusedError puts its
 * first argument in `err.message` and any further one in `err.data`; accept the code in either
 * place, and `{code, message}` as `err.data` or as a JSON `err.message`.
 */
export function connectErrorInfo(error: unknown): ApiErrorBody {
  const err = (error ?? {}) as { message?: unknown; data?: unknown };
  const message = typeof err.message === "string" ? err.message : "";
  const fromObject = (value: unknown): ApiErrorBody | null => {
    if (typeof value !== "object" || value === null) return null;
    const candidate = value as Partial<ApiErrorBody>;
    if (typeof candidate.code !== "string") return null;
    return { code: candidate.code, message: typeof candidate.message === "string" ? candidate.message : message };
  };
  const data = Array.isArray(err.data) ? err.data[0] : err.data;
  const structured = fromObject(data);
  if (structured) return structured;
  if (message.startsWith("{")) {
    try {
      const parsed = fromObject(JSON.parse(message));
      if (parsed) return parsed;
    } catch {
      // not JSON: fall through
    }
  }
  // ConnectionRefusedError({"code": …}) with one dict argument arrives as Python's str(dict).
  const codeMatch = /['"]code['"]\s*:\s*['"]([a-z_]+)['"]/.exec(message);
  if (codeMatch?.[1]) {
    const messageMatch = /['"]message['"]\s*:\s*(['"])(.*?)\1\s*[,}]/.exec(message);
    return { code: codeMatch[1], message: messageMatch?.[2] ?? codeMatch[1] };
  }
  if (typeof data === "string" && AUTH_ERROR_CODES.includes(data)) return { code: data, message };
  if (AUTH_ERROR_CODES.includes(message)) return { code: message, message: typeof data === "string" ? data : message };
  return { code: "connect_failed", message: message || "Could not connect to the server." };
}

/** Whether a connect_error means the token itself was refused (no point retrying). */
export function isAuthRefusal(info: ApiErrorBody): boolean {
  return AUTH_ERROR_CODES.includes(info.code);
}
