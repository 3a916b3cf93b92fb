"""Helpers for the tests: execute notebooks, read nbgrader metadata, build submissions."""
from __future__ import annotations

import copy
import os
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

from autograder import course

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = REPO / "notebooks"


def chapters() -> list[str]:
    return course.chapters(REPO)


def chapter_notebooks(chapter: str | None = None) -> list[Path]:
    folders = [NOTEBOOKS / chapter] if chapter else [NOTEBOOKS / c for c in chapters()]
    return sorted(p for f in folders for p in f.glob("*.ipynb"))


def nbgrader_meta(cell) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {})


def execute(path: Path, timeout: int = 600, env: dict | None = None):
    """Execute a notebook (in its own folder) and return ``(notebook, seconds)``; errors are kept."""
    nb = nbformat.read(path, as_version=4)
    old = dict(os.environ)
    os.environ.update(env or {})
    try:
        start = time.perf_counter()
        NotebookClient(nb, timeout=timeout, kernel_name="python3", allow_errors=True, shutdown_kernel="immediate",
                       resources={"metadata": {"path": str(path.parent)}}).execute()
        return nb, time.perf_counter() - start
    finally:
        os.environ.clear()
        os.environ.update(old)


def errors(nb) -> list[str]:
    """``"cell N (grade_id): Ename: value"`` for every error output."""
    found = []
    for i, cell in enumerate(nb.cells):
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                found.append(f"cell {i} ({nbgrader_meta(cell).get('grade_id', '-')}): "
                             f"{out['ename']}: {out['evalue'][:300]}")
    return found


def stderr_outputs(nb, graded_only: bool = False) -> list[str]:
    found = []
    for i, cell in enumerate(nb.cells):
        if graded_only and not nbgrader_meta(cell).get("grade"):
            continue
        for out in cell.get("outputs", []):
            if out.get("output_type") == "stream" and out.get("name") == "stderr":
                found.append(f"cell {i} ({nbgrader_meta(cell).get('grade_id', '-')}): {out['text'][:300]}")
    return found


def make_course(tmp: Path, chapter: str) -> Path:
    """A course root in ``tmp`` with the config and one chapter's sources."""
    return course.course_with_chapter(tmp / "course", chapter)


def with_replacements(source_nb: Path, replacements: dict[str, str]) -> nbformat.NotebookNode:
    """The source notebook with the solution cells named in ``replacements`` (grade_id -> code)
    replaced: a student's submission with those answers wrong and the rest right."""
    nb = copy.deepcopy(nbformat.read(source_nb, as_version=4))
    left = dict(replacements)
    for cell in nb.cells:
        gid = nbgrader_meta(cell).get("grade_id")
        if gid in left:
            cell.source = left.pop(gid)
    assert not left, f"no solution cell with grade_id {sorted(left)} in {source_nb.name}"
    return nb


def registry_submissions(chapter: str, mistakes) -> tuple[dict, dict]:
    """The wrong-answer submissions of a chapter, derived from its mistake registry.

    Submission ``mistakes_<i>`` carries the i-th known mistake of every exercise that has one (each an
    edit of the instructor's solution cell). Returns ``(WRONG, NAMED)``: ``WRONG[student] =
    ({grade_id: code}, {test cells that must lose points})`` and ``NAMED[student] = {test cell:
    the mistake's description that its message must name}``.
    """
    sources = {nbgrader_meta(c)["grade_id"]: c.source
               for path in chapter_notebooks(chapter)
               for c in nbformat.read(path, as_version=4).cells if nbgrader_meta(c).get("solution")}
    per_exercise: dict[str, list] = {}
    for m in mistakes:
        per_exercise.setdefault(m.exercise, []).append(m)
    depth = max(len(v) for v in per_exercise.values())
    wrong, named = {}, {}
    for i in range(depth):
        group = [ms[i] for ms in per_exercise.values() if i < len(ms)]
        wrong[f"mistakes_{i}"] = ({m.exercise: m.apply(sources[m.exercise]) for m in group},
                                  {f"test_{m.exercise}" for m in group})
        named[f"mistakes_{i}"] = {f"test_{m.exercise}": m.description for m in group}
    return wrong, named
