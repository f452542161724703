import type {
  ApiErrorBody,
  EventsPage,
  Interview,
  InterviewState,
  Page,
  RawEvent,
  RecordingList,
  Report,
  Scores,
  TemplateSummary,
} from "./types";

export const API_BASE = "/api/v1";

/** A refused or failed REST call, with the contract's error code and HTTP status. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = "ApiError";
  }

  /** The token is missing, bad or expired: ask for a new one. */
  get unauthorized(): boolean {
    return this.status === 401;
  }

  /** 401, or 403 (a token whose role may not do this): offer to enter another token. */
  get needsNewToken(): boolean {
    return this.status === 401 || this.status === 403;
  }
}

function isErrorBody(value: unknown): value is { error: ApiErrorBody } {
  if (typeof value !== "object" || value === null) return false;
  const error = (value as { error?: unknown }).error;
  return (
    typeof error === "object" &&
    error !== null &&
    typeof (error as ApiErrorBody).code === "string" &&
    typeof (error as ApiErrorBody).message === "string"
  );
}

export type QueryValue = string | number | undefined | null;

export function buildQuery(query: Record<string, QueryValue>): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value !== undefined && value !== null && value !== "") params.set(key, String(value));
  }
  const text = params.toString();
  return text ? `?${text}` : "";
}

type Fetch = typeof fetch;

/** Typed REST calls of docs/api.md with one bearer token. */
export class ApiClient {
  constructor(
    private readonly token: string,
    private readonly fetchImpl: Fetch = (...args) => globalThis.fetch(...args),
  ) {}

  private async send(
    method: string,
    path: string,
    init: { query?: Record<string, QueryValue>; body?: unknown; accept?: string } = {},
  ): Promise<Response> {
    const headers: Record<string, string> = {
      Authorization: `Bearer ${this.token}`,
      Accept: init.accept ?? "application/json",
    };
    if (init.body !== undefined) headers["Content-Type"] = "application/json";
    let response: Response;
    try {
      response = await this.fetchImpl(`${API_BASE}${path}${buildQuery(init.query ?? {})}`, {
        method,
        headers,
        body: init.body === undefined ? null : JSON.stringify(init.body),
      });
    } catch {
      throw new ApiError(0, "network_error", "The server could not be reached. Check the connection and try again.");
    }
    if (!response.ok) {
      let body: unknown = null;
      try {
        body = await response.json();
      } catch {
        body = null;
      }
      if (isErrorBody(body)) throw new ApiError(response.status, body.error.code, body.error.message);
      throw new ApiError(response.status, `http_${response.status}`, `The server answered ${response.status} ${response.statusText}.`);
    }
    return response;
  }

  private async json<T>(
    method: string,
    path: string,
    init: { query?: Record<string, QueryValue>; body?: unknown } = {},
  ): Promise<T> {
    const response = await this.send(method, path, init);
    return (await response.json()) as T;
  }

  listTemplates(page: { limit?: number; offset?: number } = {}): Promise<Page<TemplateSummary>> {
    return this.json("GET", "/templates", { query: page });
  }

  listInterviews(
    filter: { state?: InterviewState; limit?: number; offset?: number } = {},
  ): Promise<Page<Interview>> {
    return this.json("GET", "/interviews", { query: filter });
  }

  getInterview(id: string): Promise<Interview> {
    return this.json("GET", `/interviews/${encodeURIComponent(id)}`);
  }

  getEvents(id: string, after = 0, limit?: number): Promise<EventsPage> {
    return this.json("GET", `/interviews/${encodeURIComponent(id)}/events`, {
      query: { after, limit },
    });
  }

  getScores(id: string): Promise<Scores> {
    return this.json("GET", `/interviews/${encodeURIComponent(id)}/scores`);
  }

  getReport(id: string): Promise<Report> {
    return this.json("GET", `/interviews/${encodeURIComponent(id)}/report`, {
      query: { format: "json" },
    });
  }

  /** The printable HTML report, as text (it needs the bearer token, so no plain link). */
  async getReportHtml(id: string): Promise<string> {
    const response = await this.send("GET", `/interviews/${encodeURIComponent(id)}/report`, {
      query: { format: "html" },
      accept: "text/html",
    });
    return response.text();
  }

  /** The interview's recorded tracks and their segments (docs/api.md "Recordings"). */
  listRecordings(id: string): Promise<RecordingList> {
    return this.json("GET", `/interviews/${encodeURIComponent(id)}/recordings`);
  }

  /** One recording segment (Ogg/Opus or WebM) as a Blob: it needs the bearer token, so no plain URL. */
  async getRecordingSegment(id: string, track: string, name: string): Promise<Blob> {
    const response = await this.send(
      "GET",
      `/interviews/${encodeURIComponent(id)}/recordings/${encodeURIComponent(track)}/${encodeURIComponent(name)}`,
      { accept: "audio/ogg, audio/*, video/webm, video/*, */*" },
    );
    return response.blob();
  }

  /** Every event of an interview, page by page (staff see all types), up to `maxEvents`. */
  async getAllEvents(id: string, maxEvents = 50_000): Promise<RawEvent[]> {
    const pageSize = 5_000;
    const events: RawEvent[] = [];
    let after = 0;
    while (events.length < maxEvents) {
      const page = await this.getEvents(id, after, pageSize);
      const items = Array.isArray(page.items) ? page.items : [];
      events.push(...items);
      const last = items[items.length - 1];
      if (items.length < pageSize || !last || last.seq <= after) break;
      after = last.seq;
    }
    return events;
  }

  endInterview(id: string): Promise<Interview> {
    return this.json("POST", `/interviews/${encodeURIComponent(id)}/end`);
  }
}
