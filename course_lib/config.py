"""Fast mode, device choice and seeding.

Fast mode makes every notebook run top to bottom in about a minute (tests, CI, autograding) by
shrinking training budgets; full mode is what students run and what reaches the thresholds.
It is on when ``COURSE_FAST=1`` is set, or when nbgrader executes the notebook
(``NBGRADER_EXECUTION`` is set by ``nbgrader autograde`` and ``nbgrader validate``).
``COURSE_FAST=0`` forces full mode even under nbgrader.
"""
from __future__ import annotations

import os
import random

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # torch is imported where it is used: the tabular chapters never load it
    import torch

def fast_mode() -> bool:
    """True when notebooks should use their small training budgets (see module docstring)."""
    flag = os.environ.get("COURSE_FAST", "").strip().lower()
    if flag in {"1", "true", "yes", "on"}:
        return True
    if flag in {"0", "false", "no", "off"}:
        return False
    return bool(os.environ.get("NBGRADER_EXECUTION"))


FAST: bool = fast_mode()


def pick(fast, full):
    """Return ``fast`` in fast mode and ``full`` otherwise: ``episodes = pick(50, 2000)``."""
    return fast if fast_mode() else full


def device() -> "torch.device":
    """The torch device to train on: CUDA when present, else the CPU (every chapter fits a CPU)."""
    import torch

    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def seed_everything(seed: int) -> None:
    """Seed Python's ``random``, numpy's global generator and torch (CPU and CUDA).

    Environments are seeded separately: ``envs.make_env(env_id, seed=...)``.
    """
    import torch

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
