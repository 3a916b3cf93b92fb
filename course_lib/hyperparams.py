"""Typed hyperparameters: one frozen dataclass per training function, as CleanRL's ``Args``.

A training function of the course takes its hyperparameters as one object instead of a long list
of keyword arguments. The dataclass names every setting once, with its type, its default and its
unit in a comment; a typo is an error instead of a setting silently ignored::

    @dataclass(frozen=True)
    class A2CConfig:
        n_envs: int = 8            # environments stepped together
        lr: float = 1.5e-3         # eta, RMSprop's step size

    def train_a2c(config: A2CConfig = A2CConfig(), *, seed=0, run_dir=None, **changes):
        config = with_changes(config, **changes)   # train_a2c(lr=1e-3) still works, typos raise
        ...

    train_a2c(A2CConfig(lr=1e-3), seed=1)          # or: train_a2c(seed=1, lr=1e-3)
    as_record(A2CConfig())                          # {'n_envs': 8, 'lr': 0.0015} for config.json

Hyperparameters go in the dataclass; what only says *how* to run (seed, progress bar, live plot,
run folder) stays a keyword argument of the function. :func:`course_lib.grid.run_grid` calls
``train(seed=..., run_dir=..., **hyperparameters)``, which ``with_changes`` turns into a config.
"""
from __future__ import annotations

import dataclasses
from typing import Any, TypeVar

C = TypeVar("C")


def with_changes(config: C, **changes: Any) -> C:
    """A copy of the dataclass instance ``config`` with the fields in ``changes`` replaced.

    Raises a ``TypeError`` that lists the valid names when a change names no field (``lr_pi``
    given to a config that has ``lr``), and when ``config`` is not a dataclass instance.
    """
    if not dataclasses.is_dataclass(config) or isinstance(config, type):
        raise TypeError(f"expected a config dataclass instance, got {config!r}")
    names = [f.name for f in dataclasses.fields(config)]
    unknown = sorted(set(changes) - set(names))
    if unknown:
        raise TypeError(f"{type(config).__name__} has no setting {', '.join(map(repr, unknown))}; "
                        f"its settings are: {', '.join(names)}")
    return dataclasses.replace(config, **changes) if changes else config


def as_record(config: Any) -> dict:
    """The config as a plain dict (``dataclasses.asdict``), for ``config.json`` and tables."""
    if not dataclasses.is_dataclass(config) or isinstance(config, type):
        raise TypeError(f"expected a config dataclass instance, got {config!r}")
    return dataclasses.asdict(config)
