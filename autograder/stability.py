"""Does 03a's DQN *stay* solved? Measure it over seeds (instructors; a few minutes).

    python -m autograder.stability                       # 03a's solution, full-mode DQNConfig, seeds 0 1 2
    python -m autograder.stability --seeds 0 1 2 3 4 --set tau=1.0 target_update=32 lr_end=2.3e-3

Runs ``train_dqn`` of ``notebooks/03_dqn/03a_dqn.ipynb`` (the solution cells and the ``export``-tagged
cells, loaded as notebook 3b loads them) with its full-mode ``DQNConfig`` (plus ``--set`` changes), one
seed after the other, never stopping at the first crossing. The protocol is the notebook's: every
``eval_every`` (2,000) environment steps, 10 greedy episodes from fresh start states; evaluation
time is excluded from the training seconds; one torch thread. Per seed it prints the environment
steps and training seconds to the first evaluation >= the threshold (475), the share of the later
evaluations that are still >= 475 ("stayed solved"), the final evaluation, then the medians; and the
same for the network ``train_dqn`` keeps (its best evaluation's copy, played from the same start states).
"""
from __future__ import annotations

import argparse
import ast
import csv
import os
import sys
from pathlib import Path

import numpy as np

from course_lib.envs import SOLVED_RETURN
from course_lib.hyperparams import with_changes

REPO = Path(__file__).resolve().parents[1]
NOTEBOOK = REPO / "notebooks" / "03_dqn" / "03a_dqn.ipynb"


def summarize(evals, threshold=SOLVED_RETURN["CartPole-v1"], solved_at=None):
    """The stability figures of one run from its evaluations ``[(step, mean return), ...]``.

    Returns a dict: ``steps`` and ``seconds`` to the first evaluation >= threshold (None if never;
    seconds come from ``solved_at`` = (steps, seconds), as train_dqn reports it), ``later`` the
    number of evaluations after that one, ``stayed`` the share of them >= threshold (nan when there
    are none), ``final`` the last evaluation.
    """
    values = [float(v) for _, v in evals]
    first = next((i for i, v in enumerate(values) if v >= threshold), None)
    later = values[first + 1:] if first is not None else []
    return dict(steps=None if first is None else int(evals[first][0]),
                seconds=None if (first is None or solved_at is None) else float(solved_at[1]),
                later=len(later),
                stayed=float(np.mean([v >= threshold for v in later])) if later else float("nan"),
                final=values[-1] if values else float("nan"))


def _percent(x) -> str:
    return "-" if x is None or np.isnan(x) else f"{x:.0%}"


def _median(xs):
    xs = [x for x in xs if x is not None and not (isinstance(x, float) and np.isnan(x))]
    return float(np.median(xs)) if xs else None


def format_table(rows: dict, threshold=SOLVED_RETURN["CartPole-v1"]) -> str:
    """A markdown table of ``{seed: summarize(...)}`` with a median row."""
    t = int(threshold) if float(threshold).is_integer() else threshold
    fmt = lambda x, spec: "-" if x is None or (isinstance(x, float) and np.isnan(x)) else format(x, spec)
    lines = [f"| seed | steps to {t} | seconds to {t} | stayed solved | final eval |",
             "| --- | --- | --- | --- | --- |"]
    for seed, s in rows.items():
        lines.append(f"| {seed} | {fmt(s['steps'], ',d')} | {fmt(s['seconds'], '.1f')} | "
                     f"{fmt(s['stayed'], '.0%')} ({s['later']} later evals) | {fmt(s['final'], '.1f')} |")
    med = {k: _median([s[k] for s in rows.values()]) for k in ("steps", "seconds", "stayed", "final")}
    lines.append(f"| median | {fmt(med['steps'], ',.0f')} | {fmt(med['seconds'], '.1f')} | "
                 f"{fmt(med['stayed'], '.0%')} | {fmt(med['final'], '.1f')} |")
    return "\n".join(lines)


def load_training(notebook: Path = NOTEBOOK, extra: tuple[str, ...] = ()) -> dict:
    """A namespace with the notebook's imports, exercises (solutions) and ``export``-tagged cells
    (03a: DQNConfig and train_dqn), plus the cells that define the names in ``extra``."""
    import nbformat
    import torch

    from course_lib.reuse import definitions, load_notebook

    torch.set_num_threads(1)
    notebook = Path(notebook).resolve()
    nb = nbformat.read(notebook, as_version=4)
    namespace: dict = {"__name__": "stability"}
    for cell in nb.cells:                       # the import cell first (3b has its own copy of it)
        if cell.cell_type == "code" and "import torch" in cell.source:
            tree = definitions(cell.source)
            tree.body = [n for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom))]
            exec(compile(tree, f"<{notebook.name} imports>", "exec"), namespace)  # noqa: S102
            break
    here = os.getcwd()
    os.chdir(notebook.parent)        # as in Jupyter: paths in the notebook (an earlier chapter's) are relative to it
    try:
        # its answers, export cells, what it takes with use_from, and the cells defining the names in extra
        load_notebook(notebook, namespace, cells_defining=extra)
    finally:
        os.chdir(here)
    return namespace


def measure(seeds=(0, 1, 2), overrides: dict | None = None, notebook: Path = NOTEBOOK, echo=print) -> dict:
    """Train one run per seed (one after the other) and return ``{seed: summarize(...)}``."""
    os.environ.setdefault("COURSE_QUIET_LOGGER", "1")   # no progress bars, no live plots
    ns = load_training(notebook)
    config = with_changes(ns["DQNConfig"](), **(overrides or {}))   # a misspelt setting raises a TypeError here
    rows = {}
    for seed in seeds:
        run = ns["train_dqn"](config, seed=seed, stop_when_solved=False)
        rows[seed] = summarize(run["evals"], config.threshold, run["solved_at"])
        rows[seed]["evals"] = [round(v) for _, v in run["evals"]]
        rows[seed]["train_seconds"] = run["seconds"]
        rows[seed]["eval_steps"] = [int(step) for step, _ in run["evals"]]
        rows[seed]["kept"] = summarize(run["kept_evals"], config.threshold)   # the best checkpoint, on the same states
        s = rows[seed]
        echo(f"seed {seed}: first >= {config.threshold:g} at " + (f"{s['steps']:,} steps, {s['seconds']:.1f} s" if s["steps"]
             else "never") + f"; {s['train_seconds']:.0f} training s in all; evaluations {s['evals']}; the kept "
             f"network stayed in {_percent(s['kept']['stayed'])} of its later evaluations")
    return rows


def save_evals(rows: dict, path, label: str, note: str = "") -> Path:
    """Append the evaluations of ``rows`` (from :func:`measure`) to a CSV ``label,seed,step,eval_return``."""
    path = Path(path)
    new = not path.exists()
    with path.open("a", newline="") as f:
        if new:
            f.write("# greedy evaluations (10 episodes from fresh start states every eval_every steps), "
                    "written by python -m autograder.stability --save\n")
            f.write("label,seed,step,eval_return\n")
        if note:
            f.write(f"# {label}: {note}\n")
        writer = csv.writer(f, lineterminator="\n")   # quotes a label that holds a comma
        for seed, s in rows.items():
            for step, value in zip(s["eval_steps"], s["evals"]):
                writer.writerow([label, seed, step, value])
    return path


def _value(text: str):
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m autograder.stability", description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--set", nargs="*", default=[], metavar="KEY=VALUE", help="DQNConfig fields to change")
    parser.add_argument("--notebook", default=str(NOTEBOOK))
    parser.add_argument("--save", help="append the evaluations to this CSV, under --label")
    parser.add_argument("--label", default="measured")
    args = parser.parse_args(argv)
    overrides = {k: _value(v) for k, v in (item.split("=", 1) for item in args.set)}
    rows = measure(args.seeds, overrides, Path(args.notebook))
    print(f"\n{Path(args.notebook).name}, overrides {overrides or 'none'}: the online network")
    print(format_table(rows))
    print("\nthe kept network (the best evaluation's copy, played from the same fresh start states)")
    print(format_table({seed: r["kept"] for seed, r in rows.items()}))
    if args.save:
        import datetime
        import platform
        note = (f"overrides {overrides or 'none'}; measured {datetime.date.today().isoformat()} on "
                f"{platform.node() or 'this machine'} ({os.cpu_count()} cores), one torch thread")
        save_evals(rows, args.save, args.label, note)
    return 0


if __name__ == "__main__":
    sys.exit(main())
