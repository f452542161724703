import { describe, expect, it } from "vitest";
import { formatPercent, formatScore, formatWithError, shortId } from "./format";

describe("format", () => {
  it("formats scores honestly when missing", () => {
    expect(formatScore(null)).toBe("—");
    expect(formatScore(0.666)).toBe("0.67");
    expect(formatWithError(0.5, 0.123)).toBe("0.50\u00a0±\u00a00.12");
    expect(formatWithError(0.5, null)).toBe("0.50");
    expect(formatWithError(null, 0.1)).toBe("—");
  });

  it("formats confidence and ids", () => {
    expect(formatPercent(0.876)).toBe("88\u00a0%");
    expect(formatPercent(3)).toBe("100\u00a0%");
    expect(shortId("12345678-aaaa")).toBe("12345678");
  });
});
