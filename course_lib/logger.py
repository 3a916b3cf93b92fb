"""A training-loop logger: a progress bar, metrics by step, a live diagnostics panel, time to threshold,
and (when given a folder) the run written to disk as it trains.

    log = TrainingLogger(total_steps=50_000, desc="DQN", threshold=SOLVED_RETURN["CartPole-v1"],   # course_lib.envs
                         run_dir=run_path("03a_dqn", "dqn", seed=0), config=as_record(config))   # course_lib.hyperparams
    for step in range(total_steps):
        ...
        log.step()                             # advances the progress bar
        log.log(loss=loss, q_mean=q)           # any metric, at the current step
        if episode_done:
            log.episode(episode_return)        # records (step, return), redraws now and then
        if time_to_evaluate:
            with log.paused():                 # evaluation time is not training time
                result = evaluate(...)
            log.evaluation(result.mean)        # records, and notes the first crossing of threshold
    log.save_model(model, example_obs)         # model.pt (+ policy.pt2) in the run folder
    log.close()
    log.history["episode_return"]              # list of (step, value)

**Two clocks.** ``log.seconds`` is the *training* clock: the time inside :meth:`paused` blocks and
the time spent drawing are not counted, so seconds to threshold measure learning, not plotting.

**On disk.** With ``run_dir``, every value also goes to ``run_dir/progress.csv`` as it is logged
(see :mod:`course_lib.runs`); the configuration is written first, so a stopped run leaves a
readable folder. Inside an experiment grid's worker (:mod:`course_lib.grid`) the logger draws
nothing and shows no bar: the grid has its own.

When ``COURSE_METRICS_FILE`` is set (the benchmark sets it), :meth:`close` appends a JSON line with
the steps and seconds to threshold, so full-mode runs can be measured from outside the notebook.
"""
from __future__ import annotations

import json
import os
import time
from collections import defaultdict
from contextlib import contextmanager
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from tqdm.auto import tqdm

from .runs import RunWriter

#: set in the worker processes of an experiment grid: no bar, no drawing
QUIET_ENV = "COURSE_QUIET_LOGGER"


class TrainingLogger:
    """Progress bar, metric history, live diagnostics panel and time to threshold for one run.

    Args:
        total_steps: length of the progress bar (environment steps, episodes, iterations...).
        desc: label for the bar, the plots and the metrics file.
        threshold: the evaluation return that counts as solved (the course's are
            ``course_lib.envs.SOLVED_RETURN[env_id]``); the first crossing is recorded.
        live_plot: redraw the diagnostics panel in place while training.
        plot_every_s: minimum seconds between live redraws (drawing is slower than a CartPole step).
        unit: what a step counts, for the bar.
        run_dir: write the run to this folder (``course_lib.runs.run_path(...)``); None: memory only.
        config: the run's configuration, written to ``run_dir/config.json`` before anything else.
        y_range: ``(low, high)`` the return can take (CartPole: ``(0, 500)``), for the plots.
    """

    def __init__(self, total_steps: int, desc: str = "training", threshold: float | None = None,
                 live_plot: bool = True, plot_every_s: float = 2.0, unit: str = "step",
                 run_dir: str | Path | None = None, config: dict | None = None,
                 y_range: tuple[float, float] | None = None):
        quiet = bool(os.environ.get(QUIET_ENV))
        self.desc, self.threshold, self.live_plot = desc, threshold, live_plot and not quiet
        self.plot_every_s, self.y_range = plot_every_s, y_range
        self.steps = 0
        self.start = time.perf_counter()  # shifted forward by paused time: seconds = now - start
        self.history: dict[str, list[tuple[int, float]]] = defaultdict(list)
        self.seconds_history: dict[str, list[float]] = defaultdict(list)  # training second of each value
        self.solved_at: tuple[int, float] | None = None  # (steps, seconds) at the first crossing
        self.run: RunWriter | None = None
        if run_dir is not None:
            meta = {"desc": desc, "threshold": threshold, "total_steps": total_steps, "unit": unit}
            self.run = RunWriter(run_dir, config={**meta, **(config or {})})
        self._bar = tqdm(total=total_steps, desc=desc, unit=unit, leave=True, disable=quiet)
        self._handle = None
        self._last_draw = 0.0

    def write_run_to(self, run_dir: str | Path, config: dict) -> None:
        """Write this run to ``run_dir`` from now on, for a logger made without a folder (a training function
        given a caller's logger and a ``run_dir``): ``config.json`` at once, then every value logged later.
        Raises ``ValueError`` if the logger writes to a folder already."""
        if self.run is not None:
            raise ValueError(f"this logger writes its run to {self.run.path} already: give the folder to the "
                             "logger or to the training function, not both")
        self.run = RunWriter(run_dir, config=config)

    @property
    def seconds(self) -> float:
        """Training seconds since the logger was created (paused blocks and drawing excluded)."""
        return time.perf_counter() - self.start

    @contextmanager
    def paused(self):
        """Stop the training clock inside the block: ``with log.paused(): result = evaluate(...)``."""
        t0 = time.perf_counter()
        try:
            yield
        finally:
            self.start += time.perf_counter() - t0

    def step(self, n: int = 1) -> None:
        """Advance by ``n`` steps."""
        self.steps += n
        self._bar.update(n)

    def log(self, **metrics: float) -> None:
        """Record metrics at the current step: ``log.log(loss=0.3, epsilon=0.1)``."""
        seconds = self.seconds
        for name, value in metrics.items():
            self.history[name].append((self.steps, float(value)))
            self.seconds_history[name].append(seconds)
        if self.run is not None:
            self.run.write(self.steps, seconds, **metrics)

    def episode(self, episode_return: float) -> None:
        """Record a finished training episode's return; shows the recent mean on the bar."""
        self.log(episode_return=episode_return)
        recent = [v for _, v in self.history["episode_return"][-20:]]
        self._bar.set_postfix(ret=f"{np.mean(recent):.1f}", refresh=False)
        if self.live_plot and time.perf_counter() - self._last_draw > self.plot_every_s:
            self._draw()

    def evaluation(self, mean_return: float) -> bool:
        """Record an evaluation's mean return; True (and remembered) at the first threshold crossing."""
        self.log(eval_return=mean_return)
        if self.threshold is not None and self.solved_at is None and mean_return >= self.threshold:
            self.solved_at = (self.steps, self.seconds)
            return True
        return False

    @property
    def metric_names(self) -> list[str]:
        """The names of the metrics logged so far, in the order they first appeared."""
        return list(self.history)

    def curve(self, name: str = "episode_return", x: str = "step") -> tuple[np.ndarray, np.ndarray]:
        """``(x, values)`` arrays of one metric; ``x`` is ``"step"`` or ``"seconds"`` (training clock)."""
        pairs = self.history.get(name, [])
        if not pairs:
            return np.zeros(0, dtype=int), np.zeros(0)
        steps, values = zip(*pairs)
        xs = np.array(steps) if x == "step" else np.array(self.seconds_history[name])
        return xs, np.array(values)

    def save_model(self, model, example_obs=None) -> Path | None:
        """Save the model in the run folder (see :meth:`course_lib.runs.RunWriter.save_model`);
        does nothing without ``run_dir``. The time it takes is not training time."""
        if self.run is None:
            return None
        with self.paused():
            return self.run.save_model(model, example_obs)

    def panel(self, reference=None):
        """The diagnostics panel of this run so far (a matplotlib Figure); see :mod:`course_lib.diagnostics`."""
        from .diagnostics import plot_diagnostics

        return plot_diagnostics(self, threshold=self.threshold, title=self.desc, y_range=self.y_range,
                                reference=reference)

    def _draw(self) -> None:
        from IPython.display import display

        with self.paused():
            self._last_draw = time.perf_counter()
            fig = self.panel()
            if self._handle is None:
                self._handle = display(fig, display_id=True)
            else:
                self._handle.update(fig)
            plt.close(fig)

    def close(self, complete: bool | None = None) -> None:
        """Close the bar, draw the final panel, finish the run folder and write the metrics line.

        Args:
            complete: show the bar as complete (green) even if it stopped before ``total_steps``.
                Default: complete when the threshold was reached (a run that stops because it
                succeeded is not a failure).
        """
        if complete is None:
            complete = self.solved_at is not None
        if complete and self._bar.total and self._bar.n < self._bar.total:
            self._bar.total = self._bar.n
            bar_widget = getattr(self._bar, "container", None)
            if bar_widget is not None:  # the notebook bar keeps its own maximum
                bar_widget.children[1].max = self._bar.n
            if self.solved_at is not None:
                self._bar.set_postfix_str(f"solved at {self.solved_at[0]:,} steps", refresh=False)
        self._bar.close()
        if self.live_plot and self.history:
            self._draw()
        if self.run is not None:
            self.run.close("finished")
        path = os.environ.get("COURSE_METRICS_FILE")
        if path:
            record = {"desc": self.desc, "steps": self.steps, "seconds": round(self.seconds, 2),
                      "threshold": self.threshold,
                      "steps_to_threshold": None if self.solved_at is None else self.solved_at[0],
                      "seconds_to_threshold": None if self.solved_at is None else round(self.solved_at[1], 2)}
            with open(path, "a") as fh:
                fh.write(json.dumps(record) + "\n")
