"""Grading you can trust: the verdict never passes through the student's process.

nbgrader's ``Execute`` is replaced (``nbgrader_config.py``) by :class:`~autograder.verdict.execute.VerdictExecute`:
the student's notebook runs in its own kernel, sandboxed (no course files, no references, no
gradebook, a clean environment); after each graded test cell of a converted chapter, the grader
process asks the kernel for the student's answers (data only, :mod:`~autograder.verdict.wire`) and
compares them with the reference (the instructor's solution cells, :mod:`~autograder.verdict.extract`)
in its own process, names known mistakes (:mod:`~autograder.verdict.core`), and replaces the test
cell's outputs with the verdict, which nbgrader's SaveAutoGrades then scores.
"""
from __future__ import annotations

from pathlib import Path

_REFERENCE = Path(__file__).resolve().parents[1] / "reference"


def converted_chapters() -> list[str]:
    """Chapters graded by the verdict process (those with a generated solution module)."""
    return sorted(p.stem[len("solution_"):] for p in _REFERENCE.glob("solution_*.py"))
