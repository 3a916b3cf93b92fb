"""Students never lose work, and hand it in through nbgrader's exchange.

The student's workspace is fetched from the exchange once; no command or button rebuilds it. These
tests solve a notebook, run everything that used to wipe it, and find the answers still there; then
they hand it in, collect, grade and return feedback, with the real nbgrader.
"""
from __future__ import annotations

import json
import subprocess
import sys

import nbformat
import pytest

from autograder import course, workspace
from helpers import NOTEBOOKS, make_course, nbgrader_meta

CHAPTER, NOTEBOOK = "01_intro", "01_intro.ipynb"


@pytest.fixture
def root(tmp_path, monkeypatch):
    monkeypatch.delenv("COURSE_EXCHANGE", raising=False)
    monkeypatch.delenv("COURSE_WORKSPACE", raising=False)
    return make_course(tmp_path, CHAPTER)


def solve(path):
    """Write the instructor's answers into the solution cells of the student's notebook ``path``."""
    source = nbformat.read(NOTEBOOKS / CHAPTER / NOTEBOOK, as_version=4)
    answers = {nbgrader_meta(c)["grade_id"]: c.source for c in source.cells if nbgrader_meta(c).get("solution")}
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        gid = nbgrader_meta(cell).get("grade_id")
        if nbgrader_meta(cell).get("solution") and gid in answers:
            cell.source = "\n".join(line for line in answers[gid].splitlines()
                                     if line.strip() not in ("### BEGIN SOLUTION", "### END SOLUTION"))
    nbformat.write(nb, path)
    return path.read_bytes()


def nbgrader(args, cwd, **env):
    return subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=cwd, capture_output=True, text=True,
                          env={**course.nbgrader_env(), **env}, timeout=300)


@pytest.mark.slow
def test_no_command_or_button_overwrites_a_students_work(root):
    ws = workspace.prepare_student(root)  # ./course start
    mine = ws / CHAPTER / NOTEBOOK
    assert mine.is_file() and not workspace.has_student_work(mine)
    solved = solve(mine)
    assert workspace.has_student_work(mine)
    (ws / CHAPTER / "my_notes.txt").write_text("mine")

    workspace.prepare_student(root)                                   # ./course start, again
    course.release(root)                                              # ./course release
    workspace.publish(root)
    assert nbgrader(["generate_assignment", CHAPTER, "--force"], root).returncode == 0  # Formgrader: Generate
    assert nbgrader(["release_assignment", CHAPTER, "--force"], root).returncode == 0   # Formgrader: Release
    workspace.fetch(root)                                             # Assignment List: Fetch
    result = nbgrader(["fetch_assignment", CHAPTER, "--course", workspace.COURSE_ID, "--replace"],
                      ws, JUPYTER_CONFIG_DIR=str(workspace.student_config_dir(root)))
    assert result.returncode == 0, result.stderr

    assert mine.read_bytes() == solved, "the student's solved notebook changed"
    assert (ws / CHAPTER / "my_notes.txt").read_text() == "mine"

    # A newer release reaches the workspace without touching what the student has.
    (root / "notebooks" / CHAPTER / "errata.md").write_text("Exercise 3: tol is a strict bound.\n")
    course.release(root, [CHAPTER])
    workspace.publish(root, [CHAPTER])
    workspace.prepare_student(root)
    assert (ws / CHAPTER / "errata.md").is_file()
    assert mine.read_bytes() == solved


@pytest.mark.slow
def test_work_left_in_the_old_release_folder_is_kept(root):
    course.release(root, [CHAPTER])
    old = root / "release" / CHAPTER / NOTEBOOK  # where the course used to send students
    solved = solve(old)
    checkpoint = root / "release" / CHAPTER / ".ipynb_checkpoints" / "01_intro-checkpoint.ipynb"
    checkpoint.parent.mkdir()
    checkpoint.write_bytes(solved)

    course.release(root, [CHAPTER])  # rebuilding the release first moves the work out

    kept = root / "workspace" / CHAPTER / NOTEBOOK
    assert kept.read_bytes() == solved
    assert (kept.parent / ".ipynb_checkpoints" / checkpoint.name).read_bytes() == solved
    assert not workspace.has_student_work(old), "the rebuilt release holds the stubs again"
    course.release(root, [CHAPTER])  # a second rebuild finds nothing more to keep
    assert not list((root / "workspace" / CHAPTER).glob("recovered-*"))


def test_has_student_work_reads_nbgraders_checksums(tmp_path):
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("def f():\n    # YOUR CODE HERE\n    raise NotImplementedError()")
    cell.metadata["nbgrader"] = {"solution": True, "grade": False, "locked": False, "grade_id": "f",
                                 "schema_version": 3}
    from nbgrader.utils import compute_checksum
    cell.metadata.nbgrader["checksum"] = compute_checksum(cell)
    nb.cells.append(cell)
    path = tmp_path / "a.ipynb"
    nbformat.write(nb, path)
    assert not workspace.has_student_work(path)
    cell.source = "def f():\n    return 1"
    nbformat.write(nb, path)
    assert workspace.has_student_work(path)
    path.write_text("{ not json")
    assert workspace.has_student_work(path), "an unreadable notebook is someone's; never delete it"


def test_student_jupyterlab_hides_the_instructors_tools(root):
    config = workspace.student_config_dir(root)
    disabled = json.loads((config / "labconfig" / "page_config.json").read_text())["disabledExtensions"]
    assert disabled == {"@jupyter/nbgrader:formgrader": True, "@jupyter/nbgrader:create-assignment": True,
                        "@jupyter/nbgrader:course-list": True}
    server = json.loads((config / "jupyter_server_config.json").read_text())
    assert server["ServerApp"]["jpserver_extensions"]["nbgrader.server_extensions.formgrader"] is False
    text = (config / "nbgrader_config.py").read_text()
    assert str(root / "exchange") in text and workspace.COURSE_ID in text


def test_chapter_typos_get_one_line(root):
    run = subprocess.run([sys.executable, "-m", "autograder", "--root", str(root), "release", "01_intr"],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 2
    assert run.stderr.strip() == ("course: no chapter '01_intr'. Did you mean 01_intro? Chapters: 01_intro")


OFF_BY_ONE = '''
def discounted_return(rewards, gamma):
    g = 0.0
    for r in reversed(list(rewards)):
        g = gamma * (float(r) + g)
    return g
'''


@pytest.mark.slow
def test_hand_in_collect_grade_and_read_feedback(root):
    """A student's week without the browser: fetch, solve (one answer wrong), submit; the instructor
    collects, grades and releases feedback; the student fetches it. The feedback names the mistake
    and shows no hidden check's code and no grader's path."""
    import getpass

    ws = workspace.prepare_student(root)
    solve(ws / CHAPTER / NOTEBOOK)
    nb = nbformat.read(ws / CHAPTER / NOTEBOOK, as_version=4)
    for cell in nb.cells:
        if nbgrader_meta(cell).get("grade_id") == "discounted_return":
            cell.source = OFF_BY_ONE
    nbformat.write(nb, ws / CHAPTER / NOTEBOOK)
    student_env = {"JUPYTER_CONFIG_DIR": str(workspace.student_config_dir(root))}
    result = nbgrader(["submit", CHAPTER, "--course", workspace.COURSE_ID], ws, **student_env)  # Submit
    assert result.returncode == 0, result.stderr

    def instructor(*args):
        run = subprocess.run([sys.executable, "-m", "autograder", "--root", str(root), *args], cwd=root,
                             capture_output=True, text=True, timeout=600)
        assert run.returncode == 0, run.stdout + run.stderr[-3000:]
        return run.stdout

    me = getpass.getuser()
    assert f"1 hand-in(s): {me}" in instructor("collect")
    out = instructor("grade", "--student", me, "--csv", str(root / "grades.csv"))
    assert f"{me:<20} {CHAPTER:<20}     85 / 100" in out, out
    out = instructor("feedback")  # no arguments: every graded chapter
    assert "released to 1 student(s) through the exchange" in out

    result = nbgrader(["fetch_feedback", CHAPTER, "--course", workspace.COURSE_ID], ws, **student_env)
    assert result.returncode == 0, result.stderr
    pages = list((ws / CHAPTER / "feedback").glob("*/01_intro.html"))
    assert len(pages) == 1, list((ws / CHAPTER).rglob("*"))
    html = pages[0].read_text()
    assert "discounted_return" in html and "AssertionError" in html
    for secret in ("BEGIN HIDDEN TESTS", "load_reference", "hidden_discounted_return", "COURSE_REFERENCE_DIR",
                   str(root), "site-packages"):
        assert secret not in html, f"the student's feedback shows {secret!r}"


def test_feedback_for_no_graded_chapter_says_so(root):
    run = subprocess.run([sys.executable, "-m", "autograder", "--root", str(root), "feedback"],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert "nothing has been autograded yet" in run.stdout


def test_feedback_preprocessor_removes_hidden_checks_and_paths():
    import nbformat as nbf
    from autograder.feedback import HideHiddenChecks

    cell = nbf.v4.new_code_cell("check(x)\n### BEGIN HIDDEN TESTS\nsecret_check(x, tol=1e-9)\n### END HIDDEN TESTS\n")
    cell.outputs = [nbf.v4.new_output("error", ename="AssertionError",
                                      evalue="x: expected 1, see /srv/course/autograder/reference/ch01.py",
                                      traceback=["\x1b[31mTraceback\x1b[0m", "File /srv/course/x.py line 3"])]
    nb = nbf.v4.new_notebook(cells=[cell])
    out, _ = HideHiddenChecks()(nb, {})
    shown = out.cells[0]
    assert "secret_check" not in shown.source and "check(x)" in shown.source
    assert shown.outputs[0].traceback == ["AssertionError: x: expected 1, see ch01.py"]
