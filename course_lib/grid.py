"""An experiment grid: your training function x a grid of hyperparameters x seeds, in parallel.

    def train(seed, run_dir, lr=1e-3, n_steps=5):          # your function, defined in the notebook
        log = TrainingLogger(..., run_dir=run_dir, config=dict(lr=lr, n_steps=n_steps, seed=seed))
        ...
        log.close()

    grid = Grid("a2c_lr", params={"lr": [3e-4, 1e-3], "n_steps": [5, 20]}, seeds=[0, 1, 2])
    result = run_grid(train, grid)
    print(result)                                          # finished, skipped, failed
    plot_runs(result.folder, threshold=SOLVED_RETURN["CartPole-v1"])

Each run is ``train(seed=seed, run_dir=folder, **hyperparameters)`` and writes its own folder
``runs/<experiment>/<variant>/seed<k>`` (variant: ``lr=0.001,n_steps=5``). Runs go to worker
processes (all cores by default, :func:`course_lib.workers.run_workers`); one progress bar
counts finished runs. A function defined in a notebook is sent as it is with ``fork`` (Linux), and
as source code with ``spawn`` (macOS, Windows; :func:`course_lib.portable.portable`, which cannot
send classes defined in the notebook).

- **Resumable**: a run whose folder says ``finished`` is skipped; run the grid again after an
  interruption and only what is missing runs.
- **A failing run does not stop the grid**: its traceback goes to its folder (``status.json``)
  and into ``result.failed``; the other runs go on.
- What a run prints goes to ``output.txt`` in its folder, not to the notebook.
"""
from __future__ import annotations

import contextlib
import itertools
import os
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

from tqdm.auto import tqdm

from .logger import QUIET_ENV
from .runs import OUTPUT_FILE, is_finished, mark_failed, mark_finished, read_status, run_path, runs_root


@dataclass(frozen=True)
class GridRun:
    """One run of a grid: its hyperparameters, seed and folder."""

    params: dict
    seed: int
    folder: str

    @property
    def variant(self) -> str:
        return Path(self.folder).parent.name


def variant_name(params: dict) -> str:
    """A folder name for a set of hyperparameters: ``lr=0.001,n_steps=5`` (``default`` if empty)."""
    if not params:
        return "default"
    return ",".join(f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}" for k, v in params.items())


@dataclass
class Grid:
    """What to run: a training function x every combination of ``params`` x ``seeds``.

    Attributes:
        experiment: the experiment's folder name under ``root``.
        params: ``{hyperparameter: [values]}``; every combination is a variant, in a folder named
            after it (``lr=0.001,n_steps=5``). Empty: one variant.
        seeds: the seeds of each variant.
        fixed: hyperparameters passed to every run, not part of the variant's name
            (``{"total_steps": 50_000}``).
        variant: the variant's folder name when ``params`` is empty.
        root: the runs folder (default :func:`course_lib.runs.runs_root`: ``runs/``).
    """

    experiment: str
    params: dict = field(default_factory=dict)
    seeds: Sequence[int] = (0, 1, 2)
    fixed: dict = field(default_factory=dict)
    variant: str = "default"
    root: str | Path | None = None

    @property
    def folder(self) -> Path:
        """The experiment's folder: ``<root>/<experiment>``."""
        return Path(self.root if self.root is not None else runs_root()) / self.experiment

    def runs(self) -> list[GridRun]:
        """Every combination of the values, times every seed, with its run folder."""
        keys = list(self.params)
        runs = []
        for values in itertools.product(*(list(self.params[k]) for k in keys)):
            params = dict(zip(keys, values))
            name = variant_name(params) if params else self.variant
            for seed in self.seeds:
                folder = run_path(self.experiment, name, seed, self.root)
                runs.append(GridRun({**self.fixed, **params}, int(seed), str(folder)))
        return runs


@dataclass
class GridResult:
    """What :func:`run_grid` returns. ``failed`` maps a run's folder to its error's last line."""

    folder: Path
    finished: list = field(default_factory=list)
    skipped: list = field(default_factory=list)
    failed: dict = field(default_factory=dict)
    seconds: float = 0.0

    def __str__(self) -> str:
        lines = [f"grid {self.folder}: {len(self.finished)} runs finished, {len(self.skipped)} skipped "
                 f"(already finished), {len(self.failed)} failed, {self.seconds:.1f} s"]
        lines += [f"  FAILED {folder}: {error}" for folder, error in self.failed.items()]
        return "\n".join(lines)


def _grid_worker(ctx, train_fn, runs: list[GridRun]) -> None:
    """Worker process: claim the next run (a shared counter), train it, report; never raise."""
    os.environ[QUIET_ENV] = "1"
    while not ctx.should_stop():
        index = ctx.add_steps(1) - 1  # the shared counter hands out run indices: no run twice
        if index >= len(runs):
            return
        run = runs[index]
        Path(run.folder).mkdir(parents=True, exist_ok=True)
        ok = 1.0
        with open(Path(run.folder) / OUTPUT_FILE, "w") as out, \
                contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
            try:
                train_fn(seed=run.seed, run_dir=run.folder, **run.params)
                if not is_finished(run.folder):  # the function wrote no run folder of its own
                    mark_finished(run.folder)
            except Exception as exc:  # noqa: BLE001 (reported, and the grid goes on)
                traceback.print_exc()
                mark_failed(run.folder, exc)
                ok = 0.0
        ctx.report(run=index, ok=ok)


def run_grid(train_fn: Callable, grid: Grid, n_workers: int | None = None, resume: bool = True,
             start_method: str | None = None, max_hours: float = 24.0) -> GridResult:
    """Run ``train_fn(seed=..., run_dir=..., **hyperparameters)`` for every run of ``grid``.

    Args:
        train_fn: your training function; it writes its run to ``run_dir`` (pass it to
            ``TrainingLogger(..., run_dir=run_dir)``). Defined in a notebook is fine.
        grid: what to run (:class:`Grid`).
        n_workers: worker processes (default: all cores, at most one per run to do).
        resume: skip the runs already finished (default). False: run everything again (a cell
            that should show what the *current* code does).
        start_method: ``fork``/``spawn``/``forkserver`` (default: the platform's).
        max_hours: stop the grid after this long (unfinished runs rerun next time).
    Returns:
        a :class:`GridResult`: the runs finished, skipped (already finished) and failed.
    """
    from .portable import portable
    from .workers import default_start_method, run_workers

    runs = grid.runs()
    result = GridResult(grid.folder)
    todo = []
    for run in runs:
        (result.skipped if resume and is_finished(run.folder) else todo).append(run)
    start = time.perf_counter()
    if todo:
        n_workers = max(1, min(n_workers or os.cpu_count() or 1, len(todo)))
        worker_fn = train_fn
        if (start_method or default_start_method()) != "fork" and getattr(train_fn, "__module__", None) == "__main__":
            worker_fn = portable(train_fn)  # spawn: a notebook function travels as source code
        bar = tqdm(total=len(runs), initial=len(result.skipped), unit="run",
                   desc=f"{grid.experiment}: {len(todo)} runs on {n_workers} workers")

        def collect(reports) -> None:
            for _, _, metrics in reports:
                run = todo[int(metrics["run"])]
                if metrics["ok"]:
                    result.finished.append(run)
                else:
                    error = read_status(run.folder).get("error", "failed").strip().splitlines()
                    result.failed[run.folder] = error[-1] if error else "failed"
                bar.update(1)
                bar.set_postfix(failed=len(result.failed), refresh=False)

        def monitor(progress) -> bool:
            collect(progress.new_reports)
            return False

        try:
            outcome = run_workers(_grid_worker, n_workers, args=(worker_fn, todo), start_method=start_method,
                                  max_seconds=max_hours * 3600, monitor=monitor, monitor_every_s=0.2)
            collect(outcome.new_reports)
        finally:
            bar.close()
    result.seconds = time.perf_counter() - start
    return result
