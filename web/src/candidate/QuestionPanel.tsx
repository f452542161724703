import { promptKindLabel } from "../shared/format";
import type { PromptPayload } from "../shared/types";

interface Props {
  prompt: PromptPayload | null;
}

/** The current question, large, announced politely to screen readers when it changes. */
export function QuestionPanel({ prompt }: Props) {
  const showProgress = prompt !== null && prompt.budget > 0 && prompt.number > 0;
  return (
    <section aria-labelledby="question-heading" className="question-panel">
      <div className="question-meta">
        <h2 id="question-heading">
          {prompt ? promptKindLabel(prompt.kind) : "Question"}
        </h2>
        {showProgress ? (
          <div className="progress">
            <label htmlFor="question-progress">
              Question {prompt.number} of at most {prompt.budget}
            </label>
            <progress
              id="question-progress"
              max={prompt.budget}
              value={Math.min(prompt.number, prompt.budget)}
            />
          </div>
        ) : null}
      </div>
      <p className="question-text" role="status" aria-live="polite" data-testid="question-text">
        {prompt ? prompt.text : "The first question is on its way…"}
      </p>
    </section>
  );
}
