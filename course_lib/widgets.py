"""Slider panels: pick hyperparameters, press Run, watch a progress bar, see the plot redrawn.

    def experiment(gamma, slip, progress):
        ...                       # call progress(i, total) as work advances
        plot_values(...)          # draw with matplotlib; the panel shows the figure

    panel = slider_panel(experiment, gamma=(0.5, 0.99, 0.01, 0.9), slip=(0.0, 0.6, 0.05, 0.2))

Works in JupyterLab 4 with ipywidgets 8. Headless execution (CI, nbgrader) runs the experiment once
with the default values so the notebook still shows a plot. A run's outputs are captured in the kernel
and set on the output area (see :class:`SliderPanel`); an error in the first run fails the cell.
"""
from __future__ import annotations

import base64
import contextlib
import html
import io
import json
import os
import time
import traceback
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
    """Controls, a Run button, a progress bar, a status line and an output area with the plot.

    A run's printed text, displays and figures are captured in the kernel and written into the
    output area's ``outputs`` (not routed by the front end through ``with output:``): the same in
    JupyterLab and in headless runs (nbclient, nbgrader), where the front end's routing made
    nbclient send a message on the shell channel that could leave it waiting out its whole cell
    timeout for a reply that had already arrived. An error is shown in the output area (the
    traceback) and summarised in the status line.
    """

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
        self.error: BaseException | None = None  # the last run's exception, if it raised
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

    def run(self, raise_errors: bool = False) -> Any:
        """Rerun the experiment with the current values and redraw; returns what it returned.

        An exception is reported in the panel (status line and output area); with
        ``raise_errors`` it is raised again afterwards (the first run, inside the cell, does that so
        a broken experiment fails the cell instead of hiding in the widget).
        """
        self.button.disabled = True
        self.progress.value = 0.0
        self.status.value = "running..."
        start = time.perf_counter()
        result, self.error = None, None
        capture = _Capture()
        try:
            with capture:
                plt.close("all")
                try:
                    result = self._run(progress=self._report, **self.values)
                finally:
                    capture.add_open_figures()
        except Exception as exc:  # shown in the panel: a slider run must not kill the notebook
            self.error = exc
            capture.add_error(exc)
            self.status.value = _error_status(exc)
        else:
            self.runs += 1
            seconds = time.perf_counter() - start
            self.status.value = f"done in {seconds:.1f} s"
            self._record(seconds)
        finally:
            self.output.outputs = tuple(capture.outputs)
            self.progress.value = 1.0
            self.button.disabled = False
        if self.error is not None and raise_errors:
            raise self.error
        return result

    def _record(self, seconds: float) -> None:
        """Append the run's duration to ``COURSE_METRICS_FILE`` when set (the benchmark reads it)."""
        path = os.environ.get("COURSE_METRICS_FILE")
        if path:
            with open(path, "a") as fh:
                fh.write(json.dumps({"kind": "slider", "title": self.title or self._run.__name__,
                                     "deep": self.deep, "seconds": round(seconds, 3)}) + "\n")


def _shell():
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython comes with ipywidgets
        return None
    return get_ipython()


def _jsonable(data: dict) -> dict:
    """A mime bundle with bytes (PNG, JPEG) as base64 text, as the notebook format stores them."""
    clean = {}
    for mime, value in (data or {}).items():
        if isinstance(value, (bytes, bytearray)):
            value = base64.b64encode(bytes(value)).decode("ascii") if not mime.startswith("text/") \
                else bytes(value).decode("utf-8", "replace")
        clean[mime] = value
    return clean


class _Capture:
    """Collects a run's outputs as notebook-format dicts: text written to stdout and stderr,
    everything passed to ``display`` (IPython's capture), the figures left open, an error."""

    def __init__(self):
        self.outputs: list[dict] = []
        self._ctx = None
        self._stdout = io.StringIO()
        self._stderr = io.StringIO()
        self._redirects: list = []

    def __enter__(self):
        if _shell() is not None:
            from IPython.utils.capture import capture_output
            self._ctx = capture_output(stdout=True, stderr=True, display=True)
            self._captured = self._ctx.__enter__()
        else:
            self._redirects = [contextlib.redirect_stdout(self._stdout), contextlib.redirect_stderr(self._stderr)]
            for r in self._redirects:
                r.__enter__()
        return self

    def __exit__(self, *exc):
        if self._ctx is not None:
            self._ctx.__exit__(*exc)
            cap = self._captured
            stdout, stderr, rich = cap.stdout, cap.stderr, cap.outputs
        else:
            for r in reversed(self._redirects):
                r.__exit__(*exc)
            stdout, stderr, rich = self._stdout.getvalue(), self._stderr.getvalue(), []
        early = []
        if stdout:
            early.append({"output_type": "stream", "name": "stdout", "text": stdout})
        if stderr:
            early.append({"output_type": "stream", "name": "stderr", "text": stderr})
        for out in rich:
            early.append({"output_type": "display_data", "data": _jsonable(out.data),
                          "metadata": dict(out.metadata or {})})
        self.outputs[:0] = early  # figures and errors collected inside come after the text
        return False

    def add_open_figures(self) -> None:
        """Render every open matplotlib figure into the outputs and close it."""
        for num in plt.get_fignums():
            fig = plt.figure(num)
            self.outputs.append({"output_type": "display_data", "data": _figure_bundle(fig), "metadata": {}})
            plt.close(fig)

    def add_error(self, exc: BaseException) -> None:
        shell = _shell()
        try:
            if shell is not None:
                lines = shell.InteractiveTB.structured_traceback(type(exc), exc, exc.__traceback__)
            else:
                lines = traceback.format_exception(type(exc), exc, exc.__traceback__)
        except Exception:  # noqa: BLE001 - formatting must not hide the error itself
            lines = traceback.format_exception(type(exc), exc, exc.__traceback__)
        self.outputs.append({"output_type": "error", "ename": type(exc).__name__, "evalue": str(exc),
                             "traceback": [str(line) for line in lines]})


def _figure_bundle(fig) -> dict:
    """A figure's mime bundle: IPython's own formatting when it has a PNG for it (the inline
    backend's size and resolution), else a PNG rendered here."""
    shell = _shell()
    if shell is not None:
        try:
            data, _ = shell.display_formatter.format(fig)
            if "image/png" in data:
                return _jsonable(data)
        except Exception:  # noqa: BLE001 - fall back to rendering it ourselves
            pass
    buf = io.BytesIO()
    fig.savefig(buf, format="png", bbox_inches="tight")
    return {"image/png": base64.b64encode(buf.getvalue()).decode("ascii"), "text/plain": repr(fig)}


def _error_status(exc: BaseException) -> str:
    """The status line of a failed run: the error, where in the notebook's code it happened, and
    for a forgotten cell after a kernel restart, which cell to run."""
    where = ""
    frames = traceback.extract_tb(exc.__traceback__)
    # the notebook's own code first (ipykernel names cells /tmp/ipykernel_<pid>/<hash>.py), else
    # the last frame outside this module and installed packages
    cells = [f for f in frames if "ipykernel_" in f.filename or f.filename.startswith("<ipython-input")]
    frames = cells or [f for f in frames if os.sep + "site-packages" + os.sep not in f.filename
                       and f.filename != __file__]
    if frames:
        last = frames[-1]
        code = f": <code>{html.escape(last.line.strip())}</code>" if last.line else ""
        where = f" (in <code>{html.escape(last.name)}</code>, line {last.lineno}{code})"
    message = str(exc).split("\n")[0]
    text = f"{type(exc).__name__}: {html.escape(message)}{where}"
    extra = None
    if isinstance(exc, NameError):
        try:
            from .restart_help import name_error_hint
            shell = _shell()
            extra = name_error_hint(exc, None, shell.user_ns if shell is not None else None)
        except Exception:  # noqa: BLE001 - a hint is optional
            extra = None
    if extra:
        text += "<br>" + html.escape(extra)
    return (f"<span style='color:#c00'>{text}</span><br><span style='color:#555'>the traceback is below; "
            f"fix the cause and press Run again</span>")


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
        panel.run(raise_errors=True)
    return panel
