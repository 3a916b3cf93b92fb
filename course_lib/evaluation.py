"""Evaluation: run N episodes of a policy and summarise the returns."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np


@dataclass
class EvalResult:
    """Returns of evaluation episodes: ``returns`` is ``(n_episodes,)``, undiscounted."""

    returns: np.ndarray
    lengths: np.ndarray

    @property
    def mean(self) -> float:
        return float(np.mean(self.returns))

    @property
    def std(self) -> float:
        return float(np.std(self.returns))

    def __str__(self) -> str:
        return (f"mean return {self.mean:.2f} +- {self.std:.2f} over {len(self.returns)} episodes "
                f"(min {self.returns.min():.2f}, max {self.returns.max():.2f})")


def evaluate(env, policy: Callable, n_episodes: int = 10, seed: int = 0,
             max_steps: int | None = None) -> EvalResult:
    """Run ``n_episodes`` episodes of ``policy`` (observation -> action) and collect their returns.

    Episode ``i`` is reset with seed ``seed + i``, so the same policy always gets the same score.
    An episode ends on ``terminated`` or ``truncated`` (or after ``max_steps`` steps, if given).
    """
    returns, lengths = [], []
    for i in range(n_episodes):
        obs, _ = env.reset(seed=seed + i)
        total, steps, done = 0.0, 0, False
        while not done:
            obs, reward, terminated, truncated, _ = env.step(policy(obs))
            total += float(reward)
            steps += 1
            done = terminated or truncated or (max_steps is not None and steps >= max_steps)
        returns.append(total)
        lengths.append(steps)
    return EvalResult(np.array(returns), np.array(lengths))
