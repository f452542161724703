import { useEffect, useMemo, useState } from "react";
import { ApiError, type ApiClient } from "../shared/api";
import type { RawEvent, RecordingList, TranscriptEntry } from "../shared/types";
import { RecordingPlayer } from "./RecordingPlayer";
import { buildTimelineLines } from "./timeline";

interface Props {
  api: ApiClient;
  interviewId: string;
  transcript: readonly TranscriptEntry[];
}

/**
 * Loads the interview's recordings; shows the player with the synchronised transcript when
 * there are any, and nothing at all when there are none (or the server keeps no recordings).
 */
export function RecordingSection({ api, interviewId, transcript }: Props) {
  const [recordings, setRecordings] = useState<RecordingList | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const [events, setEvents] = useState<RawEvent[]>([]);

  useEffect(() => {
    let cancelled = false;
    setRecordings(null);
    setProblem(null);
    setEvents([]);
    api.listRecordings(interviewId).then(
      (list) => {
        if (cancelled) return;
        const items = Array.isArray(list?.items) ? list.items : [];
        if (!items.some((item) => Array.isArray(item.segments) && item.segments.length > 0)) return;
        setRecordings({ items, started_at: list.started_at ?? null });
        // Best effort: prompt_played and caption events place spoken answers where they start.
        api.getAllEvents(interviewId).then(
          (all) => {
            if (!cancelled) setEvents(all);
          },
          () => undefined,
        );
      },
      (error: unknown) => {
        if (cancelled) return;
        // 404: this server keeps no recordings (or none for this interview): show nothing.
        if (error instanceof ApiError && error.status === 404) return;
        setProblem(error instanceof Error ? error.message : String(error));
      },
    );
    return () => {
      cancelled = true;
    };
  }, [api, interviewId]);

  const lines = useMemo(
    () => (recordings?.started_at ? buildTimelineLines(transcript, recordings.started_at, events) : []),
    [recordings, transcript, events],
  );

  if (problem) {
    return (
      <p className="muted no-print" role="status">
        The recording could not be loaded: {problem}
      </p>
    );
  }
  if (!recordings) return null;
  return (
    <RecordingPlayer
      api={api}
      interviewId={interviewId}
      recordings={recordings}
      lines={lines}
      linesNote={
        recordings.started_at
          ? null
          : "The transcript cannot be lined up with this recording: the server gave no start time."
      }
    />
  );
}
