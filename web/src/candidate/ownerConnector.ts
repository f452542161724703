/**
 * The reconnect loop of the candidate's socket: ask `/owner`, open the socket where it says,
 * and after a drop or a "not here" refusal ask again after a capped backoff wait, until a join
 * succeeds or `/owner` says the link itself is bad. Sockets and fetch are injected, so the
 * loop runs in tests with fake timers.
 */
import { realTimers, type Timers } from "../shared/debounce";
import type { ApiErrorBody } from "../shared/types";
import {
  backoffDelay,
  RECONNECT_BACKOFF,
  type BackoffPolicy,
  type OwnerOutcome,
  type SocketTarget,
} from "./ownerRoute";

export interface OwnerConnectorOptions {
  /** Asks `/owner` (see askOwner); may not reject, but a rejection counts as a passing failure. */
  ask: () => Promise<OwnerOutcome>;
  /** Opens the socket at `target`, closing any previous one. */
  open: (target: SocketTarget) => void;
  /** `/owner` refused the link (401, 403, 404): nothing more is tried. */
  onFinal: (error: ApiErrorBody) => void;
  /** Attempt `failures` will be made after `delayMs` (`error`: why the last one failed, if known). */
  onWait?: (failures: number, delayMs: number, error: ApiErrorBody | null) => void;
  timers?: Timers;
  policy?: BackoffPolicy;
  random?: () => number;
}

export interface OwnerConnector {
  /** Asks `/owner` now and opens the socket there. */
  start(): void;
  /**
   * The socket dropped or the node said "not here": ask again after the next backoff wait.
   * Calls while a wait or a question is under way change nothing (one loop at a time).
   */
  reconnect(reason?: ApiErrorBody | null): void;
  /** Skips the current wait (the candidate asked to try now). */
  retryNow(): void;
  /** The join was acknowledged: the next drop starts again from the shortest wait. */
  joined(): void;
  stop(): void;
  /** Failed attempts since the last acknowledged join. */
  readonly failures: number;
}

const UNREACHABLE: ApiErrorBody = { code: "network_error", message: "The server could not be reached." };

export function createOwnerConnector(options: OwnerConnectorOptions): OwnerConnector {
  const timers = options.timers ?? realTimers;
  const policy = options.policy ?? RECONNECT_BACKOFF;
  const random = options.random ?? Math.random;
  let failures = 0;
  let timer: unknown = null;
  let asking = false;
  let stopped = false;

  const attempt = async (): Promise<void> => {
    timer = null;
    asking = true;
    let outcome: OwnerOutcome;
    try {
      outcome = await options.ask();
    } catch {
      outcome = { kind: "retry", error: UNREACHABLE };
    }
    asking = false;
    if (stopped) return;
    if (outcome.kind === "final") {
      stopped = true;
      options.onFinal(outcome.error);
    } else if (outcome.kind === "retry") {
      schedule(outcome.error);
    } else {
      options.open(outcome.target);
    }
  };

  const schedule = (error: ApiErrorBody | null): void => {
    if (stopped || asking || timer !== null) return;
    const delay = backoffDelay(failures, policy, random);
    failures += 1;
    options.onWait?.(failures, delay, error);
    timer = timers.setTimeout(() => void attempt(), delay);
  };

  return {
    start() {
      if (stopped || asking || timer !== null) return;
      void attempt();
    },
    reconnect(reason = null) {
      schedule(reason);
    },
    retryNow() {
      if (stopped || asking) return;
      if (timer !== null) timers.clearTimeout(timer);
      void attempt();
    },
    joined() {
      failures = 0;
    },
    stop() {
      stopped = true;
      if (timer !== null) timers.clearTimeout(timer);
      timer = null;
    },
    get failures() {
      return failures;
    },
  };
}
