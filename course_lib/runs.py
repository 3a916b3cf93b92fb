"""Training runs on disk: one folder per run, written while it trains, readable after a crash.

A run folder is ``runs/<experiment>/<variant>/seed<k>/`` and holds::

    config.json    the configuration (written first, before any training step)
    progress.csv   one row per logged value: step, seconds, metric, value (appended, flushed per row)
    status.json    "running", then "finished" or "failed" (with the error), the last step and seconds
    model.pt       the final model's state_dict (torch.save), if saved
    policy.pt2     the same model as a torch.export program: loads without the notebook's class
    output.txt     what the run printed, when it ran inside an experiment grid

``progress.csv`` is in "long" form: a metric logged at its own pace (a loss every update, a return
every episode) never leaves holes in a wide table. ``seconds`` is the *training* clock of
:class:`course_lib.logger.TrainingLogger`: time spent evaluating or drawing is not counted.

A run that is stopped (interrupted kernel, crash, power cut) leaves ``config.json`` and every row
logged so far; its status stays ``"running"``, and :func:`read_run` reads it like any other.

    writer = RunWriter(run_path("03a_dqn", "dqn", seed=0), config={"lr": 1e-3, "env_id": "CartPole-v1"})
    writer.write(step=500, seconds=1.2, episode_return=22.0)
    writer.close()
    run = read_run("runs/03a_dqn/dqn/seed0")
    steps, values = run.curve("episode_return")
"""
from __future__ import annotations

import csv
import json
import math
import os
import tempfile
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

import numpy as np

CONFIG_FILE, PROGRESS_FILE, STATUS_FILE = "config.json", "progress.csv", "status.json"
MODEL_FILE, POLICY_FILE, OUTPUT_FILE = "model.pt", "policy.pt2", "output.txt"
PROGRESS_COLUMNS = ("step", "seconds", "metric", "value")


def runs_root() -> Path:
    """Where run folders go: ``$COURSE_RUNS_DIR`` if set; in fast mode a temporary folder (fast runs
    are smoke tests, not results worth keeping); otherwise ``runs/`` in the current folder (the
    notebook's folder, in Jupyter)."""
    from .config import fast_mode

    if os.environ.get("COURSE_RUNS_DIR"):
        return Path(os.environ["COURSE_RUNS_DIR"])
    if fast_mode():
        return Path(tempfile.gettempdir()) / "course_runs_fast"
    return Path("runs")


def run_path(experiment: str, variant: str = "default", seed: int = 0, root: str | Path | None = None) -> Path:
    """The folder of one run: ``<root>/<experiment>/<variant>/seed<seed>`` (root: :func:`runs_root`)."""
    return Path(root if root is not None else runs_root()) / experiment / variant / f"seed{seed}"


def _jsonable(value):
    """Configuration values as JSON can hold them (tuples as lists, anything else as its repr)."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, (bool, int, str)) or value is None:
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, np.generic):
        return _jsonable(value.item())
    return repr(value)


def _write_json(path: Path, data: dict) -> None:
    """Write JSON atomically (a reader never sees half a file)."""
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(_jsonable(data), indent=1) + "\n")
    os.replace(tmp, path)


class RunWriter:
    """Writes one run folder as training goes.

    Args:
        path: the run folder (created, parents too). An existing ``progress.csv`` is replaced: a
            rerun of the same seed starts a fresh record.
        config: the run's configuration (hyperparameters, ``env_id``, seed...), written at once.

    Every :meth:`write` appends rows and flushes them, so the file is complete up to the last
    row whatever stops the process. Cost: a few microseconds per row.
    """

    def __init__(self, path: str | Path, config: dict | None = None):
        self.path = Path(path)
        self.path.mkdir(parents=True, exist_ok=True)
        self.config = dict(config or {})
        _write_json(self.path / CONFIG_FILE, self.config)
        self.last_step, self.last_seconds = 0, 0.0
        self._started = time.time()
        self._set_status("running")
        self._file = open(self.path / PROGRESS_FILE, "w", newline="", buffering=1)
        self._csv = csv.writer(self._file)
        self._csv.writerow(PROGRESS_COLUMNS)

    def write(self, step: int, seconds: float, **metrics: float) -> None:
        """Append one row per metric at this step and training second: ``write(100, 2.5, loss=0.3)``."""
        self.last_step, self.last_seconds = int(step), float(seconds)
        for name, value in metrics.items():
            self._csv.writerow((int(step), f"{seconds:.3f}", name, repr(float(value))))
        self._file.flush()

    def save_model(self, model, example_obs=None) -> Path:
        """Save ``model.state_dict()`` to ``model.pt``; with ``example_obs`` (one batch of
        observations, a float tensor ``(B, obs_dim)``) also ``policy.pt2``, a torch.export program
        that :mod:`course_lib.watch` can load without the class the model was made from."""
        import torch

        torch.save(model.state_dict(), self.path / MODEL_FILE)
        if example_obs is not None:
            was_training = model.training
            model.eval()
            try:
                program = torch.export.export(model, (torch.as_tensor(example_obs, dtype=torch.float32),))
                torch.export.save(program, self.path / POLICY_FILE)
            finally:
                model.train(was_training)
        return self.path / MODEL_FILE

    def _set_status(self, status: str, error: str | None = None) -> None:
        data = {"status": status, "steps": self.last_step, "seconds": round(self.last_seconds, 3),
                "started": time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(self._started)),
                "wall_seconds": round(time.time() - self._started, 3)}
        if error:
            data["error"] = error
        _write_json(self.path / STATUS_FILE, data)

    def close(self, status: str = "finished", error: str | None = None) -> None:
        """Close the progress file and record how the run ended (``finished`` or ``failed``)."""
        if not self._file.closed:
            self._file.close()
        self._set_status(status, error)


def mark_failed(path: str | Path, error: BaseException | str) -> None:
    """Record in a run folder that it failed, with the traceback (used by the experiment grid)."""
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    text = error if isinstance(error, str) else "".join(traceback.format_exception(error))
    old = read_status(path)
    _write_json(path / STATUS_FILE, {**old, "status": "failed", "error": text})


def mark_finished(path: str | Path) -> None:
    """Record that a run finished (for a training function that does not use a TrainingLogger)."""
    _write_json(Path(path) / STATUS_FILE, {**read_status(path), "status": "finished"})


def read_status(path: str | Path) -> dict:
    """``status.json`` of a run folder (``{}`` when there is none)."""
    try:
        return json.loads((Path(path) / STATUS_FILE).read_text())
    except (OSError, ValueError):
        return {}


def is_finished(path: str | Path) -> bool:
    """True when the run in ``path`` ran to its end (the grid skips such runs)."""
    return read_status(path).get("status") == "finished"


@dataclass
class Run:
    """One run read from disk (see :func:`read_run`).

    Attributes:
        path: the run folder.
        config: its ``config.json``.
        status: its ``status.json`` (``status`` is ``"running"`` for a run that was stopped).
        metrics: ``{name: (steps (N,) int, seconds (N,) float, values (N,) float)}``.
    """

    path: Path
    config: dict
    status: dict
    metrics: dict = field(default_factory=dict)

    @property
    def experiment(self) -> str:
        return self.path.parent.parent.name

    @property
    def variant(self) -> str:
        return self.path.parent.name

    @property
    def seed(self) -> str:
        return self.path.name

    def curve(self, name: str, x: str = "step") -> tuple[np.ndarray, np.ndarray]:
        """``(x, values)`` of one metric; ``x`` is ``"step"`` (environment steps) or ``"seconds"``
        (training seconds). Empty arrays if the run never logged it."""
        if name not in self.metrics:
            return np.zeros(0), np.zeros(0)
        steps, seconds, values = self.metrics[name]
        return (steps if x == "step" else seconds), values

    def __repr__(self) -> str:
        counts = ", ".join(f"{k} ({len(v[0])})" for k, v in self.metrics.items())
        return f"Run({self.path}, {self.status.get('status', '?')}: {counts})"


def read_run(path: str | Path) -> Run:
    """Read a run folder: configuration, status and every metric (a half-written last row of a run
    that was killed mid-write is ignored)."""
    path = Path(path)
    if not (path / PROGRESS_FILE).exists() and not (path / CONFIG_FILE).exists():
        raise FileNotFoundError(f"{path} is not a run folder (no {CONFIG_FILE} or {PROGRESS_FILE})")
    try:
        config = json.loads((path / CONFIG_FILE).read_text())
    except (OSError, ValueError):
        config = {}
    rows: dict[str, list[tuple[int, float, float]]] = {}
    if (path / PROGRESS_FILE).exists():
        with open(path / PROGRESS_FILE, newline="") as fh:
            reader = csv.reader(fh)
            next(reader, None)
            for row in reader:
                try:
                    step, seconds, name, value = int(row[0]), float(row[1]), row[2], float(row[3])
                except (IndexError, ValueError):
                    continue  # a row cut short by a kill
                rows.setdefault(name, []).append((step, seconds, value))
    metrics = {name: (np.array([r[0] for r in rs], dtype=np.int64), np.array([r[1] for r in rs]),
                      np.array([r[2] for r in rs])) for name, rs in rows.items()}
    return Run(path, config, read_status(path), metrics)


def find_runs(*paths: str | Path) -> list[Run]:
    """Every run folder in or under ``paths`` (a run folder, a variant, an experiment, a root),
    sorted by path."""
    found: set[Path] = set()
    for p in map(Path, paths):
        if (p / CONFIG_FILE).exists() or (p / PROGRESS_FILE).exists():
            found.add(p)
        elif p.is_dir():
            found |= {c.parent for c in p.rglob(CONFIG_FILE)} | {c.parent for c in p.rglob(PROGRESS_FILE)}
        else:
            raise FileNotFoundError(f"no run folder at {p}")
    return [read_run(p) for p in sorted(found)]


def group_by_variant(runs: Iterable[Run]) -> dict[str, list[Run]]:
    """``{"experiment/variant": [runs, one per seed]}``, keeping the order of ``runs``."""
    groups: dict[str, list[Run]] = {}
    for run in runs:
        groups.setdefault(f"{run.experiment}/{run.variant}", []).append(run)
    return groups
