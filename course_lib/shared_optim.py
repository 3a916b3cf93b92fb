"""Optimizers whose statistics live in shared memory, for lock-free (Hogwild!) updates by worker processes.

    model = ActorCritic(4, 2)
    model.share_memory()                                  # parameters in shared memory: every worker sees them
    optimizer = SharedAdam(model.parameters(), lr=1e-3)   # Adam's moments shared too

**Hogwild!** (Niu et al., 2011): workers update the shared parameters without locks. Niu et al.'s
convergence guarantee assumes sparse updates that rarely collide; a network's gradients are dense,
so for A3C lock-free updates are justified by experiment (Mnih et al., 2016), not by that proof.
"""
from __future__ import annotations

import torch

__all__ = ["SharedAdam", "SharedRMSprop"]


def _share_state(optimizer: torch.optim.Optimizer, names: tuple[str, ...]) -> None:
    for group in optimizer.param_groups:
        for p in group["params"]:
            state = optimizer.state[p]
            state["step"] = torch.zeros((), dtype=torch.float32)
            for name in names:
                state[name] = torch.zeros_like(p, memory_format=torch.preserve_format)
    for state in optimizer.state.values():
        for value in state.values():
            if torch.is_tensor(value):
                value.share_memory_()


class SharedAdam(torch.optim.Adam):
    """Adam whose moment estimates (and step counts) live in shared memory.

    Plain Adam creates its statistics lazily, at the first ``step()``, inside whichever process
    calls it: each worker would keep private statistics. Here they are created at once and moved
    to shared memory, so every worker's ``step()`` reads and updates the same ones (without locks,
    Hogwild!-style). Create it in the main process, after ``model.share_memory()``, and pass it to
    the workers.
    """

    def __init__(self, params, lr: float = 1e-3, betas=(0.9, 0.999), eps: float = 1e-8, weight_decay: float = 0.0):
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, foreach=True)
        _share_state(self, ("exp_avg", "exp_avg_sq"))


class SharedRMSprop(torch.optim.RMSprop):
    """RMSprop with its running average of squared gradients in shared memory (the A3C paper's
    "shared RMSProp", which it found more robust than per-thread statistics)."""

    def __init__(self, params, lr: float = 7e-4, alpha: float = 0.99, eps: float = 1e-5, weight_decay: float = 0.0):
        super().__init__(params, lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay, foreach=True)
        _share_state(self, ("square_avg",))
