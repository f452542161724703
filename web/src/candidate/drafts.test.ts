import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { createDraftSender, DRAFT_DEBOUNCE_MS, type Draft, type DraftStatus } from "./drafts";

async function settle(): Promise<void> {
  await Promise.resolve();
  await Promise.resolve();
}

describe("createDraftSender", () => {
  let sent: Draft[];
  let statuses: DraftStatus[];
  let reply: boolean;

  beforeEach(() => {
    vi.useFakeTimers();
    sent = [];
    statuses = [];
    reply = true;
  });
  afterEach(() => vi.useRealTimers());

  const make = () =>
    createDraftSender(
      async (draft) => {
        sent.push(draft);
        return reply;
      },
      (status) => statuses.push(status),
    );

  it("sends the latest text once typing pauses for ~500 ms", async () => {
    expect(DRAFT_DEBOUNCE_MS).toBe(500);
    const drafts = make();
    drafts.update("p1", "H");
    vi.advanceTimersByTime(200);
    drafts.update("p1", "He");
    vi.advanceTimersByTime(200);
    drafts.update("p1", "Hello");
    vi.advanceTimersByTime(499);
    expect(sent).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(sent).toEqual([{ prompt_id: "p1", text: "Hello" }]);
    await settle();
    expect(statuses.at(-1)).toBe("saved");
  });

  it("does not resend a draft the server already holds", async () => {
    const drafts = make();
    drafts.markSaved("p1", "same");
    drafts.update("p1", "same");
    vi.advanceTimersByTime(500);
    expect(sent).toEqual([]);
    drafts.update("p1", "changed");
    vi.advanceTimersByTime(500);
    await settle();
    drafts.update("p1", "changed");
    vi.advanceTimersByTime(500);
    expect(sent).toEqual([{ prompt_id: "p1", text: "changed" }]);
  });

  it("sends the waiting draft of the previous prompt when the prompt changes", () => {
    const drafts = make();
    drafts.update("p1", "first answer");
    drafts.update("p2", "second");
    expect(sent).toEqual([{ prompt_id: "p1", text: "first answer" }]);
    vi.advanceTimersByTime(500);
    expect(sent).toEqual([
      { prompt_id: "p1", text: "first answer" },
      { prompt_id: "p2", text: "second" },
    ]);
  });

  it("flush sends now, cancel forgets", () => {
    const drafts = make();
    drafts.update("p1", "a");
    drafts.flush();
    expect(sent).toHaveLength(1);
    drafts.update("p1", "ab");
    drafts.cancel();
    vi.advanceTimersByTime(1_000);
    expect(sent).toHaveLength(1);
  });

  it("reports a failed save and tries again on the next change", async () => {
    const drafts = make();
    reply = false;
    drafts.update("p1", "text");
    vi.advanceTimersByTime(500);
    await settle();
    expect(statuses.at(-1)).toBe("failed");
    reply = true;
    drafts.update("p1", "text");
    vi.advanceTimersByTime(500);
    await settle();
    expect(sent).toHaveLength(2);
    expect(statuses.at(-1)).toBe("saved");
  });

  it("resend sends at once even if the text was saved before (server may have lost it)", () => {
    const drafts = make();
    drafts.markSaved("p1", "offline text");
    drafts.update("p1", "pending");
    drafts.resend("p1", "offline text");
    expect(sent).toEqual([{ prompt_id: "p1", text: "offline text" }]);
    vi.advanceTimersByTime(1_000);
    expect(sent).toHaveLength(1);
  });
});
