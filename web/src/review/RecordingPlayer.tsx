import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import type { ApiClient } from "../shared/api";
import type { RecordingList } from "../shared/types";
import { SegmentedMedia, type SegmentLoader } from "./segmentedMedia";
import {
  currentLineIndex,
  formatOffset,
  timelineBounds,
  toTimelineSegments,
  type TimelineLine,
  type TimelineSegment,
} from "./timeline";

interface Props {
  api: ApiClient;
  interviewId: string;
  recordings: RecordingList;
  /** The transcript on the recording's timeline (empty when it cannot be placed). */
  lines: readonly TimelineLine[];
  /** Why the transcript is not synchronised, if it is not. */
  linesNote?: string | null;
}

interface Track {
  name: string;
  kind: "audio" | "video";
  segments: TimelineSegment[];
}

const TRACK_LABELS: Record<string, string> = {
  "candidate-audio": "the candidate's microphone",
  "agent-voice": "the interviewer's (AI) voice",
  "candidate-video": "the candidate's camera",
};

/** Blob URLs kept per track; older ones are revoked (the playing and the next one are recent). */
const KEPT_SEGMENTS = 8;

function trackKind(name: string, segments: readonly TimelineSegment[]): "audio" | "video" {
  if (name.endsWith("-video")) return "video";
  return segments.some((segment) => segment.contentType.startsWith("video/")) ? "video" : "audio";
}

/** Fetches segments with the bearer token into blob URLs, keeping the most recent few. */
function createLoader(api: ApiClient, interviewId: string, track: string): { load: SegmentLoader; dispose: () => void } {
  const cache = new Map<string, Promise<string>>();
  const revoke = (url: Promise<string>): void => {
    url.then((value) => URL.revokeObjectURL(value), () => undefined);
  };
  const load: SegmentLoader = (segment) => {
    const known = cache.get(segment.name);
    if (known) {
      cache.delete(segment.name);
      cache.set(segment.name, known);
      return known;
    }
    const url = api.getRecordingSegment(interviewId, track, segment.name).then((blob) => URL.createObjectURL(blob));
    url.catch(() => cache.delete(segment.name));
    cache.set(segment.name, url);
    while (cache.size > KEPT_SEGMENTS) {
      const oldest = cache.keys().next().value as string;
      const entry = cache.get(oldest);
      cache.delete(oldest);
      if (entry) revoke(entry);
    }
    return url;
  };
  return {
    load,
    dispose: () => {
      for (const entry of cache.values()) revoke(entry);
      cache.clear();
    },
  };
}

/**
 * The interview's recording: the candidate's microphone leads (the interviewer's voice and,
 * if shown, the camera follow it), with the transcript lines highlighted as they play and a
 * click on a line seeking there.
 */
export function RecordingPlayer({ api, interviewId, recordings, lines, linesNote }: Props) {
  const tracks = useMemo<Track[]>(
    () =>
      recordings.items
        .map((item) => {
          const segments = toTimelineSegments(item.segments ?? []);
          return { name: item.track, kind: trackKind(item.track, segments), segments };
        })
        .filter((track) => track.segments.length > 0),
    [recordings],
  );
  const lead =
    tracks.find((track) => track.name === "candidate-audio") ??
    tracks.find((track) => track.name === "agent-voice") ??
    tracks.find((track) => track.kind === "audio") ??
    tracks[0] ??
    null;
  const leadName = lead?.name ?? null;
  const followers = tracks.filter((track) => track !== lead);
  const hasAgent = followers.some((track) => track.name === "agent-voice");
  const video = tracks.find((track) => track.kind === "video") ?? null;
  const bounds = useMemo(() => timelineBounds(tracks.map((track) => track.segments)), [tracks]);

  const [position, setPosition] = useState(bounds?.start ?? 0);
  const [playing, setPlaying] = useState(false);
  const [loading, setLoading] = useState(false);
  const [problem, setProblem] = useState<string | null>(null);
  const [includeAgent, setIncludeAgent] = useState(true);
  const [showVideo, setShowVideo] = useState(false);

  const elements = useRef(new Map<string, HTMLMediaElement>());
  const players = useRef(new Map<string, SegmentedMedia>());
  const enabled = useRef<(name: string) => boolean>(() => true);
  enabled.current = (name: string) =>
    name === leadName ||
    ((name === "agent-voice" ? includeAgent : true) && (trackKindOf(tracks, name) === "video" ? showVideo : true));
  const listRef = useRef<HTMLOListElement | null>(null);
  const lineRefs = useRef(new Map<string, HTMLLIElement>());

  const syncFollowers = useCallback(
    (offset: number, isPlaying: boolean) => {
      for (const [name, player] of players.current) {
        if (name === leadName) continue;
        if (enabled.current(name)) player.follow(offset, isPlaying);
        else player.follow(Number.NEGATIVE_INFINITY, false);
      }
    },
    [leadName],
  );

  useEffect(() => {
    const made = new Map<string, SegmentedMedia>();
    const loaders: (() => void)[] = [];
    for (const track of tracks) {
      const element = elements.current.get(track.name);
      if (!element) continue;
      const loader = createLoader(api, interviewId, track.name);
      loaders.push(loader.dispose);
      const isLead = track.name === leadName;
      const player = new SegmentedMedia(
        element,
        track.segments,
        loader.load,
        isLead
          ? {
              onTime: (offset) => {
                setPosition(offset);
                const self = made.get(track.name);
                syncFollowers(offset, (self?.playing ?? false) && !self?.loading);
              },
              onState: (state) => {
                setPlaying(state.playing);
                setLoading(state.loading);
                setProblem(state.error);
                const offset = made.get(track.name)?.offset;
                // While the lead loads a segment, followers wait for it.
                if (offset !== null && offset !== undefined) syncFollowers(offset, state.playing && !state.loading);
              },
            }
          : {},
        isLead,
      );
      made.set(track.name, player);
    }
    players.current = made;
    return () => {
      for (const player of made.values()) player.destroy();
      for (const dispose of loaders) dispose();
      players.current = new Map();
    };
  }, [api, interviewId, tracks, leadName, syncFollowers]);

  // A follower switched on or off: bring it in step (or silence it) at once.
  useEffect(() => {
    const leader = leadName ? players.current.get(leadName) : undefined;
    if (!leader) return;
    syncFollowers(leader.offset ?? 0, leader.playing && !leader.loading);
  }, [includeAgent, showVideo, syncFollowers, leadName]);

  const leader = (): SegmentedMedia | undefined => (leadName ? players.current.get(leadName) : undefined);

  const toggle = (): void => {
    const player = leader();
    if (!player) return;
    if (player.playing) player.pause();
    else player.play();
  };

  const seek = (offset: number, play?: boolean): void => {
    const player = leader();
    if (!player || !bounds) return;
    const target = Math.min(Math.max(offset, bounds.start), bounds.end);
    setPosition(target);
    void player.seek(target, play ?? player.playing);
  };

  const current = currentLineIndex(lines, position);
  const currentKey = current >= 0 ? (lines[current]?.key ?? null) : null;

  // Keep the playing line in view inside the transcript box (not the page).
  useEffect(() => {
    if (!playing || !currentKey) return;
    const box = listRef.current;
    const item = lineRefs.current.get(currentKey);
    if (!box || !item) return;
    const top = item.offsetTop;
    const bottom = top + item.offsetHeight;
    if (top < box.scrollTop || bottom > box.scrollTop + box.clientHeight) {
      box.scrollTop = Math.max(0, top - box.clientHeight / 3);
    }
  }, [currentKey, playing]);

  if (!lead || !bounds) return null;

  const setElement = (name: string) => (element: HTMLMediaElement | null) => {
    if (element) elements.current.set(name, element);
    else elements.current.delete(name);
  };

  return (
    <section aria-labelledby="recording-heading" className="recording no-print" data-testid="recording-player">
      <h2 id="recording-heading">Recording</h2>
      <p className="muted small">
        Plays {TRACK_LABELS[lead.name] ?? lead.name}
        {hasAgent && includeAgent ? ` with ${TRACK_LABELS["agent-voice"]}` : ""}. Pauses in the recording (no voice
        connection) are skipped.
      </p>
      <div className="player-controls">
        <button
          type="button"
          className="primary"
          onClick={toggle}
          aria-pressed={playing}
          data-testid="recording-play"
        >
          {playing ? "Pause" : "Play"}
        </button>
        <input
          type="range"
          min={bounds.start}
          max={bounds.end}
          step={0.1}
          value={Math.min(Math.max(position, bounds.start), bounds.end)}
          onChange={(event) => seek(Number(event.target.value))}
          aria-label="Position in the recording"
          aria-valuetext={`${formatOffset(position)} of ${formatOffset(bounds.end)}`}
          data-testid="recording-seek"
        />
        <span className="player-time" data-testid="recording-time">
          {formatOffset(position)} / {formatOffset(bounds.end)}
        </span>
        {loading ? (
          <span className="muted small" role="status">
            Loading…
          </span>
        ) : null}
      </div>
      <div className="button-row">
        {hasAgent ? (
          <label className="checkbox-row">
            <input
              type="checkbox"
              checked={includeAgent}
              onChange={(event) => setIncludeAgent(event.target.checked)}
              data-testid="recording-include-agent"
            />
            Include the interviewer&apos;s voice
          </label>
        ) : null}
        {video && video !== lead ? (
          <label className="checkbox-row">
            <input
              type="checkbox"
              checked={showVideo}
              onChange={(event) => setShowVideo(event.target.checked)}
              data-testid="recording-show-video"
            />
            Show the candidate&apos;s camera
          </label>
        ) : null}
      </div>
      {problem ? (
        <p className="alert error" role="alert">
          {problem}
        </p>
      ) : null}
      {tracks.map((track) =>
        track.kind === "video" ? (
          <video
            key={track.name}
            ref={setElement(track.name)}
            className="recording-video"
            muted={track !== lead}
            playsInline
            preload="auto"
            hidden={track !== lead && !showVideo}
            aria-label="The candidate's camera"
          />
        ) : (
          <audio key={track.name} ref={setElement(track.name)} preload="auto" />
        ),
      )}

      {lines.length > 0 ? (
        <ol className="timeline-lines" ref={listRef} aria-label="Transcript, synchronised with the recording">
          {lines.map((line, index) => {
            const isCurrent = index === current;
            return (
              <li
                key={line.key}
                ref={(element) => {
                  if (element) lineRefs.current.set(line.key, element);
                  else lineRefs.current.delete(line.key);
                }}
              >
                <button
                  type="button"
                  className={`transcript-line speaker-${line.speaker}${isCurrent ? " transcript-line-current" : ""}`}
                  aria-current={isCurrent ? "true" : undefined}
                  data-testid="transcript-line"
                  data-offset={line.offset.toFixed(2)}
                  data-speaker={line.speaker}
                  onClick={() => seek(line.offset, true)}
                >
                  <span className="line-time">
                    {line.offset < bounds.start ? "before the recording" : formatOffset(line.offset)}
                  </span>
                  <span className="line-speaker">
                    {line.speaker === "interviewer"
                      ? "Interviewer"
                      : `Candidate${line.source ? ` (${line.source})` : ""}`}
                  </span>
                  <span className="line-text">{line.text}</span>
                </button>
              </li>
            );
          })}
        </ol>
      ) : linesNote ? (
        <p className="muted">{linesNote}</p>
      ) : null}
    </section>
  );
}

function trackKindOf(tracks: readonly Track[], name: string): "audio" | "video" | null {
  return tracks.find((track) => track.name === name)?.kind ?? null;
}
