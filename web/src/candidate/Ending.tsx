import { useEffect, useRef } from "react";
import { CompetencyTable } from "../shared/CompetencyTable";
import type { CandidateSession } from "./session";
import { PracticeFeedback } from "./PracticeFeedback";

interface Props {
  session: CandidateSession;
}

/** The end: thanks, and what happens next; practice mode also shows the scores. */
export function Ending({ session }: Props) {
  const headingRef = useRef<HTMLHeadingElement | null>(null);
  useEffect(() => headingRef.current?.focus(), []);
  const cancelled = session.state === "cancelled";
  const practice = session.mode === "practice";
  return (
    <main id="main" className="narrow" data-testid="ending">
      <h1 ref={headingRef} tabIndex={-1}>
        {cancelled ? "This interview was cancelled" : "Thank you, the interview is over"}
      </h1>
      {cancelled ? (
        <p>
          The interview was stopped before the end. If you think this is a mistake, please contact the
          person who sent you the link.
        </p>
      ) : practice ? (
        <>
          <p>Well done for practising. Your answers and their scores are below.</p>
          <p>
            Scores come from each question&apos;s published rubric. &ldquo;Insufficient evidence&rdquo; means
            the answer did not give enough to judge, not that it was wrong.
          </p>
        </>
      ) : (
        <section aria-labelledby="next-heading">
          <h2 id="next-heading">What happens next</h2>
          <ul>
            <li>Your answers have been saved. You do not need to do anything else.</li>
            <li>Each answer is scored against the published rubric for its question.</li>
            <li>
              A person on the hiring team reviews the scores, the evidence behind them and your answers
              before any decision is made. The AI does not decide.
            </li>
            <li>The hiring team will contact you about the next steps.</li>
          </ul>
          <p>You can close this window now.</p>
        </section>
      )}
      {practice && session.summary ? (
        <CompetencyTable competencies={session.summary.competencies} caption="Your practice results by competency" />
      ) : null}
      {practice ? <PracticeFeedback prompts={session.prompts} scores={session.scores} /> : null}
    </main>
  );
}
