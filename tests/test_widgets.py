"""Slider panels, in-process: a run's outputs land in the panel's output area, and an error is
reported in the panel (status line with a traceback summary, the traceback in the output area)."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from course_lib.widgets import SliderPanel, slider_panel  # noqa: E402


def drawing(a, progress):
    progress(1, 2)
    print("a is", a)
    fig, ax = plt.subplots(figsize=(2, 1))
    ax.plot([0, a])
    return a * 2


def test_run_captures_text_and_figures():
    panel = SliderPanel(drawing, {"a": (0, 5, 1, 3)})
    assert panel.run() == 6
    kinds = [(o["output_type"], o.get("name")) for o in panel.output.outputs]
    assert kinds == [("stream", "stdout"), ("display_data", None)]
    assert panel.output.outputs[0]["text"] == "a is 3\n"
    assert panel.output.outputs[1]["data"]["image/png"]
    assert plt.get_fignums() == [], "the panel closes the figures it showed"
    assert panel.status.value.startswith("done in") and panel.runs == 1 and panel.error is None
    assert panel.progress.value == 1.0 and not panel.button.disabled


def test_rerun_replaces_the_previous_outputs():
    panel = SliderPanel(drawing, {"a": (0, 5, 1, 3)})
    panel.run()
    panel.controls["a"].value = 4
    panel.run()
    assert [o["text"] for o in panel.output.outputs if o["output_type"] == "stream"] == ["a is 4\n"]


def broken(a, progress):
    print("starting")
    return undefined_helper(a)  # noqa: F821 - the error under test


def test_error_of_a_button_run_is_reported_in_the_panel():
    panel = SliderPanel(broken, {"a": (0, 5, 1, 3)})
    panel.button.click()  # what the Run button does: must not raise, must not be silent
    assert isinstance(panel.error, NameError)
    status = panel.status.value
    assert "NameError" in status and "undefined_helper" in status
    assert "broken" in status and "line" in status, f"no traceback summary in the status: {status}"
    errors = [o for o in panel.output.outputs if o["output_type"] == "error"]
    assert len(errors) == 1 and errors[0]["ename"] == "NameError"
    assert any("undefined_helper" in line for line in errors[0]["traceback"])
    assert panel.output.outputs[0] == {"output_type": "stream", "name": "stdout", "text": "starting\n"}
    assert not panel.button.disabled and panel.progress.value == 1.0 and panel.runs == 0


def test_error_status_escapes_html():
    def nasty(progress):
        raise ValueError("<script>alert(1)</script>")

    panel = SliderPanel(nasty, {})
    panel.run()
    assert "<script>" not in panel.status.value and "&lt;script&gt;" in panel.status.value


def test_first_run_raises_so_the_cell_fails(monkeypatch):
    monkeypatch.setattr("course_lib.widgets.display", lambda *a, **k: None)
    with pytest.raises(NameError):
        slider_panel(broken, a=(0, 5, 1, 3))
    panel = slider_panel(drawing, a=(0, 5, 1, 2))
    assert panel.runs == 1
