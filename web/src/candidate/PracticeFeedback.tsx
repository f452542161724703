import { AnswerScore } from "../shared/AnswerScore";
import { HighlightedText } from "../shared/HighlightedText";
import type { AnswerScoreView, PromptPayload } from "../shared/types";

interface Props {
  prompts: readonly PromptPayload[];
  scores: Readonly<Record<string, AnswerScoreView>>;
}

/** Practice mode: each scored answer with its level and what it covered or missed. */
export function PracticeFeedback({ prompts, scores }: Props) {
  const scored = prompts.filter((prompt) => scores[prompt.prompt_id]);
  const orphans = Object.values(scores).filter(
    (score) => !prompts.some((prompt) => prompt.prompt_id === score.prompt_id),
  );
  const all: AnswerScoreView[] = [
    ...scored.map((prompt) => scores[prompt.prompt_id] as AnswerScoreView),
    ...orphans,
  ];
  return (
    <section aria-labelledby="feedback-heading" className="feedback">
      <h2 id="feedback-heading">Your scores so far</h2>
      <div aria-live="polite">
        {all.length === 0 ? (
          <p className="muted">Each answer&apos;s score appears here after you submit it.</p>
        ) : (
          <ol className="feedback-list">
            {all.map((score) => (
              <li key={score.prompt_id} className="card" data-testid="practice-score">
                <p className="feedback-question">{score.question_text}</p>
                <HighlightedText text={score.answer_text} evidence={score.evidence} />
                <AnswerScore score={score} testId="practice-score-level" />
              </li>
            ))}
          </ol>
        )}
      </div>
    </section>
  );
}
