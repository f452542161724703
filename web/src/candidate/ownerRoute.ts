/**
 * Where the candidate's socket must go: each live interview runs on one node (its owner, held
 * through a lease), and `GET /api/v1/interviews/{id}/owner` names that node's base URL
 * (docs/deploy.md §4). This module turns that reply into a connection target, says which
 * failures are worth another try, and how long to wait before it. No React, no sockets.
 */
import { API_BASE } from "../shared/api";
import type { ApiErrorBody } from "../shared/types";

/** Socket.IO's default path, the one the app has always used on its own origin. */
export const SOCKET_PATH = "/socket.io";

/** Where to open the socket. */
export interface SocketTarget {
  /** Another node's origin (`https://node-2.example.com`); null: this page's own origin. */
  origin: string | null;
  /** The Socket.IO path on that origin. */
  path: string;
}

export const SAME_ORIGIN: SocketTarget = { origin: null, path: SOCKET_PATH };

/** What one `/owner` question gave. */
export type OwnerOutcome =
  /** Connect there. `nodeId` is for logs and tests only. */
  | { kind: "connect"; target: SocketTarget; nodeId: string | null }
  /** Nothing usable yet (503 while a dead owner's lease runs out, network down): ask again later. */
  | { kind: "retry"; error: ApiErrorBody }
  /** The link is bad, expired or not for this interview: asking again cannot help. */
  | { kind: "final"; error: ApiErrorBody };

/** 401, 403, 404: the token or the interview is wrong; everything else may pass. */
export const FINAL_OWNER_STATUSES: readonly number[] = [401, 403, 404];

export function ownerPath(interviewId: string): string {
  return `${API_BASE}/interviews/${encodeURIComponent(interviewId)}/owner`;
}

function base64UrlDecode(text: string): string | null {
  try {
    const base64 = text.replace(/-/g, "+").replace(/_/g, "/");
    const padded = base64 + "=".repeat((4 - (base64.length % 4)) % 4);
    const binary = atob(padded);
    const bytes = Uint8Array.from(binary, (char) => char.charCodeAt(0));
    return new TextDecoder().decode(bytes);
  } catch {
    return null;
  }
}

/**
 * The interview id in a candidate token (its `interview` claim), read without checking the
 * signature: it only says which `/owner` to ask, and the server checks the token there and on
 * the socket. Null when the token is not a readable JWT (the socket then reports why).
 */
export function interviewIdFromToken(token: string): string | null {
  const payload = token.split(".")[1];
  if (!payload) return null;
  const json = base64UrlDecode(payload);
  if (json === null) return null;
  try {
    const claims: unknown = JSON.parse(json);
    if (typeof claims !== "object" || claims === null) return null;
    const interview = (claims as { interview?: unknown }).interview;
    return typeof interview === "string" && interview.trim() ? interview.trim() : null;
  } catch {
    return null;
  }
}

function isLoopback(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, "").toLowerCase();
  return host === "localhost" || host.endsWith(".localhost") || host === "::1" || /^127\./.test(host);
}

/**
 * The socket target for the owner's base URL. The page's own origin (or an empty, unparseable
 * or unusable URL) keeps today's same-origin connection. A base URL with a path prefix
 * (`https://lb.example.com/nodes/pod-1`) puts Socket.IO's path under it.
 */
export function socketTarget(ownerUrl: unknown, pageOrigin: string): SocketTarget {
  if (typeof ownerUrl !== "string" || !ownerUrl.trim()) return SAME_ORIGIN;
  let url: URL;
  let page: URL;
  try {
    url = new URL(ownerUrl.trim());
    page = new URL(pageOrigin);
  } catch {
    return SAME_ORIGIN;
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") return SAME_ORIGIN;
  // The browser blocks ws:// from an https page: the owner cannot be reached that way.
  if (page.protocol === "https:" && url.protocol === "http:") return SAME_ORIGIN;
  // A node that knows no public address names itself `localhost`: from a candidate's machine
  // that is the candidate's own computer, so only a page on loopback may follow it.
  if (isLoopback(url.hostname) && !isLoopback(page.hostname)) return SAME_ORIGIN;
  const prefix = url.pathname.replace(/\/+$/, "");
  const path = `${prefix}${SOCKET_PATH}`;
  return { origin: url.origin === page.origin ? null : url.origin, path };
}

function errorBody(body: unknown): ApiErrorBody | null {
  if (typeof body !== "object" || body === null) return null;
  const error = (body as { error?: unknown }).error;
  if (typeof error !== "object" || error === null) return null;
  const { code, message } = error as Partial<ApiErrorBody>;
  if (typeof code !== "string") return null;
  return { code, message: typeof message === "string" ? message : code };
}

/** The link-error code for a final status whose body said nothing readable. */
function finalCode(status: number): string {
  if (status === 401) return "invalid_token";
  if (status === 403) return "forbidden";
  return "not_found";
}

/** Turns an `/owner` HTTP reply (status and parsed JSON body, null if none) into what to do. */
export function ownerOutcome(status: number, body: unknown, pageOrigin: string): OwnerOutcome {
  if (status >= 200 && status < 300) {
    const reply = typeof body === "object" && body !== null ? (body as { node_id?: unknown; url?: unknown }) : {};
    return {
      kind: "connect",
      target: socketTarget(reply.url, pageOrigin),
      nodeId: typeof reply.node_id === "string" ? reply.node_id : null,
    };
  }
  const error = errorBody(body);
  if (FINAL_OWNER_STATUSES.includes(status)) {
    return { kind: "final", error: error ?? { code: finalCode(status), message: "" } };
  }
  return {
    kind: "retry",
    error: error ?? { code: `http_${status}`, message: `The server answered ${status}.` },
  };
}

/** How long one `/owner` question may take before it counts as a network failure. */
export const OWNER_TIMEOUT_MS = 8_000;

type Fetch = typeof fetch;

/** Asks the page's own origin which node runs the interview. Never rejects. */
export async function askOwner(
  interviewId: string,
  token: string,
  pageOrigin: string,
  fetchImpl: Fetch = (...args) => globalThis.fetch(...args),
  timeoutMs: number = OWNER_TIMEOUT_MS,
): Promise<OwnerOutcome> {
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), timeoutMs);
  try {
    const response = await fetchImpl(ownerPath(interviewId), {
      headers: { Authorization: `Bearer ${token}`, Accept: "application/json" },
      cache: "no-store",
      signal: abort.signal,
    });
    let body: unknown = null;
    try {
      body = await response.json();
    } catch {
      body = null;
    }
    return ownerOutcome(response.status, body, pageOrigin);
  } catch {
    return { kind: "retry", error: { code: "network_error", message: "The server could not be reached." } };
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Refusals meaning "not here (any more)": another node holds the interview, or this one is
 * shutting down. The answer is to ask `/owner` again and connect where it says.
 */
export const MOVED_CODES: readonly string[] = ["owned_elsewhere", "draining"];

export function isMovedCode(code: string): boolean {
  return MOVED_CODES.includes(code);
}

/**
 * Join refusals that pass: the interview moved, is changing hands (a dead owner's lease not yet
 * run out) or the node is busy. Any other refusal of the join is final, as before.
 */
const PASSING_JOIN_CODES: readonly string[] = [
  ...MOVED_CODES,
  "temporarily_unavailable",
  "rate_limited",
  "disconnected",
  "timeout",
];

export function joinRefusalIsPassing(code: string): boolean {
  return PASSING_JOIN_CODES.includes(code);
}

/** Capped exponential backoff between reconnect attempts. */
export interface BackoffPolicy {
  initialMs: number;
  maxMs: number;
  factor: number;
  /** ± this fraction at random, so that the candidates of a dead node do not all ask at once. */
  jitter: number;
}

/** 0.5 s, 1 s, 2 s, then every 4 s: a dead owner's lease (10 s by default) runs out meanwhile. */
export const RECONNECT_BACKOFF: BackoffPolicy = { initialMs: 500, maxMs: 4_000, factor: 2, jitter: 0.2 };

/** The wait before reconnect attempt `attempt` (0 for the first after a drop). */
export function backoffDelay(
  attempt: number,
  policy: BackoffPolicy = RECONNECT_BACKOFF,
  random: () => number = Math.random,
): number {
  const exponent = Math.max(0, Math.min(attempt, 30));
  const base = Math.min(policy.maxMs, policy.initialMs * policy.factor ** exponent);
  const spread = base * policy.jitter * (2 * random() - 1);
  return Math.max(0, Math.min(policy.maxMs, Math.round(base + spread)));
}
