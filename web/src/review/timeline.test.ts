import { describe, expect, it } from "vitest";
import { ev } from "../shared/test-fixtures";
import type { TranscriptEntry } from "../shared/types";
import {
  buildTimelineLines,
  currentLineIndex,
  formatOffset,
  isoSeconds,
  segmentAt,
  timelineBounds,
  toTimelineSegments,
  type TimelineLine,
} from "./timeline";

const segments = toTimelineSegments([
  // Out of order on purpose, with a gap between 20 and 30 (no voice connection then).
  { name: "0000030000-0010000-b.ogg", start_offset_s: 30, duration_s: 10, content_type: "audio/ogg" },
  { name: "0000000000-0010000-a.ogg", start_offset_s: 0, duration_s: 10, content_type: "audio/ogg" },
  { name: "0000010000-0010000-a.ogg", start_offset_s: 10, duration_s: 10, content_type: "audio/ogg" },
  { name: "broken.ogg", start_offset_s: 5, duration_s: 0, content_type: "audio/ogg" },
]);

describe("segmentAt", () => {
  it("finds the segment containing an offset and the time within it", () => {
    expect(segments.map((segment) => segment.start)).toEqual([0, 10, 30]);
    expect(segmentAt(segments, 0)).toEqual({ index: 0, within: 0, inside: true });
    expect(segmentAt(segments, 12.5)).toEqual({ index: 1, within: 2.5, inside: true });
    expect(segmentAt(segments, 10)).toEqual({ index: 1, within: 0, inside: true });
    expect(segmentAt(segments, 39.9)?.index).toBe(2);
  });

  it("gives the next segment for an offset in a gap or before the start", () => {
    expect(segmentAt(segments, 25)).toEqual({ index: 2, within: 0, inside: false });
    expect(segmentAt(segments, -4)).toEqual({ index: 0, within: 0, inside: false });
  });

  it("gives null past the end or without segments", () => {
    expect(segmentAt(segments, 40)).toBeNull();
    expect(segmentAt([], 0)).toBeNull();
  });

  it("knows where the recording starts and ends over every track", () => {
    const later = toTimelineSegments([
      { name: "v.webm", start_offset_s: 2, duration_s: 45, content_type: "video/webm" },
    ]);
    expect(timelineBounds([segments, later])).toEqual({ start: 0, end: 47 });
    expect(timelineBounds([[]])).toBeNull();
  });
});

describe("isoSeconds and formatOffset", () => {
  it("reads Python's microsecond ISO times", () => {
    expect(isoSeconds("2026-01-01T10:00:05.250000+00:00")).toBeCloseTo(Date.UTC(2026, 0, 1, 10, 0, 5) / 1000 + 0.25, 6);
    expect(isoSeconds("2026-01-01T12:00:05+02:00")).toBe(Date.UTC(2026, 0, 1, 10, 0, 5) / 1000);
    expect(isoSeconds("2026-01-01T10:00:05Z")).toBe(Date.UTC(2026, 0, 1, 10, 0, 5) / 1000);
    expect(isoSeconds(null)).toBeNull();
    expect(isoSeconds("yesterday")).toBeNull();
  });

  it("formats offsets as m:ss or h:mm:ss", () => {
    expect(formatOffset(0)).toBe("0:00");
    expect(formatOffset(83.9)).toBe("1:23");
    expect(formatOffset(3725)).toBe("1:02:05");
    expect(formatOffset(-3)).toBe("0:00");
  });
});

const START = "2026-01-01T10:00:00.000000+00:00";

function entry(id: string, asked: string | null, answered: string | null, answer: string | null = `Answer ${id}`): TranscriptEntry {
  return {
    prompt_id: id,
    kind: "question",
    question_text: `Question ${id}?`,
    answer_text: answer,
    asked_at: asked,
    answered_at: answered,
  };
}

describe("buildTimelineLines", () => {
  it("places questions at asked_at and answers at answered_at without events", () => {
    const lines = buildTimelineLines(
      [entry("p1", "2026-01-01T10:00:02Z", "2026-01-01T10:00:20Z"), entry("p2", "2026-01-01T10:00:21.5Z", null, null)],
      START,
    );
    expect(lines.map((line) => [line.key, line.speaker, line.offset])).toEqual([
      ["p1:q", "interviewer", 2],
      ["p1:a", "candidate", 20],
      ["p2:q", "interviewer", 21.5],
    ]);
  });

  it("moves lines to where they are heard when the events tell", () => {
    const at = (seconds: number): string => new Date(Date.UTC(2026, 0, 1, 10, 0, 0) + seconds * 1000).toISOString();
    const transcript = [
      // Asked just before voice started: spoken from 1 s to 6 s; first caption at 12 s.
      entry("p1", at(-1), at(30)),
      // No prompt_played (speech failed): the answer starts two seconds before its first caption.
      entry("p2", at(31), at(50)),
      // The candidate cut the question short at 53 s (barge-in), first caption at 54 s.
      entry("p3", at(51), at(60)),
      // Typed: the answer sits at answered_at; the question stopped playing after it (next prompt).
      entry("p4", at(61), at(63)),
    ];
    const events = [
      { ...ev(1, "prompt_played", { prompt_id: "p1", text_played: "Question p1?", complete: true, seconds: 5 }), at: at(6) },
      { ...ev(2, "answer_partial", { prompt_id: "p1", text: "I" }), at: at(12) },
      { ...ev(3, "answer_partial", { prompt_id: "p1", text: "I would" }), at: at(13) },
      { ...ev(4, "answer_final", { prompt_id: "p1", text: "Answer p1", source: "voice" }), at: at(30) },
      { ...ev(5, "answer_partial", { prompt_id: "p2", text: "So" }), at: at(40) },
      { ...ev(6, "answer_final", { prompt_id: "p2", text: "Answer p2", source: "voice" }), at: at(50) },
      { ...ev(7, "prompt_played", { prompt_id: "p3", text_played: "Quest", complete: false, seconds: 1.5 }), at: at(53) },
      { ...ev(8, "answer_partial", { prompt_id: "p3", text: "Well" }), at: at(54) },
      { ...ev(9, "answer_final", { prompt_id: "p3", text: "Answer p3", source: "voice" }), at: at(60) },
      { ...ev(10, "answer_final", { prompt_id: "p4", text: "Answer p4", source: "typed" }), at: at(63) },
      { ...ev(11, "prompt_played", { prompt_id: "p4", text_played: "Q", complete: false, seconds: 5 }), at: at(66) },
    ];
    const lines = buildTimelineLines(transcript, START, events);
    expect(lines.map((line) => [line.key, line.offset, line.source])).toEqual([
      ["p1:q", 1, null],
      ["p1:a", 10, "voice"],
      ["p2:q", 31, null],
      ["p2:a", 38, "voice"],
      ["p3:q", 51.5, null],
      ["p3:a", 52.5, "voice"],
      ["p4:q", 61, null],
      ["p4:a", 63, "typed"],
    ]);
  });

  it("sorts lines by offset and keeps lines from before the recording (negative offsets)", () => {
    const lines = buildTimelineLines(
      [entry("p0", "2026-01-01T09:59:00Z", "2026-01-01T09:59:30Z"), entry("p1", "2026-01-01T10:00:01Z", null, null)],
      START,
    );
    expect(lines.map((line) => line.offset)).toEqual([-60, -30, 1]);
  });

  it("gives nothing without a usable start time", () => {
    expect(buildTimelineLines([entry("p1", "2026-01-01T10:00:02Z", null)], "not a time")).toEqual([]);
  });
});

describe("currentLineIndex", () => {
  const lines: TimelineLine[] = [2, 20, 21.5, 40].map((offset, index) => ({
    key: String(index),
    promptId: `p${index}`,
    speaker: index % 2 ? "candidate" : "interviewer",
    text: "",
    offset,
    source: null,
  }));

  it("is the last line started by the offset", () => {
    expect(currentLineIndex(lines, 0)).toBe(-1);
    expect(currentLineIndex(lines, 2)).toBe(0);
    expect(currentLineIndex(lines, 19.99)).toBe(0);
    expect(currentLineIndex(lines, 20)).toBe(1);
    expect(currentLineIndex(lines, 30)).toBe(2);
    expect(currentLineIndex(lines, 500)).toBe(3);
  });

  it("is -1 without lines or position", () => {
    expect(currentLineIndex([], 10)).toBe(-1);
    expect(currentLineIndex(lines, null)).toBe(-1);
    expect(currentLineIndex(lines, Number.NaN)).toBe(-1);
  });
});
