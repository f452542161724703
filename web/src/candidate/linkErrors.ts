import type { ApiErrorBody } from "../shared/types";

/** A readable title and explanation for a refused link or join. */
export function linkErrorText(error: ApiErrorBody | null): { title: string; body: string } {
  switch (error?.code) {
    case "missing_token":
      return {
        title: "This page needs your interview link",
        body: "Open the personal link you were sent (it ends in “?token=…”). If you typed it, check that you copied all of it.",
      };
    case "invalid_token":
      return {
        title: "This interview link is not valid",
        body: "The link may be incomplete or mistyped. Open it again from your invitation, or ask the person who sent it for a new one.",
      };
    case "expired_token":
      return {
        title: "This interview link has expired",
        body: "Links work for a limited time. Please ask the person who sent it for a new link.",
      };
    case "forbidden":
      return {
        title: "This link does not open an interview",
        body: "The link is not an interview invitation, or not for this interview. Please ask the person who sent it for the right link.",
      };
    case "not_found":
      return {
        title: "This interview could not be found",
        body: "The link may be for an interview that was cancelled or removed. Please ask the person who sent it for a new link.",
      };
    default:
      return {
        title: "The interview could not be opened",
        body: error?.message
          ? `The server said: ${error.message}`
          : "Something went wrong while opening the interview. Please try the link again later.",
      };
  }
}
