"""The course as a student uses it: JupyterLab in headless Chromium, driven by Playwright.

Unit tests and headless execution cannot show that a student sees a working course: widgets need
JupyterLab's widget manager, the nbgrader extension must load, plots must render. These tests start
JupyterLab from the project's environment on a temporary copy of the student release and drive it
in a real browser:

- ``test_chapter_in_jupyterlab[<chapter>]``, for every chapter of ``notebooks/``: open each notebook
  of the chapter as a student who finished it has it (the release with every exercise cell replaced
  by the instructor's solution), run all cells in fast mode (menu Run > Run All Cells), then check:
  no error output (in cells and in widget output areas), no widget that failed to display, at least
  one plot, a plot under every learning-curve cell; where the notebook has a slider panel: moving a
  slider and pressing Run redraws the plot.
- ``test_nbgrader_tools_for_students``: an untouched release notebook shows nbgrader's Validate
  button and the Nbgrader menu (Assignment List); pressing Validate reports the unsolved exercises.

A screenshot of every step is written to ``test-artifacts/browser/<test>/`` (``$COURSE_ARTIFACTS/
browser/`` when that is set) so a person can look at what the student would see.

Needs Chromium (Debian's ``chromium``: browser downloads are blocked; ``.ci/run`` installs it, or set
``COURSE_CHROMIUM`` to a Chromium binary) and Playwright for Python; skipped with the reason where
either is missing.
"""
from __future__ import annotations

import concurrent.futures
import contextlib
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import nbformat
import pytest

from helpers import NOTEBOOKS, REPO, chapters, make_course, nbgrader_meta

# ---------------------------------------------------------------------------------------------------
# What is needed, and the reason to skip when it is missing
# ---------------------------------------------------------------------------------------------------

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--no-first-run"]


def _find_chromium() -> str | None:
    explicit = os.environ.get("COURSE_CHROMIUM")
    if explicit:
        return explicit if os.access(explicit, os.X_OK) else None
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    return "/usr/bin/chromium" if os.access("/usr/bin/chromium", os.X_OK) else None


def _skip_reason() -> str | None:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright for Python is not installed (pip install playwright; no browser download needed)"
    try:
        import jupyterlab  # noqa: F401
    except ImportError:
        return "JupyterLab is not installed in this environment"
    if _find_chromium() is None:
        return ("no Chromium browser installed (Debian/Ubuntu: apt-get install chromium, as .ci/run "
                "does; or set COURSE_CHROMIUM=/path/to/chromium)")
    return None


CHROMIUM = _find_chromium()
SKIP_REASON = _skip_reason()
pytestmark = [pytest.mark.browser, pytest.mark.slow,
              pytest.mark.skipif(SKIP_REASON is not None, reason=SKIP_REASON or "")]

CHAPTERS = chapters()
ARTIFACTS = Path(os.environ["COURSE_ARTIFACTS"]) / "browser" if os.environ.get("COURSE_ARTIFACTS") \
    else REPO / "test-artifacts" / "browser"

# Generous waits: the machine may be shared and slow. A quiet run takes far less.
SERVER_START_S = 120
OPEN_S = 120        # open a notebook, start its kernel, get an answer from it
RUN_ALL_S = 300     # run a whole notebook in fast mode ("well under a minute" by design)
WIDGET_RUN_S = 120  # one slider-panel run
VALIDATE_S = 300    # nbgrader validate of a whole notebook, on the server

SLIDER_CALLS = ("slider_panel(", "SliderPanel(")


# course_lib's functions that draw learning curves (plots and diagnostics of runs)
LEARNING_CURVE_PLOTS = {"plot_learning_curves", "plot_runs", "plot_diagnostics"}


def draws_learning_curve(source: str) -> bool:
    """Whether a cell itself (not a function it defines) calls one of LEARNING_CURVE_PLOTS or makes a
    ``TrainingLogger`` with its live curve on: such a cell must show a plot after it runs."""
    import ast

    code = "\n".join("" if line.lstrip().startswith(("%", "!")) else line for line in source.splitlines())
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return False

    def called(node: ast.Call) -> str | None:
        f = node.func
        return f.id if isinstance(f, ast.Name) else f.attr if isinstance(f, ast.Attribute) else None

    def visit(node) -> bool:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
                continue
            if isinstance(child, ast.Call):
                name = called(child)
                if name in LEARNING_CURVE_PLOTS:
                    return True
                if name == "TrainingLogger" and not any(
                        kw.arg == "live_plot" and isinstance(kw.value, ast.Constant) and not kw.value.value
                        for kw in child.keywords):
                    return True
            if visit(child):
                return True
        return False

    return visit(tree)


# ---------------------------------------------------------------------------------------------------
# The served course: a temporary student release, and a finished copy of it
# ---------------------------------------------------------------------------------------------------

def strip_solution_markers(source: str) -> str:
    return "\n".join(line for line in source.splitlines()
                     if line.strip() not in ("### BEGIN SOLUTION", "### END SOLUTION"))


def finished(release_nb: Path, source_nb: Path) -> nbformat.NotebookNode:
    """The release notebook with each exercise cell replaced by the instructor's solution cell of the
    same grade id, markers removed: what a student who finished the chapter has."""
    nb = nbformat.read(release_nb, as_version=4)
    solutions = {nbgrader_meta(c)["grade_id"]: strip_solution_markers(c.source)
                 for c in nbformat.read(source_nb, as_version=4).cells
                 if nbgrader_meta(c).get("solution") and nbgrader_meta(c).get("grade_id")}
    for cell in nb.cells:
        gid = nbgrader_meta(cell).get("grade_id")
        if nbgrader_meta(cell).get("solution") and gid in solutions:
            cell.source = solutions[gid]
    missing = {nbgrader_meta(c).get("grade_id") for c in nb.cells
               if nbgrader_meta(c).get("solution")} - set(solutions)
    assert not missing, f"{release_nb.name}: no solution in the source for exercise cells {sorted(missing)}"
    return nb


def build_release(base: Path, chapter: str) -> Path:
    """The student release of one chapter in its own temporary course root (the real nbgrader:
    ``python -m nbgrader generate_assignment``, as ``python -m autograder release`` runs it)."""
    from autograder import course

    root = make_course(base / chapter, chapter)
    course.release(root, [chapter])
    return root / "release" / chapter


def serve_chapter(served: Path, chapter: str, release: Path) -> None:
    """``served/release/<chapter>/``: the untouched release; ``served/finished/<chapter>/``: the
    release with every exercise solved."""
    shutil.copytree(release, served / "release" / chapter)
    shutil.copytree(release, served / "finished" / chapter)
    for path in sorted((served / "finished" / chapter).glob("*.ipynb")):
        nbformat.write(finished(path, NOTEBOOKS / chapter / path.name), path)


# ---------------------------------------------------------------------------------------------------
# JupyterLab
# ---------------------------------------------------------------------------------------------------

class Lab:
    """A running JupyterLab: its address and token, the served folder, the log, and the chapters
    whose release is being built in the background."""

    def __init__(self, proc: subprocess.Popen, port: int, token: str, root: Path, log: Path,
                 builds: dict[str, concurrent.futures.Future]):
        self.proc, self.port, self.token, self.root, self.log = proc, port, token, root, log
        self.base = f"http://127.0.0.1:{port}"
        self._builds, self._served = builds, set()

    def chapter(self, chapter: str) -> None:
        """Wait for the release of ``chapter`` and put it under ``release/`` and ``finished/``."""
        if chapter not in self._served:
            if chapter not in self._builds:
                pytest.fail(f"the release of {chapter} was not built for this session")
            start = time.perf_counter()
            serve_chapter(self.root, chapter, self._builds[chapter].result(timeout=600))
            self._served.add(chapter)
            print(f"release of {chapter} ready (waited {time.perf_counter() - start:.1f} s)")

    def url(self, path: str = "") -> str:
        return f"{self.base}/lab/tree/{path}?token={self.token}&reset"

    def log_tail(self, n: int = 4000) -> str:
        try:
            return self.log.read_text(errors="replace")[-n:]
        except OSError:
            return ""

    def api_ok(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.base}/api/status?token={self.token}", timeout=5) as r:
                return r.status == 200
        except (OSError, urllib.error.URLError):
            return False


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _write_settings(settings_dir: Path) -> None:
    """User settings of the test server: start the kernel without asking, keep every cell in the DOM,
    no news or update checks (no network, no pop-ups over the screenshots)."""
    settings = {
        "@jupyterlab/notebook-extension/tracker": {"autoStartDefaultKernel": True, "windowingMode": "none"},
        "@jupyterlab/apputils-extension/notification": {"fetchNews": "false", "checkForUpdates": False},
        "@jupyterlab/docmanager-extension/plugin": {"autosave": False},
    }
    for plugin, values in settings.items():
        path = settings_dir / f"{plugin}.jupyterlab-settings"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values, indent=2))


def _descendants(pid: int) -> list:
    try:
        import psutil
        return psutil.Process(pid).children(recursive=True)
    except Exception:  # psutil missing, or the process is gone
        return []


def _stop(proc: subprocess.Popen, lab: Lab | None) -> None:
    """Stop the server and everything it started: ask it to shut down (it stops its kernels), then
    SIGTERM its process group, then SIGKILL whatever is left (kernels run in their own sessions)."""
    children = _descendants(proc.pid)
    if lab is not None and proc.poll() is None:
        try:
            req = urllib.request.Request(f"{lab.base}/api/shutdown?token={lab.token}", method="POST")
            urllib.request.urlopen(req, timeout=10).close()
            proc.wait(timeout=15)
        except Exception:
            pass
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=10)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            pass
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait(timeout=10)
    for child in children:  # kernels (own process groups) that outlived the server
        try:
            if child.is_running():
                try:
                    os.killpg(child.pid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    child.kill()
        except Exception:
            pass


def _chapters_needed(request) -> list[str]:
    """The chapters that the selected tests of this module open (all of them, unless -k says less)."""
    wanted = set()
    for item in request.session.items:
        if item.module is not request.module:
            continue
        params = getattr(getattr(item, "callspec", None), "params", {})
        if "chapter" in params:
            wanted.add(params["chapter"])
        elif item.originalname == "test_nbgrader_tools_for_students" and CHAPTERS:
            wanted.add(CHAPTERS[0])
    return [c for c in CHAPTERS if c in wanted]


@contextlib.contextmanager
def launch_lab(tmp: Path, served: Path, builds: dict | None = None, config_dir: Path | None = None,
               extra_env: dict[str, str] | None = None):
    """JupyterLab from this environment (free port, token, temporary data, settings, runtime and
    workspace directories, kernels in fast mode) on ``served``; ``config_dir`` is its
    ``JUPYTER_CONFIG_DIR`` (a fresh one if not given: every tool enabled). Stopped afterwards,
    whatever happens."""
    dirs = {name: tmp / name for name in ("config", "data", "runtime", "settings", "workspaces", "ipython")}
    for d in dirs.values():
        d.mkdir(parents=True, exist_ok=True)
    _write_settings(dirs["settings"])
    env = dict(os.environ)
    for var in ("MPLBACKEND", "COURSE_REFERENCE_DIR", "NBGRADER_EXECUTION", "JUPYTER_PATH",
                "JUPYTER_CONFIG_PATH", "JUPYTER_TOKEN", "JUPYTER_PREFER_ENV_PATH"):
        env.pop(var, None)  # a student's kernel has none of these (the tests set MPLBACKEND=Agg)
    env.update({
        "COURSE_FAST": "1",
        "PATH": str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", ""),
        "JUPYTER_CONFIG_DIR": str(config_dir or dirs["config"]),
        "JUPYTER_DATA_DIR": str(dirs["data"]),
        "JUPYTER_RUNTIME_DIR": str(dirs["runtime"]),
        "JUPYTERLAB_SETTINGS_DIR": str(dirs["settings"]),
        "JUPYTERLAB_WORKSPACES_DIR": str(dirs["workspaces"]),
        "IPYTHONDIR": str(dirs["ipython"]),
        "PYTHONUNBUFFERED": "1",
        **(extra_env or {}),
    })
    token, port = secrets.token_hex(16), _free_port()
    log = tmp / "jupyterlab.log"
    cmd = [sys.executable, "-m", "jupyter", "lab", "--no-browser", "--allow-root",
           "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}", "--ServerApp.port_retries=0",
           f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={served}",
           "--LabApp.expose_app_in_browser=True", "--LabApp.news_url=",
           f"--LabApp.workspaces_dir={dirs['workspaces']}"]
    proc, server = None, None
    start = time.perf_counter()
    try:
        with open(log, "wb") as fh:
            proc = subprocess.Popen(cmd, cwd=served, env=env, stdout=fh, stderr=subprocess.STDOUT,
                                    stdin=subprocess.DEVNULL, start_new_session=True)
        server = Lab(proc, port, token, served, log, builds or {})
        while not server.api_ok():
            if proc.poll() is not None:
                pytest.fail(f"JupyterLab exited with code {proc.returncode}:\n{server.log_tail()}")
            if time.perf_counter() - start > SERVER_START_S:
                pytest.fail(f"JupyterLab did not answer within {SERVER_START_S} s:\n{server.log_tail()}")
            time.sleep(0.3)
        print(f"JupyterLab up on port {port} in {time.perf_counter() - start:.1f} s")
        yield server
    finally:
        if proc is not None:
            _stop(proc, server)


@pytest.fixture(scope="module")
def lab(request, tmp_path_factory):
    """JupyterLab on a temporary ``served/`` folder; the student release of each chapter is built in
    the background meanwhile (``Lab.chapter`` waits for one)."""
    tmp = tmp_path_factory.mktemp("jupyterlab")
    served = tmp / "served"
    served.mkdir()
    pool = concurrent.futures.ThreadPoolExecutor(max(1, min(len(CHAPTERS), os.cpu_count() or 2)))
    try:
        builds = {c: pool.submit(build_release, tmp / "build", c) for c in _chapters_needed(request)}
        with launch_lab(tmp, served, builds) as server:
            yield server
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


# ---------------------------------------------------------------------------------------------------
# The browser
# ---------------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture(scope="module")
def tab(browser):
    """One browser tab for the module: JupyterLab loads once, each notebook opens in it (a fresh
    load when the page is not in a clean state)."""
    context = browser.new_context(viewport={"width": 1400, "height": 950}, device_scale_factor=1)
    context.set_default_timeout(30_000)
    pg = context.new_page()
    pg.console_errors = []  # shown when a test fails: JavaScript errors of the page
    pg.on("pageerror", lambda exc: pg.console_errors.append(f"page error: {exc}"))
    pg.on("console", lambda msg: pg.console_errors.append(f"console {msg.type}: {msg.text[:300]}")
          if msg.type == "error" else None)
    try:
        yield pg
    finally:
        context.close()


@pytest.fixture
def page(tab):
    tab.console_errors.clear()
    return tab


class Shots:
    """Numbered screenshots of one test in ``ARTIFACTS/<test>/``."""

    def __init__(self, name: str):
        self.dir = ARTIFACTS / re.sub(r"[^\w.-]+", "_", name)
        shutil.rmtree(self.dir, ignore_errors=True)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.n = 0
        self.paths: list[Path] = []

    def take(self, target, label: str) -> Path:
        """Screenshot of a page (the viewport) or of an element (a locator). An element taller than
        the viewport is scrolled to and the viewport taken (Chromium renders such elements badly)."""
        self.n += 1
        path = self.dir / f"{self.n:02d}-{label}.png"
        if hasattr(target, "viewport_size"):  # a page
            target.screenshot(path=str(path))
        else:
            target.scroll_into_view_if_needed()
            box, view = target.bounding_box(), target.page.viewport_size
            if box and box["height"] > view["height"] - 40:
                target.page.screenshot(path=str(path))
            else:
                target.screenshot(path=str(path))
        self.paths.append(path)
        return path


@pytest.fixture
def shots(request) -> Shots:
    name = request.node.name
    callspec = getattr(request.node, "callspec", None)
    if callspec is not None and "chapter" in callspec.params:
        name = f"chapter-{callspec.params['chapter']}"
    return Shots(name.removeprefix("test_"))


# ---------------------------------------------------------------------------------------------------
# Driving JupyterLab
# ---------------------------------------------------------------------------------------------------

# The notebook panel of a path, found through the app that --LabApp.expose_app_in_browser exposes.
JS_PANEL = """(path) => {
  const app = window.jupyterapp;
  if (!app) return null;
  for (const w of app.shell.widgets('main')) {
    if (w.context && w.context.path === path && w.content && w.sessionContext) return w;
  }
  return null;
}"""


def _js(body: str, sync: bool = False) -> str:
    """A page function of ``path`` with ``panel`` bound; async unless ``sync`` (a predicate for
    wait_for_function must return its answer, not a promise, which is always truthy)."""
    head = "(path) =>" if sync else "async (path) =>"
    return f"{head} {{ const findPanel = {JS_PANEL}; const panel = findPanel(path); {body} }}"


def _close_documents(page, keep: str | None = None) -> None:
    """Close every widget of the main area but the document ``keep``, without asking (the kernels
    of the notebooks were shut down)."""
    page.evaluate("""(keep) => {
      for (const w of Array.from(window.jupyterapp.shell.widgets('main'))) {
        if (keep !== null && w.context && w.context.path === keep) continue;
        if (w.context && w.context.model) w.context.model.dirty = false;
        w.dispose();
      }
    }""", keep)


def open_notebook(page, lab: Lab, path: str) -> None:
    """Open ``path`` in JupyterLab and wait until its kernel answers a kernel-info request.

    In a JupyterLab already loaded in this tab, with no dialog open, the open documents are closed
    and the notebook opened from the app (File > Open does the same); otherwise the page loads
    ``/lab/tree/<path>`` afresh."""
    reuse = (page.url.startswith(lab.base) and page.locator(".jp-Dialog").count() == 0
             and page.evaluate("() => !!(window.jupyterapp && window.jupyterapp.shell)"))
    if reuse:
        try:
            if page.evaluate(f"(path) => !!({JS_PANEL})(path)", path):
                _close_documents(page)  # open already (and maybe without a kernel): open it anew
            page.evaluate("(path) => { window.jupyterapp.commands.execute('docmanager:open', "
                          "{path, factory: 'Notebook'}); }", path)
            page.wait_for_function(f"(path) => !!({JS_PANEL})(path)", arg=path, timeout=30_000)
            _close_documents(page, keep=path)  # the documents of the previous test, after: no Launcher
        except Exception as exc:
            print(f"reopening JupyterLab afresh ({type(exc).__name__})")
            reuse = False
    if not reuse:
        page.goto(lab.url(path), wait_until="domcontentloaded", timeout=OPEN_S * 1000)
        page.wait_for_function(f"(path) => !!({JS_PANEL})(path)", arg=path, timeout=OPEN_S * 1000)
        page.evaluate("() => window.jupyterapp.shell.collapseLeft()")  # more room for the notebook
    page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook .jp-Cell").first.wait_for(
        timeout=OPEN_S * 1000)
    status = page.evaluate(_js("""
      await panel.context.ready;
      await panel.sessionContext.ready;
      const deadline = Date.now() + %d;
      const sleep = (ms) => new Promise(r => setTimeout(r, ms));
      let last = 'no kernel was started';
      while (Date.now() < deadline) {
        const kernel = panel.sessionContext.session && panel.sessionContext.session.kernel;
        if (kernel && kernel.connectionStatus === 'connected') {
          try {
            const reply = await kernel.requestKernelInfo();
            if (reply && reply.content.status === 'ok') return 'ok';
            last = 'kernel_info reply: ' + JSON.stringify(reply && reply.content);
          } catch (err) { last = String(err); }
        } else if (kernel) { last = 'kernel connection: ' + kernel.connectionStatus; }
        await sleep(250);
      }
      return last;
    """ % (OPEN_S * 1000)), path)
    assert status == "ok", f"kernel of {path} did not answer kernel_info: {status}"


def run_all_cells(page, path: str) -> float:
    """Run > Run All Cells from the menu bar, then wait until every cell has run (or one raised)
    and the kernel is idle. Returns the seconds it took."""
    start = time.perf_counter()
    page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(r"^Run$")).click()
    page.locator(".lm-Menu-itemLabel", has_text=re.compile(r"^Run All Cells$")).click()
    page.wait_for_function(_js("""
      if (!panel) return false;
      const kernel = panel.sessionContext.session && panel.sessionContext.session.kernel;
      if (!kernel || kernel.status !== 'idle') return false;
      let ran = 0, code = 0, error = false;
      for (const cell of panel.content.widgets) {
        if (cell.model.type !== 'code') continue;
        code += 1;
        const prompt = cell.node.querySelector('.jp-InputPrompt');
        if (prompt && prompt.textContent.includes('*')) return false;
        if (cell.model.executionCount) ran += 1;
        for (const out of cell.model.outputs.toJSON()) if (out.output_type === 'error') error = true;
      }
      return code > 0 && (ran === code || (error && ran > 0));
    """, sync=True), arg=path, timeout=RUN_ALL_S * 1000, polling=500)
    return time.perf_counter() - start


def notebook_report(page, path: str) -> list[dict]:
    """Per cell: type, execution count, error outputs, stderr text, images shown, widget failures."""
    return page.evaluate(_js("""
      const report = [];
      for (const cell of panel.content.widgets) {
        const entry = {type: cell.model.type, count: null, errors: [], stderr: [], images: 0,
                       widget_errors: [], widget_tracebacks: []};
        if (cell.model.type === 'code') {
          entry.count = cell.model.executionCount;
          for (const out of cell.model.outputs.toJSON()) {
            if (out.output_type === 'error') entry.errors.push(out.ename + ': ' + out.evalue);
            if (out.output_type === 'stream' && out.name === 'stderr')
              entry.stderr.push(String(out.text).slice(0, 300));
          }
          const area = cell.node.querySelector('.jp-Cell-outputArea');
          if (area) {
            entry.images = area.querySelectorAll('.jp-OutputArea-output img').length;
            const text = area.innerText || '';
            for (const m of text.matchAll(/Error displaying widget[^\\n]*/g)) entry.widget_errors.push(m[0]);
            // errors raised inside widget output areas (e.g. a slider panel) are not in the model
            const stderr = '.widget-output [data-mime-type="application/vnd.jupyter.stderr"]';
            for (const el of area.querySelectorAll(stderr)) {
              const t = el.innerText || '';
              if (/Traceback|Error/.test(t)) entry.widget_tracebacks.push(t.slice(0, 300));
            }
          }
        }
        report.push(entry);
      }
      return report;
    """), path)


def shutdown_kernel(page, path: str) -> None:
    """Shut the notebook's kernel down (waits at most 30 s; never raises)."""
    try:
        page.evaluate(_js("""
          if (!panel) return;
          await Promise.race([panel.sessionContext.shutdown(), new Promise(r => setTimeout(r, 30000))]);
        """), path)
    except Exception:
        pass


def visible_notebook(page):
    """The notebook panel on screen (a locator)."""
    return page.locator(".jp-NotebookPanel:not(.lm-mod-hidden)").first


def cell_locator(page, index: int):
    return page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook .jp-Cell").nth(index)


def _wait_until(predicate, timeout: float, what: str, interval: float = 0.25):
    deadline = time.perf_counter() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.perf_counter() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)


def check_slider_panel(page, shots: Shots, label: str) -> None:
    """Move the first slider of the first slider panel with the keyboard, press Run, and check that
    the panel's plot is redrawn (the <img> in its output area gets a new src)."""
    nb = visible_notebook(page)
    panel = (nb.locator(".widget-vbox")
             .filter(has=page.locator(".widget-slider"))
             .filter(has=page.locator("button", has_text=re.compile(r"^\s*Run\s*$"))).first)
    panel.wait_for(timeout=30_000)
    image = panel.locator(".widget-output img").first
    image.wait_for(timeout=WIDGET_RUN_S * 1000)
    panel.scroll_into_view_if_needed()
    shots.take(panel, f"{label}-slider-panel-before")
    old_src = image.get_attribute("src")

    slider = panel.locator(".widget-slider").first
    readout = slider.locator(".widget-readout")
    old_value = readout.inner_text().strip()
    handle = slider.locator(".noUi-handle").first
    handle.focus()
    for _ in range(3):
        page.keyboard.press("ArrowRight")
    try:
        new_value = _wait_until(lambda: (v := readout.inner_text().strip()) != old_value and v,
                                3, "the slider to move right")
    except AssertionError:  # at its maximum: move it left instead
        for _ in range(3):
            page.keyboard.press("ArrowLeft")
        new_value = _wait_until(lambda: (v := readout.inner_text().strip()) != old_value and v,
                                10, f"the slider readout to change from {old_value} (arrow keys on its handle)")
    shots.take(panel, f"{label}-slider-moved")

    status = panel.locator(".course-slider-status").first  # the panel's own status line
    panel.locator("button", has_text=re.compile(r"^\s*Run\s*$")).first.click()

    def finished_run():
        text = status.inner_text().strip()
        if "done" in text and image.count() and image.get_attribute("src") not in (None, old_src):
            return "redrawn"
        if text and "done" not in text and "running" not in text:
            return f"failed: {text}"  # the panel shows the exception in its status line
        return None

    outcome = _wait_until(finished_run, WIDGET_RUN_S, "the slider panel to redraw its plot after Run")
    assert outcome == "redrawn", f"the slider panel run {outcome}"
    page.wait_for_timeout(300)  # let the new image paint before the screenshot
    shots.take(panel, f"{label}-slider-panel-after-run")
    tracebacks = panel.locator('.widget-output [data-mime-type="application/vnd.jupyter.stderr"]')
    assert tracebacks.count() == 0, f"the slider panel run raised:\n{tracebacks.first.inner_text()[:500]}"
    print(f"slider {old_value} -> {new_value}: plot redrawn ({status.inner_text().strip()})")


def _fail_context(page, lab: Lab) -> str:
    """The page's JavaScript errors and the server's warnings and errors, for a failure message."""
    errors = "\n".join(getattr(page, "console_errors", [])[-10:]) or "(none)"
    warnings = [line for line in lab.log_tail(200_000).splitlines()
                if line.startswith(("[E ", "[W ", "[C ")) and "is not trusted" not in line
                and "websocket_ping_timeout" not in line]
    return (f"\n--- browser errors (last 10) ---\n{errors}\n--- JupyterLab warnings and errors (last 10) ---\n"
            + ("\n".join(w[:300] for w in warnings[-10:]) or "(none)"))


# ---------------------------------------------------------------------------------------------------
# The tests
# ---------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("chapter", CHAPTERS)
def test_chapter_in_jupyterlab(chapter, lab, page, shots):
    """Open each notebook of a finished chapter, run all cells in fast mode, check what a student sees."""
    lab.chapter(chapter)
    notebooks = sorted((lab.root / "finished" / chapter).glob("*.ipynb"))
    assert notebooks, f"the release of {chapter} has no notebook"
    for nb_path in notebooks:
        path = f"finished/{chapter}/{nb_path.name}"
        label = nb_path.stem
        cells = nbformat.read(nb_path, as_version=4).cells
        t0 = time.perf_counter()
        try:
            open_notebook(page, lab, path)
            t_open = time.perf_counter() - t0
            shots.take(page, f"{label}-opened")
            t_run = run_all_cells(page, path)
            report = notebook_report(page, path)
            assert len(report) == len(cells), f"{path}: {len(report)} cells shown, {len(cells)} in the file"

            # the top (doctor, fast mode) and the end of the notebook as the student sees them
            cell_locator(page, 0).scroll_into_view_if_needed()
            shots.take(page, f"{label}-ran-all-top")
            cell_locator(page, len(cells) - 1).scroll_into_view_if_needed()
            shots.take(page, f"{label}-ran-all-end")

            problems, not_run = [], []
            for i, (cell, entry) in enumerate(zip(cells, report)):
                where = f"cell {i} ({nbgrader_meta(cell).get('grade_id', '-')})"
                problems += [f"{where}: {e}" for e in entry["errors"]]
                problems += [f"{where}: {e}" for e in entry["widget_errors"]]
                problems += [f"{where}: error in a widget output: {e}" for e in entry["widget_tracebacks"]]
                if cell.cell_type == "code" and cell.source.strip() and not entry["count"]:
                    not_run.append(i)
            if not_run:
                problems.append(f"{len(not_run)} code cell(s) did not run: {not_run}")
            failing = [i for i, e in enumerate(report)
                       if e["errors"] or e["widget_errors"] or e["widget_tracebacks"]]
            if failing:  # the end of the first traceback, as the student sees it
                cell = cell_locator(page, failing[0])
                outputs = cell.locator('.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]')
                (outputs.last if outputs.count() else cell).scroll_into_view_if_needed()
                shots.take(page, f"{label}-first-error")
            assert not problems, (f"{path}: errors after Run All:\n" + "\n".join(problems)
                                  + _fail_context(page, lab))
            stderr = [f"cell {i}: {s}" for i, e in enumerate(report) for s in e["stderr"]]
            if stderr:
                print(f"{path}: stderr output (not an error):\n" + "\n".join(stderr))

            # plots: at least one image, and one under every cell that draws a learning curve
            images = sum(e["images"] for e in report)
            assert images >= 1, f"{path}: no plot is shown after Run All"
            curves = [i for i, c in enumerate(cells)
                      if c.cell_type == "code" and draws_learning_curve(c.source)]
            missing = [i for i in curves if report[i]["images"] < 1]
            assert not missing, f"{path}: learning-curve cells {missing} show no plot"
            for i in curves[:2]:
                shots.take(cell_locator(page, i), f"{label}-learning-curve-cell{i}")

            # sliders: a student moves one and presses Run; the plot must change
            if any(c.cell_type == "code" and any(call in c.source for call in SLIDER_CALLS) for c in cells):
                check_slider_panel(page, shots, label)
            print(f"{path}: opened in {t_open:.1f} s, ran all in {t_run:.1f} s, {images} image(s), "
                  f"{len(curves)} learning-curve cell(s); total {time.perf_counter() - t0:.1f} s")
        except Exception:
            try:
                shots.take(page, f"{label}-failure")
            except Exception:
                pass
            raise
        finally:
            shutdown_kernel(page, path)
    assert any(c.cell_type == "code" and draws_learning_curve(c.source)
               for p in notebooks for c in nbformat.read(p, as_version=4).cells), \
        f"{chapter}: no cell draws a learning curve (plot_learning_curves, plot_runs, plot_diagnostics, or a TrainingLogger with live_plot)"


def test_nbgrader_tools_for_students(lab, page, shots):
    """An untouched release notebook: nbgrader's Validate button and Nbgrader menu are there, and
    Validate reports the exercises that are not done yet."""
    assert CHAPTERS, "no chapter in notebooks/"
    chapter = CHAPTERS[0]
    lab.chapter(chapter)
    nb_path = sorted((lab.root / "release" / chapter).glob("*.ipynb"))[0]
    path = f"release/{chapter}/{nb_path.name}"
    try:
        open_notebook(page, lab, path)
        toolbar = visible_notebook(page).locator(".jp-NotebookPanel-toolbar")
        validate = toolbar.locator(".validate-button")
        validate.wait_for(timeout=30_000)
        assert "Validate" in validate.inner_text(), f"Validate button shows {validate.inner_text()!r}"
        cells = nbformat.read(nb_path, as_version=4).cells
        stub = next((i for i, c in enumerate(cells)
                     if c.cell_type == "code" and nbgrader_meta(c).get("solution")), 0)
        # the first exercise as the student gets it, in the middle of the screen
        cell_locator(page, stub).evaluate("el => el.scrollIntoView({block: 'center'})")
        assert "NotImplementedError" in cell_locator(page, stub).inner_text(), \
            f"{path}: the first exercise cell is not a stub"
        shots.take(page, "release-notebook-exercise-and-validate-button")

        page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(r"^Nbgrader$")).click()
        item = page.locator(".lm-Menu-itemLabel", has_text="Assignment List")
        menu = page.locator(".lm-Menu").filter(has=item)
        menu.wait_for(timeout=10_000)
        shots.take(page, "nbgrader-menu")
        page.keyboard.press("Escape")
        menu.wait_for(state="hidden", timeout=10_000)
        # Validate: saves the notebook, then nbgrader validates it on the server (fast mode)
        t0 = time.perf_counter()
        validate.locator("jp-button, button").first.click()
        message = page.locator(".jp-Dialog #validation-message")
        message.wait_for(timeout=VALIDATE_S * 1000)
        seconds = time.perf_counter() - t0
        page.wait_for_timeout(300)
        shots.take(page, "validate-result")
        classes = message.get_attribute("class") or ""
        text = message.inner_text()
        assert "validation-failed" in classes, f"Validate on the untouched release: {classes}\n{text[:1000]}"
        assert "NotImplementedError" in text, f"Validate did not name the unsolved exercises:\n{text[:1000]}"
        print(f"Validate on the untouched release took {seconds:.1f} s: "
              f"{text.count('The following cell failed')} failing cell(s) reported")
        page.locator(".jp-Dialog .jp-mod-accept").first.click()
    except Exception:
        try:
            shots.take(page, "failure")
        except Exception:
            pass
        raise
    finally:
        shutdown_kernel(page, path)


# ---------------------------------------------------------------------------------------------------
# A student's week, and the instructor's side of it
# ---------------------------------------------------------------------------------------------------

def _commands(page, names: list[str]) -> dict[str, bool]:
    return page.evaluate("(names) => Object.fromEntries(names.map("
                         "n => [n, window.jupyterapp.commands.hasCommand(n)]))", names)


NBGRADER_COMMANDS = ["nbgrader:open-assignment-list", "nbgrader:open-formgrader", "nbgrader:open-create-assignment"]


def test_a_students_week(browser, tmp_path, monkeypatch):
    """Start the course, solve a chapter in the student's JupyterLab, restart the course (every
    command that used to wipe the work), find it still solved, Validate, Submit from the Assignment
    List; the instructor collects, grades and releases feedback; the student fetches and reads it.
    The student's JupyterLab has Validate and the Assignment List, not the Formgrader nor Create
    Assignment; the instructor's has everything."""
    from autograder import course, workspace

    monkeypatch.delenv("COURSE_EXCHANGE", raising=False)
    monkeypatch.delenv("COURSE_WORKSPACE", raising=False)
    shots = Shots("students-week")
    chapter = CHAPTERS[0]
    root = make_course(tmp_path, chapter)
    ws = workspace.prepare_student(root)                      # ./course start, before JupyterLab opens
    name = sorted((ws / chapter).glob("*.ipynb"))[0].name
    path = f"{chapter}/{name}"
    answers = {nbgrader_meta(c)["grade_id"]: strip_solution_markers(c.source)
               for c in nbformat.read(NOTEBOOKS / chapter / name, as_version=4).cells
               if nbgrader_meta(c).get("solution")}
    context = browser.new_context(viewport={"width": 1400, "height": 950})
    context.set_default_timeout(30_000)
    page = context.new_page()
    config = workspace.student_config_dir(root)
    try:
        with launch_lab(tmp_path / "lab-monday", ws, config_dir=config) as lab:
            open_notebook(page, lab, path)
            assert _commands(page, NBGRADER_COMMANDS) == {
                "nbgrader:open-assignment-list": True, "nbgrader:open-formgrader": False,
                "nbgrader:open-create-assignment": False}, "the student's JupyterLab shows instructor tools"
            page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(r"^Nbgrader$")).click()
            page.locator(".lm-Menu-itemLabel", has_text="Assignment List").wait_for()
            shots.take(page, "student-nbgrader-menu-without-formgrader")
            page.keyboard.press("Escape")
            # Solve: type each answer into its exercise cell (through the editor's model), then save.
            solved = page.evaluate(_js("""
              const answers = %s;
              let n = 0;
              for (const cell of panel.content.widgets) {
                const meta = cell.model.getMetadata('nbgrader') || {};
                if (meta.solution && answers[meta.grade_id] !== undefined) {
                  cell.model.sharedModel.setSource(answers[meta.grade_id]); n += 1;
                }
              }
              await panel.context.save();
              return n;
            """ % json.dumps(answers)), path)
            assert solved == len(answers)
            shots.take(page, "solved-and-saved")
            shutdown_kernel(page, path)

        # Restart the course, and everything else that used to rebuild the student's folder.
        workspace.prepare_student(root)
        course.release(root)
        workspace.publish(root)
        assert workspace.has_student_work(ws / chapter / name)

        with launch_lab(tmp_path / "lab-tuesday", ws, config_dir=config) as lab:
            open_notebook(page, lab, path)
            first = next(i for i, c in enumerate(nbformat.read(ws / chapter / name, as_version=4).cells)
                         if nbgrader_meta(c).get("solution"))
            cell_locator(page, first).evaluate("el => el.scrollIntoView({block: 'center'})")
            text = cell_locator(page, first).inner_text()
            assert "NotImplementedError" not in text, "the solved exercise came back as a stub"
            shots.take(page, "after-restart-still-solved")

            validate = visible_notebook(page).locator(".jp-NotebookPanel-toolbar .validate-button")
            validate.locator("jp-button, button").first.click()
            message = page.locator(".jp-Dialog #validation-message")
            message.wait_for(timeout=VALIDATE_S * 1000)
            page.wait_for_timeout(300)
            shots.take(page, "validate-passes")
            assert "Success" in message.inner_text(), message.inner_text()[:1000]
            page.locator(".jp-Dialog .jp-mod-accept").first.click()
            shutdown_kernel(page, path)

            page.evaluate("() => window.jupyterapp.commands.execute('nbgrader:open-assignment-list')")
            fetched = page.locator("#fetched_assignments_list")
            fetched.get_by_text(chapter).first.wait_for(timeout=60_000)
            shots.take(page, "assignment-list")
            fetched.locator("button", has_text=re.compile(r"^\s*Submit\s*$")).first.click()
            page.locator("#submitted_assignments_list").get_by_text(chapter).first.wait_for(timeout=60_000)
            shots.take(page, "submitted")

            # The instructor's side: collect, grade, release feedback (the README's commands).
            for args in (["collect"], ["grade", "--csv", str(root / "grades.csv")], ["feedback"]):
                run = subprocess.run([sys.executable, "-m", "autograder", "--root", str(root), *args],
                                     capture_output=True, text=True, timeout=600)
                assert run.returncode == 0, run.stdout + run.stderr[-2000:]
                print(run.stdout)
            assert " 100 / 100" in (root / "grades.csv").read_text().replace(",100,100,", " 100 / 100"), \
                (root / "grades.csv").read_text()

            page.locator("#refresh_assignments_list").click()
            fetch_feedback = page.locator("button", has_text="Fetch Feedback").first
            fetch_feedback.wait_for(timeout=60_000)
            fetch_feedback.click()
            pages = _wait_until(lambda: list((ws / chapter / "feedback").glob(f"*/{name[:-6]}.html")),
                                60, "the feedback file in the workspace")
            shots.take(page, "feedback-fetched")
            feedback_path = pages[0].relative_to(ws).as_posix()
            page.evaluate("(p) => window.jupyterapp.commands.execute('docmanager:open', {path: p})",
                          feedback_path)
            frame = page.frame_locator("iframe").first
            frame.get_by_text("Score").first.wait_for(timeout=30_000)
            page.wait_for_timeout(500)
            shots.take(page, "feedback-read")
            html = pages[0].read_text()
            assert "BEGIN HIDDEN TESTS" not in html and "load_reference" not in html

        with launch_lab(tmp_path / "lab-instructor", root) as lab:
            page.goto(f"{lab.base}/lab?token={lab.token}&reset", wait_until="domcontentloaded",
                      timeout=OPEN_S * 1000)
            page.wait_for_function("() => !!(window.jupyterapp && window.jupyterapp.commands"
                                   " && window.jupyterapp.commands.hasCommand('nbgrader:open-assignment-list'))",
                                   timeout=OPEN_S * 1000)
            assert all(_commands(page, NBGRADER_COMMANDS).values()), "the instructor's JupyterLab lacks a tool"
            page.evaluate("() => window.jupyterapp.commands.execute('nbgrader:open-formgrader')")
            page.frame_locator("iframe").first.get_by_text(chapter).first.wait_for(timeout=60_000)
            page.wait_for_timeout(500)
            shots.take(page, "instructor-formgrader")
    except Exception:
        try:
            shots.take(page, "failure")
        except Exception:
            pass
        raise
    finally:
        context.close()
