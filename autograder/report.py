"""The instructor's view of a graded class: ``./course report`` writes ``report/index.html``.

For each chapter: the distribution of totals, each exercise's mean and share of full marks, and which
known mistakes the hidden checks named, how often (a named mistake is data: what to re-teach). Scores
come from the gradebook, mistakes from the autograded notebooks' check messages.
"""
from __future__ import annotations

import base64
import html
import io
import json
import re
from collections import Counter, defaultdict
from pathlib import Path

from . import course

# "…: this is a known mistake: <what>. …" (verdict) and "…: this looks like a known mistake: <what>. …"
MISTAKE = re.compile(r"(?:this is|this looks like) a known mistake: (.+?)\.(?:\s|$)")


def scores(root: Path) -> dict[str, dict[str, dict[str, float]]]:
    """``{chapter: {student: {exercise cell: points, "total": points}}}`` from the gradebook."""
    from nbgrader.api import Gradebook

    table: dict[str, dict[str, dict[str, float]]] = {}
    with Gradebook(course.gradebook_url(root)) as gb:
        for assignment in gb.assignments:
            per_student = table.setdefault(assignment.name, {})
            for submission in assignment.submissions:
                row = {}
                for nb in submission.notebooks:
                    for grade in nb.grades:
                        if grade.max_score:
                            row[grade.name] = float(grade.score or 0.0)
                row["total"] = float(submission.score or 0.0)
                per_student[submission.student.id] = row
    return table


def max_scores(root: Path) -> dict[str, dict[str, float]]:
    from nbgrader.api import Gradebook

    out: dict[str, dict[str, float]] = {}
    with Gradebook(course.gradebook_url(root)) as gb:
        for assignment in gb.assignments:
            cells = {c.name: float(c.max_score) for nb in assignment.notebooks for c in nb.grade_cells}
            out[assignment.name] = {**cells, "total": sum(cells.values())}
    return out


def mistakes(root: Path) -> dict[str, dict[str, Counter]]:
    """``{chapter: {test cell: Counter(mistake description -> students)}}`` from autograded notebooks."""
    found: dict[str, dict[str, Counter]] = defaultdict(lambda: defaultdict(Counter))
    for path in sorted((Path(root) / "autograded").glob("*/*/*.ipynb")):
        chapter = path.parent.name
        nb = json.loads(path.read_text())
        for cell in nb.get("cells", []):
            gid = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
            for out in cell.get("outputs", []):
                if out.get("output_type") == "error":
                    first = MISTAKE.search(str(out.get("evalue", "")))  # the hidden check's diagnosis leads
                    if first:
                        found[chapter][gid][first.group(1)] += 1
    return found


def _histogram(values: list[float], top: float, title: str) -> str:
    """A small histogram as an inline PNG (``<img>``)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import matplotlib.ticker

    fig, ax = plt.subplots(figsize=(4.2, 2.4), dpi=100)
    ax.hist(values, bins=[top * i / 10 for i in range(11)], color="#3b7dd8", edgecolor="white")
    ax.set_xlim(0, top)
    ax.yaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
    ax.set_xlabel("points")
    ax.set_ylabel("students")
    ax.set_title(title, fontsize=10)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return f'<img alt="{html.escape(title)}" src="data:image/png;base64,{base64.b64encode(buf.getvalue()).decode()}">'


def write(root: Path, out_dir: Path | None = None) -> Path:
    """Write ``report/index.html`` (or into ``out_dir``); returns its path."""
    root = Path(root).resolve()
    out_dir = Path(out_dir or root / "report")
    out_dir.mkdir(parents=True, exist_ok=True)
    table, tops, named = scores(root), max_scores(root), mistakes(root)
    parts = ["<!doctype html><meta charset='utf-8'><title>Class report</title>",
             "<style>body{font-family:sans-serif;max-width:1000px;margin:2em auto}"
             "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}"
             "td:first-child,th:first-child{text-align:left}</style>", "<h1>Class report</h1>"]
    for chapter in course.chapters(root):
        students = table.get(chapter, {})
        if not students:
            continue
        top = tops[chapter]
        totals = [row["total"] for row in students.values()]
        parts.append(f"<h2>{html.escape(chapter)}: {len(students)} graded, mean "
                     f"{sum(totals) / len(totals):.1f} / {top['total']:g}</h2>")
        parts.append(_histogram(totals, top["total"], f"{chapter}: totals"))
        parts.append("<table><tr><th>exercise</th><th>points</th><th>mean</th><th>full marks</th>"
                     "<th>known mistakes named (students)</th></tr>")
        for cell in sorted(k for k in top if k != "total"):
            got = [row.get(cell, 0.0) for row in students.values()]
            full = sum(g >= top[cell] for g in got)
            named_here = named.get(chapter, {}).get(cell, Counter())
            listed = "<br>".join(f"{html.escape(what)}: {n}" for what, n in named_here.most_common()) or "-"
            parts.append(f"<tr><td>{html.escape(cell.removeprefix('test_'))}</td><td>{top[cell]:g}</td>"
                         f"<td>{sum(got) / len(got):.1f}</td><td>{full} of {len(got)}</td>"
                         f"<td style='text-align:left'>{listed}</td></tr>")
        parts.append("</table>")
    if len(parts) == 3:
        parts.append("<p>Nothing has been graded yet (./course grade).</p>")
    path = out_dir / "index.html"
    path.write_text("\n".join(parts))
    return path
