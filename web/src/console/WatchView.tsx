import type { Socket } from "socket.io-client";
import { CompetencyTable } from "../shared/CompetencyTable";
import { formatTime, formatWithError, shortId, stateLabel } from "../shared/format";
import { navigate } from "../shared/router";
import { ActionsPanel } from "./ActionsPanel";
import { ActivityLog } from "./ActivityLog";
import { LiveMedia } from "./LiveMedia";
import { TranscriptView } from "./TranscriptView";
import { useWatch } from "./useWatch";

interface Props {
  socket: Socket;
  interviewId: string;
  connected: boolean;
}

/** One live interview: transcript with scores, competency summary, actions, notes. */
export function WatchView({ socket, interviewId, connected }: Props) {
  const { state, error, loading } = useWatch(socket, interviewId);
  const interview = state.interview;
  const current = state.state ?? interview?.state ?? null;

  return (
    <main id="main">
      <p>
        <a
          href="/console/"
          onClick={(event) => {
            event.preventDefault();
            navigate("/console/");
          }}
        >
          ← All live interviews
        </a>
      </p>
      <div className="toolbar">
        <h1>{interview?.template_title ?? "Interview"}</h1>
        <span className={`badge state-${current ?? "unknown"}`} role="status" data-testid="watch-state">
          {stateLabel(current)}
        </span>
      </div>
      <p className="muted">
        Interview <code title={interviewId}>{shortId(interviewId)}</code>
        {interview ? (
          <>
            {" "}· candidate <code title={interview.candidate_id}>{shortId(interview.candidate_id)}</code> ·{" "}
            {interview.mode === "practice" ? "practice" : "real"} · started {formatTime(interview.started_at)}
          </>
        ) : null}
      </p>
      {error ? (
        <p className="alert error" role="alert">
          Cannot watch this interview: {error.message}
        </p>
      ) : null}
      {loading && !error ? <p role="status">Loading…</p> : null}
      {state.endedReason ? (
        <p className="alert" role="status">
          The interview has ended ({state.endedReason}).
        </p>
      ) : null}

      <div className="watch-grid">
        <TranscriptView items={state.items} />
        <div className="stack side">
          <ActionsPanel socket={socket} interviewId={interviewId} state={current} connected={connected} />
          <LiveMedia socket={socket} interviewId={interviewId} />
          <section aria-labelledby="summary-heading">
            <h2 id="summary-heading">Competency summary</h2>
            {state.summary ? (
              <>
                <p data-testid="watch-overall">
                  Overall:{" "}
                  {state.summary.overall
                    ? formatWithError(state.summary.overall.score, state.summary.overall.standard_error)
                    : "not enough evidence yet"}
                </p>
                <CompetencyTable competencies={state.summary.competencies} caption="Competencies so far" />
              </>
            ) : (
              <p className="muted">No summary yet; it appears after the first scored answers.</p>
            )}
          </section>
          <ActivityLog log={state.log} />
        </div>
      </div>
    </main>
  );
}
