import type { LiveCaption } from "./captions";

/** A live caption: the stable words, then the tentative ones in a lighter style. */
export function LiveCaptionText({ caption }: { caption: LiveCaption }) {
  return (
    <>
      {caption.text}
      {caption.tentative ? (
        <span className="tentative" data-testid="caption-tentative">
          {caption.text ? " " : ""}
          {caption.tentative}
        </span>
      ) : null}
    </>
  );
}
