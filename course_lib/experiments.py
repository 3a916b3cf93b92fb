"""Experiments from the command line: plot run folders, run a grid, watch a saved agent.

    python -m course_lib.experiments plot runs/03a_dqn -o dqn.png --threshold 475 --y-range 0 500
    python -m course_lib.experiments plot runs/03a_dqn/dqn/seed0 --panel -o panel.png
    python -m course_lib.experiments run notebooks/05_actor_critic/05a_a2c.ipynb train_a2c \\
        --experiment a2c_lr --grid lr=3e-4,1.5e-3 n_steps=5,10 --seeds 0 1 2
    python -m course_lib.experiments watch runs/03a_dqn/dqn/seed0 --gif dqn.gif

(``./course plot``, ``./course run`` and ``./course watch`` call these.) The same functions work in
a notebook: :func:`course_lib.plots.plot_runs`, :func:`course_lib.diagnostics.plot_diagnostics`,
:func:`course_lib.grid.run_grid` with a :class:`course_lib.grid.Grid`, :func:`course_lib.watch.watch`.
"""
from __future__ import annotations

import argparse
import ast
import builtins
import contextlib
import os
import sys
from pathlib import Path
from typing import Callable

from course_lib.reuse import code_cells


def parse_value(text: str):
    """A grid value from the command line: a Python literal (``3e-4``, ``True``, ``(64, 64)``) or a string."""
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


def parse_grid(items: list[str]) -> dict[str, list]:
    """``["lr=3e-4,1e-3", "n_steps=5,10"]`` -> ``{"lr": [0.0003, 0.001], "n_steps": [5, 10]}``."""
    grid = {}
    for item in items:
        name, sep, values = item.partition("=")
        if not sep or not name:
            raise SystemExit(f"--grid takes NAME=V1,V2,...; got {item!r}")
        grid[name.strip()] = [parse_value(v.strip()) for v in values.split(",") if v.strip()]
    return grid


def _is_use_from(node: ast.stmt) -> bool:
    """``x, y = use_from("04a_reinforce.ipynb", "x", "y")``: names this notebook takes from another one."""
    return (isinstance(node, ast.Assign) and isinstance(node.value, ast.Call)
            and isinstance(node.value.func, ast.Name) and node.value.func.id == "use_from")


def load_notebook_function(notebook: str | Path, name: str) -> Callable:
    """A training function defined in a notebook, with what it needs from the notebook.

    Runs, in cell order, the top-level ``import`` statements, ``def`` and ``class`` definitions and
    the assignments to names that start with a capital letter (``Batch = namedtuple(...)``,
    ``GAMMA = 0.99``) and the names taken from another notebook with
    :func:`course_lib.reuse.use_from` (run from this notebook's folder) of every code cell; nothing else (no training, no plots). A
    statement that fails (it needed something computed in the notebook) is skipped.
    """
    path = Path(notebook)
    namespace: dict = {"__name__": "__main__", "__builtins__": builtins}
    for _, source, _ in code_cells(path):
        source = "\n".join("" if ln.lstrip().startswith(("%", "!")) else ln for ln in source.splitlines())
        try:
            tree = ast.parse(source)
        except SyntaxError:
            continue
        for node in tree.body:
            reused = _is_use_from(node)
            wanted = reused or isinstance(node, (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.ClassDef)) or (
                isinstance(node, ast.Assign) and all(isinstance(t, ast.Name) and t.id[:1].isupper()
                                                     for t in node.targets))
            if not wanted:
                continue
            try:   # use_from finds the other notebook relative to the folder this one runs in
                with contextlib.chdir(path.parent) if reused else contextlib.nullcontext():
                    exec(compile(ast.Module([node], []), f"<{path.name}>", "exec", dont_inherit=True), namespace)
            except Exception:  # noqa: BLE001 (a statement that needs the notebook's state)
                continue
    if not callable(namespace.get(name)):
        raise SystemExit(f"{path} defines no function {name!r}")
    return namespace[name]


def _plot(args) -> int:
    import matplotlib

    matplotlib.use("Agg")
    from .diagnostics import plot_diagnostics
    from .plots import plot_runs, save_figure
    from .reference_curves import read_reference_curve
    from .runs import find_runs

    reference = read_reference_curve(args.reference) if args.reference else None
    y_range = tuple(args.y_range) if args.y_range else None
    if args.panel:
        runs = find_runs(*args.runs)
        if not runs:
            raise SystemExit(f"no run folder in {args.runs}")
        for run in runs:
            out = Path(args.output) if (args.output and len(runs) == 1) else run.path / "panel.png"
            fig = plot_diagnostics(run, threshold=args.threshold, y_range=y_range, reference=reference, x=args.x)
            print(save_figure(fig, out))
        return 0
    ax = plot_runs(args.runs, metric=args.metric, x=args.x, window=args.window, threshold=args.threshold,
                   y_range=y_range, reference=reference, title=args.title)
    print(save_figure(ax, args.output or "runs.png"))
    return 0


def _run(args) -> int:
    import matplotlib

    matplotlib.use("Agg")
    from .grid import Grid, run_grid
    from .plots import plot_runs, save_figure

    notebook = Path(args.notebook).resolve()
    root = Path(args.root) if args.root else (Path(os.environ["COURSE_RUNS_DIR"]) if os.environ.get("COURSE_RUNS_DIR")
                                              else notebook.parent / "runs")
    sys.path.insert(0, str(notebook.parent))
    train_fn = load_notebook_function(notebook, args.function)
    grid = Grid(args.experiment, params=parse_grid(args.grid), seeds=args.seeds, root=root)
    result = run_grid(train_fn, grid, n_workers=args.workers)
    print(result)
    if result.finished or result.skipped:
        ax = plot_runs([result.folder], metric=args.metric, threshold=args.threshold,
                       title=f"{args.experiment}: {args.metric}")
        print("plot:", save_figure(ax, result.folder / f"{args.experiment}.png"))
    return 1 if result.failed else 0


def _watch(args) -> int:
    from .watch import watch

    total = watch(args.run, seed=args.seed, max_steps=args.max_steps, gif=args.gif or Path(args.run) / "episode.gif",
                  show=False)
    print(f"return {total:.1f}; GIF written to {args.gif or Path(args.run) / 'episode.gif'}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m course_lib.experiments", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("plot", help="multi-seed curves (or diagnostics panels) of run folders, as PNG")
    p.add_argument("runs", nargs="+", help="run folders, or folders above them (runs/03a_dqn)")
    p.add_argument("-o", "--output", help="PNG path (default runs.png; with --panel, panel.png in each run)")
    p.add_argument("--metric", default="eval_return", help="the metric to plot (default eval_return)")
    p.add_argument("--x", choices=("step", "seconds"), default="step", help="x-axis: env steps or training seconds")
    p.add_argument("--window", type=int, default=1, help="moving average over this many logged points")
    p.add_argument("--threshold", type=float, help="the 'solved' line")
    p.add_argument("--y-range", type=float, nargs=2, metavar=("LOW", "HIGH"), help="clip bands to this range")
    p.add_argument("--reference", help="a reference curve CSV (reference_curves/*.csv) drawn as a grey band")
    p.add_argument("--title")
    p.add_argument("--panel", action="store_true", help="one diagnostics panel per run instead")
    p.set_defaults(handler=_plot)

    p = sub.add_parser("run", help="a training function of a notebook x a grid x seeds, in parallel, resumable")
    p.add_argument("notebook", help="the .ipynb that defines the function (its saved file)")
    p.add_argument("function", help="train(seed=..., run_dir=..., **hyperparameters)")
    p.add_argument("--experiment", required=True, help="folder name of the experiment under runs/")
    p.add_argument("--grid", nargs="*", default=[], metavar="NAME=V1,V2", help="hyperparameter values")
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--workers", type=int, help="worker processes (default: all cores)")
    p.add_argument("--root", help="runs folder (default: runs/ next to the notebook)")
    p.add_argument("--metric", default="eval_return", help="metric of the plot written at the end")
    p.add_argument("--threshold", type=float)
    p.set_defaults(handler=_run)

    p = sub.add_parser("watch", help="play a saved agent's episode and write it as a GIF")
    p.add_argument("run", help="a run folder with policy.pt2")
    p.add_argument("--gif", help="output path (default: episode.gif in the run folder)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--max-steps", type=int, default=500)
    p.set_defaults(handler=_watch)

    args = parser.parse_args(argv)
    return args.handler(args)


if __name__ == "__main__":
    sys.exit(main())
