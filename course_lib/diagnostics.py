"""The diagnostics panel: the plots a practitioner watches during training, on one figure.

    fig = plot_diagnostics("runs/05a_a2c/a2c/seed0", threshold=SOLVED_RETURN["CartPole-v1"], y_range=(0, 500))  # from disk
    fig = log.panel()                                    # live, from a TrainingLogger (same figure)

Panels, each drawn when the run logged something for it (by metric name):

- **return**: training episodes' returns (faint dots and their moving average), greedy
  evaluations (line with markers), the threshold, the reference band if given;
- **losses**: every metric whose name contains ``loss``;
- **entropy** (nats), **KL** (``kl``, ``approx_kl``), **gradient norm** (``grad_norm``, before clipping),
  **Q-values** (``q_mean``...), **probability ratio** (``ratio_max``, ``ratio_min``: of the batch's actions,
  the policy after the update over the one that collected the batch);
- any other metric (``epsilon``, ``lr``...) in a panel of its own, except clocks (names ending in
  ``_seconds``, such as A3C's ``run_seconds``: when an evaluation happened, not a diagnostic).

What to look for: a return that rises then collapses (learning rate, target network), a loss that
explodes (no clipping, a bug in the target), entropy that falls to zero early (premature
convergence), a KL that jumps (steps too large), gradient norms always at the clipping value.
"""
from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from .plots import draw_threshold, plot_reference, smooth

RETURN_METRICS = ("episode_return", "eval_return", "kept_return")
#: (panel title, y label, does a metric name belong here?, smooth it?)
PANELS = (
    ("losses", "loss", lambda n: "loss" in n, True),
    ("entropy", "nats", lambda n: "entropy" in n, True),
    ("KL divergence", "KL (nats)", lambda n: n in ("kl", "approx_kl") or n.endswith("_kl"), True),
    ("gradient norm", "global L2 norm", lambda n: "grad_norm" in n, True),
    ("Q-values", "Q", lambda n: n.startswith("q_") or n in ("q", "q_value"), False),
    ("probability ratio", "pi_new / pi_old", lambda n: n.startswith("ratio_"), False),
)
MAX_PANELS = 6


def _panels_for(names: list[str]) -> list[tuple[str, str, list[str], bool]]:
    """``[(title, y label, [metric names], smooth?)]`` of the panels to draw, the return panel first."""
    panels = [("return", "return", [n for n in RETURN_METRICS if n in names], False)]
    left = [n for n in names if n not in RETURN_METRICS and not n.endswith("_seconds")]
    for title, ylabel, belongs, noisy in PANELS:
        members = [n for n in left if belongs(n)]
        if members:
            panels.append((title, ylabel, members, noisy))
            left = [n for n in left if n not in members]
    panels += [(n.replace("_", " "), n, [n], False) for n in left]  # epsilon, learning rate...: as logged
    return panels[:MAX_PANELS]


def plot_diagnostics(source, threshold: float | None = None, title: str | None = None,
                     y_range: tuple[float, float] | None = None, reference=None, x: str = "step",
                     window: int = 20):
    """One figure with the diagnostics panels of a run.

    Args:
        source: a run folder (path), a :class:`course_lib.runs.Run`, or a live
            :class:`course_lib.logger.TrainingLogger` (anything with ``metric_names`` and
            ``curve(name, x)``).
        threshold: the "solved" return, drawn on the return panel (from the run's config if None).
        y_range: the achievable return range (CartPole ``(0, 500)``) for the return panel's limits.
        reference: a :class:`course_lib.reference_curves.ReferenceCurve` drawn as a grey band.
        x: ``"step"`` or ``"seconds"`` (training seconds) on every x-axis.
        window: moving average of training-episode returns and of noisy metrics (in logged points).
    Returns the matplotlib ``Figure``.
    """
    if isinstance(source, (str, Path)):
        from .runs import read_run

        source = read_run(source)
    config = getattr(source, "config", {}) or {}
    if threshold is None:
        threshold = config.get("threshold")
    names = list(getattr(source, "metric_names", None) or getattr(source, "metrics", {}).keys())
    panels = _panels_for(names)
    cols = {1: 1, 2: 2, 4: 2}.get(len(panels), 3)
    rows = int(np.ceil(len(panels) / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(4.6 * cols, 3.1 * rows), squeeze=False)
    for ax, (panel_title, ylabel, members, noisy) in zip(axes.flat, panels):
        if panel_title == "return":
            _draw_returns(ax, source, members, threshold, y_range, reference, x, window)
        else:
            for name in members:
                xs, ys = source.curve(name, x)
                if noisy and len(ys) > 3 * window:  # the raw values faint, their trailing mean on top
                    (raw,) = ax.plot(xs, ys, linewidth=0.6, alpha=0.35)
                    ax.plot(xs, smooth(ys, window), color=raw.get_color(), label=f"{name} (mean of last {window})")
                else:
                    ax.plot(xs, ys, "-" if len(ys) > 50 else ".-", label=name)
            ax.legend(fontsize="x-small", loc="best")
        ax.set_title(panel_title, fontsize="medium")
        ax.set_ylabel(ylabel)
        ax.set_xlabel("environment steps" if x == "step" else "training seconds")
        ax.grid(alpha=0.3)
    for ax in list(axes.flat)[len(panels):]:
        ax.axis("off")
    desc = title or config.get("desc") or str(getattr(source, "path", ""))
    fig.suptitle(desc, fontsize="large")
    fig.tight_layout()
    return fig


def _draw_returns(ax, source, members, threshold, y_range, reference, x, window) -> None:
    if reference is not None:
        plot_reference(reference, ax, y_range)
    if "episode_return" in members:
        xs, ys = source.curve("episode_return", x)
        ax.plot(xs, ys, ".", color="tab:blue", alpha=0.25, markersize=3)
        ax.plot(xs, smooth(ys, window), color="tab:blue", label=f"training episodes (mean of last {window})")
    if "eval_return" in members:
        xs, ys = source.curve("eval_return", x)
        ax.plot(xs, ys, "o-", color="tab:orange", markersize=3, label="greedy evaluation")
    if "kept_return" in members:     # the best checkpoint so far, played from the same start states
        xs, ys = source.curve("kept_return", x)
        ax.plot(xs, ys, "s--", color="tab:green", markersize=3, linewidth=1, label="kept network (best so far)")
    draw_threshold(ax, threshold, f"solved ({threshold:g})" if threshold is not None else None)
    if y_range is not None:
        pad = 0.04 * (y_range[1] - y_range[0])
        ax.set_ylim(y_range[0] - pad, y_range[1] + pad)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize="x-small", loc="best")

