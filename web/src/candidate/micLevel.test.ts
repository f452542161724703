import { describe, expect, it } from "vitest";
import { levelFromSamples } from "./micLevel";

describe("levelFromSamples", () => {
  it("is 0 for silence and grows with loudness, capped at 100", () => {
    expect(levelFromSamples(new Uint8Array(8).fill(128))).toBe(0);
    expect(levelFromSamples(new Uint8Array([128, 148, 128, 108]))).toBeGreaterThan(0);
    expect(levelFromSamples(new Uint8Array([0, 255, 0, 255]))).toBe(100);
    expect(levelFromSamples(new Uint8Array())).toBe(0);
  });
});
