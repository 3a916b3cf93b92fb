"""Wrong answers for chapter 05, derived from the chapter's mistake registry (written once, in
``autograder/reference/ch05_actor_critic.py``): submission ``mistakes_<i>`` carries the i-th known
mistake of every exercise that has one (each an edit of the instructor's solution cell, in 5a or
5b); it must lose points on exactly those exercises, and each one's message must name its mistake
(``NAMED``)."""
from __future__ import annotations

from autograder.reference.ch05_actor_critic import MISTAKES
from helpers import registry_submissions

TRIM = True  # submissions keep only the imports and the exercises: grading them stays fast
# (5b then lacks the cell that loads n_step_returns from 5a: its visible n-step check fails in the
# kernel, and the verdict, which supplies the reference n_step_returns, keeps the points)

WRONG, NAMED = registry_submissions("05_actor_critic", MISTAKES)

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
    "n_step_returns": _SILENCE + "def n_step_returns(rewards, terminated, truncated, next_values, gamma):\n"
                      "    return rewards.clone()\n",
    "categorical_entropy": _SILENCE + "def categorical_entropy(logits):\n    return torch.zeros(logits.shape[0])\n",
    "actor_critic_loss": _SILENCE + "def actor_critic_loss(logits, actions, values, returns, value_coef=0.5, entropy_coef=0.01):\n"
                         "    z = (logits.sum() + values.sum()) * 0.0\n    return z, z, z, z\n",
    "collect_rollout": _SILENCE + "def collect_rollout(envs, model, obs, n_steps):\n"
                       "    z = torch.zeros(n_steps, obs.shape[0])\n"
                       "    return torch.zeros(n_steps, *obs.shape), z.long(), z, z.bool(), z.bool(), z, obs\n",
    "worker_update": _SILENCE + "def worker_update(loss, local_model, shared_model, shared_optimizer, max_grad_norm):\n"
                     "    return 0.0\n",
    "q_targets": _SILENCE + "def q_targets(rewards, terminated, truncated, next_q, next_actions, gamma, method):\n"
                 "    return rewards.clone()\n",
}
