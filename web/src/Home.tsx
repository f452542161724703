/** The root page: where each app lives. */
export function Home() {
  return (
    <main id="main" className="narrow">
      <h1>CODESAGE</h1>
      <p>Structured interviews led by an AI, scored against published rubrics, reviewed by people.</p>
      <ul>
        <li>
          <a href="/console/">Interviewer console</a>: watch live interviews and step in.
        </li>
        <li>
          <a href="/review/">Recruiter review</a>: reports of finished interviews.
        </li>
        <li>Candidates open the personal link they were sent (<code>/candidate/?token=…</code>).</li>
      </ul>
    </main>
  );
}
