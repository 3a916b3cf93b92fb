"""Writing chapter notebooks from Python: cells with the nbgrader metadata the course uses.

A chapter author may edit notebooks in JupyterLab (View > Cell Toolbar > Create Assignment) or
write them from a script with these functions::

    from autograder.authoring import markdown, code, solution, tests, write_notebook
    write_notebook("notebooks/01_intro/01_intro.ipynb", [
        markdown("# Title"),
        solution("discounted_return", "def discounted_return(...):\\n    ### BEGIN SOLUTION\\n..."),
        tests("discounted_return", 10, "check_close(...)\\n### BEGIN HIDDEN TESTS\\n...\\n### END HIDDEN TESTS"),
    ])

Conventions (the course design, README "How to add a chapter"): an exercise is one solution cell whose
``grade_id`` is the function's name, followed by one graded test cell ``test_<grade_id>`` that holds
the visible checks and, between ``### BEGIN HIDDEN TESTS`` and ``### END HIDDEN TESTS``, the hidden
ones. Outputs and execution counts are never written.
"""
from __future__ import annotations

import hashlib
from pathlib import Path

import nbformat

_SCHEMA = 3


def _meta(grade_id: str, *, grade: bool, solution: bool, locked: bool, points: float | None = None) -> dict:
    meta = {"grade": grade, "grade_id": grade_id, "locked": locked, "schema_version": _SCHEMA,
            "solution": solution, "task": False}
    if points is not None:
        meta["points"] = points
    return {"nbgrader": meta}


def _cell_id(source: str, salt: str) -> str:
    return hashlib.sha1((salt + source).encode()).hexdigest()[:12]


def markdown(source: str):
    """A markdown cell (not graded)."""
    cell = nbformat.v4.new_markdown_cell(source.strip("\n"))
    return cell


def code(source: str):
    """An ordinary code cell (not graded); students may edit and rerun it."""
    return nbformat.v4.new_code_cell(source.strip("\n"))


def solution(grade_id: str, source: str):
    """An exercise cell: ``### BEGIN SOLUTION`` / ``### END SOLUTION`` mark what the release removes."""
    if "### BEGIN SOLUTION" not in source:
        raise ValueError(f"solution cell {grade_id!r} has no ### BEGIN SOLUTION region")
    cell = nbformat.v4.new_code_cell(source.strip("\n"))
    cell.metadata.update(_meta(grade_id, grade=False, solution=True, locked=False))
    return cell


def tests(grade_id: str, points: float, source: str):
    """The graded, locked test cell of exercise ``grade_id`` (its grade_id is ``test_<grade_id>``)."""
    cell = nbformat.v4.new_code_cell(source.strip("\n"))
    cell.metadata.update(_meta(f"test_{grade_id}", grade=True, solution=False, locked=True, points=points))
    return cell


def write_notebook(path: str | Path, cells: list, title: str = "") -> Path:
    """Write a v4 notebook with stable cell ids, the Python 3 kernel and no outputs."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"display_name": "Python 3 (ipykernel)", "language": "python",
                                 "name": "python3"}
    nb.metadata["language_info"] = {"name": "python", "version": "3.11"}
    seen = set()
    for i, cell in enumerate(cells):
        cid = _cell_id(cell.source, str(i))
        while cid in seen:
            cid = _cell_id(cell.source, cid)
        seen.add(cid)
        cell["id"] = cid
    nb.cells = cells
    nbformat.validate(nb)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)
    return path
