"""Repository hygiene: clean notebooks, consistent nbgrader metadata, lock and conda env agree,
nothing of the instructor side importable by students, the README's commands are the ones CI runs."""
from __future__ import annotations

import re
import subprocess
import sys
from collections import Counter

import nbformat
import pytest

from helpers import REPO, chapter_notebooks, chapters, nbgrader_meta

NOTEBOOKS = chapter_notebooks()


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_has_no_outputs(path):
    nb = nbformat.read(path, as_version=4)
    dirty = [i for i, c in enumerate(nb.cells)
             if c.cell_type == "code" and (c.get("outputs") or c.get("execution_count") is not None)]
    assert not dirty, f"{path.name}: cells {dirty} carry outputs or execution counts (clear them before committing)"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_every_cell_has_its_own_id(path):
    """nbformat 4.5 requires a unique ``id`` per cell; JupyterLab and nbgrader would add missing ones on save,
    so a notebook written by a script without them changes under the student's hands."""
    import json

    cells = json.loads(path.read_text())["cells"]
    missing = [i for i, c in enumerate(cells) if not c.get("id")]
    assert not missing, f"{path.name}: cells {missing} have no id (nbformat.validator.normalize adds them)"
    repeated = [k for k, n in Counter(c["id"] for c in cells).items() if n > 1]
    assert not repeated, f"{path.name}: cell ids {repeated} are used more than once"


@pytest.mark.parametrize("chapter", chapters())
def test_nbgrader_metadata_is_consistent(chapter):
    ids, points = [], 0.0
    for path in chapter_notebooks(chapter):
        nb = nbformat.read(path, as_version=4)
        solutions, graded = [], set()
        for cell in nb.cells:
            meta = nbgrader_meta(cell)
            if not meta:
                continue
            assert meta.get("schema_version") == 3, f"{path.name}: {meta}"
            ids.append(meta["grade_id"])
            if meta.get("solution"):
                assert "### BEGIN SOLUTION" in cell.source and "### END SOLUTION" in cell.source, \
                    f"{path.name}/{meta['grade_id']}: a solution cell without a solution region"
                assert not meta.get("grade"), f"{path.name}/{meta['grade_id']}: exercises are graded by test cells"
                solutions.append(meta["grade_id"])
            if meta.get("grade"):
                assert meta.get("locked"), f"{path.name}/{meta['grade_id']}: test cells must be locked"
                assert meta.get("points", 0) > 0
                assert cell.source.count("### BEGIN HIDDEN TESTS") == cell.source.count("### END HIDDEN TESTS") == 1, \
                    f"{path.name}/{meta['grade_id']}: one hidden-test block per test cell"
                graded.add(meta["grade_id"])
                points += meta["points"]
        missing = [s for s in solutions if f"test_{s}" not in graded]
        assert not missing, f"{path.name}: exercises without a graded check: {missing}"
    duplicates = [i for i, n in Counter(ids).items() if n > 1]
    assert not duplicates, f"{chapter}: duplicate grade ids {duplicates}"
    assert points > 0 and points % 10 == 0, f"{chapter}: points total {points}, not a round number"


def _pins(lines):
    return sorted(ln.split("#")[0].strip() for ln in lines if "==" in ln and not ln.lstrip().startswith("#"))


def test_environment_yml_mirrors_the_lock():
    lock = _pins((REPO / "requirements.lock").read_text().splitlines())
    env = _pins(ln.strip().lstrip("- ").strip() for ln in (REPO / "environment.yml").read_text().splitlines())
    assert lock == env, f"only in the lock: {set(lock) - set(env)}; only in environment.yml: {set(env) - set(lock)}"
    assert "torch==2.13.0" in lock


def test_student_kernel_cannot_import_the_instructor_side(tmp_path):
    code = ("import importlib.util as u, course_lib\n"
            "print(u.find_spec('autograder') is None)")
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True,
                         env={"PATH": "/usr/bin:/bin"})
    assert out.stdout.strip() == "True", f"autograder/ is importable outside the repo: {out.stdout}{out.stderr}"


def test_course_lib_holds_no_exercise_answer():
    import course_lib
    modules = [m for m in (REPO / "course_lib").glob("*.py")]
    exercise_names = set()
    for path in NOTEBOOKS:
        for cell in nbformat.read(path, as_version=4).cells:
            if nbgrader_meta(cell).get("solution"):
                exercise_names.add(nbgrader_meta(cell)["grade_id"])
    text = "\n".join(m.read_text() for m in modules)
    defined = [n for n in exercise_names if re.search(rf"^\s*(def|class) {re.escape(n)}\b", text, re.M)]
    assert not defined, f"course_lib defines exercise answers: {defined}"
    assert course_lib.__file__.startswith(str(REPO / "course_lib"))


def test_ci_runs_the_readme_test_command():
    readme = (REPO / "README.md").read_text()
    ci = (REPO / ".ci" / "run").read_text()
    assert "./course test" in readme and "./course start" in readme
    assert re.search(r"^\s*(exec )?\./course test\b", ci, re.M), ".ci/run must call ./course test"
