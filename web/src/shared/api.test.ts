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
});
