"""Plots: learning curves over several seeds (from arrays or from run folders), a reference band,
value heatmaps with greedy-policy arrows.

    from course_lib.envs import SOLVED_RETURN                # the "solved" returns: CartPole-v1 475, ...

    plot_learning_curves({"DQN": returns}, x=steps, threshold=SOLVED_RETURN["CartPole-v1"], y_range=(0, 500))   # arrays
    plot_runs(["runs/03a_dqn"], metric="eval_return", threshold=SOLVED_RETURN["CartPole-v1"], y_range=(0, 500),
              reference=read_reference_curve("reference_curves/03a_dqn.csv"))       # run folders
"""
from __future__ import annotations

from pathlib import Path
from typing import Mapping, Sequence

import warnings

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


def draw_threshold(ax, threshold: float | None, label: str | None = None) -> None:
    """A dashed horizontal line at the task's "solved" level, with its legend entry."""
    if threshold is not None:
        ax.axhline(threshold, color="grey", linestyle="--", linewidth=1,
                   label=label or f"threshold {threshold:g}")


def clip_band(low: np.ndarray, high: np.ndarray, y_range: tuple[float, float] | None):
    """``(low, high)`` clipped to the achievable ``y_range = (min, max)`` (None: unchanged).

    A mean +- std band of CartPole returns would otherwise reach above 500, a return no episode
    can have."""
    if y_range is None:
        return low, high
    return np.clip(low, *y_range), np.clip(high, *y_range)


def plot_learning_curves(curves: Mapping[str, np.ndarray], x: np.ndarray | None = None,
                         window: int = 1, ax=None, xlabel: str = "episode", ylabel: str = "return",
                         threshold: float | None = None, title: str | None = None,
                         y_range: tuple[float, float] | None = None):
    """Mean and spread of learning curves, one band per label.

    Args:
        curves: ``{label: array (n_seeds, T)}`` (a 1-D ``(T,)`` array counts as one seed). NaN
            entries (a seed with no value there) are left out of the mean and spread.
        x: ``(T,)`` x values (episodes, environment steps); default ``0..T-1``.
        window: moving-average window applied to each seed before averaging.
        threshold: draws a dashed horizontal line (the task's "solved" level), with a legend entry.
        y_range: ``(min, max)`` the values can take (CartPole returns: ``(0, 500)``); bands are
            clipped to it.

    The line is the mean over seeds and the band the mean +- one standard deviation; the legend
    says how many seeds each label has. Returns the matplotlib ``Axes``.
    """
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 4))
    for label, ys in curves.items():
        ys = np.atleast_2d(np.asarray(ys, dtype=float))
        ys = smooth(ys, window)
        xs = np.arange(ys.shape[1]) if x is None else np.asarray(x)
        with np.errstate(invalid="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN columns: nothing to average
            mean, std = np.nanmean(ys, axis=0), np.nanstd(ys, axis=0)
        (line,) = ax.plot(xs, mean, label=f"{label} ({ys.shape[0]} seed{'s' if ys.shape[0] > 1 else ''})")
        if ys.shape[0] > 1:
            low, high = clip_band(mean - std, mean + std, y_range)
            ax.fill_between(xs, low, high, color=line.get_color(), alpha=0.2)
    draw_threshold(ax, threshold)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    ax.legend(loc="best", fontsize="small")
    ax.grid(alpha=0.3)
    return ax


def align_curves(curves: Sequence[tuple[np.ndarray, np.ndarray]], points: int = 200,
                 hold_last: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Put curves logged at different x values (each seed evaluates at its own steps) on one grid.

    Args:
        curves: ``[(x (N_i,), values (N_i,)), ...]``, one per seed, x increasing.
        points: length of the common grid, from the smallest first x to the largest last x.
        hold_last: after a seed's last point, keep its last value (a run that stopped because it
            was solved stays solved); False: NaN there.
    Returns:
        ``(grid (T,), values (n_seeds, T))``, linear interpolation between logged points and NaN
        before a seed's first point.
    """
    curves = [(np.asarray(x, dtype=float), np.asarray(y, dtype=float)) for x, y in curves if len(x)]
    if not curves:
        return np.zeros(0), np.zeros((0, 0))
    lo, hi = min(x[0] for x, _ in curves), max(x[-1] for x, _ in curves)
    grid = np.linspace(lo, hi, points) if hi > lo else np.array([lo])
    rows = []
    for x, y in curves:
        right = y[-1] if hold_last else np.nan
        rows.append(np.interp(grid, x, y, left=np.nan, right=right))
    return grid, np.stack(rows)


def plot_reference(reference, ax, y_range: tuple[float, float] | None = None, color: str = "0.55") -> None:
    """Draw a reference curve (:class:`course_lib.reference_curves.ReferenceCurve`): its mean as a
    dotted line and the range of its seeds as a grey band, both in the legend."""
    low, high = clip_band(reference.low, reference.high, y_range)
    ax.fill_between(reference.x, low, high, color=color, alpha=0.25, linewidth=0,
                    label=f"reference: range of {reference.n_seeds} seeds")
    ax.plot(reference.x, reference.mean, ":", color=color, linewidth=2, label=f"reference: mean ({reference.name})")


def plot_runs(runs, metric: str = "eval_return", x: str = "step", window: int = 1,
              threshold: float | None = None, y_range: tuple[float, float] | None = None,
              reference=None, ax=None, title: str | None = None, hold_last: bool = True,
              points: int = 200):
    """Mean and spread over seeds of one metric, read from run folders; one band per variant.

    Args:
        runs: run folders or the folders above them (``"runs/03a_dqn"``), or
            :class:`course_lib.runs.Run` objects. Runs are grouped by ``experiment/variant``.
        metric: the logged metric to plot (``"eval_return"``, ``"episode_return"``, ``"loss"``...).
        x: ``"step"`` (environment steps) or ``"seconds"`` (training seconds).
        window: moving average over this many logged points of each seed, before averaging.
        threshold: the "solved" line (default for returns: the runs' ``threshold`` from their
            config, if they agree). y_range: the achievable range; bands are clipped to it.
        reference: a ReferenceCurve drawn below the runs as a grey band (``your agent vs the reference``).
        hold_last: a seed that stopped early keeps its last value (see :func:`align_curves`).
    Returns the matplotlib ``Axes``.
    """
    from .runs import Run, find_runs, group_by_variant

    if isinstance(runs, (str, Path, Run)):
        runs = [runs]
    loaded = [r for r in runs if isinstance(r, Run)]
    paths = [r for r in runs if not isinstance(r, Run)]
    loaded += find_runs(*paths) if paths else []
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 4))
    if reference is not None:
        plot_reference(reference, ax, y_range)
    groups = group_by_variant(loaded)
    for label, group in groups.items():
        curves = [(cx, smooth(cy, window)) for cx, cy in (r.curve(metric, x) for r in group)]
        grid, values = align_curves(curves, points, hold_last)
        if values.size == 0:
            continue
        label = label.split("/", 1)[1] if len({k.split("/")[0] for k in groups}) == 1 else label
        plot_learning_curves({label: values}, x=grid, ax=ax, y_range=y_range)
    if threshold is None and metric.endswith("return"):
        found = {r.config.get("threshold") for r in loaded}
        threshold = found.pop() if len(found) == 1 else None
    draw_threshold(ax, threshold)
    ax.set_xlabel("environment steps" if x == "step" else "training seconds")
    ax.set_ylabel(metric.replace("_", " "))
    if title:
        ax.set_title(title)
    ax.legend(loc="best", fontsize="small")
    ax.grid(alpha=0.3)
    return ax


def save_figure(fig_or_ax, path: str | Path, dpi: int = 110) -> Path:
    """Save a figure (or the figure of an Axes) as a PNG, creating the folder; returns the path."""
    fig = getattr(fig_or_ax, "figure", fig_or_ax)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=dpi, bbox_inches="tight")
    return path


def plot_values(values: np.ndarray, shape: tuple[int, int], policy: np.ndarray | None = None,
                desc: Sequence[str] | np.ndarray | None = None, ax=None, title: str | None = None,
                cmap: str = "viridis", annotate: bool = True):
    """A grid's state values as a heatmap, with the greedy action of each state as an arrow.

    Args:
        values: ``(S,)`` state values, ``S = rows * cols``, state index ``row * cols + col``.
        shape: ``(rows, cols)``.
        policy: ``(S,)`` greedy actions (0 left, 1 down, 2 right, 3 up) or ``(S, A)`` Q-values or
            action probabilities (their argmax is drawn). Optional.
        desc: the map (list of strings, letters as in :func:`course_lib.paths.draw_map`: ``H`` hole,
            ``C`` cliff, ``G`` goal, ``#`` wall); its letters are printed in the corners and no arrow is
            drawn on holes, cliffs, walls and goals.
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
            if letters is not None and letters[r, c] in "HCG#":
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
