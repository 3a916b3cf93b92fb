"""Headless execution must not stall at slider panels.

The cause of the stalls seen in 03a and 04a (two runs in ten): a panel that drew into its
``widgets.Output`` with ``with output:`` made the kernel set the widget's ``msg_id``; nbclient then
mimics the front end and answers every output of that cell with a ``comm_msg`` sent on the *shell*
channel, from the coroutine that reads IOPub, while the other coroutine waits on that same zmq
socket for the cell's ``execute_reply``. Now and then the reply's wake-up is lost: nbclient waits
until the cell's timeout (600 s in the tests, 120 s under nbgrader) although the kernel has long
been idle, then finds the reply and carries on. The panel now sets its output area's ``outputs``
from the kernel, so nbclient never registers an output hook and never writes to the shell channel.
"""
from __future__ import annotations

import time

import nbformat
import pytest
from nbclient import NotebookClient
from nbformat.v4 import new_code_cell, new_notebook

pytestmark = pytest.mark.slow

SETUP = """\
import matplotlib.pyplot as plt
from course_lib.widgets import slider_panel

def experiment(a, progress):
    for i in range(5):
        progress(i, 5)
    print("a =", a)
    if a > 1:
        fig, ax = plt.subplots(figsize=(2, 1))
        ax.plot([0, a])

panel = slider_panel(experiment, title="t", a=(0, 3, 1, 2))
"""
RERUN = "panel.run(raise_errors=True);"


def _notebook(reruns: int, plot: bool = True):
    setup = SETUP if plot else SETUP + "panel.controls['a'].value = 0  # print only: quicker\n"
    nb = new_notebook(cells=[new_code_cell(setup)] + [new_code_cell(RERUN) for _ in range(reruns)])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return nb


class _Recording(NotebookClient):
    """nbclient, recording output hooks (each one makes nbclient write to the shell channel)
    and how long each cell took."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.hooks = 0
        self.durations: list[float] = []

    def register_output_hook(self, msg_id, hook):
        self.hooks += 1
        super().register_output_hook(msg_id, hook)

    async def async_execute_cell(self, *args, **kwargs):
        start = time.perf_counter()
        try:
            return await super().async_execute_cell(*args, **kwargs)
        finally:
            self.durations.append(time.perf_counter() - start)


def test_slider_panel_never_makes_nbclient_write_to_the_shell_channel(tmp_path):
    nb = _notebook(reruns=3)
    client = _Recording(nb, timeout=60, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}})
    client.execute()
    assert client.hooks == 0, "an Output widget captured through the front end: nbclient will write to the shell channel"
    state = nb.metadata["widgets"]["application/vnd.jupyter.widget-state+json"]["state"]
    outputs = [m["state"]["outputs"] for m in state.values() if m["model_name"] == "OutputModel"]
    assert outputs and any(o.get("data", {}).get("image/png") for o in outputs[0]), \
        "the panel's output area has no plot"
    assert any(o.get("text") == "a = 2\n" for o in outputs[0])
    assert not any(o.get("outputs") for o in nb.cells[1:]), "panel output leaked into the cells"


def test_many_slider_runs_never_wait_out_the_timeout(tmp_path):
    """Before the fix, 300 such cells with a 5 s timeout stalled for exactly 5 s in 1-6 cells a run
    (measured 4 runs out of 4); a stalled cell shows as one that took the whole timeout."""
    timeout = 8  # each rerun takes milliseconds; a stall takes exactly the timeout
    nb = _notebook(reruns=300, plot=False)
    # the set-up cell imports torch (through course_lib): give it time on a busy machine
    client = _Recording(nb, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}},
                        timeout_func=lambda cell: 300 if "import" in cell.source else timeout)
    client.execute()
    stalled = [(i, round(d, 1)) for i, d in enumerate(client.durations) if i > 0 and d > 0.9 * timeout]
    assert not stalled, f"cells that waited out the {timeout} s timeout (cell, seconds): {stalled}"
