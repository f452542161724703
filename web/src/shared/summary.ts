import type { CompetencyScore, HintView, OverallScore, Summary } from "./types";

function num(value: unknown): number | null {
  return typeof value === "number" && Number.isFinite(value) ? value : null;
}

function str(value: unknown, fallback: string): string {
  return typeof value === "string" ? value : fallback;
}

/**
 * A `summary` event payload as the contract's `Scores` without `answers`. Also accepts the
 * adaptive engine's shape (`theta`, `questions_asked`, `insufficient_answers`, `overall_theta`),
 * so the console and the practice results show something sensible either way.
 */
export function normalizeSummary(payload: unknown): Summary {
  const raw = (payload ?? {}) as Record<string, unknown>;
  const competencies: CompetencyScore[] = (Array.isArray(raw.competencies) ? raw.competencies : []).map(
    (item: unknown, index: number) => {
      const c = (item ?? {}) as Record<string, unknown>;
      const score = num(c.score) ?? num(c.theta);
      const answered = num(c.answered) ?? num(c.questions_asked) ?? 0;
      const insufficientAnswers = num(c.insufficient_answers) ?? 0;
      const insufficient =
        typeof c.insufficient === "boolean"
          ? c.insufficient
          : score === null || (answered > 0 && insufficientAnswers >= answered);
      const id = str(c.id, str(c.competency_id, `competency-${index}`));
      return {
        id,
        name: str(c.name, id),
        score,
        standard_error: num(c.standard_error),
        level: num(c.level),
        answered,
        insufficient,
      };
    },
  );
  let overall: OverallScore | null = null;
  const rawOverall = raw.overall as Record<string, unknown> | null | undefined;
  if (rawOverall && num(rawOverall.score) !== null) {
    overall = {
      score: num(rawOverall.score) as number,
      standard_error: num(rawOverall.standard_error),
      level: num(rawOverall.level),
    };
  } else if (num(raw.overall_theta) !== null) {
    overall = { score: num(raw.overall_theta) as number, standard_error: null };
  }
  const hints = Array.isArray(raw.hints) ? (raw.hints as HintView[]) : [];
  return { competencies, overall, hints };
}
