import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { Socket } from "socket.io-client";
import { ev, prompt } from "../shared/test-fixtures";
import type { ApiErrorBody, CandidateSnapshot, RawEvent } from "../shared/types";
import { createCandidateLink, MOVED, type CandidateLink, type Connection } from "./candidateLink";
import { ownerOutcome, type OwnerOutcome, type SocketTarget } from "./ownerRoute";

const PAGE = "https://interviews.example.com";
const POD_1 = "https://pod-1.interviews.example.com";
const POD_2 = "https://pod-2.interviews.example.com";
const INTERVIEW = "5b0c8c9e-2f43-4a51-9d6e-0e6c1f0a7d21";

function base64Url(text: string): string {
  return btoa(text).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}
const TOKEN = `${base64Url("{}")}.${base64Url(JSON.stringify({ role: "candidate", interview: INTERVIEW }))}.sig`;

function snapshot(lastSeq: number, promptId = "p2", draft = ""): CandidateSnapshot {
  return {
    interview_id: INTERVIEW,
    mode: "real",
    state: "questioning",
    template_title: "Backend",
    notice: { ai: "", scoring: "" },
    prompt: prompt(promptId, 2),
    answered: false,
    last_seq: lastSeq,
    draft,
  };
}

type Handler = (...args: unknown[]) => void;
type Reply = (event: string, data: unknown) => unknown;

/** Just enough of a socket.io Socket, bound to one scripted node. */
class FakeSocket {
  connected = false;
  active = true;
  closed = false;
  readonly sent: { event: string; data: unknown }[] = [];
  private handlers = new Map<string, Handler[]>();

  constructor(
    readonly target: SocketTarget,
    private readonly reply: Reply,
  ) {}

  on(event: string, handler: Handler): this {
    this.handlers.set(event, [...(this.handlers.get(event) ?? []), handler]);
    return this;
  }
  removeAllListeners(): this {
    this.handlers.clear();
    return this;
  }
  disconnect(): this {
    this.closed = true;
    this.connected = false;
    return this;
  }
  timeout(_ms: number) {
    return {
      emitWithAck: async (event: string, data: unknown): Promise<unknown> => {
        this.sent.push({ event, data });
        return this.reply(event, data);
      },
    };
  }
  /** The server side: fire an event at the client. */
  fire(event: string, ...args: unknown[]): void {
    if (event === "connect") this.connected = true;
    if (event === "disconnect") this.connected = false;
    for (const handler of this.handlers.get(event) ?? []) handler(...args);
  }
}

const ok = (rest: object = {}) => ({ ok: true, ...rest });
const refused = (code: string) => ({ ok: false, error: { code, message: code } });
const owner = (url: string): OwnerOutcome => ownerOutcome(200, { node_id: url, url }, PAGE);
const unavailable = ownerOutcome(503, { error: { code: "temporarily_unavailable", message: "" } }, PAGE);

function harness(replies: OwnerOutcome[], nodeReply: (target: SocketTarget) => Reply) {
  const states: Connection[] = [];
  const reasons: (ApiErrorBody | null)[] = [];
  const joins: { snapshot: CandidateSnapshot; ready: RawEvent[] }[] = [];
  const live: RawEvent[] = [];
  const sockets: FakeSocket[] = [];
  const asked: string[] = [];
  let index = 0;
  const link: CandidateLink = createCandidateLink({
    token: TOKEN,
    pageOrigin: PAGE,
    listener: {
      connection: (state, reason) => {
        states.push(state);
        reasons.push(reason);
      },
      joined: (snap, ready) => joins.push({ snapshot: snap, ready }),
      events: (ready) => live.push(...ready),
      notice: () => undefined,
      attempts: () => undefined,
    },
    askOwner: async (interviewId) => {
      asked.push(interviewId);
      const outcome = replies[Math.min(index, replies.length - 1)];
      index += 1;
      return outcome ?? unavailable;
    },
    openSocket: (target) => {
      const socket = new FakeSocket(target, nodeReply(target));
      sockets.push(socket);
      return socket as unknown as Socket;
    },
    random: () => 0.5,
  });
  const current = (): FakeSocket => {
    const socket = sockets.at(-1);
    if (!socket) throw new Error("no socket opened");
    return socket;
  };
  return { link, states, reasons, joins, live, sockets, asked, current };
}

/** A node that runs the interview: joins get a snapshot at `lastSeq()`. */
const running =
  (lastSeq: () => number, extra: Partial<Record<string, unknown>> = {}): Reply =>
  (event) => {
    if (event === "join") return ok({ snapshot: snapshot(lastSeq()), events: [] });
    if (event in extra) return extra[event];
    return ok();
  };

describe("createCandidateLink", () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it("asks /owner for the token's interview, connects there and joins", async () => {
    const h = harness([owner(POD_2)], () => running(() => 3));
    h.link.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(h.asked).toEqual([INTERVIEW]);
    expect(h.current().target).toEqual({ origin: POD_2, path: "/socket.io" });
    h.current().fire("connect");
    await vi.advanceTimersByTimeAsync(0);
    expect(h.current().sent).toEqual([{ event: "join", data: { after_seq: 0 } }]);
    expect(h.joins).toHaveLength(1);
    expect(h.states.at(-1)).toBe("connected");
  });

  it("survives the owner's death: reconnects, calmly, to the node that took over", async () => {
    let seq = 7;
    const h = harness(
      [owner(POD_1), owner(POD_1), unavailable, owner(POD_2)],
      (target) => running(() => (target.origin === POD_2 ? seq + 1 : seq)),
    );
    h.link.start();
    await vi.advanceTimersByTimeAsync(0);
    const first = h.current();
    first.fire("connect");
    await vi.advanceTimersByTimeAsync(0);
    first.fire("event", ev(8, "state_changed", { state: "questioning", previous: "consent" }));
    seq = 8;
    expect(h.live.map((e) => e.seq)).toEqual([8]);

    first.fire("disconnect", "transport close"); // kill -9
    expect(first.closed).toBe(true);
    expect(h.states.at(-1)).toBe("reconnecting");
    await vi.advanceTimersByTimeAsync(500);
    // The lease still names pod-1: its socket cannot connect.
    const dead = h.current();
    expect(dead.target.origin).toBe(POD_1);
    dead.fire("connect_error", new Error("websocket error"));
    expect(h.states.at(-1)).toBe("reconnecting");
    await vi.advanceTimersByTimeAsync(1_000); // /owner: 503
    await vi.advanceTimersByTimeAsync(2_000); // /owner: pod-2
    const next = h.current();
    expect(next.target.origin).toBe(POD_2);
    next.fire("connect");
    await vi.advanceTimersByTimeAsync(0);
    // Re-joined after the last event seen: the snapshot carries the same open question.
    expect(next.sent[0]).toEqual({ event: "join", data: { after_seq: 8 } });
    expect(h.joins.at(-1)?.snapshot.prompt?.prompt_id).toBe("p2");
    expect(h.states.at(-1)).toBe("connected");
    expect(h.states).not.toContain("refused");
    expect(h.sockets.filter((s) => !s.closed)).toEqual([next]);
  });

  it("moves when a command is refused with owned_elsewhere", async () => {
    const h = harness([owner(POD_1), owner(POD_2)], (target) =>
      running(() => 3, target.origin === POD_1 ? { answer: refused("owned_elsewhere") } : {}),
    );
    h.link.start();
    await vi.advanceTimersByTimeAsync(0);
    h.current().fire("connect");
    await vi.advanceTimersByTimeAsync(0);

    const ack = await h.link.emit("answer", { prompt_id: "p2", text: "x" });
    expect(ack).toEqual({ ok: false, error: MOVED });
    expect(h.sockets[0]?.closed).toBe(true);
    expect(h.states.at(-1)).toBe("reconnecting");
    await vi.advanceTimersByTimeAsync(500);
    expect(h.asked).toHaveLength(2);
    h.current().fire("connect");
    await vi.advanceTimersByTimeAsync(0);
    expect(h.current().target.origin).toBe(POD_2);
    expect(await h.link.emit("answer", { prompt_id: "p2", text: "x" })).toEqual({ ok: true });
  });

  it("retries a join refused while the interview changes hands", async () => {
    let refusing = true;
    const h = harness([owner(POD_2)], () => (event) => {
      if (event !== "join") return ok();
      return refusing ? refused("owned_elsewhere") : ok({ snapshot: snapshot(2), events: [] });
    });
    h.link.start();
    await vi.advanceTimersByTimeAsync(0);
    h.current().fire("connect");
    await vi.advanceTimersByTimeAsync(0);
    expect(h.states.at(-1)).toBe("reconnecting");
    refusing = false;
    await vi.advanceTimersByTimeAsync(500);
    expect(h.sockets).toHaveLength(2);
    h.current().fire("connect");
    await vi.advanceTimersByTimeAsync(0);
    expect(h.states.at(-1)).toBe("connected");
  });

  it("stops on a refused link: the link-error screen, no loop", async () => {
    const expired = ownerOutcome(401, { error: { code: "expired_token", message: "Expired." } }, PAGE);
    const h = harness([unavailable, expired], () => running(() => 0));
    h.link.start();
    await vi.advanceTimersByTimeAsync(60_000);
    expect(h.asked).toHaveLength(2);
    expect(h.sockets).toEqual([]);
    expect(h.states).toEqual(["refused"]);
    expect(h.reasons).toEqual([{ code: "expired_token", message: "Expired." }]);
  });

  it("stops when the socket's token is refused, or the interview is opened in another tab", async () => {
    const h = harness([owner(POD_2)], () => running(() => 0));
    h.link.start();
    await vi.advanceTimersByTimeAsync(0);
    h.current().fire("connect_error", Object.assign(new Error("expired_token"), { data: { code: "expired_token", message: "x" } }));
    expect(h.states.at(-1)).toBe("refused");

    const other = harness([owner(POD_2)], () => running(() => 0));
    other.link.start();
    await vi.advanceTimersByTimeAsync(0);
    other.current().fire("connect");
    await vi.advanceTimersByTimeAsync(0);
    other.current().fire("superseded");
    other.current().fire("disconnect", "io server disconnect");
    await vi.advanceTimersByTimeAsync(60_000);
    expect(other.states.at(-1)).toBe("superseded");
    expect(other.asked).toHaveLength(1);
  });

  it("follows a draining node's own disconnect to the next owner", async () => {
    const h = harness([owner(POD_1), owner(POD_2)], () => running(() => 0));
    h.link.start();
    await vi.advanceTimersByTimeAsync(0);
    h.current().fire("connect");
    await vi.advanceTimersByTimeAsync(0);
    h.current().fire("disconnect", "io server disconnect");
    expect(h.states.at(-1)).toBe("reconnecting");
    await vi.advanceTimersByTimeAsync(500);
    expect(h.current().target.origin).toBe(POD_2);
  });

  it("ignores what a replaced socket still says", async () => {
    const h = harness([owner(POD_1), owner(POD_2)], () => running(() => 0));
    h.link.start();
    await vi.advanceTimersByTimeAsync(0);
    const old = h.current();
    old.fire("connect");
    await vi.advanceTimersByTimeAsync(0);
    old.fire("disconnect", "transport close");
    await vi.advanceTimersByTimeAsync(500);
    old.fire("superseded"); // listeners are gone: nothing happens
    old.fire("event", ev(1, "state_changed", { state: "questioning", previous: "consent" }));
    expect(h.states).not.toContain("superseded");
    expect(h.live).toEqual([]);
  });

  it("connects to the page's origin when the token names no interview", async () => {
    const opened: SocketTarget[] = [];
    const link = createCandidateLink({
      token: "not-a-jwt",
      pageOrigin: PAGE,
      listener: { connection: () => undefined, joined: () => undefined, events: () => undefined, notice: () => undefined, attempts: () => undefined },
      askOwner: () => {
        throw new Error("must not ask");
      },
      openSocket: (target) => {
        opened.push(target);
        return new FakeSocket(target, () => ok()) as unknown as Socket;
      },
    });
    link.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(opened).toEqual([{ origin: null, path: "/socket.io" }]);
  });
});
