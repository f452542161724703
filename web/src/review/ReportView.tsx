import { useEffect, useState } from "react";
import { ApiError, type ApiClient } from "../shared/api";
import { CompetencyTable } from "../shared/CompetencyTable";
import { formatLevel, formatTime, formatWithError, shortId } from "../shared/format";
import { navigate } from "../shared/router";
import type { Report } from "../shared/types";
import { RecordingSection } from "./RecordingSection";
import { ReportAnswer } from "./ReportAnswer";
import { buildReportRows } from "./reportRows";

interface Props {
  api: ApiClient;
  interviewId: string;
  onUnauthorized: (error: ApiError) => void;
}

/** Saves the report JSON as a file. */
function downloadJson(report: Report, interviewId: string): void {
  const blob = new Blob([JSON.stringify(report, null, 2)], { type: "application/json" });
  const url = URL.createObjectURL(blob);
  const link = document.createElement("a");
  link.href = url;
  link.download = `codesage-report-${interviewId}.json`;
  document.body.appendChild(link);
  link.click();
  link.remove();
  window.setTimeout(() => URL.revokeObjectURL(url), 1_000);
}

/** One interview's report: scores with standard errors, each answer with its evidence, notes. */
export function ReportView({ api, interviewId, onUnauthorized }: Props) {
  const [report, setReport] = useState<Report | null>(null);
  const [problem, setProblem] = useState<string | null>(null);

  useEffect(() => {
    let cancelled = false;
    setReport(null);
    setProblem(null);
    api.getReport(interviewId).then(
      (value) => {
        if (!cancelled) setReport(value);
      },
      (error: unknown) => {
        if (cancelled) return;
        if (error instanceof ApiError && error.needsNewToken) onUnauthorized(error);
        else setProblem(error instanceof Error ? error.message : String(error));
      },
    );
    return () => {
      cancelled = true;
    };
  }, [api, interviewId, onUnauthorized]);

  const back = (
    <p className="no-print">
      <a
        href="/review/"
        onClick={(event) => {
          event.preventDefault();
          navigate("/review/");
        }}
      >
        ← All finished interviews
      </a>
    </p>
  );

  if (problem) {
    return (
      <main id="main">
        {back}
        <h1>Report</h1>
        <p className="alert error" role="alert">
          Could not load the report: {problem}
        </p>
      </main>
    );
  }
  if (!report) {
    return (
      <main id="main">
        {back}
        <h1>Report</h1>
        <p role="status">Loading…</p>
      </main>
    );
  }

  const { interview, scores } = report;
  const rows = buildReportRows(report);
  const hintCount = rows.reduce((total, row) => total + row.hints.length, 0);

  return (
    <main id="main" className="report">
      {back}
      <div className="toolbar">
        <h1>
          {report.template?.title ?? interview.template_title}
          {report.template?.role ? <span className="subtitle"> · {report.template.role}</span> : null}
        </h1>
        <div className="button-row no-print">
          <button type="button" onClick={() => downloadJson(report, interviewId)} data-testid="export-json">
            Export JSON
          </button>
          <button type="button" onClick={() => window.print()} data-testid="print-report">
            Print report
          </button>
        </div>
      </div>
      <dl className="facts">
        <div>
          <dt>Interview</dt>
          <dd>
            <code>{interview.id}</code>
          </dd>
        </div>
        <div>
          <dt>Candidate</dt>
          <dd>
            <code>{interview.candidate_id}</code>
          </dd>
        </div>
        <div>
          <dt>Mode</dt>
          <dd>{interview.mode === "practice" ? "Practice" : "Real"}</dd>
        </div>
        <div>
          <dt>Held</dt>
          <dd>
            {formatTime(interview.started_at)} – {formatTime(interview.ended_at)}
          </dd>
        </div>
      </dl>

      <RecordingSection api={api} interviewId={interviewId} transcript={report.transcript ?? []} />

      <section aria-labelledby="scores-heading">
        <h2 id="scores-heading">Scores</h2>
        <p className="overall" data-testid="overall-score">
          Overall:{" "}
          {scores.overall ? (
            <>
              <strong>{formatWithError(scores.overall.score, scores.overall.standard_error)}</strong>
              {typeof scores.overall.level === "number" ? (
                <span className="muted"> (level {formatLevel(scores.overall.level)} of 5)</span>
              ) : null}
            </>
          ) : (
            <strong className="insufficient">Insufficient evidence for an overall score</strong>
          )}
        </p>
        <p className="muted small">
          Scores are combined mechanically from per-answer rubric scores; ± is the standard error. Levels run from
          1 to 5. &ldquo;Insufficient evidence&rdquo; means there was not enough to judge, not a low score.
        </p>
        <CompetencyTable competencies={scores.competencies} caption="Scores by competency" />
      </section>

      <section aria-labelledby="answers-heading">
        <h2 id="answers-heading">Answers ({rows.length})</h2>
        {hintCount > 0 ? <p>{hintCount} hint(s) were taken during this interview.</p> : null}
        {rows.length === 0 ? <p className="muted">No questions were answered.</p> : null}
        {rows.map((row, index) => (
          <ReportAnswer
            key={row.key}
            index={index}
            entry={row.entry}
            score={row.score}
            scoredWithNumber={
              row.scoredWith === null ? null : rows.findIndex((other) => other.key === row.scoredWith) + 1
            }
            hints={row.hints}
          />
        ))}
      </section>

      <section aria-labelledby="notes-heading">
        <h2 id="notes-heading">Observer notes</h2>
        {report.notes.length === 0 ? (
          <p className="muted">No notes.</p>
        ) : (
          <ul className="notes">
            {report.notes.map((note) => (
              <li key={note.seq}>
                <span className="muted">{formatTime(note.at)}</span> {note.text}
                {note.by ? (
                  <span className="muted">
                    {" "}
                    (<code title={note.by}>{shortId(note.by)}</code>)
                  </span>
                ) : null}
              </li>
            ))}
          </ul>
        )}
      </section>
    </main>
  );
}
