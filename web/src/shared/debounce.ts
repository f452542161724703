/** Timer functions, injectable so tests and callers control time. */
export interface Timers {
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const realTimers: Timers = {
  setTimeout: (callback, ms) => globalThis.setTimeout(callback, ms),
  clearTimeout: (handle) => globalThis.clearTimeout(handle as ReturnType<typeof setTimeout>),
};

export interface Debounced<A extends unknown[]> {
  /** Schedules a call with these arguments, replacing any pending one. */
  (...args: A): void;
  /** Runs the pending call now, if there is one. */
  flush(): void;
  /** Drops the pending call. */
  cancel(): void;
  /** Whether a call is waiting. */
  pending(): boolean;
}

/** Calls `fn` with the latest arguments once `ms` have passed without a new call. */
export function debounce<A extends unknown[]>(
  fn: (...args: A) => void,
  ms: number,
  timers: Timers = realTimers,
): Debounced<A> {
  let handle: unknown = null;
  let lastArgs: A | null = null;

  const run = (): void => {
    handle = null;
    const args = lastArgs;
    lastArgs = null;
    if (args) fn(...args);
  };

  const debounced = ((...args: A): void => {
    lastArgs = args;
    if (handle !== null) timers.clearTimeout(handle);
    handle = timers.setTimeout(run, ms);
  }) as Debounced<A>;

  debounced.flush = (): void => {
    if (handle === null) return;
    timers.clearTimeout(handle);
    run();
  };
  debounced.cancel = (): void => {
    if (handle !== null) timers.clearTimeout(handle);
    handle = null;
    lastArgs = null;
  };
  debounced.pending = (): boolean => handle !== null;
  return debounced;
}
