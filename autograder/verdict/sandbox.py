"""The student's kernel in a sandbox: no course files, no references, no gradebook, a clean environment.

The kernel command is wrapped in bubblewrap (``bwrap``): the course root (the grader's working
directory) and the repository holding ``autograder/`` are replaced by empty folders; the virtual
environment, ``course_lib`` and the notebook's own folder are mounted back (the first two read-only);
the kernel gets its own PID namespace (it cannot signal the grader) and dies with the grader.
Variables naming course paths are removed from its environment. Without ``bwrap`` the kernel runs
unconfined (the grader logs a warning); the verdict still never passes through it.
"""
from __future__ import annotations

import importlib.util
import logging
import os
import shutil
import sys
from pathlib import Path

from jupyter_client.manager import AsyncKernelManager

REPO = Path(__file__).resolve().parents[2]
SECRET_ENV = ("COURSE_REFERENCE_DIR", "COURSE_ROOT", "COURSE_REPO", "NBGRADER_COURSE_ROOT")
log = logging.getLogger(__name__)


def _course_lib_dir() -> Path | None:
    spec = importlib.util.find_spec("course_lib")
    if spec and spec.submodule_search_locations:
        return Path(list(spec.submodule_search_locations)[0]).resolve()
    return None


def hidden_dirs(root: Path | None = None) -> list[Path]:
    """Folders the kernel must not see: the course root, the repository, the reference folder."""
    dirs = {Path(root or os.getcwd()).resolve(), REPO}
    lib = _course_lib_dir()
    if lib is not None and (lib.parent / "autograder").is_dir():  # the checkout course_lib comes from
        dirs.add(lib.parent)
    if os.environ.get("COURSE_REFERENCE_DIR"):
        dirs.add(Path(os.environ["COURSE_REFERENCE_DIR"]).resolve())
    return sorted(d for d in dirs if d != Path("/") and d.is_dir())


def sandbox_prefix(work_dir: str | None, root: Path | None = None) -> list[str]:
    """The command prefix that runs a kernel in the sandbox (``env -u ...`` only, without bwrap)."""
    unset = [a for v in SECRET_ENV for a in ("-u", v)]
    bwrap = shutil.which("bwrap")
    if not bwrap or os.environ.get("COURSE_NO_SANDBOX") == "1":
        log.warning("bwrap not found: the student's kernel runs without a filesystem sandbox")
        return ["env", *unset]
    args = ["--dev-bind", "/", "/"]
    for d in hidden_dirs(root):
        args += ["--tmpfs", str(d)]
    keep = [Path(sys.prefix).resolve(), _course_lib_dir()]
    for d in keep:
        if d is not None and any(d.is_relative_to(h) for h in hidden_dirs(root)):
            args += ["--ro-bind", str(d), str(d)]
    if work_dir:
        w = Path(work_dir).resolve()
        args += ["--bind", str(w), str(w), "--chdir", str(w)]
    for v in SECRET_ENV:
        args += ["--unsetenv", v]
    # in its own PID namespace the kernel's parent is PID 1, which ipykernel's parent poller takes for
    # "the parent died": no poller; --die-with-parent ends the kernel with the grader instead
    args += ["--unsetenv", "JPY_PARENT_PID"]
    args += ["--unshare-pid", "--die-with-parent", "--"]
    # bwrap itself must survive the SIGINT that interrupts the kernel: started with SIGINT ignored
    # (ipykernel installs its own handler while it runs a cell)
    launcher = [sys.executable, "-c", "import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_IGN); "
                "os.execv(sys.argv[1], sys.argv[1:])"]
    return [*launcher, bwrap, *args]


def sandbox_works() -> bool:
    """Whether bwrap can build the sandbox on this machine."""
    import subprocess
    prefix = sandbox_prefix(None)
    if prefix[0] == "env":
        return False
    try:
        return subprocess.run([*prefix, sys.executable, "-c", "pass"], capture_output=True, timeout=30).returncode == 0
    except Exception:
        return False


class SandboxedKernelManager(AsyncKernelManager):
    """A kernel manager whose kernels start inside :func:`sandbox_prefix`."""

    work_dir: str | None = None

    def format_kernel_cmd(self, extra_arguments=None):
        cmd = super().format_kernel_cmd(extra_arguments)
        if not _works():
            return ["env", *[a for v in SECRET_ENV for a in ("-u", v)], *cmd]
        return sandbox_prefix(self.work_dir) + cmd


_WORKS: list[bool] = []


def _works() -> bool:
    if not _WORKS:
        _WORKS.append(sandbox_works())
        if not _WORKS[0]:
            log.warning("the kernel sandbox (bwrap) does not work here: kernels run unconfined")
    return _WORKS[0]
