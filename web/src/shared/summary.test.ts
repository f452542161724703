import { describe, expect, it } from "vitest";
import { normalizeSummary } from "./summary";

describe("normalizeSummary", () => {
  it("keeps the contract's shape", () => {
    const summary = {
      competencies: [
        { id: "design", name: "Design", score: 0.6, standard_error: 0.2, level: 3, answered: 2, insufficient: false },
      ],
      overall: { score: 0.6, standard_error: 0.2 },
      hints: [],
    };
    expect(normalizeSummary(summary)).toEqual({
      competencies: [summary.competencies[0]],
      overall: { score: 0.6, standard_error: 0.2, level: null },
      hints: [],
    });
  });

  it("maps the adaptive engine's shape", () => {
    expect(
      normalizeSummary({
        competencies: [
          { id: "design", name: "Design", theta: 0.4, standard_error: 0.5, questions_asked: 2, insufficient_answers: 0 },
          { id: "ops", name: "Ops", theta: null, standard_error: null, questions_asked: 1, insufficient_answers: 1 },
        ],
        overall_theta: 0.3,
      }),
    ).toEqual({
      competencies: [
        { id: "design", name: "Design", score: 0.4, standard_error: 0.5, level: null, answered: 2, insufficient: false },
        { id: "ops", name: "Ops", score: null, standard_error: null, level: null, answered: 1, insufficient: true },
      ],
      overall: { score: 0.3, standard_error: null },
      hints: [],
    });
  });

  it("survives junk", () => {
    expect(normalizeSummary(null)).toEqual({ competencies: [], overall: null, hints: [] });
  });
});
