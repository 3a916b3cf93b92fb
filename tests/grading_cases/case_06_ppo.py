"""Wrong answers for chapter 06, derived from the chapter's mistake registry (written once, in
``autograder/reference/ch06_ppo.py``): submission ``mistakes_<i>`` carries the i-th known mistake of
every exercise that has one (each an edit of the instructor's solution cell); it must lose points
on exactly those exercises, and each one's message must name its mistake (``NAMED``)."""
from __future__ import annotations

from autograder.reference.ch06_ppo import MISTAKES
from helpers import registry_submissions

TRIM = True  # submissions keep only the imports and the exercises: grading them stays fast

WRONG, NAMED = registry_submissions("06_ppo", MISTAKES)

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
    "surrogate": _SILENCE + "def surrogate(logp_new, logp_old, advantages):\n    return (logp_new * 0).sum()\n",
    "clipped_surrogate": _SILENCE + "def clipped_surrogate(logp_new, logp_old, advantages, clip):\n"
                         "    return (logp_new * 0).sum()\n",
    "approx_kl": _SILENCE + "def approx_kl(logp_new, logp_old):\n    return (logp_new * 0).sum()\n",
    "kl_penalty_loss": _SILENCE + "def kl_penalty_loss(logp_new, logp_old, advantages, beta):\n"
                       "    return (logp_new * 0).sum()\n",
    "adaptive_beta": _SILENCE + "def adaptive_beta(beta, kl, kl_target):\n    return beta\n",
    "ppo_update": _SILENCE + "def ppo_update(policy_net, value_net, policy_opt, value_opt, batch, rng, **kw):\n"
                  "    return {'minibatches': 6, 'approx_kl': [0.0] * 6, 'policy_loss': [0.0] * 6,\n"
                  "            'value_loss': [0.0] * 6, 'entropy': [0.0] * 6, 'clip_fraction': [0.0] * 6}\n",
}
