import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { debounce } from "./debounce";

describe("debounce", () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it("calls once with the latest arguments after the quiet time", () => {
    const fn = vi.fn();
    const debounced = debounce(fn, 500);
    debounced("a");
    vi.advanceTimersByTime(300);
    debounced("ab");
    vi.advanceTimersByTime(300);
    debounced("abc");
    expect(fn).not.toHaveBeenCalled();
    vi.advanceTimersByTime(499);
    expect(fn).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(fn).toHaveBeenCalledTimes(1);
    expect(fn).toHaveBeenCalledWith("abc");
  });

  it("flush runs the pending call at once, and only once", () => {
    const fn = vi.fn();
    const debounced = debounce(fn, 500);
    debounced(1);
    expect(debounced.pending()).toBe(true);
    debounced.flush();
    expect(fn).toHaveBeenCalledWith(1);
    expect(debounced.pending()).toBe(false);
    vi.advanceTimersByTime(1_000);
    expect(fn).toHaveBeenCalledTimes(1);
  });

  it("flush without a pending call does nothing", () => {
    const fn = vi.fn();
    debounce(fn, 500).flush();
    expect(fn).not.toHaveBeenCalled();
  });

  it("cancel drops the pending call", () => {
    const fn = vi.fn();
    const debounced = debounce(fn, 500);
    debounced(1);
    debounced.cancel();
    vi.advanceTimersByTime(1_000);
    expect(fn).not.toHaveBeenCalled();
  });

  it("uses injected timers", () => {
    const scheduled: (() => void)[] = [];
    const fn = vi.fn();
    const debounced = debounce(fn, 500, {
      setTimeout: (callback) => scheduled.push(callback),
      clearTimeout: () => undefined,
    });
    debounced("x");
    scheduled[0]?.();
    expect(fn).toHaveBeenCalledWith("x");
  });
});
