"""The kernel-restart hint: a NameError for a name an earlier cell defines says which cell to run.

In-process (the name finder, the hint, the IPython handler) and with a real kernel started the way
the course starts them (the extension loaded from the kernel configuration that ``install`` writes).
"""
from __future__ import annotations

import os

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from course_lib import restart_help as rh

CELLS = [
    new_markdown_cell("# A toy"),
    new_code_cell("import numpy as np\n%matplotlib inline"),
    new_code_cell("# the table\nQ_toy = np.zeros((16, 4))\ndef greedy(Q):\n    best = Q.argmax(1)\n    return best"),
    new_code_cell("print(Q_toy.sum(), greedy(Q_toy))"),
]
USING_CELL = CELLS[3].source


@pytest.fixture
def notebook_dir(tmp_path, monkeypatch):
    nbformat.write(new_notebook(cells=CELLS), tmp_path / "toy.ipynb")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("JPY_SESSION_NAME", raising=False)
    return tmp_path


def test_defined_names_are_the_top_level_bindings():
    source = ("import numpy as np\nfrom a.b import c as d\nimport os.path\nx, (y, *z) = 1, (2, 3)\n"
              "def f(q):\n    inner = 1\nfor i in range(3):\n    k = i\nwith open(p) as fh:\n    pass\n"
              "if (w := 3):\n    pass\n%matplotlib inline\nclass C:\n    attr = 1\nt: int = 1\nu += 1")
    assert rh.defined_names(source) == {"np", "d", "os", "x", "y", "z", "f", "i", "k", "fh", "w", "C", "t", "u"}
    assert rh.defined_names("def broken(:") == set()


def test_hint_names_the_earlier_cell(notebook_dir):
    text = rh.hint("Q_toy", USING_CELL)
    assert text == ("`Q_toy` is defined in an earlier cell (cell 3, starting 'Q_toy = np.zeros((16, 4))'): "
                    "after a kernel restart, run the cells above first (Run > Run All Above Selected Cell).")
    assert "cell 3" in rh.hint("greedy", USING_CELL)
    assert "cell 2" in rh.hint("np", USING_CELL)


def test_no_hint_for_a_typo_and_a_generic_one_without_a_notebook(notebook_dir, tmp_path_factory, monkeypatch):
    assert rh.hint("Q_typo", USING_CELL) is None  # the notebook is known and nothing defines it
    monkeypatch.chdir(tmp_path_factory.mktemp("empty"))
    assert rh.hint("Q_toy", USING_CELL) == rh.GENERIC


def test_session_path_relative_to_the_server_root(notebook_dir, tmp_path_factory, monkeypatch):
    other = tmp_path_factory.mktemp("other")
    nbformat.write(new_notebook(cells=[new_code_cell("Q_toy = 1")]), other / "other.ipynb")
    # JupyterLab passes the path relative to its root; the kernel runs in the notebook's folder
    monkeypatch.setenv("JPY_SESSION_NAME", f"chapter/{'toy.ipynb'}")
    assert rh.session_notebook() == notebook_dir / "toy.ipynb"
    assert rh.session_notebook({"__session__": str(other / "other.ipynb")}) == other / "other.ipynb"
    assert "cell 1" in rh.hint("Q_toy", None, {"__session__": str(other / "other.ipynb")})


def test_handler_in_an_ipython_shell(notebook_dir, capsys):
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()
    rh.load_ipython_extension(shell)
    try:
        result = shell.run_cell(USING_CELL)
        assert not result.success and isinstance(result.error_in_exec, NameError)
        assert "earlier cell (cell 3" in str(result.error_in_exec)
        result = shell.run_cell("print(no_such_name)")
        assert str(result.error_in_exec) == "name 'no_such_name' is not defined"
        result = shell.run_cell("1 / 0")  # other errors are untouched
        assert isinstance(result.error_in_exec, ZeroDivisionError)
    finally:
        rh.unload_ipython_extension(shell)
    assert shell.custom_exceptions == ()
    captured = capsys.readouterr()
    assert "Custom TB Handler failed" not in captured.out + captured.err


def test_install_is_idempotent_and_keeps_other_settings(tmp_path):
    path = rh.config_path(tmp_path)
    path.parent.mkdir(parents=True)
    path.write_text("c.InteractiveShell.colors = 'nocolor'")
    assert rh.install(tmp_path) == path
    rh.install(tmp_path)
    text = path.read_text()
    assert text.count("extensions.append") == 1 and "colors = 'nocolor'" in text
    rh.uninstall(tmp_path)
    assert path.read_text() == "c.InteractiveShell.colors = 'nocolor'\n"


@pytest.mark.slow
@pytest.mark.parametrize("session", [True, False], ids=["jupyterlab-session", "no-session"])
def test_a_real_kernel_loads_it_at_start(notebook_dir, tmp_path_factory, session):
    """A fresh kernel (no course cell ran) with the configuration ``install`` writes: the NameError
    carries the hint, it is the cell's only output (nothing on stderr), and the reply is an error."""
    from jupyter_client.manager import start_new_kernel

    ipython_dir = tmp_path_factory.mktemp("ipython")
    rh.install(ipython_dir)
    env = dict(os.environ, IPYTHONDIR=str(ipython_dir))
    env.pop("JPY_SESSION_NAME", None)
    if session:
        env["JPY_SESSION_NAME"] = "course/toy.ipynb"
    km, kc = start_new_kernel(kernel_name="python3", cwd=str(notebook_dir), env=env)
    try:
        msg_id = kc.execute(USING_CELL)
        reply = kc.get_shell_msg(timeout=30)
        while reply["parent_header"].get("msg_id") != msg_id:
            reply = kc.get_shell_msg(timeout=30)
        outputs = []
        while True:
            msg = kc.get_iopub_msg(timeout=30)
            if msg["parent_header"].get("msg_id") != msg_id:
                continue
            if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
                break
            if msg["msg_type"] not in ("status", "execute_input"):
                outputs.append(msg)
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
    assert reply["content"]["status"] == "error"
    assert [m["msg_type"] for m in outputs] == ["error"], [m["msg_type"] for m in outputs]
    assert outputs[0]["content"]["ename"] == "NameError"
    assert "defined in an earlier cell (cell 3, starting 'Q_toy = np.zeros((16, 4))')" in outputs[0]["content"]["evalue"]
