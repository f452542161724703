import { highlightSegments, segmentTitle } from "./highlight";
import type { EvidenceSpan } from "./types";

interface Props {
  text: string;
  evidence: readonly EvidenceSpan[];
  testId?: string;
  className?: string;
}

/** Answer text with its evidence spans in <mark>, each titled with the indicator it matched. */
export function HighlightedText({ text, evidence, testId, className }: Props) {
  const segments = highlightSegments(text, evidence);
  return (
    <p className={className ?? "answer-text"} data-testid={testId}>
      {segments.length === 0 ? <span className="muted">(empty answer)</span> : null}
      {segments.map((segment, index) =>
        segment.marked ? (
          <mark key={index} title={segmentTitle(segment)} className={segment.indicators.length > 1 ? "overlap" : undefined}>
            {segment.text}
            <span className="visually-hidden"> ({segmentTitle(segment)})</span>
          </mark>
        ) : (
          <span key={index}>{segment.text}</span>
        ),
      )}
    </p>
  );
}
