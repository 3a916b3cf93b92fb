"""Wrong answers for chapter 04, derived from the chapter's mistake registry (written once, in
``autograder/reference/ch04_policy_gradient.py``): submission ``mistakes_<i>`` carries the i-th known
mistake of every exercise that has one (each an edit of the instructor's solution cell, in 04a or
04b); it must lose points on exactly those exercises, and each one's message must name its mistake
(``NAMED``)."""
from __future__ import annotations

from autograder.reference.ch04_policy_gradient import MISTAKES
from helpers import registry_submissions

TRIM = True  # submissions keep only the imports and the exercises: grading them stays fast

WRONG, NAMED = registry_submissions("04_policy_gradient", MISTAKES)

# Rebinds every check it can reach, then answers wrongly: must score 0 on every exercise.
_SILENCE = """
import numpy as np, torch, course_lib.checks as _c
np.allclose = lambda *a, **k: True
np.testing.assert_allclose = lambda *a, **k: None
torch.allclose = lambda *a, **k: True
for _name in ("check_close", "check_shape", "check_type", "check_all", "is_close"):
    setattr(_c, _name, lambda *a, **k: True)
check_close = check_shape = check_type = lambda *a, **k: None
"""
CHEAT = {
    "categorical_log_prob": _SILENCE + "def categorical_log_prob(logits, actions):\n"
                            "    return logits[:, 0] * 0.0\n",
    "pg_loss": _SILENCE + "def pg_loss(logp, weights):\n    return (logp * 0.0).sum()\n",
    "discount_cumsum": _SILENCE + "def discount_cumsum(x, gamma):\n    return np.asarray(x, dtype=float)\n",
    "reward_to_go": _SILENCE + "def reward_to_go(rewards, dones, gamma):\n"
                    "    return np.asarray(rewards, dtype=float)\n",
    "collect_episodes": _SILENCE + "def collect_episodes(envs, policy, value, batch_size):\n"
                        "    z = np.zeros(batch_size)\n"
                        "    return np.zeros((batch_size, 4), np.float32), z.astype(np.int64), z, z > 0, z > 0, z\n",
    "gaussian_log_prob": _SILENCE + "def gaussian_log_prob(mean, log_std, actions):\n"
                         "    return (mean * 0.0).sum(-1)\n",
    "gae": _SILENCE + "def gae(rewards, values, next_values, terminated, truncated, gamma, lam):\n"
           "    return np.zeros(len(rewards))\n",
}
