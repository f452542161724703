import { useEffect, useState } from "react";

const NAVIGATE_EVENT = "codesage:navigate";

/** Goes to an in-app path without reloading the page. */
export function navigate(path: string): void {
  if (path === window.location.pathname + window.location.search) return;
  window.history.pushState(null, "", path);
  window.dispatchEvent(new Event(NAVIGATE_EVENT));
}

/** The current location.pathname, updated on navigate() and the back/forward buttons. */
export function usePathname(): string {
  const [path, setPath] = useState(() => window.location.pathname);
  useEffect(() => {
    const update = (): void => setPath(window.location.pathname);
    window.addEventListener("popstate", update);
    window.addEventListener(NAVIGATE_EVENT, update);
    return () => {
      window.removeEventListener("popstate", update);
      window.removeEventListener(NAVIGATE_EVENT, update);
    };
  }, []);
  return path;
}

export type AppName = "candidate" | "console" | "review" | "home";

export interface Route {
  app: AppName;
  /** The interview id for /console/interviews/{id} and /review/interviews/{id}. */
  interviewId: string | null;
}

/** Which app and which interview a pathname names. */
export function parseRoute(pathname: string): Route {
  const parts = pathname.split("/").filter(Boolean);
  const [first, second, third] = parts;
  const interviewId = second === "interviews" && third ? decodeURIComponent(third) : null;
  switch (first) {
    case "candidate":
      return { app: "candidate", interviewId: null };
    case "console":
      return { app: "console", interviewId };
    case "review":
      return { app: "review", interviewId };
    default:
      return { app: "home", interviewId: null };
  }
}
