"""The benchmark: time every notebook and the autograder against the course design's budgets.

    ./course bench            fast mode of every notebook + one autograded submission per chapter
    ./course bench --full     ... plus every notebook in full mode, with its agents' steps and seconds
                              to threshold (from TrainingLogger) and the slider runs' seconds

Budgets (the course design's time budgets): all notebooks of one chapter in fast mode 30 s together, a
notebook in full mode 5 min, autograding one submission of a chapter 30 s, a slider's Run 2 s (tabular) /
30 s (deep). The table's last column says the machine's load average while it was measured: on this
course's 2-core reference machine a second busy process slows every row. The table is printed and
written to benchmarks/budgets.md with the machine it was measured on (the per-run metrics of full mode
go to benchmark-results/). Numbers, never assertions: nothing here fails a build.
"""
from __future__ import annotations

import json
import os
import platform
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import nbformat

from . import course

CHAPTER_FAST_BUDGET, FULL_BUDGET, GRADE_BUDGET = 30, 300, 30


def machine() -> str:
    """The machine a table was measured on: CPU, cores, load, Python, torch and the date."""
    import torch
    cpuinfo = Path("/proc/cpuinfo")
    cpu = next((ln.split(":", 1)[1].strip() for ln in cpuinfo.read_text().splitlines()
                if ln.startswith("model name")), platform.processor()) if cpuinfo.exists() else platform.processor()
    return (f"{cpu}, {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at the start; "
            f"Python {platform.python_version()}, torch {torch.__version__}; {time.strftime('%Y-%m-%d %H:%M')}")


def _execute(path: Path, env: dict[str, str]) -> tuple[float, list[str]]:
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    saved = dict(os.environ)
    os.environ.update(env)
    try:
        start = time.perf_counter()
        # stopped at once after its last cell, as grading does: a graceful shutdown adds 1.5-2 s of waiting
        NotebookClient(nb, timeout=1800, kernel_name="python3", allow_errors=True, shutdown_kernel="immediate",
                       resources={"metadata": {"path": str(path.parent)}}).execute()
        seconds = time.perf_counter() - start
    finally:
        os.environ.clear()
        os.environ.update(saved)
    errs = [f"{o['ename']}: {o['evalue'][:80]}" for c in nb.cells for o in c.get("outputs", [])
            if o.get("output_type") == "error"]
    return seconds, errs


def _metrics(path: Path) -> list[dict]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def _grade_one(root: Path, chapter: str) -> float:
    """Seconds to autograde the solution of ``chapter`` as one submission (release built first)."""
    with tempfile.TemporaryDirectory() as tmp:
        course_root = course.course_with_chapter(Path(tmp), chapter, root)
        course.release(course_root, [chapter])
        shutil.copytree(root / "notebooks" / chapter, course_root / "submitted" / "bench" / chapter)
        start = time.perf_counter()
        result = course.run_nbgrader(["autograde", chapter, "--student", "bench", "--force"], course_root)
        seconds = time.perf_counter() - start
        if result.returncode != 0:
            raise RuntimeError(result.stderr[-2000:])
        return seconds


def _ok(seconds: float, budget: float | None) -> str:
    if budget is None:
        return ""
    return "ok" if seconds <= budget else "OVER"


def _load() -> str:
    """The 1-minute load average, as the table's note on how busy the machine was."""
    try:
        return f"load {os.getloadavg()[0]:.1f}"
    except OSError:
        return ""


def main(root: Path, full: bool = False, which: list[str] | None = None) -> int:
    root = Path(root)
    out_dir = root / "benchmark-results"
    out_dir.mkdir(exist_ok=True)
    rows = ["| what | measured | budget | | while |", "| --- | --- | --- | --- | --- |"]
    thresholds = ["| notebook | run | steps to threshold | seconds to threshold | total steps | total s |",
                  "| --- | --- | --- | --- | --- | --- |"]
    base_env: dict[str, str] = {}
    header = machine()
    print("\n".join(rows), flush=True)  # the table grows row by row below, as each is measured
    def row(what: str, seconds: float, budget: float | None, note: str = "") -> None:
        shown = f"{budget} s" if budget is not None else "(chapter's)"
        rows.append(f"| {what} | {seconds:.1f} s{note} | {shown} | {_ok(seconds, budget)} | {_load()} |")
        print(rows[-1], flush=True)

    for chapter in which or course.chapters(root):
        chapter_fast = 0.0
        notebooks = sorted((root / "notebooks" / chapter).glob("*.ipynb"))
        for path in notebooks:
            name = f"{chapter}/{path.name}"
            for mode, flag, budget in (("fast", "1", None), ("full", "0", FULL_BUDGET))[:2 if full else 1]:
                metrics_file = out_dir / f"{path.stem}.{mode}.jsonl"
                metrics_file.unlink(missing_ok=True)
                seconds, errs = _execute(path, {**base_env, "COURSE_FAST": flag,
                                                "COURSE_METRICS_FILE": str(metrics_file)})
                note = f" ({len(errs)} errors: {errs[0]})" if errs else ""
                chapter_fast += seconds if mode == "fast" else 0.0
                row(f"{name} {mode} mode", seconds, budget, note)
            if full:
                runs = _metrics(metrics_file)
                for m in runs:
                    if m.get("kind") == "slider":
                        budget = 30 if m.get("deep") else 2
                        rows.append(f"| {name} slider '{m['title']}' Run | {m['seconds']:.2f} s | {budget} s | {_ok(m['seconds'], budget)} | |")
                    elif m.get("kind") == "evaluation":
                        thresholds.append(f"| {name} | {m['desc']} (target {m.get('target')}) | per seed {m.get('per_seed')} "
                                          f"| mean {m.get('mean')} | | |")
                    elif m.get("threshold") is not None:
                        thresholds.append(f"| {name} | {m['desc']} | {m['steps_to_threshold']} | {m['seconds_to_threshold']} "
                                          f"| {m['steps']} | {m['seconds']} |")
                by_desc: dict[str, list[dict]] = {}
                for m in runs:
                    if m.get("threshold") is not None:
                        by_desc.setdefault(m["desc"].split(" seed")[0], []).append(m)
                for desc, ms in by_desc.items():
                    solved = [m for m in ms if m["steps_to_threshold"] is not None]
                    if len(ms) > 1 and solved:
                        thresholds.append(f"| {name} | **{desc}: median of {len(ms)}, {len(solved)} solved** | "
                                          f"{statistics.median(m['steps_to_threshold'] for m in solved):g} | "
                                          f"{statistics.median(m['seconds_to_threshold'] for m in solved):g} | | |")
        row(f"**all {len(notebooks)} notebooks of {chapter} in fast mode**", chapter_fast, CHAPTER_FAST_BUDGET)
        row(f"**autograde one submission of {chapter}**", _grade_one(root, chapter), GRADE_BUDGET)
    report = "\n".join([f"# Time budgets (`./course bench{' --full' if full else ''}`)", "",
                        f"Machine: {header}.", "", *rows]) + ("\n\n" + "\n".join(thresholds) if full else "") + "\n"
    out = root / "benchmarks" / "budgets.md"
    out.parent.mkdir(exist_ok=True)
    out.write_text(report)
    if full:  # the budget rows were printed as they came; the threshold table is new here
        print("\n" + "\n".join(thresholds))
    print(f"written to {out}")
    return 0


def grading_throughput(root: Path, chapter: str = "01_intro", students: int = 6,
                       ray_address: str | None = None) -> list[tuple[str, float, float]]:
    """Submissions per minute when a class of ``students`` copies of ``chapter``'s solution is graded
    with ``--jobs 1``, ``--jobs N`` (N = CPU cores) and, given ``ray_address``, on that Ray cluster.

    Returns ``(how, seconds, submissions per minute)`` rows. The release is built before the clock.
    """
    import contextlib
    import io

    ways = [("--jobs 1", {"jobs": 1}), (f"--jobs {os.cpu_count()}", {"jobs": os.cpu_count()})]
    if ray_address:
        ways.append((f"Ray cluster {ray_address}", {"ray_address": ray_address}))
    rows = []
    for how, kwargs in ways:
        with tempfile.TemporaryDirectory() as tmp:
            course_root = course.course_with_chapter(Path(tmp), chapter, root)
            course.release(course_root, [chapter])
            for k in range(students):
                shutil.copytree(root / "notebooks" / chapter, course_root / "submitted" / f"s{k:03d}" / chapter)
            start = time.perf_counter()
            with contextlib.redirect_stdout(io.StringIO()):
                outcomes = course.autograde(None, course_root, [chapter], **kwargs)
            seconds = time.perf_counter() - start
        assert all(o.total == o.max_total for o in outcomes), "the solution did not score full marks"
        rows.append((how, seconds, 60 * students / seconds))
        print(f"| grade {students} submissions of {chapter}, {how} | {seconds:.1f} s | "
              f"{60 * students / seconds:.1f} submissions/min |", flush=True)
    return rows
