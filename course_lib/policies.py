"""Policy heads: the action distribution of a policy network, for discrete and continuous actions.

A policy network maps a batch of observations ``obs`` of shape ``(B, D)`` to the parameters of a
distribution over actions. Two kinds are used in the course:

- **categorical** (CartPole, Acrobot): any network whose output is the logits ``(B, A)``;
- **diagonal Gaussian** (Pendulum): a :class:`GaussianPolicy`, a network for the mean ``(B, d)`` and a
  free log standard deviation per action dimension, shared by all states (as in PPO, TRPO and VPG).

:func:`policy_distribution` turns either into a ``torch.distributions`` object, so code that needs
log-probabilities and entropies (a PPO update, a rollout) is written once for both::

    dist = policy_distribution(policy_net, obs)   # obs (B, D)
    logp = dist.log_prob(actions)                 # (B,): int64 actions (B,) or float actions (B, d)
    ent = dist.entropy()                          # (B,), in nats
"""
from __future__ import annotations

import torch
from torch import nn
from torch.distributions import Categorical, Distribution, Independent, Normal


class GaussianPolicy(nn.Module):
    """A diagonal Gaussian policy: ``a = mean_net(s) + exp(log_std) * z``, ``z ~ N(0, I)``.

    Args:
        mean_net: obs ``(B, D)`` -> mean ``(B, d)``, in the environment's action units.
        action_dim: ``d``, the number of action dimensions.
        log_std_init: the initial ``log sigma`` of every dimension (0: sigma = 1 action unit).

    ``forward(obs)`` returns the mean ``(B, d)``: the greedy (noise-free) action.
    ``log_std`` is a parameter of shape ``(d,)``, trained with the network.
    """

    def __init__(self, mean_net: nn.Module, action_dim: int, log_std_init: float = 0.0):
        super().__init__()
        self.mean_net = mean_net
        self.log_std = nn.Parameter(torch.full((action_dim,), float(log_std_init)))

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        return self.mean_net(obs)


def policy_distribution(policy_net: nn.Module, obs: torch.Tensor) -> Distribution:
    """The action distribution of ``policy_net`` at a batch of observations ``obs`` ``(B, D)``.

    - a :class:`GaussianPolicy`: independent normals per dimension, ``log_prob(actions (B, d))`` and
      ``entropy()`` summed over the ``d`` dimensions, both ``(B,)``;
    - any other network: its output is the logits ``(B, A)`` of a categorical distribution,
      ``log_prob(actions (B,) int64)`` and ``entropy()`` both ``(B,)``.

    Arguments are not validated (``validate_args=False``): validation costs more than the rest of a
    small network's forward pass, and a rollout builds one distribution per environment step.
    """
    if isinstance(policy_net, GaussianPolicy):
        mean = policy_net(obs)
        std = policy_net.log_std.exp().expand_as(mean)
        return Independent(Normal(mean, std, validate_args=False), 1, validate_args=False)
    return Categorical(logits=policy_net(obs), validate_args=False)


def greedy_action(policy_net: nn.Module, obs: torch.Tensor) -> torch.Tensor:
    """The most likely action at ``obs`` ``(B, D)``: the mean ``(B, d)`` of a Gaussian policy, the
    arg-max ``(B,)`` of a categorical one's logits (evaluation uses it: no exploration noise)."""
    if isinstance(policy_net, GaussianPolicy):
        return policy_net(obs)
    return policy_net(obs).argmax(dim=-1)


class ObservationNormalizer(nn.Module):
    """Running mean and variance of the observations seen so far; calling it standardises with them.

    Used *outside* the networks: a rollout updates the statistics with each new batch of raw
    observations ``(B, D)`` (:meth:`update`), then feeds ``normalizer(obs)`` to the networks and
    stores the normalised observations, so the log-probabilities stored at collection time and those
    recomputed in the update see the same inputs. Evaluation uses the statistics as they are.
    Outputs are clipped to ``[-clip, clip]``; the statistics are buffers (saved in ``state_dict``).
    """

    def __init__(self, obs_dim: int, clip: float = 10.0, eps: float = 1e-8):
        super().__init__()
        self.register_buffer("mean", torch.zeros(obs_dim))
        self.register_buffer("var", torch.ones(obs_dim))
        self.register_buffer("count", torch.tensor(eps))
        self.clip, self.eps = clip, eps

    @torch.no_grad()
    def update(self, obs: torch.Tensor) -> None:
        """Merge the mean and variance of ``obs`` ``(B, D)`` into the running ones (the parallel-variance formula)."""
        batch_mean, batch_var, n = obs.mean(0), obs.var(0, unbiased=False), obs.shape[0]
        delta, total = batch_mean - self.mean, self.count + n
        self.mean += delta * n / total
        self.var = (self.var * self.count + batch_var * n + delta.pow(2) * self.count * n / total) / total
        self.count = total

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        return ((obs - self.mean) / torch.sqrt(self.var + self.eps)).clamp(-self.clip, self.clip)
