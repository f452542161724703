import { formatLevel, formatWithError } from "./format";
import type { CompetencyScore } from "./types";

interface Props {
  competencies: readonly CompetencyScore[];
  caption: string;
}

/** Competency scores with standard errors; competencies without enough evidence say so. */
export function CompetencyTable({ competencies, caption }: Props) {
  if (competencies.length === 0) return <p className="muted">No competency scores yet.</p>;
  return (
    <div className="table-wrap" role="region" aria-label={caption} tabIndex={0}>
      <table>
        <caption>{caption}</caption>
        <thead>
          <tr>
            <th scope="col">Competency</th>
            <th scope="col">Score ± SE</th>
            <th scope="col">Level</th>
            <th scope="col">Answers</th>
          </tr>
        </thead>
        <tbody>
          {competencies.map((competency) => (
            <tr key={competency.id} data-testid="competency-score" data-competency-id={competency.id}>
              <th scope="row">{competency.name}</th>
              <td>
                {competency.insufficient || competency.score === null ? (
                  <span className="insufficient">Insufficient evidence</span>
                ) : (
                  formatWithError(competency.score, competency.standard_error)
                )}
              </td>
              <td>{formatLevel(competency.level)}</td>
              <td>{competency.answered}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
