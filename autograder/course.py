"""nbgrader over the course layout: release, autograde a class, collect scores, feedback.

Every nbgrader call runs as a subprocess in the course root (nbgrader reads ``nbgrader_config.py``
from there, and traitlets state leaks between in-process runs), with the virtual environment's
``bin/`` on PATH (nbgrader calls ``alembic`` by name). Hidden checks need nothing in the
environment: they run in the grader's process (``autograder/verdict/``).
"""
from __future__ import annotations

import concurrent.futures
import csv
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
REFERENCE_DIR = REPO / "autograder" / "reference"


def chapters(root: Path = REPO) -> list[str]:
    """Chapter folders of ``notebooks/`` (``01_intro``, ``02_qlearning``, ...), in order."""
    src = Path(root) / "notebooks"
    return sorted(p.name for p in src.iterdir() if p.is_dir() and p.name[:2].isdigit())


def course_with_chapter(dest: Path, chapter: str, root: Path = REPO) -> Path:
    """A new course root ``dest`` holding the nbgrader config and one chapter's sources."""
    dest = Path(dest)
    (dest / "notebooks").mkdir(parents=True, exist_ok=True)
    shutil.copy(Path(root) / "nbgrader_config.py", dest / "nbgrader_config.py")
    # nbgrader_config.py imports the grader's tools from the course root.
    shutil.copytree(Path(root) / "autograder", dest / "autograder", dirs_exist_ok=True,
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    shutil.copytree(Path(root) / "notebooks" / chapter, dest / "notebooks" / chapter,
                    ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__", "runs"))
    return dest


def nbgrader_env() -> dict[str, str]:
    """The environment for nbgrader and the kernels it starts."""
    env = dict(os.environ)
    bindir = str(Path(sys.executable).parent)
    env["PATH"] = bindir + os.pathsep + env.get("PATH", "")
    env["PYTHONWARNINGS"] = env.get("PYTHONWARNINGS", "ignore::DeprecationWarning")
    return env


def run_nbgrader(args: list[str], root: Path, timeout: float | None = None,
                 extra_env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """``python -m nbgrader *args`` in ``root``; output captured, never raises on failure."""
    env = nbgrader_env()
    env.update(extra_env or {})
    try:
        return subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=root, env=env,
                              capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired as exc:
        out = exc.stdout.decode() if isinstance(exc.stdout, bytes) else (exc.stdout or "")
        return subprocess.CompletedProcess(exc.cmd, 124, out, f"timed out after {timeout} s")


class UsageError(ValueError):
    """A wrong argument (an unknown chapter, a missing folder): the command prints it in one line."""


def check_chapters(names: list[str] | None, root: Path = REPO) -> list[str]:
    """``names`` (or every chapter when empty), each checked to exist; UsageError with close matches."""
    import difflib

    known = chapters(root)
    for name in names or []:
        if name not in known:
            close = difflib.get_close_matches(name, known, n=1, cutoff=0.5)
            hint = f" Did you mean {close[0]}?" if close else ""
            raise UsageError(f"no chapter {name!r}.{hint} Chapters: {', '.join(known)}")
    return list(names) if names else known


def _quiet(message: str) -> None:
    """The default ``say``: library calls print nothing unless asked."""


def _refresh_references(root: Path, which: list[str]) -> list[str]:
    """Re-extract the reference module of each converted chapter whose solution cells changed (the
    reference *is* the solution cells: see ``autograder.verdict.extract``). Returns those chapters."""
    from .verdict import converted_chapters, extract

    changed = []
    for chapter in set(which) & set(converted_chapters()):
        path, text = extract.generated_path(chapter, root), extract.render(chapter, root)
        if not path.is_file() or path.read_text() != text:
            path.write_text(text)
            changed.append(chapter)
    return sorted(changed)


def release(root: Path = REPO, which: list[str] | None = None, say=_quiet) -> list[str]:
    """Build the student release of each chapter into ``release/<chapter>/``; returns the chapters.

    A notebook in ``release/`` that a student worked in (the course's old layout) is first moved
    into the workspace: rebuilding never destroys work. ``say`` receives one progress line per
    chapter. Raises RuntimeError with nbgrader's output when a chapter fails to build.
    """
    from . import workspace

    built = []
    for path in workspace.rescue_release_work(root, which):
        say(f"kept a student's work found in release/: now {path}")
    for chapter in _refresh_references(root, check_chapters(which, root)):
        say(f"{chapter}: the reference was extracted again from the solution cells, which changed")
    for chapter in check_chapters(which, root):
        start = time.perf_counter()
        say(f"building the student release of {chapter} ...")
        result = run_nbgrader(["generate_assignment", chapter, "--force"], root)
        if result.returncode != 0:
            raise RuntimeError(f"nbgrader generate_assignment {chapter} failed:\n"
                               f"{result.stdout}\n{result.stderr}")
        say(f"  {chapter} built in {time.perf_counter() - start:.0f} s")
        built.append(chapter)
    return built


@dataclass
class Outcome:
    """One student's grade for one chapter."""

    student: str
    chapter: str
    scores: dict[str, float] = field(default_factory=dict)  # grade_id -> points
    max_scores: dict[str, float] = field(default_factory=dict)
    messages: list[str] = field(default_factory=list)
    failed: bool = False  # nbgrader itself failed or was stopped (not: an exercise lost points)

    @property
    def total(self) -> float:
        return sum(self.scores.values())

    @property
    def max_total(self) -> float:
        return sum(self.max_scores.values())


def _check_notebooks(sub_dir: Path, expected: list[str]) -> list[str]:
    """Messages for missing or unreadable notebooks; unreadable ones are moved aside."""
    import nbformat

    messages = []
    for name in expected:
        path = sub_dir / name
        if not path.exists():
            messages.append(f"{name} is missing: its exercises score 0")
            continue
        try:
            nbformat.read(path, as_version=4)
        except Exception as exc:  # invalid JSON or not a notebook
            messages.append(f"{name} could not be read ({type(exc).__name__}: {str(exc)[:120]}): "
                            "its exercises score 0")
            path.rename(path.with_suffix(".ipynb.unreadable"))
    return messages


def gradebook_url(root: Path) -> str:
    """The gradebook: ``COURSE_DB`` (any SQLAlchemy URL, e.g. PostgreSQL) or the sqlite file in the
    course root, whose writers wait up to 60 s for each other (parallel grading)."""
    return os.environ.get("COURSE_DB") or f"sqlite:///{Path(root) / 'gradebook.db'}?timeout=60"


def released_in_gradebook(root: Path, chapter: str) -> bool:
    """Whether the gradebook knows ``chapter`` (``release`` puts it there)."""
    from nbgrader.api import Gradebook, MissingEntry

    if "COURSE_DB" not in os.environ and not (Path(root) / "gradebook.db").exists():
        return False
    with Gradebook(gradebook_url(root)) as gb:
        try:
            gb.find_assignment(chapter)
            return True
        except MissingEntry:
            return False


def _scores_from_gradebook(root: Path, chapter: str, student: str, outcome: Outcome) -> None:
    from nbgrader.api import Gradebook, MissingEntry

    with Gradebook(gradebook_url(root)) as gb:
        assignment = gb.find_assignment(chapter)
        for nb in assignment.notebooks:
            for cell in nb.grade_cells:
                outcome.max_scores[cell.name] = float(cell.max_score)
                outcome.scores.setdefault(cell.name, 0.0)
        try:
            submission = gb.find_submission(chapter, student)
        except MissingEntry:
            return
        for nb in submission.notebooks:
            for grade in nb.grades:
                outcome.scores[grade.name] = float(grade.score or 0.0)


def autograde(submissions: Path | None = None, root: Path = REPO, which: list[str] | None = None,
              timeout: int | None = None, student_timeout: float = 900,
              students: list[str] | None = None, say=_quiet, jobs: int | None = None,
              ray_address: str | None = None) -> list[Outcome]:
    """Autograde every ``<student>/<chapter>/`` of ``submissions``; one bad submission never stops
    the rest.

    ``submissions`` defaults to ``<root>/submitted/`` (where ``collect`` puts hand-ins); another
    folder is copied there first. ``students`` limits grading to those students (one late hand-in
    need not regrade the class). Each student is graded in their own nbgrader process; missing or
    unreadable notebooks, exercises that raise and cells that exceed ``timeout`` seconds cost only
    their own points, and each is reported. ``say`` receives one progress line per submission.
    ``jobs`` submissions are graded at once (default: one per CPU core); the score of a submission
    does not depend on it. ``student_timeout`` is the wall-clock limit of one submission in seconds.
    ``ray_address``: grade on that Ray cluster instead (``autograder.cluster``). The gradebook is
    ``COURSE_DB`` when set (PostgreSQL for a cluster), else the course's sqlite file.
    """
    root = Path(root).resolve()
    target = root / "submitted"
    submissions = Path(submissions).resolve() if submissions else target
    if not submissions.is_dir():
        raise UsageError(f"no submissions folder {submissions} (collect hand-ins with ./course collect, "
                         "or give a folder of <student>/<chapter>/<notebook>.ipynb)")
    which = check_chapters(which, root) if which else None
    if students:
        present = {p.name for p in submissions.iterdir() if p.is_dir()}
        unknown = sorted(set(students) - present)
        if unknown:
            raise UsageError(f"no submissions from {', '.join(unknown)} in {submissions}")
    if submissions != target:
        target.mkdir(exist_ok=True)
        for student_dir in sorted(p for p in submissions.iterdir() if p.is_dir()):
            shutil.copytree(student_dir, target / student_dir.name, dirs_exist_ok=True)
    wanted = set(which or chapters(root))
    needs_release = sorted(c for c in wanted if not (root / "release" / c).is_dir()
                           or not released_in_gradebook(root, c))
    if needs_release:
        release(root, needs_release)
    todo = [(student_dir.name, chapter_dir)
            for student_dir in sorted(p for p in target.iterdir() if p.is_dir())
            if not students or student_dir.name in students
            for chapter_dir in sorted(p for p in student_dir.iterdir() if p.is_dir() and p.name in wanted)]
    if ray_address:
        from . import cluster
        return cluster.grade_on_ray(ray_address, root, todo, timeout, student_timeout, say)
    jobs = max(1, min(jobs or os.cpu_count() or 1, len(todo) or 1))
    progress = _ClassProgress(len(todo), say)

    def grade(item: tuple[str, Path]) -> Outcome:
        outcome = _grade_submission(root, item[0], item[1], timeout, student_timeout)
        progress.done(outcome)
        return outcome

    say(f"grading {len(todo)} submission(s) with {jobs} job(s) in parallel")
    with concurrent.futures.ThreadPoolExecutor(jobs) as pool:
        return list(pool.map(grade, todo))  # each a subprocess: the threads only wait


class _ClassProgress:
    """One line per finished submission: how many are done and failed, and the time left."""

    def __init__(self, total: int, say):
        self.total, self.say, self.finished, self.failed = total, say, 0, 0
        self.start = time.perf_counter()
        self.lock = threading.Lock()

    def done(self, outcome: "Outcome") -> None:
        with self.lock:
            self.finished += 1
            self.failed += bool(outcome.failed)
            elapsed = time.perf_counter() - self.start
            left = elapsed / self.finished * (self.total - self.finished)
            self.say(f"[{self.finished}/{self.total} done, {self.failed} failed, {elapsed:.0f} s, "
                     f"about {left:.0f} s left] {outcome.student} / {outcome.chapter}: "
                     f"{outcome.total:g} / {outcome.max_total:g}")


def _grade_submission(root: Path, student: str, chapter_dir: Path, timeout: int | None,
                      student_timeout: float) -> "Outcome":
    """Autograde one student's chapter in its own nbgrader process (its kernel in the sandbox)."""
    chapter = chapter_dir.name
    outcome = Outcome(student, chapter)
    expected = sorted(p.name for p in (root / "release" / chapter).glob("*.ipynb"))
    outcome.messages += _check_notebooks(chapter_dir, expected)
    if not any(chapter_dir.glob("*.ipynb")):
        _scores_from_gradebook(root, chapter, student, outcome)
        return outcome
    args = ["autograde", chapter, "--student", student, "--force"]
    if timeout is not None:
        args.append(f"--ExecutePreprocessor.timeout={int(timeout)}")
    result = run_nbgrader(args, root, timeout=student_timeout)
    finish_outcome(root, outcome, result.returncode, result.stderr or result.stdout, student_timeout)
    return outcome


def finish_outcome(root: Path, outcome: "Outcome", returncode: int, output: str, student_timeout: float) -> None:
    """Complete ``outcome`` after nbgrader autograded it (here or on a cluster worker): what went
    wrong with nbgrader itself, the cells that raised or timed out, the scores from the gradebook."""
    if returncode == 124:
        outcome.failed = True
        outcome.messages.append(f"grading was stopped after {student_timeout:g} s (the time limit of one "
                                "submission); exercises not graded by then score 0")
    elif returncode != 0:
        outcome.failed = True
        tail = (output or "").strip().splitlines()[-3:]
        outcome.messages.append("nbgrader could not grade this submission: " + " | ".join(tail))
    outcome.messages += _cell_problems(Path(root) / "autograded" / outcome.student / outcome.chapter)
    _scores_from_gradebook(root, outcome.chapter, outcome.student, outcome)


def _cell_problems(folder: Path) -> list[str]:
    """One line per graded cell of the autograded notebooks that raised or timed out."""
    messages = []
    for path in sorted(folder.glob("*.ipynb")):
        nb = json.loads(path.read_text())
        for cell in nb.get("cells", []):
            meta = cell.get("metadata", {}).get("nbgrader", {})
            if not meta.get("grade") and not meta.get("solution"):
                continue
            for out in cell.get("outputs", []):
                if out.get("output_type") != "error" or out.get("ename") == "KeyboardInterrupt":
                    continue  # an interrupt is the timeout's first half; the timeout says it
                if out.get("ename") == "CellTimeoutError":
                    text = "ran past the per-cell time limit and was stopped (an infinite loop?)"
                else:
                    text = f"{out.get('ename')}: {out.get('evalue', '')}".strip()
                messages.append(f"{path.name}/{meta.get('grade_id')}: {text[:200]}")
    return messages


def write_csv(outcomes: list[Outcome], path: Path) -> Path:
    """Write one row per (student, chapter): points per exercise, total, maximum, messages."""
    cells = sorted({name for o in outcomes for name in o.max_scores})
    with open(path, "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["student", "chapter", *cells, "total", "max_total", "messages"])
        for o in outcomes:
            writer.writerow([o.student, o.chapter, *[_fmt(o.scores.get(c)) for c in cells],
                             _fmt(o.total), _fmt(o.max_total), " || ".join(o.messages)])
    return Path(path)


def _fmt(value: float | None) -> str:
    return "" if value is None else f"{value:g}"


def graded_chapters(root: Path = REPO) -> list[str]:
    """Chapters with at least one autograded submission in ``autograded/<student>/<chapter>/``."""
    folder = Path(root) / "autograded"
    found = {p.name for p in folder.glob("*/*") if p.is_dir()} if folder.is_dir() else set()
    return [c for c in chapters(root) if c in found]


def feedback(root: Path = REPO, which: list[str] | None = None, say=_quiet) -> list[str]:
    """HTML feedback for every autograded submission, and hand it back through the exchange.

    ``nbgrader generate_feedback`` writes ``feedback/<student>/<chapter>/<notebook>.html`` (hidden
    checks' code and the grader's paths removed, see ``autograder.feedback``); then
    ``release_feedback`` puts it where students fetch it (the Assignment List's "Fetch Feedback").
    Chapters named but not graded yet are skipped with a note. Returns the chapters done.
    """
    from . import workspace

    graded = graded_chapters(root)
    wanted = check_chapters(which, root) if which else graded
    done = []
    for chapter in wanted:
        if chapter not in graded:
            say(f"{chapter}: nothing autograded yet, no feedback (grade it first: ./course grade --chapter {chapter})")
            continue
        result = run_nbgrader(["generate_feedback", chapter, "--force"], root)
        if result.returncode != 0:
            raise RuntimeError(f"generate_feedback {chapter} failed:\n{result.stdout}\n{result.stderr}")
        workspace.ensure_exchange(root)
        # Only hand-ins that came through the exchange (with nbgrader's timestamp.txt) can be given
        # feedback back through it; the others keep theirs in feedback/<student>/<chapter>/.
        pages = sorted(p for p in (Path(root) / "feedback").glob(f"*/{chapter}") if p.is_dir())
        through = [p.parent.name for p in pages if (p / "timestamp.txt").is_file()]
        for student in ([None] if len(through) == len(pages) else through):
            args = ["release_feedback", chapter] + ([f"--student={student}"] if student else [])
            result = run_nbgrader(args, root)
            if result.returncode != 0:
                raise RuntimeError(f"release_feedback {chapter} failed:\n{result.stdout}\n{result.stderr}")
        kept = len(pages) - len(through)
        say(f"{chapter}: feedback written under {Path(root) / 'feedback'}; released to {len(through)} "
            f"student(s) through the exchange" + (f"; {kept} handed in outside it keep theirs in feedback/"
                                                   if kept else ""))
        done.append(chapter)
    return done


def collect(root: Path = REPO, which: list[str] | None = None, say=_quiet) -> list[str]:
    """``nbgrader collect --update`` of each released chapter: hand-ins into ``submitted/``.

    Returns the chapters that had hand-ins. A newer hand-in of the same student replaces the older.
    """
    from . import workspace

    got = []
    for chapter in check_chapters(which, root) if which else workspace.released(root):
        result = run_nbgrader(["collect", chapter, "--update"], root)
        if result.returncode != 0:
            raise RuntimeError(f"nbgrader collect {chapter} failed:\n{result.stdout}\n{result.stderr}")
        students = sorted(p.parent.name for p in (Path(root) / "submitted").glob(f"*/{chapter}"))
        say(f"{chapter}: {len(students)} hand-in(s)" + (f": {', '.join(students)}" if students else ""))
        if students:
            got.append(chapter)
    return got
