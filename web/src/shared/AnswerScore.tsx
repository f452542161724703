import { formatPercent, formatScore } from "./format";
import type { AnswerScoreView } from "./types";

interface Props {
  score: AnswerScoreView;
  /** data-testid of the level / insufficient-evidence element. */
  testId: string;
  /** Show the matched and missing rubric indicators. */
  showIndicators?: boolean;
}

/** An answer's level, score and confidence, or an honest "insufficient evidence" with its reason. */
export function AnswerScore({ score, testId, showIndicators = true }: Props) {
  return (
    <div className="answer-score">
      {score.insufficient_evidence || score.level === null ? (
        <p className="insufficient" data-testid={testId} data-level="">
          <strong>Insufficient evidence</strong>
          {score.reason ? <>: {score.reason}</> : " to score this answer."}
        </p>
      ) : (
        <p data-testid={testId} data-level={score.level}>
          <span className={`level level-${score.level}`}>Level {score.level} of 5</span>{" "}
          <span className="muted">
            score {formatScore(score.score)}, confidence {formatPercent(score.confidence)}
          </span>
        </p>
      )}
      {score.second_opinion ? (
        <p className="second-opinion" data-testid="second-opinion" data-level={score.second_opinion.level}>
          <strong>Second opinion (language model): level {score.second_opinion.level}.</strong>{" "}
          {score.second_opinion.rationale} <span className="muted">Advisory: the level above is the score.</span>
        </p>
      ) : null}
      {showIndicators && (score.matched_indicators.length > 0 || score.missing_indicators.length > 0) ? (
        <div className="indicators">
          {score.matched_indicators.length > 0 ? (
            <div>
              <p className="subhead">Covered</p>
              <ul>
                {score.matched_indicators.map((indicator) => (
                  <li key={indicator}>{indicator}</li>
                ))}
              </ul>
            </div>
          ) : null}
          {score.missing_indicators.length > 0 ? (
            <div>
              <p className="subhead">Not covered</p>
              <ul>
                {score.missing_indicators.map((indicator) => (
                  <li key={indicator}>{indicator}</li>
                ))}
              </ul>
            </div>
          ) : null}
        </div>
      ) : null}
    </div>
  );
}
