import { AnswerScore } from "../shared/AnswerScore";
import { formatTime, promptKindLabel } from "../shared/format";
import { HighlightedText } from "../shared/HighlightedText";
import type { AnswerScoreView, HintView, TranscriptEntry } from "../shared/types";

interface Props {
  index: number;
  entry: TranscriptEntry | null;
  score: AnswerScoreView | null;
  /** The number (1-based) of the answer whose score covers this one, if any. */
  scoredWithNumber: number | null;
  hints: readonly HintView[];
}

/** One question and answer of the report, with the evidence-highlighted score and its rubric. */
export function ReportAnswer({ index, entry, score, scoredWithNumber, hints }: Props) {
  const question = entry?.question_text ?? score?.question_text ?? "";
  const answer = entry?.answer_text ?? score?.answer_text ?? null;
  const levels = [...(score?.rubric?.levels ?? score?.rubric_levels ?? [])].sort((a, b) => b.level - a.level);
  return (
    <article className="card report-answer" aria-labelledby={`answer-${index}-heading`}>
      <h3 id={`answer-${index}-heading`}>
        {index + 1}. {entry ? promptKindLabel(entry.kind) : "Question"}
        {score?.competency ? <span className="badge">{score.competency}</span> : null}
      </h3>
      <p className="prompt-text">{question}</p>
      {entry?.asked_at ? <p className="muted small">Asked {formatTime(entry.asked_at)}</p> : null}
      <h4>Answer</h4>
      {answer === null || answer === "" ? (
        <p className="muted">No answer was given.</p>
      ) : (
        <HighlightedText text={answer} evidence={score?.evidence ?? []} />
      )}
      {score ? (
        <AnswerScore score={score} testId="answer-score" />
      ) : scoredWithNumber !== null ? (
        <p className="muted">Scored together with answer {scoredWithNumber}, the last one on this question.</p>
      ) : entry?.kind === "closing" ? null : (
        <p className="insufficient" data-testid="answer-score" data-level="">
          Not scored.
        </p>
      )}
      {hints.length > 0 ? (
        <div className="hints-taken">
          <h4>Hints taken ({hints.length})</h4>
          <ul>
            {hints.map((hint, hintIndex) => (
              <li key={hintIndex}>
                {hint.text} <span className="muted">(strength {hint.strength})</span>
              </li>
            ))}
          </ul>
        </div>
      ) : null}
      {levels.length > 0 ? (
        <div className="rubric">
          <h4>Rubric anchors</h4>
          <dl>
            {levels.map((level) => (
              <div key={level.level} className={score?.level === level.level ? "anchor current" : "anchor"}>
                <dt>
                  Level {level.level}
                  {score?.level === level.level ? " (this answer)" : ""}
                </dt>
                <dd>{level.anchor}</dd>
              </div>
            ))}
          </dl>
        </div>
      ) : null}
    </article>
  );
}
