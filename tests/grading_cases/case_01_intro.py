"""Wrong answers for chapter 01, derived from the chapter's mistake registry (written once, in
``autograder/reference/ch01_intro.py``): submission ``mistakes_<i>`` carries the i-th known mistake of
every exercise that has one (each an edit of the instructor's solution cell); it must lose points
on exactly those exercises, and each one's message must name its mistake (``NAMED``)."""
from __future__ import annotations

from autograder.reference.ch01_intro import MISTAKES
from helpers import registry_submissions

TRIM = True  # submissions keep only the imports and the exercises: grading them stays fast

WRONG, NAMED = registry_submissions("01_intro", MISTAKES)

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
