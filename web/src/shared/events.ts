import type { EventType, InterviewEvent, RawEvent } from "./types";

const KNOWN_TYPES: ReadonlySet<string> = new Set<EventType>([
  "state_changed",
  "prompt",
  "answer_final",
  "answer_partial",
  "prompt_played",
  "score",
  "hint",
  "observer_action",
  "note",
  "summary",
  "second_opinion",
  "ended",
]);

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Whether a wire value has the Event envelope `{seq, type, at, payload}`. */
export function isRawEvent(value: unknown): value is RawEvent {
  return (
    isObject(value) &&
    typeof value.seq === "number" &&
    Number.isInteger(value.seq) &&
    typeof value.type === "string" &&
    isObject(value.payload)
  );
}

/** The event as a known, typed event, or null for an unknown type (newer server). */
export function asKnownEvent(raw: RawEvent): InterviewEvent | null {
  if (!KNOWN_TYPES.has(raw.type) || !isObject(raw.payload)) return null;
  return { ...raw, at: typeof raw.at === "string" ? raw.at : "" } as InterviewEvent;
}

/**
 * Orders events by `seq` and drops repeats.
 *
 * In strict mode (staff, who see every event of an interview) a missing `seq` holds later
 * events back until it arrives or the caller gives up with `release()`, and `hasGap()` tells
 * the caller to re-request events after `lastSeq`. Candidates see only candidate-visible events,
 * so their numbers legitimately skip: non-strict mode only drops repeats and applies in order.
 */
export class EventSequencer {
  private last: number;
  private readonly held = new Map<number, RawEvent>();

  constructor(
    lastSeq = 0,
    private readonly strict = true,
  ) {
    this.last = lastSeq;
  }

  /** The highest `seq` applied. */
  get lastSeq(): number {
    return this.last;
  }

  /** Whether events are held back behind a missing `seq`. */
  hasGap(): boolean {
    return this.held.size > 0;
  }

  /** Takes incoming events; returns those now ready to apply, in order. */
  push(events: readonly RawEvent[]): RawEvent[] {
    for (const event of events) {
      if (!isRawEvent(event) || event.seq <= this.last) continue;
      this.held.set(event.seq, event);
    }
    if (!this.strict) return this.release();
    const ready: RawEvent[] = [];
    for (let next = this.held.get(this.last + 1); next; next = this.held.get(this.last + 1)) {
      this.held.delete(next.seq);
      this.last = next.seq;
      ready.push(next);
    }
    return ready;
  }

  /** Gives up waiting: returns every held event in order, skipping the missing numbers. */
  release(): RawEvent[] {
    const ready = [...this.held.values()].sort((a, b) => a.seq - b.seq);
    this.held.clear();
    const lastEvent = ready[ready.length - 1];
    if (lastEvent) this.last = Math.max(this.last, lastEvent.seq);
    return ready;
  }

  /** Moves the watermark forward (e.g. to a snapshot's `last_seq`), dropping older held events. */
  advanceTo(seq: number): void {
    if (seq <= this.last) return;
    this.last = seq;
    for (const key of [...this.held.keys()]) if (key <= seq) this.held.delete(key);
  }
}
