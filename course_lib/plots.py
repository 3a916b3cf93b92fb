"""Plots: learning curves over several seeds, value heatmaps with greedy-policy arrows."""
from __future__ import annotations

from typing import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np

# Arrow directions (dx, dy) in image coordinates (y grows downwards), FrozenLake's action order.
_ARROWS = {0: (-1, 0), 1: (0, 1), 2: (1, 0), 3: (0, -1)}


def smooth(values: np.ndarray, window: int) -> np.ndarray:
    """Trailing moving average along the last axis; the first points average what exists so far.

    ``values`` has shape ``(..., T)``; the result has the same shape.
    """
    values = np.asarray(values, dtype=float)
    if window <= 1:
        return values
    csum = np.cumsum(values, axis=-1)
    out = np.empty_like(values)
    out[..., :window] = csum[..., :window] / np.arange(1, min(window, values.shape[-1]) + 1)
    out[..., window:] = (csum[..., window:] - csum[..., :-window]) / window
    return out


def plot_learning_curves(curves: Mapping[str, np.ndarray], x: np.ndarray | None = None,
                         window: int = 1, ax=None, xlabel: str = "episode", ylabel: str = "return",
                         threshold: float | None = None, title: str | None = None):
    """Mean and spread of learning curves, one band per label.

    Args:
        curves: ``{label: array (n_seeds, T)}`` (a 1-D ``(T,)`` array counts as one seed).
        x: ``(T,)`` x values (episodes, environment steps); default ``0..T-1``.
        window: moving-average window applied to each seed before averaging.
        threshold: draws a dashed horizontal line (the task's "solved" level).

    The line is the mean over seeds and the band the mean +- one standard deviation; the legend
    says how many seeds each label has. Returns the matplotlib ``Axes``.
    """
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 4))
    for label, ys in curves.items():
        ys = np.atleast_2d(np.asarray(ys, dtype=float))
        ys = smooth(ys, window)
        xs = np.arange(ys.shape[1]) if x is None else np.asarray(x)
        mean, std = ys.mean(axis=0), ys.std(axis=0)
        (line,) = ax.plot(xs, mean, label=f"{label} ({ys.shape[0]} seed{'s' if ys.shape[0] > 1 else ''})")
        if ys.shape[0] > 1:
            ax.fill_between(xs, mean - std, mean + std, color=line.get_color(), alpha=0.2)
    if threshold is not None:
        ax.axhline(threshold, color="grey", linestyle="--", linewidth=1, label=f"threshold {threshold:g}")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    ax.legend(loc="best", fontsize="small")
    ax.grid(alpha=0.3)
    return ax


def plot_values(values: np.ndarray, shape: tuple[int, int], policy: np.ndarray | None = None,
                desc: Sequence[str] | np.ndarray | None = None, ax=None, title: str | None = None,
                cmap: str = "viridis", annotate: bool = True):
    """A grid's state values as a heatmap, with the greedy action of each state as an arrow.

    Args:
        values: ``(S,)`` state values, ``S = rows * cols``, state index ``row * cols + col``.
        shape: ``(rows, cols)``.
        policy: ``(S,)`` greedy actions (0 left, 1 down, 2 right, 3 up) or ``(S, A)`` Q-values or
            action probabilities (their argmax is drawn). Optional.
        desc: the map (list of strings); its letters are printed in the corners and no arrow is drawn
            on holes, walls and goals.
    Returns the matplotlib ``Axes``.
    """
    values = np.asarray(values, dtype=float)
    rows, cols = shape
    if values.shape != (rows * cols,):
        raise ValueError(f"values should have shape ({rows * cols},) for a {rows}x{cols} grid, "
                         f"got {values.shape}")
    if ax is None:
        _, ax = plt.subplots(figsize=(1.1 * cols + 1.5, 1.1 * rows))
    grid = values.reshape(rows, cols)
    im = ax.imshow(grid, cmap=cmap)
    ax.figure.colorbar(im, ax=ax, fraction=0.046, pad=0.04, label="value")
    letters = None if desc is None else np.array([list(str(r)) for r in desc])
    if policy is not None:
        policy = np.asarray(policy)
        actions = policy.argmax(axis=1) if policy.ndim == 2 else policy.astype(int)
        for s, a in enumerate(actions):
            r, c = divmod(s, cols)
            if letters is not None and letters[r, c] in "HG#":
                continue
            dx, dy = _ARROWS[int(a)]
            ax.arrow(c - 0.25 * dx, r - 0.25 * dy, 0.3 * dx, 0.3 * dy, head_width=0.15,
                     head_length=0.12, color="white", length_includes_head=True)
    for r in range(rows):
        for c in range(cols):
            if annotate:
                ax.text(c, r + 0.33, f"{grid[r, c]:.2f}", ha="center", va="center", fontsize=7,
                        color="white")
            if letters is not None and letters[r, c] != ".":
                ax.text(c - 0.38, r - 0.3, letters[r, c], ha="left", va="center", fontsize=9,
                        color="orange", fontweight="bold")
    ax.set_xticks(range(cols))
    ax.set_yticks(range(rows))
    if title:
        ax.set_title(title)
    return ax
