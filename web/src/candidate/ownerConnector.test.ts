import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { ApiErrorBody } from "../shared/types";
import { createOwnerConnector, type OwnerConnector } from "./ownerConnector";
import { isMovedCode, joinRefusalIsPassing, ownerOutcome, type OwnerOutcome, type SocketTarget } from "./ownerRoute";

const PAGE = "https://interviews.example.com";
const POD_1 = "https://pod-1.interviews.example.com";
const POD_2 = "https://pod-2.interviews.example.com";

const owner = (url: string): OwnerOutcome => ownerOutcome(200, { node_id: url, url }, PAGE);
const unavailable: OwnerOutcome = ownerOutcome(
  503,
  { error: { code: "temporarily_unavailable", message: "Try again shortly." } },
  PAGE,
);
const expired: OwnerOutcome = ownerOutcome(401, { error: { code: "expired_token", message: "Expired." } }, PAGE);
const movedAck: ApiErrorBody = { code: "owned_elsewhere", message: "This interview is live on node pod-2." };

/**
 * The connector with scripted `/owner` replies (the last one repeats) and a record of what it
 * did, driven the way useCandidateSocket drives it.
 */
function harness(replies: OwnerOutcome[]) {
  const asked: number[] = [];
  const opened: SocketTarget[] = [];
  const finals: ApiErrorBody[] = [];
  const waits: number[] = [];
  let index = 0;
  const connector: OwnerConnector = createOwnerConnector({
    ask: async () => {
      asked.push(Date.now());
      const outcome = replies[Math.min(index, replies.length - 1)];
      index += 1;
      if (!outcome) throw new Error("no scripted reply");
      return outcome;
    },
    open: (target) => opened.push(target),
    onFinal: (error) => finals.push(error),
    onWait: (_failures, delayMs) => waits.push(delayMs),
    random: () => 0.5, // no jitter: exact delays
  });
  return { connector, asked, opened, finals, waits };
}

describe("createOwnerConnector", () => {
  beforeEach(() => {
    vi.useFakeTimers();
    vi.setSystemTime(0);
  });
  afterEach(() => vi.useRealTimers());

  it("asks /owner before the first connect and opens the socket where it says", async () => {
    const { connector, asked, opened } = harness([owner(POD_2)]);
    connector.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(asked).toEqual([0]);
    expect(opened).toEqual([{ origin: POD_2, path: "/socket.io" }]);
  });

  it("uses the page's own origin when the owner is this origin", async () => {
    const { connector, opened } = harness([owner(PAGE)]);
    connector.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(opened).toEqual([{ origin: null, path: "/socket.io" }]);
  });

  it("after a drop, asks again with backoff until the new owner is named, then connects there", async () => {
    // pod-1 died: its lease still names it twice, then /owner answers 503, then pod-2 took over.
    const { connector, asked, opened, waits } = harness([
      owner(POD_1),
      owner(POD_1),
      owner(POD_1),
      unavailable,
      unavailable,
      owner(POD_2),
    ]);
    connector.start();
    await vi.advanceTimersByTimeAsync(0);
    connector.joined();

    connector.reconnect(); // the socket to pod-1 dropped
    await vi.advanceTimersByTimeAsync(499);
    expect(asked).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(asked).toHaveLength(2);
    expect(opened.at(-1)).toEqual({ origin: POD_1, path: "/socket.io" });

    connector.reconnect(); // connecting to pod-1 failed
    await vi.advanceTimersByTimeAsync(1_000);
    expect(asked).toHaveLength(3);
    connector.reconnect(); // failed again; the next two answers are 503s, retried by themselves
    await vi.advanceTimersByTimeAsync(2_000 + 4_000 + 4_000);
    expect(asked).toHaveLength(6);
    expect(waits).toEqual([500, 1_000, 2_000, 4_000, 4_000]);
    expect(opened.at(-1)).toEqual({ origin: POD_2, path: "/socket.io" });
    expect(connector.failures).toBe(5);

    // Joined on pod-2: the next drop starts from the shortest wait again.
    connector.joined();
    connector.reconnect();
    expect(waits.at(-1)).toBe(500);
  });

  it("keeps retrying a network failure at the capped wait", async () => {
    const { connector, asked, waits, opened } = harness([
      { kind: "retry", error: { code: "network_error", message: "" } },
    ]);
    connector.start();
    await vi.advanceTimersByTimeAsync(60_000);
    expect(opened).toEqual([]);
    expect(waits.slice(0, 5)).toEqual([500, 1_000, 2_000, 4_000, 4_000]);
    expect(Math.max(...waits)).toBe(4_000);
    expect(asked.length).toBeGreaterThan(15);
  });

  it("treats a rejected question like a network failure", async () => {
    const { connector, asked, opened, finals } = harness([]);
    connector.start();
    await vi.advanceTimersByTimeAsync(500);
    expect(asked).toHaveLength(2);
    expect(opened).toEqual([]);
    expect(finals).toEqual([]);
  });

  it.each([401, 403, 404])("stops for good on %i: no loop", async (status) => {
    const { connector, asked, opened, finals } = harness([unavailable, ownerOutcome(status, null, PAGE)]);
    connector.start();
    await vi.advanceTimersByTimeAsync(500);
    expect(finals).toHaveLength(1);
    connector.reconnect();
    connector.retryNow();
    connector.start();
    await vi.advanceTimersByTimeAsync(60_000);
    expect(asked).toHaveLength(2);
    expect(opened).toEqual([]);
    expect(finals).toHaveLength(1);
  });

  it("reports the server's code of a refused link", async () => {
    const { connector, finals } = harness([expired]);
    connector.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(finals).toEqual([{ code: "expired_token", message: "Expired." }]);
  });

  it("re-asks /owner when a command is refused with owned_elsewhere, and moves to the new node", async () => {
    const { connector, asked, opened } = harness([owner(POD_1), owner(POD_2)]);
    connector.start();
    await vi.advanceTimersByTimeAsync(0);
    connector.joined();

    // What useCandidateSocket does with a refused command's code.
    const refusedWith = (error: ApiErrorBody): void => {
      if (isMovedCode(error.code)) connector.reconnect(error);
    };
    refusedWith({ code: "stale_prompt", message: "" });
    await vi.advanceTimersByTimeAsync(10_000);
    expect(asked).toHaveLength(1);

    refusedWith(movedAck);
    await vi.advanceTimersByTimeAsync(500);
    expect(asked).toHaveLength(2);
    expect(opened).toEqual([
      { origin: POD_1, path: "/socket.io" },
      { origin: POD_2, path: "/socket.io" },
    ]);
  });

  it("re-asks /owner when the join is refused while the interview changes hands", async () => {
    const { connector, asked, opened } = harness([owner(POD_2), owner(POD_2)]);
    connector.start();
    await vi.advanceTimersByTimeAsync(0);
    const joinRefused = { code: "temporarily_unavailable", message: "The interview changed hands." };
    expect(joinRefusalIsPassing(joinRefused.code)).toBe(true);
    connector.reconnect(joinRefused);
    await vi.advanceTimersByTimeAsync(500);
    expect(asked).toHaveLength(2);
    expect(opened).toHaveLength(2);
  });

  it("runs one loop at a time: a drop reported twice asks once", async () => {
    const { connector, asked } = harness([owner(POD_1)]);
    connector.start();
    await vi.advanceTimersByTimeAsync(0);
    connector.reconnect(); // "disconnect"
    connector.reconnect(movedAck); // and the refused command that noticed it
    await vi.advanceTimersByTimeAsync(10_000);
    expect(asked).toHaveLength(2);
  });

  it("tries at once when the candidate asks to", async () => {
    const { connector, asked } = harness([unavailable, unavailable, owner(POD_2)]);
    connector.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(asked).toHaveLength(1);
    connector.retryNow(); // instead of waiting 500 ms
    await vi.advanceTimersByTimeAsync(0);
    expect(asked).toHaveLength(2);
  });

  it("does nothing after stop, even when a question was under way", async () => {
    let answer: (outcome: OwnerOutcome) => void = () => undefined;
    const opened: SocketTarget[] = [];
    const connector = createOwnerConnector({
      ask: () => new Promise((resolve) => (answer = resolve)),
      open: (target) => opened.push(target),
      onFinal: () => undefined,
    });
    connector.start();
    connector.stop();
    answer(owner(POD_2));
    await vi.advanceTimersByTimeAsync(10_000);
    expect(opened).toEqual([]);
  });
});
