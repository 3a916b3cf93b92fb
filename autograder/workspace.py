"""Where students work, how chapters reach them, and how their work goes back: nbgrader's exchange.

Three folders, three owners:

    release/<chapter>/     built by nbgrader from notebooks/ (instructor side; rebuilt at will)
    exchange/<course>/     nbgrader's exchange: outbound/ (released chapters), inbound/ (hand-ins),
                           feedback/; on one machine it is ``<course root>/exchange``, on a shared
                           server (JupyterHub style) any folder every user can write, given by
                           ``COURSE_EXCHANGE``
    workspace/<chapter>/   the student's own copy, fetched from the exchange once and never
                           overwritten by any command (``COURSE_WORKSPACE`` moves it)

A newer release reaches a workspace through nbgrader's ``fetch_assignment --replace`` (missing files only):
files the student does not have yet are added, files the student has are left exactly as they are.

Students used to work in ``release/`` itself. Before anything rebuilds a chapter there,
:func:`rescue_release_work` moves any notebook with work in it into the workspace (or, if the
workspace already has that chapter, into ``workspace/<chapter>/recovered-<time>/``).
"""
from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

from . import course

COURSE_ID = "deep-rl-workbook"

# The nbgrader JupyterLab plugins and server extensions a student must not see: the Formgrader
# (edit, generate, preview every assignment) and Create Assignment (the instructor's cell toolbar).
STUDENT_HIDDEN_LAB_PLUGINS = ("@jupyter/nbgrader:formgrader", "@jupyter/nbgrader:create-assignment",
                              "@jupyter/nbgrader:course-list")
STUDENT_HIDDEN_SERVER_EXTENSIONS = ("nbgrader.server_extensions.formgrader",
                                    "nbgrader.server_extensions.course_list")


def exchange_root(root: Path = course.REPO) -> Path:
    """The exchange folder: ``COURSE_EXCHANGE`` if set, else ``<root>/exchange``."""
    value = os.environ.get("COURSE_EXCHANGE")
    return Path(value).resolve() if value else Path(root).resolve() / "exchange"


def workspace_root(root: Path = course.REPO) -> Path:
    """The student's workspace: ``COURSE_WORKSPACE`` if set, else ``<root>/workspace``."""
    value = os.environ.get("COURSE_WORKSPACE")
    return Path(value).resolve() if value else Path(root).resolve() / "workspace"


def has_student_work(notebook: Path) -> bool:
    """True when a student changed any solution cell of a released ``notebook``.

    nbgrader stores each solution cell's checksum in the release (``metadata.nbgrader.checksum``);
    a cell whose source no longer matches it holds the student's work. An unreadable notebook
    counts as work too: it is never ours to delete.
    """
    import nbformat
    from nbgrader.utils import compute_checksum, is_solution

    try:
        nb = nbformat.read(notebook, as_version=4)
    except Exception:
        return notebook.exists()
    for cell in nb.cells:
        if is_solution(cell):
            stored = cell.metadata.nbgrader.get("checksum")
            if stored is None or compute_checksum(cell) != stored:
                return True
    return False


def rescue_release_work(root: Path = course.REPO, which: list[str] | None = None) -> list[Path]:
    """Move notebooks with a student's work out of ``release/`` before it is rebuilt.

    Returns where each rescued notebook went. Never deletes anything.
    """
    root = Path(root).resolve()
    moved = []
    stamp = time.strftime("%Y%m%d-%H%M%S")
    for chapter in which or course.chapters(root):
        folder = root / "release" / chapter
        worked = [p for p in sorted(folder.glob("*.ipynb")) if has_student_work(p)]
        if not worked:
            continue
        target = workspace_root(root) / chapter
        if target.exists():
            target = target / f"recovered-{stamp}"
        target.mkdir(parents=True, exist_ok=True)
        for path in worked:
            dest = target / path.name
            shutil.copy2(path, dest)
            moved.append(dest)
        # Checkpoints are what File > Revert uses: keep them with the work.
        checkpoints = folder / ".ipynb_checkpoints"
        if checkpoints.is_dir():
            shutil.copytree(checkpoints, target / ".ipynb_checkpoints", dirs_exist_ok=True)
    return moved


def released(root: Path = course.REPO) -> list[str]:
    """Chapters present in the exchange's outbound folder."""
    outbound = exchange_root(root) / COURSE_ID / "outbound"
    return sorted(p.name for p in outbound.iterdir() if p.is_dir()) if outbound.is_dir() else []


def publish(root: Path = course.REPO, which: list[str] | None = None) -> list[str]:
    """``nbgrader release_assignment --force`` of each chapter: the release goes to the exchange."""
    root = Path(root).resolve()
    ensure_exchange(root)
    done = []
    for chapter in which or course.chapters(root):
        result = course.run_nbgrader(["release_assignment", chapter, "--force"], root)
        if result.returncode != 0:
            raise RuntimeError(f"nbgrader release_assignment {chapter} failed:\n"
                               f"{result.stdout}\n{result.stderr}")
        done.append(chapter)
    return done


def ensure_exchange(root: Path = course.REPO) -> Path:
    """Create the exchange folder, writable by every user (as nbgrader requires for hand-ins)."""
    path = exchange_root(root)
    path.mkdir(parents=True, exist_ok=True)
    try:
        path.chmod(0o777)
    except PermissionError:
        pass  # a shared exchange made by an administrator: its permissions are theirs
    return path


def student_config_dir(root: Path = course.REPO) -> Path:
    """A Jupyter configuration folder for the student's JupyterLab (``JUPYTER_CONFIG_DIR``).

    It hides the instructor's nbgrader tools (Formgrader, Create Assignment), keeps Validate and
    the Assignment List, and tells nbgrader the course id and the exchange.
    """
    folder = workspace_root(root) / ".course" / "jupyter"
    (folder / "labconfig").mkdir(parents=True, exist_ok=True)
    (folder / "labconfig" / "page_config.json").write_text(json.dumps(
        {"disabledExtensions": {name: True for name in STUDENT_HIDDEN_LAB_PLUGINS}}, indent=2))
    (folder / "jupyter_server_config.json").write_text(json.dumps(
        {"ServerApp": {"jpserver_extensions": {name: False for name in STUDENT_HIDDEN_SERVER_EXTENSIONS}}},
        indent=2))
    (folder / "nbgrader_config.py").write_text(
        "# The student's nbgrader settings, written by ./course start: the course and the exchange.\n"
        "c = get_config()  # noqa: F821\n"
        f"c.CourseDirectory.course_id = {COURSE_ID!r}\n"
        f"c.Exchange.root = {str(exchange_root(root))!r}\n")
    return folder


def fetch(root: Path = course.REPO, which: list[str] | None = None) -> list[str]:
    """Fetch released chapters into the workspace; existing files are never touched.

    A chapter not in the workspace is fetched whole; one already there only gains the files it
    lacks (``--replace``). Returns the chapters that were new.
    """
    workspace = workspace_root(root)
    workspace.mkdir(parents=True, exist_ok=True)
    config = student_config_dir(root)
    env = {"JUPYTER_CONFIG_DIR": str(config)}
    new = []
    outbound = exchange_root(root) / COURSE_ID / "outbound"
    for chapter in which or released(root):
        had = (workspace / chapter).exists()
        if had and not _lacks_files(outbound / chapter, workspace / chapter):
            continue  # nothing new for it: no nbgrader process to start
        args = ["fetch_assignment", chapter, "--course", COURSE_ID]
        if had:
            args.append("--replace")
        result = course.run_nbgrader(args, workspace, extra_env=env)
        if result.returncode != 0:
            raise RuntimeError(f"nbgrader fetch_assignment {chapter} failed:\n{result.stdout}\n{result.stderr}")
        if not had:
            new.append(chapter)
    return new


def _lacks_files(released_folder: Path, mine: Path) -> bool:
    """Whether ``mine`` lacks any file that the released chapter has."""
    return any(not (mine / p.relative_to(released_folder)).exists()
               for p in released_folder.rglob("*") if p.is_file())


def prepare_student(root: Path = course.REPO, say=print) -> Path:
    """Everything ``./course start`` does before JupyterLab opens; returns the workspace.

    Builds and releases only the chapters that were never released (never rebuilding one that
    exists), then fetches into the workspace what is not there yet. Student work is never touched.
    """
    root = Path(root).resolve()
    missing = [c for c in course.chapters(root) if c not in released(root)]
    if missing:
        say(f"course: first start: building and releasing {', '.join(missing)} (a few seconds each)")
        course.release(root, missing, say=say)
        publish(root, missing)
    new = fetch(root)
    if new:
        say(f"course: your workspace {workspace_root(root)} now has {', '.join(new)}")
    return workspace_root(root)
