import { formatClock, stateLabel } from "../shared/format";
import type { LogEntry } from "../shared/transcript";

const ACTION_TEXT: Record<string, string> = {
  pause: "paused the interview",
  resume: "resumed the interview",
  inject_question: "asked a question",
  take_over: "took over",
  hand_back: "handed back to the AI",
  note: "added a note",
  end: "ended the interview",
};

/** Private notes, observer actions and state changes, newest last. */
export function ActivityLog({ log }: { log: readonly LogEntry[] }) {
  return (
    <section aria-labelledby="log-heading">
      <h2 id="log-heading">Notes and activity</h2>
      {log.length === 0 ? <p className="muted">Nothing yet.</p> : null}
      <ol className="log" aria-live="polite" data-testid="activity-log">
        {log.map((entry) => (
          <li key={entry.seq} className={`log-${entry.kind}`}>
            <span className="muted">{formatClock(entry.at)}</span>{" "}
            {entry.kind === "note" ? (
              <>
                <strong>Note</strong> by <code>{entry.by}</code>: {entry.text}
              </>
            ) : entry.kind === "action" ? (
              <>
                <code>{entry.by}</code> {ACTION_TEXT[entry.action] ?? entry.action}
              </>
            ) : (
              <>State: {stateLabel(entry.state)}</>
            )}
          </li>
        ))}
      </ol>
    </section>
  );
}
