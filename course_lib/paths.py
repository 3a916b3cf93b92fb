"""Paths on grid maps: draw a map and the cells an agent walked through.

    ax = draw_map(["SFFF", "FHFH", "FFFH", "HFFG"])
    plot_path([0, 4, 8, 9, 13, 14, 15], (4, 4), ax=ax, label="greedy path")

States are indices ``row * cols + col`` (FrozenLake, CliffWalking, the course's GridWorld).
"""
from __future__ import annotations

from typing import Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import to_rgb

#: cell colours by map letter; any other letter is plain floor
CELL_COLORS = {"S": "#c8dcff", "G": "#5ac85a", "H": "#28285a", "C": "#8c2d2d", "#": "#505050"}
FLOOR = "#ebebeb"


def draw_map(desc: Sequence[str], ax=None, title: str | None = None, letters: bool = True):
    """Draw a grid map: one coloured square per cell, its letter in the corner.

    Args:
        desc: the map as equal-length strings, e.g. ``["SFFF", "FHFH", ...]``. Letters: ``S`` start,
            ``G`` goal, ``H`` hole, ``C`` cliff, ``#`` wall; anything else is floor.
        letters: print each cell's letter (except floor) in its top-left corner.
    Returns the matplotlib ``Axes`` (x = column, y = row, row 0 at the top).
    """
    grid = np.array([list(str(r)) for r in desc])
    rows, cols = grid.shape
    if ax is None:
        _, ax = plt.subplots(figsize=(0.6 * cols + 1, 0.6 * rows + 0.6))
    image = np.array([[to_rgb(CELL_COLORS.get(ch, FLOOR)) for ch in row] for row in grid])
    ax.imshow(image, extent=(-0.5, cols - 0.5, rows - 0.5, -0.5))
    for r in range(rows + 1):
        ax.axhline(r - 0.5, color="white", linewidth=1)
    for c in range(cols + 1):
        ax.axvline(c - 0.5, color="white", linewidth=1)
    if letters:
        for r in range(rows):
            for c in range(cols):
                if grid[r, c] in CELL_COLORS:
                    dark = grid[r, c] in "HC#"
                    ax.text(c - 0.4, r - 0.28, grid[r, c], fontsize=8, fontweight="bold",
                            color="white" if dark else "black")
    ax.set_xticks(range(cols))
    ax.set_yticks(range(rows))
    ax.set_xlim(-0.5, cols - 0.5)
    ax.set_ylim(rows - 0.5, -0.5)
    if title:
        ax.set_title(title)
    return ax


def plot_path(path_states: Sequence[int], shape: tuple[int, int], desc: Sequence[str] | None = None,
              ax=None, color: str = "tab:orange", label: str | None = None, offset: float = 0.0,
              title: str | None = None, linewidth: float = 2.5):
    """Draw the cells visited by an agent as a line through their centres, start dot, end arrow.

    Args:
        path_states: the visited states in order (``row * cols + col``), start included.
        shape: ``(rows, cols)`` of the grid.
        desc: the map; when given and ``ax`` is None, the map is drawn first with :func:`draw_map`.
        ax: draw on these axes (e.g. a second path on the same map).
        offset: shifts the line by this fraction of a cell (down and right), so that two paths along
            the same cells stay visible.
        label: legend entry; a legend is drawn when any path on the axes has a label.
    Returns the matplotlib ``Axes``.
    """
    rows, cols = shape
    states = np.asarray(list(path_states), dtype=int)
    if states.ndim != 1 or len(states) == 0:
        raise ValueError("path_states must be a non-empty sequence of state indices")
    if states.min() < 0 or states.max() >= rows * cols:
        raise ValueError(f"states must lie in 0..{rows * cols - 1} for a {rows}x{cols} grid")
    if ax is None:
        if desc is not None:
            ax = draw_map(desc)
        else:
            _, ax = plt.subplots(figsize=(0.6 * cols + 1, 0.6 * rows + 0.6))
            ax.set_xlim(-0.5, cols - 0.5)
            ax.set_ylim(rows - 0.5, -0.5)
            ax.set_aspect("equal")
            ax.grid(True, alpha=0.3)
    r, c = np.divmod(states, cols)
    x, y = c + offset, r + offset
    ax.plot(x, y, "-", color=color, linewidth=linewidth, label=label, solid_capstyle="round")
    ax.plot(x[:1], y[:1], "o", color=color, markersize=7)
    if len(states) > 1 and (x[-1] != x[-2] or y[-1] != y[-2]):
        ax.annotate("", xy=(x[-1], y[-1]), xytext=(x[-2], y[-2]),
                    arrowprops=dict(arrowstyle="-|>", color=color, lw=linewidth))
    if label is not None:
        ax.legend(loc="best", fontsize="small")
    if title:
        ax.set_title(title)
    return ax
