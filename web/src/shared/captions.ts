import { asKnownEvent } from "./events";
import type { RawEvent } from "./types";

/** A live caption: `text` only grows; `tentative` is the newest guess at the words after it. */
export interface LiveCaption {
  text: string;
  tentative: string;
}

/** The caption of one prompt's answer: live while spoken, final once the answer is in. */
export interface Caption extends LiveCaption {
  /** True after `answer_final`: the text is the answer, nothing will change it. */
  final: boolean;
  /** How the final answer came; null while the caption is still live. */
  source: "typed" | "voice" | null;
  /** The seq of the event that set it (a repeated or older partial changes nothing). */
  seq: number;
}

/** prompt_id → caption. */
export type Captions = Readonly<Record<string, Caption>>;

export const noCaptions: Captions = {};

/**
 * Applies `answer_partial` and `answer_final`; other events change nothing.
 *
 * Each partial carries the whole stable caption so far, so the newest one (by seq) replaces
 * the caption; a partial after the final answer (late delivery) is ignored; the final answer
 * replaces whatever caption there was, voice or typed.
 */
export function applyCaptionEvent(captions: Captions, raw: RawEvent): Captions {
  const event = asKnownEvent(raw);
  if (!event) return captions;
  if (event.type === "answer_partial") {
    const { prompt_id: promptId, text } = event.payload;
    if (typeof promptId !== "string" || typeof text !== "string") return captions;
    const known = captions[promptId];
    if (known && (known.final || known.seq >= event.seq)) return captions;
    const tentative = typeof event.payload.tentative === "string" ? event.payload.tentative : "";
    return { ...captions, [promptId]: { text, tentative, final: false, source: null, seq: event.seq } };
  }
  if (event.type === "answer_final") {
    const { prompt_id: promptId, text, source } = event.payload;
    if (typeof promptId !== "string") return captions;
    const known = captions[promptId];
    if (known?.final) return captions;
    return {
      ...captions,
      [promptId]: {
        text: typeof text === "string" ? text : "",
        tentative: "",
        final: true,
        source: source === "voice" ? "voice" : "typed",
        seq: event.seq,
      },
    };
  }
  return captions;
}

export function applyCaptionEvents(captions: Captions, events: readonly RawEvent[]): Captions {
  return events.reduce(applyCaptionEvent, captions);
}

/** The live caption of a spoken answer in progress for `promptId`, or null. */
export function liveCaption(captions: Captions, promptId: string | null | undefined): LiveCaption | null {
  if (!promptId) return null;
  const caption = captions[promptId];
  if (!caption || caption.final || !(caption.text || caption.tentative)) return null;
  return { text: caption.text, tentative: caption.tentative };
}
