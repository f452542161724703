import { AnswerScore } from "../shared/AnswerScore";
import { formatClock, promptKindLabel } from "../shared/format";
import { HighlightedText } from "../shared/HighlightedText";
import { LiveCaptionText } from "../shared/LiveCaptionText";
import type { PlayedPrompt, TranscriptItem } from "../shared/transcript";

interface Props {
  items: readonly TranscriptItem[];
}

/** What the candidate heard of the spoken question: shown prominently when cut short. */
function PlayedNote({ played }: { played: PlayedPrompt }) {
  const seconds = `${played.seconds.toFixed(1)}\u00a0s`;
  if (played.complete) {
    return (
      <p className="muted small" data-testid="prompt-played" data-complete="true">
        Spoken aloud in full ({seconds}).
      </p>
    );
  }
  return (
    <p className="alert played-cut" data-testid="prompt-played" data-complete="false">
      Candidate interrupted after {seconds}; heard:{" "}
      {played.textPlayed ? <q>{played.textPlayed}</q> : <span className="muted">(nothing yet)</span>}
    </p>
  );
}

function ItemView({ item, current }: { item: TranscriptItem; current: boolean }) {
  const { prompt } = item;
  return (
    <li className={`card transcript-item kind-${prompt.kind}`} data-prompt-id={prompt.prompt_id}>
      <p className="item-meta">
        <strong>
          {promptKindLabel(prompt.kind)}
          {prompt.number > 0 ? ` ${prompt.number}${prompt.budget > 0 ? ` / ${prompt.budget}` : ""}` : ""}
        </strong>
        {prompt.competency ? <span className="badge">{prompt.competency}</span> : null}
        <span className="muted">{formatClock(item.askedAt)}</span>
      </p>
      <p className="prompt-text">{prompt.text || <span className="muted">(question asked before this view)</span>}</p>
      {item.played ? <PlayedNote played={item.played} /> : null}

      {item.hints.length > 0 ? (
        <div className="hints-taken">
          <p className="subhead">Hints taken</p>
          <ul>
            {item.hints.map((hint, index) => (
              <li key={index}>
                {hint.text} <span className="muted">(strength {hint.strength})</span>
              </li>
            ))}
          </ul>
        </div>
      ) : null}

      {item.answer ? (
        <div className="answer">
          <p className="subhead">
            Answer{" "}
            <span className={`muted source-${item.answer.source}`} data-testid="answer-source" data-source={item.answer.source}>
              ({item.answer.source === "voice" ? "voice" : "typed"})
            </span>
          </p>
          <HighlightedText
            text={item.answer.text}
            evidence={item.score?.evidence ?? []}
            testId="transcript-answer"
          />
        </div>
      ) : item.partial ? (
        <div className="answer">
          <p className="subhead">
            {current ? "Live caption (candidate speaking)" : "Caption of an unfinished spoken answer"}
          </p>
          <p className="partial" aria-live="off" data-testid="transcript-partial">
            <LiveCaptionText caption={item.partial} />
          </p>
        </div>
      ) : item.prompt.kind === "closing" ? null : current ? (
        <p className="muted">Waiting for the answer…</p>
      ) : (
        <p className="muted">No answer.</p>
      )}

      {item.score ? (
        <AnswerScore score={item.score} testId="score-level" />
      ) : item.answer && item.prompt.kind === "injected" ? (
        <p className="muted">Not scored (asked by the interviewer).</p>
      ) : item.answer && item.prompt.kind === "resume" ? (
        <p className="muted">Not scored (a resume question written by the language model).</p>
      ) : item.answer ? (
        <p className="muted">Scoring…</p>
      ) : null}
    </li>
  );
}

/** The live transcript: each prompt with its answer, evidence-highlighted score, and hints. */
export function TranscriptView({ items }: Props) {
  return (
    <section aria-labelledby="transcript-heading" data-testid="transcript">
      <h2 id="transcript-heading">Transcript</h2>
      {items.length === 0 ? <p className="muted">No question asked yet.</p> : null}
      <ol className="transcript" aria-live="polite" aria-relevant="additions text">
        {items.map((item, index) => (
          <ItemView key={item.prompt.prompt_id} item={item} current={index === items.length - 1} />
        ))}
      </ol>
    </section>
  );
}
