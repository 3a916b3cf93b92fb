"""Wrong answers for chapter 01, derived from the chapter's mistake registry (written once, in
``autograder/reference/ch01_intro.py``): submission ``mistakes_<i>`` carries the i-th known mistake of
every exercise that has one (each an edit of the instructor's solution cell); it must lose points
on exactly those exercises, and each one's message must name its mistake (``NAMED``)."""
from __future__ import annotations

import nbformat

from autograder.reference.ch01_intro import MISTAKES
from helpers import NOTEBOOKS, nbgrader_meta

TRIM = True  # submissions keep only the imports and the exercises: grading them stays fast

_SOURCE = {nbgrader_meta(c)["grade_id"]: c.source
           for c in nbformat.read(NOTEBOOKS / "01_intro" / "01_intro.ipynb", as_version=4).cells
           if nbgrader_meta(c).get("solution")}


def _groups():
    per_exercise: dict[str, list] = {}
    for m in MISTAKES:
        per_exercise.setdefault(m.exercise, []).append(m)
    depth = max(len(v) for v in per_exercise.values())
    return [[ms[i] for ms in per_exercise.values() if i < len(ms)] for i in range(depth)]


WRONG, NAMED = {}, {}
for _i, _group in enumerate(_groups()):
    WRONG[f"mistakes_{_i}"] = ({m.exercise: m.apply(_SOURCE[m.exercise]) for m in _group},
                               {f"test_{m.exercise}" for m in _group})
    NAMED[f"mistakes_{_i}"] = {f"test_{m.exercise}": m.description for m in _group}

# Rebinds every check it can reach, then answers wrongly: must score 0 on every exercise.
_SILENCE = """
import numpy as np, course_lib.checks as _c
np.allclose = lambda *a, **k: True
np.testing.assert_allclose = lambda *a, **k: None
for _name in ("check_close", "check_shape", "check_type", "check_all", "is_close"):
    setattr(_c, _name, lambda *a, **k: True)
check_close = check_shape = check_type = lambda *a, **k: None
"""
CHEAT = {
    "discounted_return": _SILENCE + "def discounted_return(rewards, gamma):\n    return 0.0\n",
    "bellman_backup": _SILENCE + "def bellman_backup(P, R, terminal, V, gamma):\n    return R\n",
    "policy_evaluation": _SILENCE + "def policy_evaluation(P, R, terminal, policy, gamma, tol=1e-10, max_iters=100):\n"
                         "    return np.zeros(P.shape[0])\n",
    "value_iteration": _SILENCE + "def value_iteration(P, R, terminal, gamma, tol=1e-10, max_iters=100):\n"
                       "    return np.zeros(P.shape[0]), np.zeros(P.shape[0], dtype=int)\n",
}
