import { describe, expect, it } from "vitest";
import {
  askOwner,
  backoffDelay,
  interviewIdFromToken,
  isMovedCode,
  joinRefusalIsPassing,
  ownerOutcome,
  ownerPath,
  RECONNECT_BACKOFF,
  SAME_ORIGIN,
  socketTarget,
} from "./ownerRoute";

const PAGE = "https://interviews.example.com";
const INTERVIEW = "5b0c8c9e-2f43-4a51-9d6e-0e6c1f0a7d21";

function base64Url(text: string): string {
  return btoa(text).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function jwt(claims: object): string {
  return `${base64Url('{"alg":"HS256","typ":"JWT"}')}.${base64Url(JSON.stringify(claims))}.signature`;
}

function reply(status: number, body: unknown): Response {
  return new Response(body === undefined ? "<html>" : JSON.stringify(body), { status });
}

describe("socketTarget", () => {
  it("keeps the same-origin connection when the owner is the page's own origin", () => {
    expect(socketTarget("https://interviews.example.com", PAGE)).toEqual(SAME_ORIGIN);
    expect(socketTarget("https://interviews.example.com/", PAGE)).toEqual(SAME_ORIGIN);
  });

  it("connects to another node's origin with the usual Socket.IO path", () => {
    expect(socketTarget("https://pod-2.interviews.example.com", PAGE)).toEqual({
      origin: "https://pod-2.interviews.example.com",
      path: "/socket.io",
    });
    expect(socketTarget("http://10.0.0.7:8080", "http://10.0.0.5:8080")).toEqual({
      origin: "http://10.0.0.7:8080",
      path: "/socket.io",
    });
  });

  it("puts Socket.IO under a base URL's path prefix", () => {
    expect(socketTarget("https://interviews.example.com/nodes/pod-2/", PAGE)).toEqual({
      origin: null,
      path: "/nodes/pod-2/socket.io",
    });
  });

  it("falls back to the page's origin for an empty, unparseable or unusable URL", () => {
    for (const url of ["", "   ", "not a url", "ftp://pod-2.example.com", null, undefined, 42]) {
      expect(socketTarget(url, PAGE)).toEqual(SAME_ORIGIN);
    }
    // ws:// from an https page would be blocked as mixed content.
    expect(socketTarget("http://pod-2.interviews.example.com", PAGE)).toEqual(SAME_ORIGIN);
    // A node without a public address calls itself localhost: not the candidate's machine.
    expect(socketTarget("http://localhost:8080", PAGE)).toEqual(SAME_ORIGIN);
    expect(socketTarget("http://localhost:8080", "http://127.0.0.1:5173")).toEqual({
      origin: "http://localhost:8080",
      path: "/socket.io",
    });
  });
});

describe("ownerOutcome", () => {
  it("turns a 200 into a target", () => {
    expect(ownerOutcome(200, { node_id: "pod-2:8080", url: "https://pod-2.interviews.example.com" }, PAGE)).toEqual({
      kind: "connect",
      target: { origin: "https://pod-2.interviews.example.com", path: "/socket.io" },
      nodeId: "pod-2:8080",
    });
    expect(ownerOutcome(200, { node_id: "pod-1:8080", url: PAGE }, PAGE)).toMatchObject({
      kind: "connect",
      target: SAME_ORIGIN,
    });
    // Something answered 200 without JSON (a proxy's fallback page): try the page's origin.
    expect(ownerOutcome(200, null, PAGE)).toEqual({ kind: "connect", target: SAME_ORIGIN, nodeId: null });
  });

  it("makes 401, 403 and 404 final, with the server's code for the link-error screen", () => {
    expect(ownerOutcome(401, { error: { code: "expired_token", message: "The token has expired." } }, PAGE)).toEqual({
      kind: "final",
      error: { code: "expired_token", message: "The token has expired." },
    });
    expect(ownerOutcome(403, null, PAGE)).toEqual({ kind: "final", error: { code: "forbidden", message: "" } });
    expect(ownerOutcome(404, null, PAGE)).toEqual({ kind: "final", error: { code: "not_found", message: "" } });
    expect(ownerOutcome(401, "oops", PAGE)).toMatchObject({ kind: "final", error: { code: "invalid_token" } });
  });

  it("retries anything else: 503 while a dead owner's lease runs out, 5xx, 429", () => {
    const unavailable = { error: { code: "temporarily_unavailable", message: "Try again shortly." } };
    expect(ownerOutcome(503, unavailable, PAGE)).toEqual({ kind: "retry", error: unavailable.error });
    expect(ownerOutcome(502, null, PAGE)).toEqual({
      kind: "retry",
      error: { code: "http_502", message: "The server answered 502." },
    });
    expect(ownerOutcome(429, null, PAGE).kind).toBe("retry");
  });
});

describe("askOwner", () => {
  it("asks the page's origin with the candidate's token", async () => {
    const calls: { url: string; init: RequestInit | undefined }[] = [];
    const outcome = await askOwner(INTERVIEW, "tok", PAGE, async (input, init) => {
      calls.push({ url: String(input), init });
      return reply(200, { node_id: "pod-2:8080", url: "https://pod-2.interviews.example.com" });
    });
    expect(calls).toHaveLength(1);
    expect(calls[0]?.url).toBe(`/api/v1/interviews/${INTERVIEW}/owner`);
    expect(calls[0]?.url).toBe(ownerPath(INTERVIEW));
    expect((calls[0]?.init?.headers as Record<string, string>).Authorization).toBe("Bearer tok");
    expect(outcome).toMatchObject({ kind: "connect", target: { origin: "https://pod-2.interviews.example.com" } });
  });

  it("retries a network failure, a body that is not JSON, and a question that takes too long", async () => {
    const down = await askOwner(INTERVIEW, "tok", PAGE, async () => {
      throw new TypeError("Failed to fetch");
    });
    expect(down).toEqual({ kind: "retry", error: { code: "network_error", message: "The server could not be reached." } });
    const gateway = await askOwner(INTERVIEW, "tok", PAGE, async () => reply(504, undefined));
    expect(gateway).toMatchObject({ kind: "retry", error: { code: "http_504" } });
    const hanging = await askOwner(
      INTERVIEW,
      "tok",
      PAGE,
      (_input, init) =>
        new Promise<Response>((_resolve, reject) => {
          init?.signal?.addEventListener("abort", () => reject(new DOMException("aborted", "AbortError")));
        }),
      10,
    );
    expect(hanging.kind).toBe("retry");
  });

  it("gives up on a refused link", async () => {
    const outcome = await askOwner(INTERVIEW, "tok", PAGE, async () =>
      reply(403, { error: { code: "forbidden", message: "Not your interview." } }),
    );
    expect(outcome).toEqual({ kind: "final", error: { code: "forbidden", message: "Not your interview." } });
  });
});

describe("interviewIdFromToken", () => {
  it("reads the candidate token's interview claim", () => {
    expect(interviewIdFromToken(jwt({ role: "candidate", interview: INTERVIEW }))).toBe(INTERVIEW);
  });

  it("is null for a token it cannot read (the socket then says what is wrong)", () => {
    expect(interviewIdFromToken("")).toBeNull();
    expect(interviewIdFromToken("not-a-jwt")).toBeNull();
    expect(interviewIdFromToken("a.%%%.c")).toBeNull();
    expect(interviewIdFromToken(`a.${base64Url("[1,2]")}.c`)).toBeNull();
    expect(interviewIdFromToken(jwt({ role: "admin" }))).toBeNull();
  });
});

describe("refusal codes", () => {
  it("owned_elsewhere and draining mean: ask /owner again", () => {
    expect(isMovedCode("owned_elsewhere")).toBe(true);
    expect(isMovedCode("draining")).toBe(true);
    expect(isMovedCode("stale_prompt")).toBe(false);
  });

  it("a join refused while the interview changes hands is retried; other refusals are final", () => {
    for (const code of ["owned_elsewhere", "draining", "temporarily_unavailable", "disconnected", "timeout"]) {
      expect(joinRefusalIsPassing(code)).toBe(true);
    }
    for (const code of ["forbidden", "not_found", "interview_cancelled", "internal_error"]) {
      expect(joinRefusalIsPassing(code)).toBe(false);
    }
  });
});

describe("backoffDelay", () => {
  const middle = () => 0.5; // no jitter

  it("doubles from 0.5 s and stays at 4 s", () => {
    expect([0, 1, 2, 3, 4, 10, 1000].map((attempt) => backoffDelay(attempt, RECONNECT_BACKOFF, middle))).toEqual([
      500, 1000, 2000, 4000, 4000, 4000, 4000,
    ]);
  });

  it("spreads attempts by ±20% and never waits longer than the cap", () => {
    expect(backoffDelay(0, RECONNECT_BACKOFF, () => 0)).toBe(400);
    expect(backoffDelay(0, RECONNECT_BACKOFF, () => 1)).toBe(600);
    expect(backoffDelay(5, RECONNECT_BACKOFF, () => 0)).toBe(3200);
    expect(backoffDelay(5, RECONNECT_BACKOFF, () => 1)).toBe(4000);
  });
});
