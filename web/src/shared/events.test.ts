import { describe, expect, it } from "vitest";
import { asKnownEvent, EventSequencer, isRawEvent } from "./events";
import { ev, prompt } from "./test-fixtures";
import type { RawEvent } from "./types";

const seqs = (events: { seq: number }[]) => events.map((event) => event.seq);
const note = (seq: number) => ev(seq, "note", { text: `n${seq}`, by: "u" });

describe("EventSequencer (strict)", () => {
  it("passes events in order and drops repeats", () => {
    const sequencer = new EventSequencer();
    expect(seqs(sequencer.push([note(1), note(2)]))).toEqual([1, 2]);
    expect(seqs(sequencer.push([note(2), note(1)]))).toEqual([]);
    expect(sequencer.lastSeq).toBe(2);
  });

  it("holds events behind a missing seq until it arrives", () => {
    const sequencer = new EventSequencer();
    expect(seqs(sequencer.push([note(1), note(3), note(4)]))).toEqual([1]);
    expect(sequencer.hasGap()).toBe(true);
    expect(seqs(sequencer.push([note(2)]))).toEqual([2, 3, 4]);
    expect(sequencer.hasGap()).toBe(false);
  });

  it("sorts an out-of-order batch", () => {
    const sequencer = new EventSequencer(5);
    expect(seqs(sequencer.push([note(8), note(6), note(7)]))).toEqual([6, 7, 8]);
  });

  it("release gives up on the missing numbers", () => {
    const sequencer = new EventSequencer();
    sequencer.push([note(2), note(5)]);
    expect(seqs(sequencer.release())).toEqual([2, 5]);
    expect(sequencer.lastSeq).toBe(5);
    expect(sequencer.hasGap()).toBe(false);
  });

  it("advanceTo moves the watermark and drops older held events", () => {
    const sequencer = new EventSequencer();
    sequencer.push([note(3), note(9)]);
    sequencer.advanceTo(8);
    expect(sequencer.lastSeq).toBe(8);
    expect(seqs(sequencer.push([]))).toEqual([9]);
  });

  it("ignores values that are not events", () => {
    const sequencer = new EventSequencer();
    const junk = [{ seq: "1" }, null] as unknown as RawEvent[];
    expect(sequencer.push(junk)).toEqual([]);
  });
});

describe("EventSequencer (candidate, non-strict)", () => {
  it("applies past gaps, since hidden events skip numbers", () => {
    const sequencer = new EventSequencer(0, false);
    expect(seqs(sequencer.push([note(1), note(4)]))).toEqual([1, 4]);
    expect(seqs(sequencer.push([note(3), note(6), note(5)]))).toEqual([5, 6]);
    expect(sequencer.hasGap()).toBe(false);
  });
});

describe("event parsing", () => {
  it("recognises the envelope", () => {
    expect(isRawEvent(ev(1, "prompt", prompt("p")))).toBe(true);
    expect(isRawEvent({ seq: 1.5, type: "prompt", payload: {} })).toBe(false);
    expect(isRawEvent({ seq: 1, type: "prompt", payload: null })).toBe(false);
  });

  it("returns null for unknown types", () => {
    expect(asKnownEvent({ seq: 1, type: "future_thing", at: "", payload: {} })).toBeNull();
    expect(asKnownEvent(ev(1, "ended", { reason: "x" }))?.type).toBe("ended");
  });
});
