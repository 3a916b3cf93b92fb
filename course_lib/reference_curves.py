"""Reference curves: how the instructor's solution learns, over several seeds, as a small CSV file.

Each chapter folder that has them holds ``reference_curves/<name>.csv`` (released with the
notebooks; data, no code). Draw yours over it to see whether your agent learns as it should::

    reference = read_reference_curve("reference_curves/03a_dqn.csv")
    plot_runs(["runs/03a_dqn"], threshold=SOLVED_RETURN["CartPole-v1"], y_range=(0, 500), reference=reference)

File format: ``#``-comment lines ``# key: value`` (name, metric, x, seeds, source...), then a CSV
table with columns ``x, mean, low, high``: on a common grid of ``x`` (environment steps, or
training seconds), the mean over seeds and the lowest and highest seed. A seed that stopped early
(it was solved) keeps its last value to the end of the grid.

Instructors build them with ``python -m autograder.reference_curves`` (which runs the solution
notebooks in full mode and calls :func:`build_reference_curve`).
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np


@dataclass
class ReferenceCurve:
    """One reference curve. ``x``, ``mean``, ``low``, ``high`` are ``(T,)`` arrays.

    Attributes:
        name: what it shows, e.g. ``"03a DQN, solution"``.
        metric: the logged metric (``"eval_return"``).
        x_name: ``"step"`` (environment steps) or ``"seconds"`` (training seconds).
        n_seeds: how many runs the band summarises.
        info: the other header lines (source notebook, date...).
    """

    name: str
    metric: str
    x_name: str
    x: np.ndarray
    mean: np.ndarray
    low: np.ndarray
    high: np.ndarray
    n_seeds: int
    info: dict = field(default_factory=dict)


def build_reference_curve(runs: Sequence, name: str, metric: str = "eval_return", x: str = "step",
                          points: int = 100, info: dict | None = None) -> ReferenceCurve:
    """Summarise runs (:class:`course_lib.runs.Run`, one per seed) as a reference curve on a
    ``points``-long grid; seeds that stopped early hold their last value."""
    from .plots import align_curves

    curves = [r.curve(metric, x) for r in runs]
    curves = [c for c in curves if len(c[0])]
    if not curves:
        raise ValueError(f"no run logged {metric!r}: nothing to build a reference from")
    grid, values = align_curves(curves, points=points, hold_last=True)
    keep = ~np.isnan(values).any(axis=0)  # from the point where every seed has a value
    values, grid = values[:, keep], grid[keep]
    return ReferenceCurve(name, metric, x, grid, values.mean(axis=0), values.min(axis=0), values.max(axis=0),
                          len(curves), dict(info or {}))


def save_reference_curve(curve: ReferenceCurve, path: str | Path) -> Path:
    """Write a reference curve as a small CSV file (header comments, then ``x, mean, low, high``)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    header = {"name": curve.name, "metric": curve.metric, "x": curve.x_name, "seeds": curve.n_seeds, **curve.info}
    out = io.StringIO()
    for key, value in header.items():
        out.write(f"# {key}: {value}\n")
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(("x", "mean", "low", "high"))
    for row in zip(curve.x, curve.mean, curve.low, curve.high):
        writer.writerow([f"{v:.6g}" for v in row])
    path.write_text(out.getvalue())
    return path


def read_reference_curve(path: str | Path, missing_ok: bool = False) -> ReferenceCurve | None:
    """Read a reference curve file written by :func:`save_reference_curve`.

    ``missing_ok=True``: return None when the file does not exist (no band is drawn then).
    """
    path = Path(path)
    if missing_ok and not path.exists():
        return None
    header, rows = {}, []
    lines = path.read_text().splitlines()
    for line in lines:
        if line.startswith("#"):
            key, _, value = line[1:].partition(":")
            header[key.strip()] = value.strip()
    table = list(csv.reader(ln for ln in lines if ln and not ln.startswith("#")))
    columns = table[0]
    rows = np.array([[float(v) for v in row] for row in table[1:]]).reshape(-1, len(columns))
    data = {c: rows[:, i] for i, c in enumerate(columns)}
    name, metric, x_name = header.pop("name", path.stem), header.pop("metric", "eval_return"), header.pop("x", "step")
    n_seeds = int(header.pop("seeds", 0))
    return ReferenceCurve(name, metric, x_name, data["x"], data["mean"], data["low"], data["high"], n_seeds, header)
