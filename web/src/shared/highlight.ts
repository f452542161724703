import type { EvidenceSpan } from "./types";

/** A run of answer text, marked when evidence covers it. */
export interface Segment {
  text: string;
  marked: boolean;
  /** Indicators of every span covering this run, deduplicated, in span order. */
  indicators: string[];
}

/**
 * Splits `text` into plain and marked runs for the evidence spans.
 *
 * Offsets are `[start, end)` in Unicode code points (Python `str` indices), not UTF-16 units,
 * so an emoji before a span does not shift it. Spans are clamped to the text; empty, inverted,
 * non-finite or entirely out-of-range spans are dropped. Overlapping spans merge into one run
 * per distinct set of covering indicators, so no character is ever repeated or lost: the
 * segments always join back to `text`.
 */
export function highlightSegments(text: string, spans: readonly EvidenceSpan[]): Segment[] {
  const chars = Array.from(text);
  const length = chars.length;
  if (length === 0) return [];

  const valid: { start: number; end: number; indicator: string | null }[] = [];
  for (const span of spans) {
    if (!Number.isFinite(span.start) || !Number.isFinite(span.end)) continue;
    const start = Math.max(0, Math.floor(span.start));
    const end = Math.min(length, Math.ceil(span.end));
    if (start >= end) continue;
    valid.push({ start, end, indicator: span.indicator ?? null });
  }
  if (valid.length === 0) return [{ text, marked: false, indicators: [] }];

  const cuts = new Set<number>([0, length]);
  for (const span of valid) {
    cuts.add(span.start);
    cuts.add(span.end);
  }
  const bounds = [...cuts].sort((a, b) => a - b);

  const segments: Segment[] = [];
  for (let i = 0; i + 1 < bounds.length; i += 1) {
    const from = bounds[i] as number;
    const to = bounds[i + 1] as number;
    const covering = valid.filter((span) => span.start <= from && span.end >= to);
    const indicators: string[] = [];
    for (const span of covering) {
      if (span.indicator && !indicators.includes(span.indicator)) indicators.push(span.indicator);
    }
    const piece = chars.slice(from, to).join("");
    const marked = covering.length > 0;
    const previous = segments[segments.length - 1];
    if (previous && previous.marked === marked && sameList(previous.indicators, indicators)) {
      previous.text += piece;
    } else {
      segments.push({ text: piece, marked, indicators });
    }
  }
  return segments;
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((value, index) => value === b[index]);
}

/** The tooltip for a marked run. */
export function segmentTitle(segment: Segment): string {
  return segment.indicators.length > 0
    ? `Matched: ${segment.indicators.join("; ")}`
    : "Evidence for the score";
}
