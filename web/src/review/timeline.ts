/**
 * The recording's timeline: segments of each track placed at offsets (seconds from the
 * recording's `started_at`), and transcript lines placed on the same axis.
 */
import { asKnownEvent } from "../shared/events";
import type { RawEvent, RecordingSegment, TranscriptEntry } from "../shared/types";

/** One playable file of a track. */
export interface TimelineSegment {
  name: string;
  start: number;
  duration: number;
  contentType: string;
}

export interface SegmentPosition {
  index: number;
  /** Seconds into the segment. */
  within: number;
  /** False: the offset falls before the segment (a gap in the recording, or before it starts). */
  inside: boolean;
}

/** The track's segments in playback order, with unusable entries dropped. */
export function toTimelineSegments(segments: readonly RecordingSegment[]): TimelineSegment[] {
  return segments
    .filter(
      (segment) =>
        typeof segment.name === "string" &&
        Number.isFinite(segment.start_offset_s) &&
        Number.isFinite(segment.duration_s) &&
        segment.duration_s > 0,
    )
    .map((segment) => ({
      name: segment.name,
      start: segment.start_offset_s,
      duration: segment.duration_s,
      contentType: segment.content_type,
    }))
    .sort((a, b) => a.start - b.start || a.name.localeCompare(b.name));
}

/**
 * The segment that plays at `offset`: the one containing it (`inside`), else the next one to
 * start after it (a gap: play on from there); null past the end. Segments are sorted by start.
 */
export function segmentAt(segments: readonly TimelineSegment[], offset: number): SegmentPosition | null {
  for (let index = 0; index < segments.length; index += 1) {
    const segment = segments[index] as TimelineSegment;
    if (offset < segment.start) return { index, within: 0, inside: false };
    if (offset < segment.start + segment.duration) return { index, within: offset - segment.start, inside: true };
  }
  return null;
}

/** Where the recording starts and ends (over every track), in seconds; null without segments. */
export function timelineBounds(tracks: readonly (readonly TimelineSegment[])[]): { start: number; end: number } | null {
  let start = Infinity;
  let end = -Infinity;
  for (const segments of tracks) {
    for (const segment of segments) {
      start = Math.min(start, segment.start);
      end = Math.max(end, segment.start + segment.duration);
    }
  }
  return Number.isFinite(start) && Number.isFinite(end) ? { start, end } : null;
}

/**
 * Seconds since the epoch of an ISO time, or null. Python's isoformat gives microseconds
 * ("…:05.123456+00:00"), which not every Date parser takes: the fraction is read here.
 */
export function isoSeconds(iso: string | null | undefined): number | null {
  if (typeof iso !== "string" || !iso) return null;
  const match = /^(.*T\d{2}:\d{2}:\d{2})(?:[.,](\d+))?(Z|[+-]\d{2}:?\d{2})?$/.exec(iso.trim());
  if (!match) {
    const millis = Date.parse(iso);
    return Number.isNaN(millis) ? null : millis / 1000;
  }
  const [, base, fraction = "", zone = "Z"] = match;
  const millis = Date.parse(`${base}${zone}`);
  if (Number.isNaN(millis)) return null;
  return millis / 1000 + (fraction ? Number(`0.${fraction}`) : 0);
}

/** "m:ss" (or "h:mm:ss") of a number of seconds. */
export function formatOffset(seconds: number): string {
  const total = Math.max(0, Math.floor(seconds));
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const secs = String(total % 60).padStart(2, "0");
  return hours > 0 ? `${hours}:${String(minutes).padStart(2, "0")}:${secs}` : `${minutes}:${secs}`;
}

export type Speaker = "interviewer" | "candidate";

/** One line of the synchronised transcript. */
export interface TimelineLine {
  key: string;
  promptId: string;
  speaker: Speaker;
  text: string;
  /** Seconds from the recording's start (negative: before the recording began). */
  offset: number;
  /** For answers: how it was given, when known from the events. */
  source: "typed" | "voice" | null;
}

/** How far before its first caption a spoken answer is taken to start. */
export const CAPTION_LEAD_S = 2;
/** How far before the cut a candidate who interrupted the question started speaking. */
export const BARGE_IN_LEAD_S = 0.5;

interface Play {
  /** When the spoken question stopped (finished, or cut short by the candidate). */
  at: number;
  seconds: number;
  complete: boolean;
}

interface PromptFacts {
  plays: Play[];
  firstPartial: number | null;
  source: "typed" | "voice" | null;
}

function factsFromEvents(events: readonly RawEvent[]): Map<string, PromptFacts> {
  const facts = new Map<string, PromptFacts>();
  const of = (promptId: string): PromptFacts => {
    let known = facts.get(promptId);
    if (!known) {
      known = { plays: [], firstPartial: null, source: null };
      facts.set(promptId, known);
    }
    return known;
  };
  for (const raw of events) {
    const event = asKnownEvent(raw);
    if (!event) continue;
    const at = isoSeconds(event.at);
    if (event.type === "prompt_played" && at !== null) {
      const seconds = Number(event.payload.seconds);
      of(event.payload.prompt_id).plays.push({
        at,
        seconds: Number.isFinite(seconds) && seconds > 0 ? seconds : 0,
        complete: event.payload.complete !== false,
      });
    } else if (event.type === "answer_partial" && at !== null) {
      const known = of(event.payload.prompt_id);
      if (known.firstPartial === null) known.firstPartial = at;
    } else if (event.type === "answer_final") {
      of(event.payload.prompt_id).source = event.payload.source === "voice" ? "voice" : "typed";
    }
  }
  for (const known of facts.values()) known.plays.sort((a, b) => a.at - b.at);
  return facts;
}

/**
 * The transcript as lines on the recording's timeline (seconds from `startedAt`).
 *
 * Without events: each question at `asked_at`, each answer at `answered_at`. With the events
 * (`prompt_played`, `answer_partial`, `answer_final`) the lines move to where they are heard:
 * a question to when it was first spoken (`prompt_played.at − seconds`: a question asked
 * before voice started is spoken when it starts); a spoken answer a little before its first
 * caption, never before the question stopped playing (or just before the cut, when the
 * candidate interrupted it). `answered_at` is when an answer was complete, so it is only the
 * fallback, and the place of typed answers. Lines without a time are left out; lines are
 * sorted by offset.
 */
export function buildTimelineLines(
  transcript: readonly TranscriptEntry[],
  startedAt: string,
  events: readonly RawEvent[] = [],
): TimelineLine[] {
  const origin = isoSeconds(startedAt);
  if (origin === null) return [];
  const facts = factsFromEvents(events);
  const lines: TimelineLine[] = [];
  for (const entry of transcript) {
    const asked = isoSeconds(entry.asked_at);
    const answered = isoSeconds(entry.answered_at);
    const known = facts.get(entry.prompt_id);
    const plays = (known?.plays ?? []).filter(
      (play) => (asked === null || play.at >= asked) && (answered === null || play.at - play.seconds <= answered),
    );
    const firstPlay = plays[0];
    const questionAt = firstPlay ? Math.max(asked ?? -Infinity, firstPlay.at - firstPlay.seconds) : asked;
    if (questionAt !== null && entry.question_text) {
      lines.push({
        key: `${entry.prompt_id}:q`,
        promptId: entry.prompt_id,
        speaker: "interviewer",
        text: entry.question_text,
        offset: questionAt - origin,
        source: null,
      });
    }
    if (answered === null || entry.answer_text === null || entry.answer_text === undefined) continue;
    let start = answered;
    if (known?.source === "voice") {
      const heard = plays.filter((play) => play.at <= answered);
      const lastPlay = heard[heard.length - 1];
      const floor = lastPlay
        ? lastPlay.complete
          ? lastPlay.at
          : lastPlay.at - BARGE_IN_LEAD_S
        : (questionAt ?? -Infinity);
      if (known.firstPartial !== null && known.firstPartial <= answered) {
        start = Math.max(floor, known.firstPartial - CAPTION_LEAD_S);
      } else if (lastPlay) {
        start = floor;
      }
      start = Math.min(Math.max(start, questionAt ?? -Infinity), answered);
    }
    lines.push({
      key: `${entry.prompt_id}:a`,
      promptId: entry.prompt_id,
      speaker: "candidate",
      text: entry.answer_text,
      offset: start - origin,
      source: known?.source ?? null,
    });
  }
  return lines
    .map((line, index) => ({ line, index }))
    .sort((a, b) => a.line.offset - b.line.offset || a.index - b.index)
    .map(({ line }) => line);
}

/** Index of the line playing at `offset`: the last one that started by then; -1 before the first. */
export function currentLineIndex(lines: readonly TimelineLine[], offset: number | null): number {
  if (offset === null || !Number.isFinite(offset)) return -1;
  let low = 0;
  let high = lines.length - 1;
  let found = -1;
  while (low <= high) {
    const middle = (low + high) >> 1;
    if ((lines[middle] as TimelineLine).offset <= offset + 1e-6) {
      found = middle;
      low = middle + 1;
    } else {
      high = middle - 1;
    }
  }
  return found;
}
