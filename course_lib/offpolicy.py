"""Given plumbing for the off-policy continuous-control agents of chapter 07 (DDPG, TD3, SAC).

Nothing here is the answer to an exercise: a replay buffer for continuous actions that stores
``terminated`` and ``truncated`` apart (a time limit is not a terminal state), the ``Batch`` it
samples, and small MLP builders.

    buffer = TransitionBuffer(obs_dim=3, act_dim=1, capacity=100_000, seed=0)
    buffer.add(obs, action, reward, next_obs, terminated, truncated)
    batch = buffer.sample(256)        # Batch of float32 tensors: obs (B, 3), act (B, 1), rew (B,) ...
"""
from __future__ import annotations

from collections import namedtuple

import numpy as np
import torch
from torch import nn

#: One minibatch of transitions, float32 tensors: obs (B, D), act (B, A), rew (B,), next_obs (B, D),
#: terminated (B,) and truncated (B,) as 0.0 / 1.0.
Batch = namedtuple("Batch", ["obs", "act", "rew", "next_obs", "terminated", "truncated"])


class TransitionBuffer:
    """A ring buffer of transitions in preallocated numpy arrays; ``sample`` draws uniformly with
    replacement from its own seeded generator and returns a :data:`Batch` of torch tensors."""

    def __init__(self, obs_dim: int, act_dim: int, capacity: int = 100_000, seed: int = 0):
        self.capacity, self.size, self.pos = int(capacity), 0, 0
        self.obs = np.zeros((capacity, obs_dim), dtype=np.float32)
        self.next_obs = np.zeros((capacity, obs_dim), dtype=np.float32)
        self.act = np.zeros((capacity, act_dim), dtype=np.float32)
        self.rew = np.zeros(capacity, dtype=np.float32)
        self.terminated = np.zeros(capacity, dtype=np.float32)
        self.truncated = np.zeros(capacity, dtype=np.float32)
        self.rng = np.random.default_rng(seed)

    def add(self, obs, act, rew, next_obs, terminated, truncated) -> None:
        """Store one transition. ``next_obs`` must be the observation the step returned (for a
        truncated step: the last observation of the episode, not the first of the next one)."""
        i = self.pos
        self.obs[i], self.act[i], self.rew[i], self.next_obs[i] = obs, act, rew, next_obs
        self.terminated[i], self.truncated[i] = float(terminated), float(truncated)
        self.pos = (i + 1) % self.capacity
        self.size = min(self.size + 1, self.capacity)

    def __len__(self) -> int:
        return self.size

    def sample(self, batch_size: int) -> Batch:
        idx = self.rng.integers(0, self.size, size=batch_size)
        t = torch.from_numpy
        return Batch(t(self.obs[idx]), t(self.act[idx]), t(self.rew[idx]), t(self.next_obs[idx]),
                     t(self.terminated[idx]), t(self.truncated[idx]))


def mlp(sizes, activation=nn.ReLU) -> nn.Sequential:
    """Linear layers of the given sizes with ``activation`` between them (none after the last),
    PyTorch's default initialisation: the same layout as the grader's test networks."""
    layers = []
    for i in range(len(sizes) - 1):
        layers.append(nn.Linear(sizes[i], sizes[i + 1]))
        if i < len(sizes) - 2:
            layers.append(activation())
    return nn.Sequential(*layers)


def copy_of(net: nn.Module) -> nn.Module:
    """A frozen copy (``requires_grad=False``) of ``net``: the start of a target network."""
    import copy

    target = copy.deepcopy(net)
    for p in target.parameters():
        p.requires_grad_(False)
    return target


class Evaluation(namedtuple("Evaluation", ["mean", "returns", "q_start", "discounted_start"])):
    """Deterministic evaluation: ``mean`` undiscounted return, ``returns`` per episode, and the mean over
    episodes of the critic's estimate ``Q(s_0, a_0)`` of each first state and of the discounted return
    that actually followed it (the truth the estimate should match)."""


def evaluate_with_q(env, act, q_value=None, n_episodes: int = 10, seed: int = 0, gamma: float = 0.99) -> Evaluation:
    """Run ``n_episodes`` episodes of the deterministic policy ``act`` (observation -> action array),
    episode ``i`` reset with seed ``seed + i``. ``q_value(obs, action) -> float`` (optional) is the
    critic's estimate, asked once per episode at its first state."""
    returns, q_start, disc = [], [], []
    for i in range(n_episodes):
        obs, _ = env.reset(seed=seed + i)
        total, discounted, k, done = 0.0, 0.0, 0, False
        while not done:
            action = act(obs)
            if k == 0 and q_value is not None:
                q_start.append(float(q_value(obs, action)))
            obs, reward, terminated, truncated, _ = env.step(action)
            total += float(reward)
            discounted += gamma ** k * float(reward)
            k += 1
            done = terminated or truncated
        returns.append(total)
        disc.append(discounted)
    return Evaluation(float(np.mean(returns)), np.array(returns),
                      float(np.mean(q_start)) if q_start else float("nan"), float(np.mean(disc)))
