import { useEffect } from "react";
import { CandidateApp } from "./candidate/CandidateApp";
import { ConsoleApp } from "./console/ConsoleApp";
import { Home } from "./Home";
import { ReviewApp } from "./review/ReviewApp";
import { parseRoute, usePathname } from "./shared/router";

const TITLES = {
  candidate: "Interview · CODESAGE",
  console: "Interviewer console · CODESAGE",
  review: "Recruiter review · CODESAGE",
  home: "CODESAGE",
} as const;

/** Picks the app from location.pathname: /candidate/, /console/, /review/ (and sub-paths). */
export function App() {
  const route = parseRoute(usePathname());
  useEffect(() => {
    document.title = TITLES[route.app];
  }, [route.app]);
  return (
    <>
      <a className="skip-link" href="#main">
        Skip to main content
      </a>
      <header className="app-header">
        <span className="brand">CODESAGE</span>
        {route.app === "console" ? <span className="app-name">Interviewer console</span> : null}
        {route.app === "review" ? <span className="app-name">Recruiter review</span> : null}
      </header>
      {route.app === "candidate" ? <CandidateApp /> : null}
      {route.app === "console" ? <ConsoleApp interviewId={route.interviewId} /> : null}
      {route.app === "review" ? <ReviewApp interviewId={route.interviewId} /> : null}
      {route.app === "home" ? <Home /> : null}
    </>
  );
}
