"""Slider panels: pick hyperparameters, press Run, watch a progress bar, see the plot redrawn.

    def experiment(gamma, slip, progress):
        ...                       # call progress(i, total) as work advances
        plot_values(...)          # draw with matplotlib; the panel shows the figure

    panel = slider_panel(experiment, gamma=(0.5, 0.99, 0.01, 0.9), slip=(0.0, 0.6, 0.05, 0.2))

Works in JupyterLab 4 with ipywidgets 8. Headless execution (CI, nbgrader) runs the experiment once
with the default values so the notebook still shows a plot.
"""
from __future__ import annotations

import json
import os
import time
from typing import Any, Callable

import ipywidgets as widgets
import matplotlib.pyplot as plt
from IPython.display import display


def _control(name: str, spec: Any) -> widgets.Widget:
    """A widget from a spec: a widget as is, a tuple ``(min, max, step, value)`` for a slider, or a
    list of options for a dropdown (a list is always options, even of four numbers)."""
    if isinstance(spec, widgets.Widget):
        if not getattr(spec, "description", ""):
            spec.description = name
        return spec
    style = {"description_width": "initial"}
    layout = widgets.Layout(width="420px")
    if isinstance(spec, tuple) and len(spec) == 4 and all(isinstance(v, (int, float)) for v in spec):
        lo, hi, step, value = spec
        if all(isinstance(v, int) and not isinstance(v, bool) for v in spec):
            return widgets.IntSlider(value=value, min=lo, max=hi, step=step, description=name,
                                     style=style, layout=layout, continuous_update=False)
        return widgets.FloatSlider(value=value, min=lo, max=hi, step=step, description=name,
                                   style=style, layout=layout, continuous_update=False,
                                   readout_format=".3g")
    if isinstance(spec, (list, tuple)):
        return widgets.Dropdown(options=list(spec), value=spec[0], description=name, style=style)
    raise TypeError(f"control {name!r}: expected a widget, (min, max, step, value) or a list of "
                    f"options, got {spec!r}")


class SliderPanel(widgets.VBox):
    """Controls, a Run button, a progress bar, a status line and an output area with the plot."""

    def __init__(self, run: Callable[..., Any], controls: dict[str, Any], title: str = "", deep: bool = False):
        self._run = run
        self.title, self.deep = title, deep
        self.controls = {name: _control(name, spec) for name, spec in controls.items()}
        self.button = widgets.Button(description="Run", button_style="primary", icon="play",
                                     tooltip="Rerun the experiment with these values")
        self.progress = widgets.FloatProgress(value=0.0, min=0.0, max=1.0, description="progress",
                                              layout=widgets.Layout(width="300px"))
        self.status = widgets.HTML(value="")
        self.status.add_class("course-slider-status")  # lets browser tests find it among other HTML
        self.output = widgets.Output()
        self.runs = 0
        self.button.on_click(lambda _: self.run())
        header = [widgets.HTML(f"<b>{title}</b>")] if title else []
        super().__init__(header + list(self.controls.values())
                         + [widgets.HBox([self.button, self.progress, self.status]), self.output])

    @property
    def values(self) -> dict[str, Any]:
        """The controls' current values, by name."""
        return {name: w.value for name, w in self.controls.items()}

    def _report(self, done: float, total: float = 1.0) -> None:
        self.progress.value = min(1.0, max(0.0, float(done) / float(total or 1)))

    def run(self) -> Any:
        """Rerun the experiment with the current values and redraw; returns what it returned."""
        self.button.disabled = True
        self.progress.value = 0.0
        self.status.value = "running..."
        start = time.perf_counter()
        result = None
        try:
            with self.output:
                self.output.clear_output(wait=True)
                plt.close("all")
                result = self._run(progress=self._report, **self.values)
                plt.show()
            self.runs += 1
            seconds = time.perf_counter() - start
            self.status.value = f"done in {seconds:.1f} s"
            self._record(seconds)
        except Exception as exc:  # shown in the panel: a slider run must not kill the notebook
            self.status.value = f"<span style='color:#c00'>{type(exc).__name__}: {exc}</span>"
            with self.output:
                raise
        finally:
            self.progress.value = 1.0
            self.button.disabled = False
        return result

    def _record(self, seconds: float) -> None:
        """Append the run's duration to ``COURSE_METRICS_FILE`` when set (the benchmark reads it)."""
        path = os.environ.get("COURSE_METRICS_FILE")
        if path:
            with open(path, "a") as fh:
                fh.write(json.dumps({"kind": "slider", "title": self.title or self._run.__name__,
                                     "deep": self.deep, "seconds": round(seconds, 3)}) + "\n")


def slider_panel(run: Callable[..., Any], title: str = "", run_now: bool = True, deep: bool = False,
                 **controls) -> SliderPanel:
    """Show a :class:`SliderPanel` for ``run`` and (by default) run it once with the defaults.

    Args:
        run: ``run(progress, **values)``; ``progress(done, total)`` moves the bar. It draws with
            matplotlib; the panel shows the figures it leaves open.
        title: a bold line above the controls.
        run_now: run once immediately so the plot is there before anyone moves a slider.
        deep: a deep-RL experiment (the design's budget for a Run is 30 s, against 2 s for tabular).
        **controls: ``name=(min, max, step, default)`` (a tuple) for a slider (ints give an
            IntSlider), ``name=[option, ...]`` (a list, first is the default) for a dropdown, or any
            ipywidgets widget.
    """
    panel = SliderPanel(run, controls, title, deep)
    display(panel)
    if run_now:
        panel.run()
    return panel
