import { describe, expect, it } from "vitest";
import { parseRoute } from "./router";

describe("parseRoute", () => {
  it("maps the three apps and their sub-paths", () => {
    expect(parseRoute("/candidate/")).toEqual({ app: "candidate", interviewId: null });
    expect(parseRoute("/candidate")).toEqual({ app: "candidate", interviewId: null });
    expect(parseRoute("/console/")).toEqual({ app: "console", interviewId: null });
    expect(parseRoute("/console/interviews/abc-1")).toEqual({ app: "console", interviewId: "abc-1" });
    expect(parseRoute("/review/interviews/abc%2D1/")).toEqual({ app: "review", interviewId: "abc-1" });
    expect(parseRoute("/review/other")).toEqual({ app: "review", interviewId: null });
    expect(parseRoute("/")).toEqual({ app: "home", interviewId: null });
  });
});
