/**
 * Plays one recorded track, stored as ~10 s segments, on one media element as if it were one
 * recording. Each segment is fetched with the bearer token and played from a blob URL; the
 * next one starts on `ended`. A leading track ("lead") drives the timeline and skips gaps
 * between segments; a following track is kept in step with the lead's position.
 */
import { segmentAt, type TimelineSegment } from "./timeline";

/** Returns a playable URL (a blob URL) for a segment. */
export type SegmentLoader = (segment: TimelineSegment) => Promise<string>;

export interface SegmentedMediaEvents {
  /** The position on the timeline changed (lead only). */
  onTime?: (offset: number) => void;
  /** Playing, paused, loading or failed (lead only). */
  onState?: (state: { playing: boolean; loading: boolean; error: string | null }) => void;
}

/** A follower further off than this from the lead is moved to the lead's position. */
export const FOLLOW_TOLERANCE_S = 0.3;
/** A gap shorter than this between segments is played through without a pause. */
const CONTIGUOUS_S = 0.5;

export class SegmentedMedia {
  private index = -1;
  private token = 0;
  private wantPlay = false;
  private busy = false;
  private error: string | null = null;
  private readonly listeners: [string, EventListener][] = [];

  constructor(
    private readonly element: HTMLMediaElement,
    readonly segments: readonly TimelineSegment[],
    private readonly load: SegmentLoader,
    private readonly events: SegmentedMediaEvents = {},
    private readonly lead = true,
  ) {
    this.listen("timeupdate", () => this.reportTime());
    this.listen("ended", () => void this.onEnded());
    this.listen("error", () => {
      if (this.index < 0 || this.busy) return;
      this.wantPlay = false;
      this.error = "This part of the recording could not be played.";
      this.reportState();
    });
  }

  private listen(type: string, listener: EventListener): void {
    this.element.addEventListener(type, listener);
    this.listeners.push([type, listener]);
  }

  /** The position on the timeline, or null before anything was loaded. */
  get offset(): number | null {
    const segment = this.segments[this.index];
    return segment ? segment.start + this.element.currentTime : null;
  }

  get playing(): boolean {
    return this.wantPlay;
  }

  /** A segment is being fetched or opened. */
  get loading(): boolean {
    return this.busy;
  }

  private reportTime(): void {
    if (!this.lead) return;
    const offset = this.offset;
    if (offset !== null) this.events.onTime?.(offset);
  }

  private reportState(): void {
    if (!this.lead) return;
    this.events.onState?.({ playing: this.wantPlay, loading: this.busy, error: this.error });
  }

  /** Moves to `offset` (and plays if `play`): in a gap, the next segment's start. */
  async seek(offset: number, play: boolean): Promise<void> {
    const position = segmentAt(this.segments, offset);
    if (!position) {
      // Past the end: stay at the end of the last segment.
      const last = this.segments[this.segments.length - 1];
      if (last) await this.show(this.segments.length - 1, last.duration, false);
      return;
    }
    await this.show(position.index, position.within, play);
  }

  play(): void {
    if (this.index < 0) {
      const first = this.segments[0];
      if (first) void this.seek(first.start, true);
      return;
    }
    const segment = this.segments[this.index] as TimelineSegment;
    // At the very end of the last segment: start again from the beginning.
    if (this.element.ended && this.index === this.segments.length - 1) {
      void this.seek(this.segments[0]?.start ?? segment.start, true);
      return;
    }
    this.wantPlay = true;
    this.error = null;
    this.reportState();
    this.element.play().catch((error: unknown) => this.playFailed(error));
  }

  pause(): void {
    this.wantPlay = false; // a load under way then stays paused
    this.element.pause();
    this.reportState();
  }

  private playFailed(error: unknown): void {
    const name = (error as { name?: unknown } | null)?.name;
    if (name === "AbortError") return; // a newer load replaced this one
    this.wantPlay = false;
    this.error = name === "NotAllowedError" ? null : "The recording could not be played in this browser.";
    this.reportState();
  }

  private async show(index: number, within: number, play: boolean): Promise<void> {
    const token = ++this.token;
    const segment = this.segments[index];
    if (!segment) return;
    this.wantPlay = play;
    this.error = null;
    if (index !== this.index || !this.element.currentSrc) {
      this.busy = true;
      this.reportState();
      let url: string;
      try {
        url = await this.load(segment);
      } catch (error) {
        if (token !== this.token) return;
        this.busy = false;
        this.wantPlay = false;
        this.error = `Could not load the recording: ${error instanceof Error ? error.message : String(error)}`;
        this.reportState();
        return;
      }
      if (token !== this.token) return;
      this.index = index;
      this.element.src = url;
      const ready = await metadataLoaded(this.element);
      if (token !== this.token) return;
      this.busy = false;
      if (!ready) {
        this.wantPlay = false;
        this.error = "This part of the recording could not be played.";
        this.reportState();
        return;
      }
    }
    this.busy = false; // also when this replaced a load still under way
    const duration = Number.isFinite(this.element.duration) ? this.element.duration : segment.duration;
    this.element.currentTime = Math.max(0, Math.min(within, Math.max(0, duration - 0.05)));
    this.reportTime();
    if (this.wantPlay) this.element.play().catch((error: unknown) => this.playFailed(error));
    else this.element.pause();
    this.reportState();
    const next = this.segments[index + 1];
    if (next) this.load(next).catch(() => undefined); // fetch ahead
  }

  private async onEnded(): Promise<void> {
    if (!this.wantPlay) return;
    const current = this.segments[this.index];
    const next = this.segments[this.index + 1];
    if (!current || !next) {
      this.wantPlay = false;
      this.reportState();
      return;
    }
    // The lead skips a gap; a follower waits for the lead to reach the next segment.
    if (this.lead || next.start - (current.start + current.duration) < CONTIGUOUS_S) {
      await this.show(this.index + 1, 0, true);
    } else {
      this.wantPlay = false;
    }
  }

  /** Follower: keep in step with the lead at `offset`, playing when the lead plays. */
  follow(offset: number, playing: boolean): void {
    if (this.busy) return;
    const position = segmentAt(this.segments, offset);
    if (!position || !position.inside) {
      // Nothing recorded here on this track.
      if (!this.element.paused) this.element.pause();
      this.wantPlay = false;
      return;
    }
    const drift =
      position.index === this.index && this.element.currentSrc
        ? Math.abs(this.element.currentTime - position.within)
        : Infinity;
    if (drift > FOLLOW_TOLERANCE_S) {
      void this.show(position.index, position.within, playing);
      return;
    }
    if (playing && this.element.paused && !this.element.ended) {
      this.wantPlay = true;
      this.element.play().catch(() => {
        this.wantPlay = false;
      });
    } else if (!playing && !this.element.paused) {
      this.wantPlay = false;
      this.element.pause();
    }
  }

  /** Stops and lets go of the element. */
  destroy(): void {
    this.token += 1;
    for (const [type, listener] of this.listeners) this.element.removeEventListener(type, listener);
    this.element.pause();
    this.element.removeAttribute("src");
    this.element.load();
  }
}

/** Resolves true once the element knows the media's duration, false on an error. */
function metadataLoaded(element: HTMLMediaElement): Promise<boolean> {
  if (element.readyState >= HTMLMediaElement.HAVE_METADATA && !element.error) return Promise.resolve(true);
  return new Promise((resolve) => {
    const done = (ok: boolean): void => {
      element.removeEventListener("loadedmetadata", onLoaded);
      element.removeEventListener("error", onError);
      resolve(ok);
    };
    const onLoaded = (): void => done(true);
    const onError = (): void => done(false);
    element.addEventListener("loadedmetadata", onLoaded);
    element.addEventListener("error", onError);
  });
}
