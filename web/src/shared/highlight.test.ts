import { describe, expect, it } from "vitest";
import { highlightSegments, segmentTitle } from "./highlight";
import type { EvidenceSpan } from "./types";

const span = (start: number, end: number, indicator: string | null = null): EvidenceSpan => ({
  start,
  end,
  indicator,
});

function joined(text: string, spans: EvidenceSpan[]): string {
  return highlightSegments(text, spans)
    .map((segment) => segment.text)
    .join("");
}

describe("highlightSegments", () => {
  it("returns the whole text unmarked without spans", () => {
    expect(highlightSegments("hello", [])).toEqual([{ text: "hello", marked: false, indicators: [] }]);
  });

  it("returns nothing for empty text", () => {
    expect(highlightSegments("", [span(0, 3)])).toEqual([]);
  });

  it("marks one span with its indicator", () => {
    expect(highlightSegments("I used a cache here", [span(7, 14, "caching")])).toEqual([
      { text: "I used ", marked: false, indicators: [] },
      { text: "a cache", marked: true, indicators: ["caching"] },
      { text: " here", marked: false, indicators: [] },
    ]);
  });

  it("marks spans at the very start and end", () => {
    const segments = highlightSegments("abcdef", [span(0, 2, "x"), span(4, 6, "y")]);
    expect(segments.map((s) => [s.text, s.marked])).toEqual([
      ["ab", true],
      ["cd", false],
      ["ef", true],
    ]);
  });

  it("splits overlapping spans into runs by covering indicators, without repeating text", () => {
    const text = "0123456789";
    const segments = highlightSegments(text, [span(2, 6, "a"), span(4, 8, "b")]);
    expect(segments).toEqual([
      { text: "01", marked: false, indicators: [] },
      { text: "23", marked: true, indicators: ["a"] },
      { text: "45", marked: true, indicators: ["a", "b"] },
      { text: "67", marked: true, indicators: ["b"] },
      { text: "89", marked: false, indicators: [] },
    ]);
    expect(joined(text, [span(2, 6, "a"), span(4, 8, "b")])).toBe(text);
  });

  it("merges a span nested in another with the same indicator", () => {
    expect(highlightSegments("0123456789", [span(1, 9, "a"), span(3, 5, "a")])).toEqual([
      { text: "0", marked: false, indicators: [] },
      { text: "12345678", marked: true, indicators: ["a"] },
      { text: "9", marked: false, indicators: [] },
    ]);
  });

  it("merges adjacent spans with the same indicator and keeps different ones apart", () => {
    expect(highlightSegments("abcdef", [span(0, 2, "a"), span(2, 4, "a"), span(4, 6, "b")])).toEqual([
      { text: "abcd", marked: true, indicators: ["a"] },
      { text: "ef", marked: true, indicators: ["b"] },
    ]);
  });

  it("clamps out-of-range spans and drops empty, inverted and non-finite ones", () => {
    const text = "short";
    const segments = highlightSegments(text, [
      span(-5, 2, "neg"),
      span(3, 99, "past"),
      span(10, 20, "beyond"),
      span(4, 4, "empty"),
      span(4, 1, "inverted"),
      span(Number.NaN, 3, "nan"),
      span(0, Number.POSITIVE_INFINITY, "inf"),
    ]);
    expect(segments).toEqual([
      { text: "sh", marked: true, indicators: ["neg"] },
      { text: "o", marked: false, indicators: [] },
      { text: "rt", marked: true, indicators: ["past"] },
    ]);
  });

  it("returns the text unmarked when every span is out of range", () => {
    expect(highlightSegments("abc", [span(5, 9), span(-3, 0)])).toEqual([
      { text: "abc", marked: false, indicators: [] },
    ]);
  });

  it("rounds fractional offsets outwards", () => {
    expect(highlightSegments("abcdef", [span(1.5, 3.2, "f")]).map((s) => s.text)).toEqual(["a", "bcd", "ef"]);
  });

  it("counts offsets in code points, as Python does, so emoji do not shift spans", () => {
    const text = "👍 great cache";
    // Python: text.index("cache") == 8 (the emoji is one code point).
    const segments = highlightSegments(text, [span(8, 13, "caching")]);
    expect(segments).toEqual([
      { text: "👍 great ", marked: false, indicators: [] },
      { text: "cache", marked: true, indicators: ["caching"] },
    ]);
  });

  it("always joins back to the original text", () => {
    const text = "The quick brown fox jumps over the lazy dog";
    const spans = [span(4, 15, "a"), span(10, 25, "b"), span(0, 3), span(40, 60, "c"), span(16, 19, null)];
    expect(joined(text, spans)).toBe(text);
  });

  it("ignores null indicators but still marks the span", () => {
    const [, marked] = highlightSegments("abcdef", [span(2, 4, null)]);
    expect(marked).toEqual({ text: "cd", marked: true, indicators: [] });
    expect(segmentTitle(marked!)).toBe("Evidence for the score");
  });

  it("titles a marked run with its indicators", () => {
    expect(segmentTitle({ text: "x", marked: true, indicators: ["a", "b"] })).toBe("Matched: a; b");
  });
});
