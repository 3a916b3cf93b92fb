"""What an on-policy rollout over a vector environment holds (chapter 5's A2C).

``Rollout`` is a container, not an algorithm: 5a's ``collect_rollout`` (your exercise) fills one, and
``train_a2c`` reads it. It lives in a module (not in the notebook) so that a training function that
uses it can be sent to worker processes started with ``spawn`` (macOS, Windows), which import it by name.
"""
from __future__ import annotations

from typing import NamedTuple

import torch


class Rollout(NamedTuple):
    """One rollout: T steps in N environments, ``s_t`` the observation at step t.

    states: float32 (T, N, obs_dim), s_t (the observation each action was chosen in).
    actions: int64 (T, N), a_t sampled from pi(. | s_t).
    rewards: float32 (T, N), r_t (what envs.step returned for a_t).
    terminated, truncated: bool (T, N), what envs.step returned for a_t.
    next_values: float32 (T, N), V(s_{t+1}) without gradient; for a step that ended an episode, V of
        its final observation (info["final_obs"]), not of the next episode's first observation.
    last_obs: float32 (N, obs_dim), the observations after the last step (the next rollout's s_0).
    """
    states: torch.Tensor
    actions: torch.Tensor
    rewards: torch.Tensor
    terminated: torch.Tensor
    truncated: torch.Tensor
    next_values: torch.Tensor
    last_obs: torch.Tensor
