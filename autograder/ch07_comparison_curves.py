"""The saved runs behind notebook 07c's comparison of DDPG, TD3 and SAC on Pendulum-v1 (instructors).

    python -m autograder.ch07_comparison_curves                 # seeds 0 1 2
    python -m autograder.ch07_comparison_curves --seeds 0 1 --steps 10000

Trains the chapter's own solution agents (``train_agent`` of 07a for DDPG and TD3, ``train_sac`` of 07b),
loaded from the solution notebooks with :func:`course_lib.reuse.definitions` (definitions only: nothing
else in the notebooks runs), with their full-mode settings and one common budget: ``--steps`` environment
steps, 1,000 random warm-up steps, 10 noise-free evaluation episodes every 1,000 steps, no early stop.
Each algorithm becomes ``notebooks/07_ddpg_td3_sac/reference_curves/07c_comparison.<algo>.csv``
(:mod:`course_lib.reference_curves`: mean, lowest and highest seed), whose header also records each
seed's training seconds (evaluation excluded) and the machine's CPU count.
"""
from __future__ import annotations

import argparse
import datetime
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CHAPTER = REPO / "notebooks" / "07_ddpg_td3_sac"
OUT = CHAPTER / "reference_curves"


def _load(namespace: dict, notebook: Path) -> None:
    """Define the imports and functions of every code cell of ``notebook`` in ``namespace`` (nothing else runs)."""
    import ast

    import nbformat

    from course_lib.reuse import definitions

    for cell in nbformat.read(notebook, as_version=4).cells:
        if cell.cell_type == "code":
            tree = definitions(cell.source)
            tree.body = [n for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom, ast.FunctionDef))]
            exec(compile(tree, f"{notebook.name}", "exec"), namespace)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m autograder.ch07_comparison_curves", description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--steps", type=int, default=10_000)
    parser.add_argument("--algos", nargs="+", default=["ddpg", "td3", "sac"])
    parser.add_argument("--keep-runs", help="keep the run folders in this folder")
    args = parser.parse_args(argv)
    os.environ["COURSE_FAST"] = "0"
    import matplotlib

    matplotlib.use("Agg")
    import torch

    from course_lib.reference_curves import build_reference_curve, save_reference_curve
    from course_lib.runs import read_run

    torch.set_num_threads(1)
    ns: dict = {}
    _load(ns, CHAPTER / "07a_ddpg_td3.ipynb")
    ns_sac: dict = {"polyak_update": ns["polyak_update"]}
    _load(ns_sac, CHAPTER / "07b_sac.ipynb")
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True).stdout.strip()
    with tempfile.TemporaryDirectory(prefix="ch07_comparison_") as tmp:
        root = Path(args.keep_runs or tmp)
        for algo in args.algos:
            runs, seconds = [], []
            for seed in args.seeds:
                run_dir = root / "07c_comparison" / algo / f"seed{seed}"
                common = dict(seed=seed, total_steps=args.steps, learning_starts=1_000, eval_every=1_000,
                              eval_episodes=10, stop_at_threshold=False, live_plot=False, run_dir=run_dir)
                start = time.perf_counter()
                if algo == "sac":
                    ns_sac["train_sac"](**common)
                else:
                    ns["train_agent"](algo, **common)
                run = read_run(run_dir)
                secs, _ = run.curve("eval_return", x="seconds")
                seconds.append(float(secs[-1]))
                print(f"{algo} seed {seed}: {time.perf_counter() - start:.0f} s wall, {secs[-1]:.0f} s of training, "
                      f"last evaluation {run.curve('eval_return')[1][-1]:.0f}", flush=True)
                runs.append(run)
            info = {"source": f"07a/07b solution agents, {args.steps:,} steps, seeds " + " ".join(map(str, args.seeds)),
                    "training_seconds": " ".join(f"{s:.1f}" for s in seconds),
                    "built": f"{datetime.date.today().isoformat()} at commit {commit} on {os.cpu_count()} CPUs "
                             "(python -m autograder.ch07_comparison_curves)"}
            curve = build_reference_curve(runs, name=f"{algo.upper()} (07c comparison)", info=info)
            print("  ", save_reference_curve(curve, OUT / f"07c_comparison.{algo}.csv").relative_to(REPO), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
