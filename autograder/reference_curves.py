"""Build the reference curves shipped with the student release (instructors, once per release).

    python -m autograder.reference_curves                     # the notebooks of REFERENCE_NOTEBOOKS
    python -m autograder.reference_curves notebooks/05_actor_critic/05a_a2c.ipynb

Each notebook (the solution) is executed top to bottom in **full mode**, with its run folders sent
to a temporary directory (``COURSE_RUNS_DIR``). Every ``experiment/variant`` that finished with at
least ``--min-seeds`` seeds becomes ``notebooks/<chapter>/reference_curves/<experiment>.<variant>.csv``
(:mod:`course_lib.reference_curves`: a grid of steps, the mean, lowest and highest seed of the
greedy evaluation return). These are small data files, no code: nbgrader copies them into the
release with the notebooks, and the notebooks draw a student's runs over them.

Cost: the notebook's full mode (03a: three DQN seeds, a few minutes; 05a: seconds per A2C seed).
The benchmark can call :func:`build` to rebuild them.
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
REFERENCE_NOTEBOOKS = ("notebooks/03_dqn/03a_dqn.ipynb", "notebooks/05_actor_critic/05a_a2c.ipynb")


def _execute_full_mode(notebook: Path, runs_dir: Path, timeout: int) -> list[str]:
    """Run a notebook in full mode (its own folder as working directory); return its errors."""
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(notebook, as_version=4)
    saved = dict(os.environ)
    os.environ.update({"COURSE_FAST": "0", "COURSE_RUNS_DIR": str(runs_dir)})
    os.environ.pop("COURSE_METRICS_FILE", None)
    try:
        NotebookClient(nb, timeout=timeout, kernel_name="python3", allow_errors=True,
                       resources={"metadata": {"path": str(notebook.parent)}}).execute()
    finally:
        os.environ.clear()
        os.environ.update(saved)
    return [f"{o['ename']}: {o['evalue'][:200]}" for c in nb.cells for o in c.get("outputs", [])
            if o.get("output_type") == "error"]


def _commit() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True,
                              text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def build(notebook: str | Path, min_seeds: int = 2, timeout: int = 1800, runs_dir: str | Path | None = None) -> list[Path]:
    """Execute ``notebook`` in full mode and write its reference curves; returns the files written.

    ``runs_dir``: keep the solution's run folders there (default: a temporary folder, deleted).
    """
    from course_lib.reference_curves import build_reference_curve, save_reference_curve
    from course_lib.runs import find_runs, group_by_variant

    notebook = Path(notebook).resolve()
    with tempfile.TemporaryDirectory(prefix="reference_runs_") as tmp:
        runs_root = Path(runs_dir) if runs_dir else Path(tmp)
        start = time.perf_counter()
        errors = _execute_full_mode(notebook, runs_root, timeout)
        if errors:
            raise RuntimeError(f"{notebook.name} raised in full mode:\n" + "\n".join(errors))
        written = []
        for key, runs in group_by_variant(find_runs(runs_root) if runs_root.exists() else []).items():
            runs = [r for r in runs if r.status.get("status") == "finished"]
            if len(runs) < min_seeds:
                continue
            experiment, variant = key.split("/", 1)
            info = {"source": f"{notebook.parent.name}/{notebook.name}, full mode, seeds "
                              + " ".join(r.seed.removeprefix("seed") for r in runs),
                    "built": f"{datetime.date.today().isoformat()} at commit {_commit()}",
                    "note": "a seed that stopped when solved keeps its last evaluation"}
            curve = build_reference_curve(runs, name=f"{experiment} {variant}, solution", info=info)
            written.append(save_reference_curve(curve, notebook.parent / "reference_curves" / f"{experiment}.{variant}.csv"))
        print(f"{notebook.name}: {len(written)} reference curves in {time.perf_counter() - start:.0f} s", flush=True)
        return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m autograder.reference_curves", description=__doc__.split("\n")[0])
    parser.add_argument("notebooks", nargs="*", default=list(REFERENCE_NOTEBOOKS),
                        help="solution notebooks to run in full mode (default: %(default)s)")
    parser.add_argument("--min-seeds", type=int, default=2, help="only variants with this many finished seeds")
    parser.add_argument("--timeout", type=int, default=1800, help="seconds per cell")
    parser.add_argument("--keep-runs", help="keep the solution's run folders in this folder")
    args = parser.parse_args(argv)
    for nb in args.notebooks:
        path = Path(nb) if Path(nb).is_absolute() else (Path.cwd() / nb if (Path.cwd() / nb).exists() else REPO / nb)
        for written in build(path, args.min_seeds, args.timeout, args.keep_runs):
            print("  ", written.relative_to(REPO) if written.is_relative_to(REPO) else written)
    return 0


if __name__ == "__main__":
    sys.exit(main())
