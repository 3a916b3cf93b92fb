"""Wrong answers for chapter 07, derived from the chapter's mistake registry (written once, in
``autograder/reference/ch07_ddpg_td3_sac.py``): submission ``mistakes_<i>`` carries the i-th known mistake
of every exercise that has one (each an edit of the instructor's solution cell); it must lose points on
exactly those exercises, and each one's message must name its mistake (``NAMED``)."""
from __future__ import annotations

from autograder.reference.ch07_ddpg_td3_sac import MISTAKES
from helpers import registry_submissions

TRIM = True  # submissions keep only the imports and the exercises: grading them stays fast

WRONG, NAMED = registry_submissions("07_ddpg_td3_sac", MISTAKES)

# Rebinds every check it can reach, then answers wrongly: must score 0 on every exercise.
_SILENCE = """
import numpy as np, torch, course_lib.checks as _c
np.allclose = lambda *a, **k: True
torch.allclose = lambda *a, **k: True
np.testing.assert_allclose = lambda *a, **k: None
for _name in ("check_close", "check_shape", "check_type", "check_all", "is_close", "passed"):
    setattr(_c, _name, lambda *a, **k: True)
check_close = check_shape = check_type = passed = lambda *a, **k: None
"""
CHEAT = {
    "scale_action": _SILENCE + "def scale_action(u, low, high):\n    return u\n",
    "ou_noise_step": _SILENCE + "def ou_noise_step(x, noise, theta=0.15, sigma=0.2, dt=1e-2, mu=0.0):\n    return x\n",
    "ddpg_target": _SILENCE + "def ddpg_target(actor_targ, critic_targ, batch, gamma, low, high):\n    return batch.rew\n",
    "actor_loss": _SILENCE + "def actor_loss(critic, obs, actions):\n    return actions.sum() * 0\n",
    "polyak_update": _SILENCE + "def polyak_update(target, online, tau):\n    return None\n",
    "td3_target": _SILENCE + ("def td3_target(actor_targ, critic1_targ, critic2_targ, batch, gamma, low, high, noise, "
                              "policy_noise, noise_clip):\n    return batch.rew\n"),
    "td3_update": _SILENCE + ("def td3_update(actor, critic1, critic2, actor_targ, critic1_targ, critic2_targ, actor_opt, "
                              "critic1_opt, critic2_opt, batch, y, step, policy_delay, tau, low, high):\n"
                              "    return {'critic_loss': 0.0, 'actor_loss': None}\n"),
    "squashed_gaussian": _SILENCE + "def squashed_gaussian(mean, log_std, noise):\n    return torch.tanh(mean), mean.sum(-1)\n",
    "sac_target": _SILENCE + ("def sac_target(critic1_targ, critic2_targ, batch, next_act, next_logp, gamma, alpha):\n"
                              "    return batch.rew\n"),
    "sac_actor_loss": _SILENCE + "def sac_actor_loss(q1, q2, logp, alpha):\n    return (q1 * 0).sum()\n",
    "temperature_loss": _SILENCE + "def temperature_loss(log_alpha, logp, target_entropy):\n    return log_alpha * 0\n",
    "critic_loss": _SILENCE + "def critic_loss(q_values, targets):\n    return (q_values * 0).sum()\n",
    "select_action": _SILENCE + ("def select_action(actor, obs, low, high, noise_std, noise, explore):\n"
                                 "    return np.zeros(1)\n"),
}
