import { useCallback, useEffect, useState } from "react";
import { ApiError, type ApiClient } from "../shared/api";
import { formatTime, shortId } from "../shared/format";
import { navigate } from "../shared/router";
import type { Interview } from "../shared/types";

export const PAGE_SIZE = 25;

interface Props {
  api: ApiClient;
  onUnauthorized: (error: ApiError) => void;
}

/** Finished interviews, newest pages loaded on demand; candidates appear only as UUIDs. */
export function InterviewList({ api, onUnauthorized }: Props) {
  const [items, setItems] = useState<Interview[]>([]);
  const [nextOffset, setNextOffset] = useState<number | null>(0);
  const [loading, setLoading] = useState(false);
  const [problem, setProblem] = useState<string | null>(null);

  const load = useCallback(
    async (offset: number, replace: boolean) => {
      setLoading(true);
      setProblem(null);
      try {
        const page = await api.listInterviews({ state: "done", limit: PAGE_SIZE, offset });
        setItems((current) => (replace ? page.items : [...current, ...page.items]));
        setNextOffset(page.next_offset);
      } catch (error) {
        if (error instanceof ApiError && error.needsNewToken) onUnauthorized(error);
        else setProblem(error instanceof Error ? error.message : String(error));
      } finally {
        setLoading(false);
      }
    },
    [api, onUnauthorized],
  );

  useEffect(() => {
    void load(0, true);
  }, [load]);

  return (
    <main id="main">
      <div className="toolbar">
        <h1>Finished interviews</h1>
        <button type="button" onClick={() => void load(0, true)} disabled={loading}>
          Refresh
        </button>
      </div>
      <p className="muted">
        Candidates are shown only by their ID, so that reviews stay blind to who they are.
      </p>
      {problem ? (
        <p className="alert error" role="alert">
          Could not load interviews: {problem}
        </p>
      ) : null}
      {!loading && items.length === 0 && !problem ? <p>No finished interview yet.</p> : null}
      <div className="table-wrap" role="region" aria-label="Finished interviews" tabIndex={0}>
        <table data-testid="interview-list">
          <caption className="visually-hidden">Finished interviews</caption>
          <thead>
            <tr>
              <th scope="col">Interview</th>
              <th scope="col">Template</th>
              <th scope="col">Mode</th>
              <th scope="col">Candidate</th>
              <th scope="col">Ended</th>
            </tr>
          </thead>
          <tbody>
            {items.map((interview) => {
              const href = `/review/interviews/${encodeURIComponent(interview.id)}`;
              return (
                <tr key={interview.id} data-testid="interview-item" data-interview-id={interview.id}>
                  <th scope="row">
                    <a
                      href={href}
                      onClick={(event) => {
                        if (event.ctrlKey || event.metaKey || event.shiftKey || event.button !== 0) return;
                        event.preventDefault();
                        navigate(href);
                      }}
                    >
                      Report <code>{shortId(interview.id)}</code>
                    </a>
                  </th>
                  <td>{interview.template_title}</td>
                  <td>{interview.mode === "practice" ? "Practice" : "Real"}</td>
                  <td>
                    <code title={interview.candidate_id}>{shortId(interview.candidate_id)}</code>
                  </td>
                  <td>{formatTime(interview.ended_at)}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
      <p role="status">{loading ? "Loading…" : ""}</p>
      {nextOffset !== null && items.length > 0 ? (
        <button type="button" onClick={() => void load(nextOffset, false)} disabled={loading} data-testid="load-more">
          Load more
        </button>
      ) : null}
    </main>
  );
}
