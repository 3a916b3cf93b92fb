"""Wrong answers for chapter 03, derived from the chapter's mistake registry (written once, in
``autograder/reference/ch03_dqn.py``): submission ``mistakes_<i>`` carries the i-th known mistake of
every exercise that has one (each an edit of the instructor's solution cell); it must lose points
on exactly those exercises, and each one's message must name its mistake (``NAMED``).

Notebook 3a: ReplayBuffer, linear_epsilon, td_target, huber_loss, dqn_update, dqn_step.
Notebook 3b: double_dqn_target, dueling_aggregate, SumTree, importance_weights.
A wrong huber_loss costs only huber_loss: dqn_update, which calls it, is judged apart from it; a wrong
linear_epsilon costs only linear_epsilon: dqn_step's hidden checks use the reference's in its place.
"""
from __future__ import annotations

from autograder.reference.ch03_dqn import MISTAKES
from helpers import registry_submissions

# Not trimmed: the visible checks and the replay buffer use the notebook's given Batch (and 3b loads
# 3a's definitions), which live in cells that are neither imports nor exercises.
TRIM = False

WRONG, NAMED = registry_submissions("03_dqn", MISTAKES)

# Rebinds every check it can reach, then answers wrongly: must score 0 on every exercise.
_SILENCE = """
import numpy as np, torch, course_lib.checks as _c
np.allclose = lambda *a, **k: True
np.testing.assert_allclose = lambda *a, **k: None
torch.allclose = lambda *a, **k: True
torch.equal = lambda *a, **k: True
for _name in ("check_close", "check_shape", "check_type", "check_all", "is_close"):
    setattr(_c, _name, lambda *a, **k: True)
check_close = check_shape = check_type = lambda *a, **k: None
"""
CHEAT = {
    "ReplayBuffer": _SILENCE + """
class ReplayBuffer:
    def __init__(self, capacity, obs_dim, seed=0):
        self.obs_dim = obs_dim
    def add(self, *transition):
        pass
    def __len__(self):
        return 0
    def get(self, indices):
        n = len(indices)
        return Batch(torch.zeros(n, self.obs_dim), torch.zeros(n, dtype=torch.int64), torch.zeros(n),
                     torch.zeros(n, self.obs_dim), torch.zeros(n), torch.zeros(n))
    def sample(self, batch_size):
        return self.get(np.zeros(batch_size, dtype=int))
""",
    "linear_epsilon": _SILENCE + "def linear_epsilon(step, start, end, decay_steps):\n    return 0.0\n",
    "td_target": _SILENCE + "def td_target(target_net, batch, gamma):\n    return batch.rewards.clone()\n",
    "huber_loss": _SILENCE + "def huber_loss(errors, delta=1.0):\n    return errors.abs()\n",
    "dqn_update": _SILENCE + "def dqn_update(online_net, optimizer, batch, targets, weights=None, max_grad_norm=10.0):\n"
                  "    return 0.0, torch.zeros_like(targets)\n",
    "dqn_step": _SILENCE + """
from typing import NamedTuple
class StepResult(NamedTuple):
    obs: object
    reward: float
    episode_over: bool
    losses: list
def dqn_step(env, obs, step, q_net, buffer, learn, rng, cfg):
    next_obs, reward, terminated, truncated, _ = env.step(0)
    return StepResult(next_obs, float(reward), False, [])
""",
    "double_dqn_target": _SILENCE + "def double_dqn_target(online_net, target_net, batch, gamma):\n"
                         "    return batch.rewards.clone()\n",
    "dueling_aggregate": _SILENCE + "def dueling_aggregate(value, advantages):\n    return advantages * 0\n",
    "SumTree": _SILENCE + """
class SumTree:
    def __init__(self, capacity):
        self.capacity, self.tree = capacity, np.zeros(2 * capacity)
    def total(self):
        return 0.0
    def update(self, indices, priorities):
        pass
    def find(self, values):
        return np.zeros(len(values), dtype=int)
""",
    "importance_weights": _SILENCE + "def importance_weights(probs, n, beta):\n    return np.ones(len(probs))\n",
}
