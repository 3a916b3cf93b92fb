"""The networks of chapter 5's actor-critics: :class:`ActorCritic` (A2C, A3C) and :class:`QNetwork`
(the asynchronous Q-learning methods of notebook 5b).

Both take a batch of observations ``(B, obs_dim)`` (float32) and have a ``clone()`` that makes a private
copy: an A3C worker computes its gradients on a local copy and applies them to the shared model (put in
shared memory with ``model.share_memory()``, see :mod:`course_lib.shared_optim` and
:mod:`course_lib.workers`).

Initialisation: :class:`ActorCritic` takes its orthogonal weights from OpenAI Baselines and
Stable-Baselines3, not from the A3C paper (gains in its docstring); :class:`QNetwork` keeps PyTorch's
default initialisation.
"""
from __future__ import annotations

import math

import torch
from torch import nn

__all__ = ["ActorCritic", "QNetwork"]


def _layer(n_in: int, n_out: int, gain: float) -> nn.Linear:
    layer = nn.Linear(n_in, n_out)
    nn.init.orthogonal_(layer.weight, gain)
    nn.init.zeros_(layer.bias)
    return layer


def _mlp(n_in: int, hidden: tuple[int, ...], gain: float = math.sqrt(2)) -> tuple[nn.Sequential, int]:
    layers: list[nn.Module] = []
    for h in hidden:
        layers += [_layer(n_in, h, gain), nn.Tanh()]
        n_in = h
    return nn.Sequential(*layers), n_in


class ActorCritic(nn.Module):
    """An actor (policy logits) and a critic (state value) for discrete actions.

    Args:
        obs_dim: size of the observation vector.
        n_actions: number of discrete actions.
        hidden: sizes of the hidden layers (tanh).
        shared: one trunk for both heads (``True``) or two separate networks (``False``, the
            default: the critic's large gradients then cannot disturb the actor's features).

    ``forward(obs)`` takes a float tensor ``(B, obs_dim)`` and returns ``(logits (B, n_actions),
    values (B,))``. Initialisation as in OpenAI Baselines and Stable-Baselines3 (not from the A3C
    paper): orthogonal weights, gain sqrt(2) for hidden layers, 0.01 for the policy head (a nearly
    uniform first policy), 1 for the value head.
    """

    def __init__(self, obs_dim: int, n_actions: int, hidden: tuple[int, ...] = (64, 64), shared: bool = False):
        super().__init__()
        self.obs_dim, self.n_actions, self.hidden, self.shared = obs_dim, n_actions, tuple(hidden), shared
        self.actor_body, width = _mlp(obs_dim, self.hidden)
        self.critic_body = self.actor_body if shared else _mlp(obs_dim, self.hidden)[0]
        self.policy_head = _layer(width, n_actions, 0.01)
        self.value_head = _layer(width, 1, 1.0)

    def forward(self, obs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        features = self.actor_body(obs)
        critic_features = features if self.shared else self.critic_body(obs)
        return self.policy_head(features), self.value_head(critic_features).squeeze(-1)

    def logits(self, obs: torch.Tensor) -> torch.Tensor:
        """The policy's logits only ``(B, n_actions)`` (acting needs no value)."""
        return self.policy_head(self.actor_body(obs))

    def value(self, obs: torch.Tensor) -> torch.Tensor:
        """The critic's values only ``(B,)``."""
        return self.value_head(self.critic_body(obs)).squeeze(-1)

    def act(self, obs, greedy: bool = False) -> int:
        """One action for one observation (a numpy array): sampled, or the most likely if ``greedy``."""
        with torch.no_grad():
            x = torch.as_tensor(obs, dtype=torch.float32, device=self.policy_head.weight.device)
            logits = self.logits(x.unsqueeze(0))[0]
            if greedy:
                return int(logits.argmax())
            return int(torch.multinomial(torch.softmax(logits, -1), 1))

    def clone(self) -> "ActorCritic":
        """A private copy (same architecture and weights, ordinary memory): a worker's local model."""
        twin = ActorCritic(self.obs_dim, self.n_actions, self.hidden, self.shared)
        twin.load_state_dict(self.state_dict())
        return twin


class QNetwork(nn.Module):
    """Q-values ``(B, n_actions)`` of observations ``(B, obs_dim)``: an MLP with ReLU hidden layers."""

    def __init__(self, obs_dim: int, n_actions: int, hidden: tuple[int, ...] = (64, 64)):
        super().__init__()
        self.obs_dim, self.n_actions, self.hidden = obs_dim, n_actions, tuple(hidden)
        layers: list[nn.Module] = []
        n_in = obs_dim
        for h in self.hidden:
            layers += [nn.Linear(n_in, h), nn.ReLU()]
            n_in = h
        layers.append(nn.Linear(n_in, n_actions))
        self.net = nn.Sequential(*layers)

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        return self.net(obs)

    def act(self, obs, epsilon: float = 0.0, rng=None) -> int:
        """Epsilon-greedy action for one observation (``rng``: a numpy Generator, for the coin)."""
        if epsilon > 0 and rng is not None and rng.random() < epsilon:
            return int(rng.integers(self.n_actions))
        with torch.no_grad():
            x = torch.as_tensor(obs, dtype=torch.float32, device=self.net[0].weight.device)
            return int(self.forward(x.unsqueeze(0))[0].argmax())

    def clone(self) -> "QNetwork":
        """A private copy (same architecture and weights, ordinary memory)."""
        twin = QNetwork(self.obs_dim, self.n_actions, self.hidden)
        twin.load_state_dict(self.state_dict())
        return twin
