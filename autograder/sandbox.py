"""One sandbox per graded submission: the student's kernel sees its own folder and nothing else.

nbgrader runs each submission's notebook in a Jupyter kernel with the grader's rights: by itself, a
submission could read or overwrite other students' work and the gradebook, use the network, leave
processes running and eat all memory. :class:`SandboxedKernelManager` (set as nbgrader's kernel
manager in ``nbgrader_config.py``) starts every kernel inside

- **bubblewrap** (Debian package ``bubblewrap``): the whole filesystem read-only; the course root,
  the home folder and ``/tmp`` replaced by empty ones; then only what the kernel needs put back:
  Python, the virtual environment and ``course_lib`` read-only, the submission's own folder
  writable. No network (a network namespace of its own), its own process namespace (every process
  it starts dies with it), its own IPC namespace. The kernel talks to nbgrader over Unix
  sockets in a folder of its own (ZeroMQ's ``ipc`` transport), since it has no network to share.
- **resource limits** (``prlimit``): address space, CPU seconds, file size, open files; and, where the
  cgroup ``pids`` controller can be written (as on the course's machines), a cap on the number of
  processes (a fork loop stops there); elsewhere ``RLIMIT_NPROC`` (which does not bind root).

Where bubblewrap cannot run (macOS, a container without namespaces), grading still works with the
resource limits alone, and says once, loudly, that submissions are not isolated from each other.
Limits come from :class:`Limits` (defaults below; ``nbgrader_config.py`` or ``./course grade``'s
options change them through the ``COURSE_SANDBOX_*`` environment variables).

No chapter needs a reference in the kernel: hidden checks run in the grader's process
(``autograder/verdict/``), so nothing of the instructor's side is mounted.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import uuid
from dataclasses import dataclass, fields
from pathlib import Path

from jupyter_client import AsyncKernelManager

# What the kernel inherits from the grader's environment; everything else is dropped.
PASSED_ENV = ("PATH", "LANG", "LC_ALL", "TZ", "NBGRADER_EXECUTION", "COURSE_FAST", "PYTHONWARNINGS",
              "MPLBACKEND", "SDL_VIDEODRIVER", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_CORETYPE",
              "OPENBLAS_L2_SIZE", "PYTHONHASHSEED", "VIRTUAL_ENV")
PIDS_CGROUP = Path("/sys/fs/cgroup/pids")
IGNORE_SIGINT_THEN_EXEC = ("import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_IGN); "
                           "os.execvp(sys.argv[1], sys.argv[1:])")


@dataclass(frozen=True)
class Limits:
    """Per-kernel resource limits of a graded submission."""

    memory_mb: int = 6144      # address space of each process (torch alone maps about 1.5 GB)
    cpu_seconds: int = 900     # CPU time of each process
    processes: int = 128       # processes and threads of the whole sandbox (cgroup pids)
    file_mb: int = 512         # largest file a submission may write
    open_files: int = 1024

    @classmethod
    def from_env(cls) -> "Limits":
        """Defaults, overridden by ``COURSE_SANDBOX_MEMORY_MB`` etc. (one per field, upper case)."""
        values = {}
        for f in fields(cls):
            raw = os.environ.get(f"COURSE_SANDBOX_{f.name.upper()}")
            if raw:
                values[f.name] = int(raw)
        return cls(**values)


def bubblewrap_problem() -> str | None:
    """Why bubblewrap cannot sandbox a kernel here, or None when it can."""
    if os.environ.get("COURSE_SANDBOX") == "off":
        return "COURSE_SANDBOX=off"
    if sys.platform != "linux":
        return f"bubblewrap needs Linux (this is {sys.platform})"
    exe = shutil.which("bwrap")
    if not exe:
        return "bubblewrap is not installed (Debian/Ubuntu: apt-get install bubblewrap)"
    try:
        probe = subprocess.run([exe, "--ro-bind", "/", "/", "--unshare-net", "--unshare-pid", "--dev", "/dev",
                                "--proc", "/proc", "true"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"bubblewrap failed to start: {exc}"
    if probe.returncode != 0:
        return f"bubblewrap cannot create namespaces here: {probe.stderr.strip()[:200]}"
    return None


_warned = False


def _warn_once(reason: str) -> None:
    global _warned
    if not _warned:
        _warned = True
        bar = "!" * 100
        print(f"{bar}\nSUBMISSIONS ARE NOT ISOLATED FROM EACH OTHER: {reason}.\nEach kernel runs with "
              f"resource limits only; a submission can read and change other submissions and the "
              f"gradebook.\n{bar}", file=sys.stderr, flush=True)


def _existing(paths) -> list[Path]:
    seen, out = set(), []
    for p in paths:
        p = Path(p).resolve()
        if p.exists() and p not in seen:
            seen.add(p)
            out.append(p)
    return out


def bwrap_args(work: Path, runtime: Path, course_root: Path, env: dict[str, str]) -> list[str]:
    """The bubblewrap command line (without the kernel's command) for a kernel working in ``work``."""
    # Any course checkout in sight (this course root, the one holding the virtual environment or
    # course_lib) holds solutions, references and a gradebook: hide it, then put back what is needed.
    checkouts = [p for p in (Path(sys.prefix).parent, _course_lib_dir().parent)
                 if (p / "nbgrader_config.py").is_file()]
    hide = _existing([course_root, Path.home(), Path(__file__).resolve().parents[1], *checkouts])
    keep = _existing([sys.base_prefix, sys.prefix, Path(sys.executable).parent.parent,
                      _course_lib_dir()])
    args = ["bwrap", "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "--tmpfs", "/tmp",
            "--tmpfs", "/dev/shm", "--unshare-net", "--unshare-pid", "--unshare-ipc", "--unshare-uts",
            "--die-with-parent", "--clearenv"]
    for path in hide:
        args += ["--tmpfs", str(path)]
    for path in keep:
        args += ["--ro-bind", str(path), str(path)]
    args += ["--bind", str(work), str(work), "--bind", str(runtime), str(runtime), "--chdir", str(work)]
    for name in PASSED_ENV:
        if name in env:
            args += ["--setenv", name, env[name]]
    args += ["--setenv", "HOME", "/tmp", "--setenv", "MPLCONFIGDIR", "/tmp/matplotlib"]
    return args


def _course_lib_dir() -> Path:
    import course_lib

    return Path(course_lib.__file__).resolve().parent


def prlimit_args(limits: Limits, cap_processes: bool) -> list[str]:
    """``prlimit`` in front of the kernel. ``cap_processes``: also set RLIMIT_NPROC, which counts every
    process of the user (not only the sandbox's) and does not bind root: the fallback where no pids
    cgroup can be made."""
    mb = 1024 * 1024
    args = ["prlimit", f"--as={limits.memory_mb * mb}", f"--cpu={limits.cpu_seconds}",
            f"--fsize={limits.file_mb * mb}", f"--nofile={limits.open_files}", "--core=0"]
    if cap_processes:
        mine = sum(1 for p in Path("/proc").iterdir() if p.name.isdigit() and _owned(p))
        args.append(f"--nproc={mine + limits.processes}")
    return args + ["--"]


def _owned(proc: Path) -> bool:
    try:
        return proc.stat().st_uid == os.getuid()
    except OSError:
        return False


def _pids_cgroup(limit: int) -> Path | None:
    """A fresh pids cgroup capped at ``limit``, or None where cgroups cannot be written."""
    if not PIDS_CGROUP.is_dir() or not os.access(PIDS_CGROUP, os.W_OK):
        return None
    group = PIDS_CGROUP / f"deep-rl-workbook-{uuid.uuid4().hex[:12]}"
    try:
        group.mkdir()
        (group / "pids.max").write_text(str(limit))
        return group
    except OSError:
        return None


def _remove_cgroup(group: Path | None) -> None:
    if group is None:
        return
    try:
        for pid in (group / "cgroup.procs").read_text().split():
            try:
                os.kill(int(pid), 9)
            except ProcessLookupError:
                pass
        group.rmdir()
    except OSError:
        pass


class SandboxedKernelManager(AsyncKernelManager):
    """nbgrader's kernels, each in a sandbox of its own: see the module's docstring."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._runtime = Path(tempfile.mkdtemp(prefix="course-kernel-"))
        self._problem = bubblewrap_problem()
        self._cgroup: Path | None = None
        if self._problem is None:
            # No network inside: nbgrader reaches the kernel through Unix sockets in _runtime.
            self.transport = "ipc"
            self.ip = str(self._runtime / "kernel")
            self.connection_file = str(self._runtime / "kernel.json")

    async def _async_launch_kernel(self, kernel_cmd, **kw):
        limits = Limits.from_env()
        env = dict(kw.get("env") or os.environ)
        env.pop("JPY_PARENT_PID", None)  # its parent is bubblewrap's init inside the sandbox
        kw["env"] = env
        work = Path(kw.get("cwd") or os.getcwd()).resolve()
        self._cgroup = _pids_cgroup(limits.processes)
        prefix = prlimit_args(limits, cap_processes=self._cgroup is None)
        if self._problem is None:
            # autograded/<student>/<chapter>/ lies three levels below the course root
            course_root = work.parents[2] if len(work.parents) > 2 else work
            # A cell's time limit interrupts the kernel with SIGINT to its process group: bubblewrap
            # itself must ignore it (it would die and take the kernel along); the kernel inside sets
            # its own handler while it runs a cell.
            prefix += [sys.executable, "-c", IGNORE_SIGINT_THEN_EXEC]
            prefix += bwrap_args(work, self._runtime, course_root, env)
        else:
            _warn_once(self._problem)
        if self._cgroup is not None:
            procs = self._cgroup / "cgroup.procs"
            prefix = ["sh", "-c", f'echo $$ > "{procs}" && exec "$@"', "course-sandbox"] + prefix
        return await super()._async_launch_kernel(prefix + list(kernel_cmd), **kw)

    async def _async_shutdown_kernel(self, now: bool = False, restart: bool = False):
        try:
            await super()._async_shutdown_kernel(now=now, restart=restart)
        finally:
            if not restart:
                _remove_cgroup(self._cgroup)
                self._cgroup = None
                shutil.rmtree(self._runtime, ignore_errors=True)

    shutdown_kernel = _async_shutdown_kernel
