import { useCallback, useEffect, useState } from "react";
import type { Socket } from "socket.io-client";
import { shortId, stateLabel } from "../shared/format";
import { navigate } from "../shared/router";
import { emitAck } from "../shared/socket";
import type { Interview } from "../shared/types";

export const LIVE_REFRESH_MS = 5_000;

interface Props {
  socket: Socket;
  connected: boolean;
}

/** Live interviews, refreshed every few seconds and on demand. */
export function LiveList({ socket, connected }: Props) {
  const [interviews, setInterviews] = useState<Interview[] | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const [updatedAt, setUpdatedAt] = useState<Date | null>(null);
  const [busy, setBusy] = useState(false);

  const refresh = useCallback(async () => {
    setBusy(true);
    const ack = await emitAck<{ interviews: Interview[] }>(socket, "list_live", {});
    setBusy(false);
    if (ack.ok) {
      setInterviews(Array.isArray(ack.interviews) ? ack.interviews : []);
      setProblem(null);
      setUpdatedAt(new Date());
    } else {
      setProblem(ack.error.message);
    }
  }, [socket]);

  useEffect(() => {
    if (!connected) return undefined;
    void refresh();
    const timer = window.setInterval(() => void refresh(), LIVE_REFRESH_MS);
    return () => window.clearInterval(timer);
  }, [connected, refresh]);

  return (
    <main id="main">
      <div className="toolbar">
        <h1>Live interviews</h1>
        <button type="button" onClick={() => void refresh()} disabled={!connected || busy} data-testid="live-refresh">
          {busy ? "Refreshing…" : "Refresh"}
        </button>
      </div>
      <p className="muted" role="status">
        {updatedAt ? `Updated ${updatedAt.toLocaleTimeString()}; refreshes every ${LIVE_REFRESH_MS / 1000} s.` : "Loading…"}
      </p>
      {problem ? (
        <p className="alert error" role="alert">
          Could not load the list: {problem}
        </p>
      ) : null}
      <div data-testid="live-list">
      {interviews && interviews.length === 0 ? <p>No interview is live right now.</p> : null}
      <ul className="item-list" aria-label="Live interviews">
        {(interviews ?? []).map((interview) => {
          const href = `/console/interviews/${encodeURIComponent(interview.id)}`;
          return (
            <li key={interview.id} className="card item" data-testid="live-item" data-interview-id={interview.id}>
              <a
                href={href}
                onClick={(event) => {
                  if (event.ctrlKey || event.metaKey || event.shiftKey || event.button !== 0) return;
                  event.preventDefault();
                  navigate(href);
                }}
              >
                {interview.template_title || "Interview"}
              </a>
              <span className={`badge state-${interview.state}`}>{stateLabel(interview.state)}</span>
              <span className="badge">{interview.mode === "practice" ? "Practice" : "Real"}</span>
              <span className="muted">
                Candidate <code title={interview.candidate_id}>{shortId(interview.candidate_id)}</code>
              </span>
            </li>
          );
        })}
      </ul>
      </div>
    </main>
  );
}
