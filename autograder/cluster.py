"""Grading a class on a Ray cluster: one task per submission, one CPU each, the same sandbox.

``./course grade --ray ADDRESS`` connects to a running cluster (``ray start --head`` on one machine,
``ray start --address ...`` on the others) and sends every submission there as a task. The task
builds a small course root on the worker (``nbgrader_config.py``, ``autograder/``, the chapter's
sources and the one submission), runs ``nbgrader autograde`` there (the kernel in the sandbox of
``autograder/sandbox.py``, as on one machine), and sends the autograded notebooks back; the grades
go straight into the gradebook. A cluster of several machines therefore needs a gradebook every
worker can reach: PostgreSQL (``--db postgresql://...``). sqlite works only when every worker runs
on the machine that holds the course root.

Ray is in the optional ``grading`` extra (``requirements-grading.lock``); students never install it.
"""
from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from . import course

SHIPPED = ("nbgrader_config.py",)  # plus autograder/, notebooks/<chapter>/, the submission


def _files_under(base: Path, folder: Path) -> dict[str, bytes]:
    skip = {"__pycache__", ".ipynb_checkpoints"}
    return {p.relative_to(base).as_posix(): p.read_bytes() for p in folder.rglob("*")
            if p.is_file() and not skip & set(p.relative_to(base).parts)}


def payload(root: Path, student: str, chapter: str) -> dict[str, bytes]:
    """Every file the worker needs to grade ``student``'s ``chapter``, by path in the course root."""
    files = {name: (root / name).read_bytes() for name in SHIPPED}
    files.update(_files_under(root, root / "autograder"))
    files.update(_files_under(root, root / "notebooks" / chapter))
    files.update(_files_under(root, root / "submitted" / student / chapter))
    return files


def grade_on_worker(files: dict[str, bytes], chapter: str, student: str, db_url: str,
                    cell_timeout: int | None, wall_timeout: float, env: dict[str, str]) -> dict:
    """A Ray task: autograde one submission in a fresh course root; returns the autograded files."""
    import shutil

    root = Path(tempfile.mkdtemp(prefix="course-grade-"))
    try:
        for rel, data in files.items():
            path = root / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
        cmd = [sys.executable, "-m", "nbgrader", "autograde", chapter, "--student", student, "--force",
               f"--CourseDirectory.db_url={db_url}"]
        if cell_timeout is not None:
            cmd.append(f"--ExecutePreprocessor.timeout={int(cell_timeout)}")
        run_env = {**os.environ, **env, "COURSE_DB": db_url,
                   "PATH": str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", "")}
        try:
            done = subprocess.run(cmd, cwd=root, env=run_env, capture_output=True, text=True, timeout=wall_timeout)
            code, out, err = done.returncode, done.stdout, done.stderr
        except subprocess.TimeoutExpired:
            code, out, err = 124, "", f"timed out after {wall_timeout:g} s"
        graded = root / "autograded" / student / chapter
        back = _files_under(graded, graded) if graded.is_dir() else {}
        return {"returncode": code, "stdout": out[-4000:], "stderr": err[-4000:], "files": back,
                "host": os.uname().nodename}
    finally:
        shutil.rmtree(root, ignore_errors=True)


def grade_on_ray(address: str, root: Path, todo: list[tuple[str, Path]], timeout: int | None,
                 student_timeout: float, say=print) -> list[course.Outcome]:
    """Grade ``todo`` (``(student, chapter folder)`` pairs) on the Ray cluster at ``address``."""
    import ray

    root = Path(root).resolve()
    db_url = course.gradebook_url(root)
    passed = {k: v for k, v in os.environ.items()
              if k in ("COURSE_FAST", "PYTHONWARNINGS") or k.startswith("COURSE_SANDBOX")}
    passed.setdefault("PYTHONWARNINGS", "ignore::DeprecationWarning")
    ray.init(address=address, log_to_driver=False, logging_level="ERROR",
             runtime_env={"py_modules": [str(root / "autograder")]})
    try:
        task = ray.remote(num_cpus=1, max_retries=0)(grade_on_worker)
        pending, outcomes = {}, {}
        for student, chapter_dir in todo:
            outcome = course.Outcome(student, chapter_dir.name)
            expected = sorted(p.name for p in (root / "release" / chapter_dir.name).glob("*.ipynb"))
            outcome.messages += course._check_notebooks(chapter_dir, expected)
            outcomes[(student, chapter_dir.name)] = outcome
            if not any(chapter_dir.glob("*.ipynb")):
                course._scores_from_gradebook(root, chapter_dir.name, student, outcome)
                continue
            ref = task.remote(payload(root, student, chapter_dir.name), chapter_dir.name, student, db_url,
                              timeout, student_timeout, passed)
            pending[ref] = outcome
        say(f"sent {len(pending)} submission(s) to the Ray cluster at {address}")
        start, finished = time.perf_counter(), 0
        while pending:
            ready, _ = ray.wait(list(pending), num_returns=1)
            outcome = pending.pop(ready[0])
            try:
                result = ray.get(ready[0])
            except Exception as exc:  # the worker died, the task could not run
                outcome.failed = True
                outcome.messages.append(f"the cluster could not grade this submission: {type(exc).__name__}: "
                                        f"{str(exc).strip().splitlines()[-1][:200]}")
                result = {"returncode": -1, "files": {}}
            target = root / "autograded" / outcome.student / outcome.chapter
            for rel, data in result["files"].items():
                path = target / rel
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(data)
            if result["returncode"] != -1:  # -1: the task itself failed, already reported
                course.finish_outcome(root, outcome, result["returncode"],
                                      result.get("stderr") or result.get("stdout") or "", student_timeout)
            else:
                course._scores_from_gradebook(root, outcome.chapter, outcome.student, outcome)
            finished += 1
            elapsed = time.perf_counter() - start
            say(f"[{finished}/{finished + len(pending)} done, {elapsed:.0f} s] {outcome.student} / "
                f"{outcome.chapter}: {outcome.total:g} / {outcome.max_total:g}"
                + (f" (on {result.get('host')})" if result.get("host") else ""))
        return [outcomes[(s, c.name)] for s, c in todo]
    finally:
        ray.shutdown()


@contextlib.contextmanager
def local_cluster(num_cpus: int | None = None):
    """A Ray head on this machine (``ray start --head`` on a free port, in a temporary folder),
    stopped afterwards; yields its address. For tests and the benchmark."""
    import shutil
    import socket

    ray_cli = str(Path(sys.executable).parent / "ray")
    temp = tempfile.mkdtemp(prefix="ray-")  # short: Ray's socket paths must stay under 108 characters
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "RAY_USAGE_STATS_ENABLED": "0",
           "PATH": str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", "")}
    start = subprocess.run([ray_cli, "start", "--head", f"--port={port}", f"--num-cpus={num_cpus or os.cpu_count()}",
                            f"--temp-dir={temp}", "--include-dashboard=false", "--disable-usage-stats"],
                           capture_output=True, text=True, env=env, timeout=300)
    if start.returncode != 0:
        shutil.rmtree(temp, ignore_errors=True)
        raise RuntimeError(f"ray start failed:\n{start.stdout[-2000:]}\n{start.stderr[-2000:]}")
    try:
        yield f"127.0.0.1:{port}"
    finally:
        subprocess.run([ray_cli, "stop", "--force"], capture_output=True, text=True, env=env, timeout=120)
        shutil.rmtree(temp, ignore_errors=True)
