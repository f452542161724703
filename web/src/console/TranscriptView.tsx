import { AnswerScore } from "../shared/AnswerScore";
import { formatClock, promptKindLabel } from "../shared/format";
import { HighlightedText } from "../shared/HighlightedText";
import type { TranscriptItem } from "../shared/transcript";

interface Props {
  items: readonly TranscriptItem[];
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
            Answer <span className="muted">({item.answer.source})</span>
          </p>
          <HighlightedText
            text={item.answer.text}
            evidence={item.score?.evidence ?? []}
            testId="transcript-answer"
          />
        </div>
      ) : item.partial && current ? (
        <div className="answer">
          <p className="subhead">Live caption</p>
          <p className="partial" data-testid="transcript-partial">
            {item.partial}
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
