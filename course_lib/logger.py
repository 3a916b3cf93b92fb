"""A training-loop logger: a progress bar, metrics by step, a live learning curve, time to threshold.

    log = TrainingLogger(total_steps=50_000, desc="DQN", threshold=475)
    for step in range(total_steps):
        ...
        log.step()                             # advances the progress bar
        if episode_done:
            log.episode(episode_return)        # records (step, return), redraws now and then
        if evaluated:
            log.evaluation(mean_return)        # records, and notes the first crossing of threshold
    log.close()
    log.history["episode_return"]              # list of (step, value)

When ``COURSE_METRICS_FILE`` is set (the benchmark sets it), :meth:`close` appends a JSON line with
the steps and seconds to threshold, so full-mode runs can be measured from outside the notebook.
"""
from __future__ import annotations

import json
import os
import time
from collections import defaultdict

import matplotlib.pyplot as plt
import numpy as np
from tqdm.auto import tqdm


class TrainingLogger:
    """Progress bar, metric history, live curve and time to threshold for one training run.

    Args:
        total_steps: length of the progress bar (environment steps, episodes, iterations...).
        desc: label for the bar and the metrics file.
        threshold: the evaluation return that counts as solved; the first crossing is recorded.
        live_plot: redraw the episode-return curve in place while training.
        plot_every_s: minimum seconds between live redraws (drawing is slower than a CartPole step).
        unit: what a step counts, for the bar.
    """

    def __init__(self, total_steps: int, desc: str = "training", threshold: float | None = None,
                 live_plot: bool = True, plot_every_s: float = 2.0, unit: str = "step"):
        self.desc, self.threshold, self.live_plot = desc, threshold, live_plot
        self.plot_every_s = plot_every_s
        self.steps = 0
        self.start = time.perf_counter()
        self.history: dict[str, list[tuple[int, float]]] = defaultdict(list)
        self.solved_at: tuple[int, float] | None = None  # (steps, seconds) at the first crossing
        self._bar = tqdm(total=total_steps, desc=desc, unit=unit, leave=True)
        self._handle = None
        self._last_draw = 0.0

    @property
    def seconds(self) -> float:
        """Wall-clock seconds since the logger was created."""
        return time.perf_counter() - self.start

    def step(self, n: int = 1) -> None:
        """Advance by ``n`` steps."""
        self.steps += n
        self._bar.update(n)

    def log(self, **metrics: float) -> None:
        """Record metrics at the current step: ``log.log(loss=0.3, epsilon=0.1)``."""
        for name, value in metrics.items():
            self.history[name].append((self.steps, float(value)))

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

    def curve(self, name: str = "episode_return") -> tuple[np.ndarray, np.ndarray]:
        """``(steps, values)`` arrays of one metric."""
        pairs = self.history.get(name, [])
        if not pairs:
            return np.zeros(0, dtype=int), np.zeros(0)
        steps, values = zip(*pairs)
        return np.array(steps), np.array(values)

    def _draw(self) -> None:
        from IPython.display import display

        self._last_draw = time.perf_counter()
        fig, ax = plt.subplots(figsize=(6, 3))
        for name, style in (("episode_return", "-"), ("eval_return", "o-")):
            xs, ys = self.curve(name)
            if len(xs):
                ax.plot(xs, ys, style, label=name.replace("_", " "), alpha=0.8)
        if self.threshold is not None:
            ax.axhline(self.threshold, color="grey", linestyle="--", linewidth=1)
        ax.set_xlabel("step")
        ax.set_ylabel("return")
        ax.set_title(self.desc)
        ax.legend(loc="upper left", fontsize="small")
        if self._handle is None:
            self._handle = display(fig, display_id=True)
        else:
            self._handle.update(fig)
        plt.close(fig)

    def close(self) -> None:
        """Close the bar, draw the final curve and write the metrics line if asked to."""
        self._bar.close()
        if self.live_plot and self.history:
            self._draw()
        path = os.environ.get("COURSE_METRICS_FILE")
        if path:
            record = {"desc": self.desc, "steps": self.steps, "seconds": round(self.seconds, 2),
                      "threshold": self.threshold,
                      "steps_to_threshold": None if self.solved_at is None else self.solved_at[0],
                      "seconds_to_threshold": None if self.solved_at is None else round(self.solved_at[1], 2)}
            with open(path, "a") as fh:
                fh.write(json.dumps(record) + "\n")
