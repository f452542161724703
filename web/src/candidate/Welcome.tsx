import { useId, useState, type FormEvent } from "react";
import type { CandidateNotice, InterviewMode } from "../shared/types";

interface Props {
  templateTitle: string;
  mode: InterviewMode;
  notice: CandidateNotice;
  onConsent: () => Promise<string | null>;
}

/** The AI notice, how answers are scored, and the consent to start. */
export function Welcome({ templateTitle, mode, notice, onConsent }: Props) {
  const [checked, setChecked] = useState(false);
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<string | null>(null);
  const checkboxId = useId();
  const problemId = useId();

  const submit = async (event: FormEvent): Promise<void> => {
    event.preventDefault();
    if (!checked) {
      setProblem("Please tick the box to confirm you have read this and agree before starting.");
      return;
    }
    setBusy(true);
    setProblem(null);
    const failure = await onConsent();
    setBusy(false);
    if (failure) setProblem(failure);
  };

  return (
    <main id="main" className="narrow">
      <h1>Welcome to your {mode === "practice" ? "practice " : ""}interview</h1>
      <p className="lead">{templateTitle}</p>

      <section aria-labelledby="ai-notice-heading" className="card">
        <h2 id="ai-notice-heading">You will be interviewed by an AI</h2>
        {notice.ai ? <p>{notice.ai}</p> : null}
        <ul>
          <li>The interviewer is an AI system, not a person. A person may watch and can step in.</li>
          <li>
            This is a structured interview: every candidate for this role gets questions from the same
            set, asked the same way.
          </li>
          <li>You can type every answer. Typed answers are always available, and count the same.</li>
          <li>
            The system does not analyse your face, your emotions or your voice&apos;s tone. Only what you
            answer is scored.
          </li>
        </ul>
      </section>

      <section aria-labelledby="scoring-heading" className="card">
        <h2 id="scoring-heading">How your answers are scored</h2>
        {notice.scoring ? <p>{notice.scoring}</p> : null}
        <ul>
          <li>
            Each answer is scored against a published rubric for its question: a scale from 1 to 5 that
            describes what answers at each level look like.
          </li>
          <li>
            The parts of your answer that support the score are recorded as evidence. If there is not
            enough to judge, the result says so instead of guessing.
          </li>
          <li>A person on the hiring team reviews the result. The AI does not make the decision.</li>
          {mode === "practice" ? (
            <li>This is a practice interview: you can ask for hints and you will see each answer&apos;s score.</li>
          ) : null}
        </ul>
      </section>

      <form onSubmit={(event) => void submit(event)} className="stack" noValidate>
        <div className="checkbox-row">
          <input
            id={checkboxId}
            type="checkbox"
            checked={checked}
            onChange={(event) => {
              setChecked(event.target.checked);
              if (event.target.checked) setProblem(null);
            }}
            aria-describedby={problem ? problemId : undefined}
            data-testid="consent-checkbox"
          />
          <label htmlFor={checkboxId}>
            I have read this. I understand that an AI will interview me and that a person reviews the
            result, and I agree to start.
          </label>
        </div>
        {problem ? (
          <p id={problemId} className="alert error" role="alert">
            {problem}
          </p>
        ) : null}
        <button type="submit" className="primary" disabled={busy} data-testid="consent-button">
          {busy ? "Starting…" : "I agree, continue"}
        </button>
      </form>
    </main>
  );
}
