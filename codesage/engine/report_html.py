"""A printable HTML rendering of a review report (no scripts, escaped throughout)."""

from __future__ import annotations

from html import escape
from typing import Any

_STYLE = """
body{font-family:system-ui,sans-serif;max-width:52rem;margin:2rem auto;color:#111;line-height:1.45}
h1,h2,h3{line-height:1.2} table{border-collapse:collapse;width:100%}
td,th{border:1px solid #999;padding:.3rem .5rem;text-align:left} mark{background:#ffe58a}
.answer{border-top:1px solid #ccc;padding-top:.5rem;margin-top:1rem}
.muted{color:#444} @media print{a{color:#000}}
"""


def _fmt(value: Any, digits: int = 2) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return escape(str(value))


def highlighted(text: str, spans: list[dict[str, Any]]) -> str:
    """`text` escaped, with each evidence span wrapped in <mark> (overlaps merged)."""
    ranges = sorted(
        (max(0, int(s["start"])), min(len(text), int(s["end"])), s.get("indicator") or "")
        for s in spans
        if int(s["end"]) > int(s["start"])
    )
    out, cursor = [], 0
    for start, end, indicator in ranges:
        start = max(start, cursor)
        if start >= end:
            continue
        out.append(escape(text[cursor:start]))
        out.append(f'<mark title="{escape(indicator)}">{escape(text[start:end])}</mark>')
        cursor = end
    out.append(escape(text[cursor:]))
    return "".join(out)


def render_report_html(report: dict[str, Any]) -> str:
    """The whole report as a standalone printable page."""
    interview, template, scores = report["interview"], report["template"], report["scores"]
    overall = scores["overall"]
    parts = [
        f"<!doctype html><html lang='en'><meta charset='utf-8'><title>Interview report "
        f"{escape(interview['id'])}</title><style>{_STYLE}</style><body>",
        f"<h1>{escape(template['title'])}</h1>",
        f"<p class='muted'>Candidate {escape(interview['candidate_id'])} · "
        f"{escape(interview['mode'])} interview · state {escape(interview['state'])}</p>",
        "<h2>Overall</h2>",
        "<p>Insufficient evidence for an overall score.</p>"
        if overall is None
        else f"<p>Score {_fmt(overall.get('score'))} (standard error "
        f"{_fmt(overall.get('standard_error'))})</p>",
        "<h2>Competencies</h2><table><tr><th>Competency</th><th>Score</th><th>SE</th>"
        "<th>Answers</th></tr>",
    ]
    for competency in scores["competencies"]:
        parts.append(
            f"<tr><td>{escape(str(competency.get('name', competency.get('id'))))}</td>"
            f"<td>{_fmt(competency.get('score'))}</td>"
            f"<td>{_fmt(competency.get('standard_error'))}</td>"
            f"<td>{_fmt(competency.get('answered'))}</td></tr>"
        )
    parts.append("</table><h2>Answers</h2>")
    for answer in scores["answers"]:
        verdict = (
            f"Insufficient evidence: {escape(answer.get('reason') or 'not enough to score')}"
            if answer["insufficient_evidence"]
            else f"Level {_fmt(answer['level'])} of 5 · confidence {_fmt(answer['confidence'])}"
        )
        parts.append(
            f"<div class='answer'><h3>{escape(answer['question_text'])}</h3>"
            f"<p><strong>{verdict}</strong></p>"
            f"<p>{highlighted(answer['answer_text'], answer['evidence'])}</p></div>"
        )
    if scores["hints"]:
        parts.append("<h2>Hints taken</h2><ul>")
        parts += [
            f"<li>{escape(h['text'])} (strength {h['strength']})</li>" for h in scores["hints"]
        ]
        parts.append("</ul>")
    if report["notes"]:
        parts.append("<h2>Interviewer notes</h2><ul>")
        parts += [f"<li>{escape(n['text'])}</li>" for n in report["notes"]]
        parts.append("</ul>")
    parts.append("</body></html>")
    return "".join(parts)
