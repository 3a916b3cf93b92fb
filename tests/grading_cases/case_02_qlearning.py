"""Wrong answers for chapter 02, derived from the chapter's mistake registry (written once, in
``autograder/reference/ch02_qlearning.py``): submission ``mistakes_<i>`` carries the i-th known mistake
of every exercise that has one (each an edit of the instructor's solution cell); it must lose points
on exactly those exercises, and each one's message must name its mistake (``NAMED``)."""
from __future__ import annotations

from autograder.reference.ch02_qlearning import MISTAKES
from helpers import registry_submissions

TRIM = True  # submissions keep only the imports and the exercises: grading them stays fast

WRONG, NAMED = registry_submissions("02_qlearning", MISTAKES)

# Rebinds every check it can reach, then answers wrongly: must score 0 on every exercise.
_SILENCE = """
import numpy as np, course_lib.checks as _c
np.allclose = lambda *a, **k: True
np.array_equal = lambda *a, **k: True
np.testing.assert_allclose = lambda *a, **k: None
for _name in ("check_close", "check_shape", "check_type", "check_all", "is_close"):
    setattr(_c, _name, lambda *a, **k: True)
check_close = check_shape = check_type = lambda *a, **k: None
"""
CHEAT = {
    "epsilon_greedy": _SILENCE + "def epsilon_greedy(q_values, epsilon, rng):\n    return 0\n",
    "q_learning_update": _SILENCE + "def q_learning_update(Q, s, a, r, s_next, terminated, alpha, gamma):\n"
                         "    return 0.0\n",
    "sarsa_update": _SILENCE + "def sarsa_update(Q, s, a, r, s_next, a_next, terminated, alpha, gamma):\n"
                    "    return 0.0\n",
    "run_episode": _SILENCE + "def run_episode(env, policy, update, seed=None):\n    env.reset(seed=seed)\n"
                   "    return 0.0, 0\n",
}
