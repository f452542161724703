import { describe, expect, it } from "vitest";
import { ApiClient, ApiError, buildQuery } from "./api";

function fakeFetch(status: number, body: unknown, seen: { url?: string; init?: RequestInit } = {}) {
  return async (url: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    seen.url = String(url);
    seen.init = init;
    return new Response(typeof body === "string" ? body : JSON.stringify(body), {
      status,
      headers: { "Content-Type": "application/json" },
    });
  };
}

describe("ApiClient", () => {
  it("sends the bearer token and the query", async () => {
    const seen: { url?: string; init?: RequestInit } = {};
    const api = new ApiClient("tok", fakeFetch(200, { items: [], next_offset: null }, seen));
    const page = await api.listInterviews({ state: "done", limit: 25, offset: 50 });
    expect(page.next_offset).toBeNull();
    expect(seen.url).toBe("/api/v1/interviews?state=done&limit=25&offset=50");
    expect((seen.init?.headers as Record<string, string>).Authorization).toBe("Bearer tok");
  });

  it("turns the contract's error body into an ApiError", async () => {
    const api = new ApiClient("tok", fakeFetch(401, { error: { code: "expired_token", message: "Token expired" } }));
    const error = await api.getReport("x").catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({ status: 401, code: "expired_token", message: "Token expired" });
    expect((error as ApiError).unauthorized).toBe(true);
    expect((error as ApiError).needsNewToken).toBe(true);
  });

  it("copes with an error that has no JSON body", async () => {
    const api = new ApiClient("tok", fakeFetch(502, "<html>bad gateway</html>"));
    const error = (await api.getInterview("x").catch((caught: unknown) => caught)) as ApiError;
    expect(error.code).toBe("http_502");
    expect(error.needsNewToken).toBe(false);
  });

  it("reports an unreachable server", async () => {
    const api = new ApiClient("tok", async () => {
      throw new TypeError("fetch failed");
    });
    const error = (await api.listTemplates().catch((caught: unknown) => caught)) as ApiError;
    expect(error.code).toBe("network_error");
  });

  it("builds queries without empty values", () => {
    expect(buildQuery({ a: 1, b: undefined, c: null, d: "", e: "x y" })).toBe("?a=1&e=x+y");
    expect(buildQuery({})).toBe("");
  });

  it("fetches a recording segment by track and name with the bearer token", async () => {
    const seen: { url?: string; init?: RequestInit } = {};
    const api = new ApiClient("tok", async (url, init) => {
      seen.url = String(url);
      seen.init = init;
      return new Response(new Uint8Array([79, 103, 103, 83]), { status: 200, headers: { "Content-Type": "audio/ogg" } });
    });
    const blob = await api.getRecordingSegment("i-1", "candidate-audio", "0000000000-0010000-a.ogg");
    expect(seen.url).toBe("/api/v1/interviews/i-1/recordings/candidate-audio/0000000000-0010000-a.ogg");
    expect((seen.init?.headers as Record<string, string>).Authorization).toBe("Bearer tok");
    expect(blob.size).toBe(4);
  });

  it("reads every event page by page", async () => {
    const urls: string[] = [];
    const api = new ApiClient("tok", async (url) => {
      urls.push(String(url));
      const after = Number(new URL(String(url), "http://x").searchParams.get("after"));
      const items =
        after === 0
          ? Array.from({ length: 5_000 }, (_, index) => ({ seq: index + 1, type: "note", at: "", payload: {} }))
          : [{ seq: 5_001, type: "ended", at: "", payload: { reason: "completed" } }];
      return new Response(JSON.stringify({ items, last_seq: items[items.length - 1]?.seq ?? after }), { status: 200 });
    });
    const events = await api.getAllEvents("i-1");
    expect(events).toHaveLength(5_001);
    expect(urls).toEqual(["/api/v1/interviews/i-1/events?after=0&limit=5000", "/api/v1/interviews/i-1/events?after=5000&limit=5000"]);
  });
});
