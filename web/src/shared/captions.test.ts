import { describe, expect, it } from "vitest";
import { applyCaptionEvent, applyCaptionEvents, liveCaption, noCaptions } from "./captions";
import { ev, prompt } from "./test-fixtures";

describe("captions from answer_partial / answer_final", () => {
  it("shows each partial as the whole caption so far", () => {
    const captions = applyCaptionEvents(noCaptions, [
      ev(3, "answer_partial", { prompt_id: "p1", text: "I would" }),
      ev(4, "answer_partial", { prompt_id: "p1", text: "I would add a cache" }),
    ]);
    expect(captions.p1).toEqual({ text: "I would add a cache", tentative: "", final: false, source: null, seq: 4 });
    expect(liveCaption(captions, "p1")).toEqual({ text: "I would add a cache", tentative: "" });
    expect(liveCaption(captions, "p2")).toBeNull();
  });

  it("shows tentative words after the stable ones until a later partial settles them", () => {
    let captions = applyCaptionEvents(noCaptions, [
      ev(3, "answer_partial", { prompt_id: "p1", text: "", tentative: "I would" }),
    ]);
    expect(liveCaption(captions, "p1")).toEqual({ text: "", tentative: "I would" });
    captions = applyCaptionEvent(captions, ev(4, "answer_partial", { prompt_id: "p1", text: "I would", tentative: "add a" }));
    expect(liveCaption(captions, "p1")).toEqual({ text: "I would", tentative: "add a" });
    captions = applyCaptionEvent(captions, ev(5, "answer_partial", { prompt_id: "p1", text: "I would add a cache" }));
    expect(liveCaption(captions, "p1")).toEqual({ text: "I would add a cache", tentative: "" });
    captions = applyCaptionEvent(captions, ev(6, "answer_final", { prompt_id: "p1", text: "I would add a cache.", source: "voice" }));
    expect(captions.p1?.tentative).toBe("");
    expect(liveCaption(captions, "p1")).toBeNull();
  });

  it("replaces the caption with the final voice answer, which ends the live caption", () => {
    const captions = applyCaptionEvents(noCaptions, [
      ev(3, "answer_partial", { prompt_id: "p1", text: "I would add a" }),
      ev(4, "answer_final", { prompt_id: "p1", text: "I would add a cache.", source: "voice" }),
    ]);
    expect(captions.p1).toEqual({ text: "I would add a cache.", tentative: "", final: true, source: "voice", seq: 4 });
    expect(liveCaption(captions, "p1")).toBeNull();
  });

  it("lets a typed answer replace a spoken caption in progress", () => {
    const captions = applyCaptionEvents(noCaptions, [
      ev(3, "answer_partial", { prompt_id: "p1", text: "um" }),
      ev(4, "answer_final", { prompt_id: "p1", text: "Typed instead", source: "typed" }),
    ]);
    expect(captions.p1?.source).toBe("typed");
    expect(captions.p1?.text).toBe("Typed instead");
  });

  it("ignores a late partial after the final answer, and older or repeated partials", () => {
    const final = applyCaptionEvents(noCaptions, [
      ev(4, "answer_final", { prompt_id: "p1", text: "done", source: "voice" }),
    ]);
    expect(applyCaptionEvent(final, ev(5, "answer_partial", { prompt_id: "p1", text: "do" }))).toBe(final);
    const live = applyCaptionEvents(noCaptions, [ev(6, "answer_partial", { prompt_id: "p2", text: "newer" })]);
    expect(applyCaptionEvent(live, ev(5, "answer_partial", { prompt_id: "p2", text: "older" }))).toBe(live);
    expect(applyCaptionEvent(live, ev(6, "answer_partial", { prompt_id: "p2", text: "newer" }))).toBe(live);
  });

  it("keeps captions per prompt and ignores other events", () => {
    const captions = applyCaptionEvents(noCaptions, [
      ev(1, "prompt", prompt("p1")),
      ev(2, "answer_partial", { prompt_id: "p1", text: "first" }),
      ev(3, "prompt", prompt("p2")),
      ev(4, "answer_partial", { prompt_id: "p2", text: "second" }),
      { seq: 5, type: "something_new", at: "", payload: {} },
    ]);
    expect(Object.keys(captions)).toEqual(["p1", "p2"]);
    expect(liveCaption(captions, "p2")).toEqual({ text: "second", tentative: "" });
  });
});
