"""Grading end to end with the real nbgrader, for every chapter that has grading cases.

For a chapter: build the release in a temporary course; check it holds no solution, hidden test or
reference; then autograde, in one class, the instructor solution (full marks), the untouched release
(zero), realistic wrong answers of tests/grading_cases/case_<chapter>.py (each loses points exactly on
the exercises it breaks; the first group by default, all with COURSE_GRADE_EVERY_MISTAKE=1) and a
cheat attempt (zero).
"""
from __future__ import annotations

import importlib
import importlib.util
import json
import os
import re

import nbformat
import pytest

from autograder import course
from helpers import chapter_notebooks, chapters, make_course, nbgrader_meta, with_replacements

pytestmark = pytest.mark.slow
CHAPTERS = [c for c in chapters() if importlib.util.find_spec(f"grading_cases.case_{c}") is not None]


def test_every_chapter_has_grading_cases():
    missing = [c for c in chapters() if c not in CHAPTERS]
    assert not missing, f"chapters without tests/grading_cases/case_<chapter>.py: {missing}"


def _solution_lines(nb) -> set[str]:
    """Substantial code lines inside BEGIN/END SOLUTION regions of the source notebook."""
    lines, inside = set(), False
    for cell in nb.cells:
        for line in cell.source.splitlines():
            stripped = line.strip()
            if "### BEGIN SOLUTION" in stripped:
                inside = True
            elif "### END SOLUTION" in stripped:
                inside = False
            elif inside and len(stripped) > 25 and not stripped.startswith(("#", '"""')):
                lines.add(stripped)
    return lines


def check_release(root, chapter: str) -> None:
    released = sorted((root / "release" / chapter).glob("*.ipynb"))
    assert [p.name for p in released] == [p.name for p in chapter_notebooks(chapter)]
    for path in released:
        text = path.read_text()
        for marker in ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "load_reference"):
            assert marker not in text, f"{path.name}: the release contains {marker!r}"
        source = nbformat.read(root / "notebooks" / chapter / path.name, as_version=4)
        release_code = "\n".join(c.source for c in nbformat.read(path, as_version=4).cells)
        leaked = [ln for ln in _solution_lines(source) if ln in release_code]
        # a line may legitimately appear elsewhere in the notebook (e.g. `return V`): only flag
        # lines that appear nowhere outside solution regions of the source
        outside = "\n".join(re.sub(r"### BEGIN SOLUTION.*?### END SOLUTION", "", c.source, flags=re.S)
                            for c in source.cells)
        leaked = [ln for ln in leaked if ln not in outside]
        assert not leaked, f"{path.name}: solution code in the release: {leaked[:3]}"
    for ref in (root / "release" / chapter).rglob("*"):
        assert not ref.name.startswith("ch") or ref.suffix != ".py", f"reference file in release: {ref}"


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_grading_end_to_end(chapter, tmp_path):
    cases = importlib.import_module(f"grading_cases.case_{chapter}")
    root = make_course(tmp_path, chapter)
    course.release(root, [chapter])
    check_release(root, chapter)

    sources = {p.name: p for p in (root / "notebooks" / chapter).glob("*.ipynb")}
    releases = {p.name: p for p in (root / "release" / chapter).glob("*.ipynb")}
    owner = {nbgrader_meta(c)["grade_id"]: name for name, p in sources.items()
             for c in nbformat.read(p, as_version=4).cells if nbgrader_meta(c).get("solution")}

    def submit(student: str, base: dict, replacements: dict[str, str], trim: bool = False) -> None:
        folder = root / "submitted" / student / chapter
        folder.mkdir(parents=True)
        for name, path in base.items():
            mine = {g: code for g, code in replacements.items() if owner[g] == name}
            nb = with_replacements(path, mine)
            nbformat.write(trimmed(nb) if trim else nb, folder / name)

    submit("solution", sources, {})
    submit("untouched", releases, {})
    trim = getattr(cases, "TRIM", False)
    wrong = graded_wrong_answers(cases.WRONG)
    for student, (replacements, _) in wrong.items():
        submit(student, sources, replacements, trim)
    submit("cheat", releases, cases.CHEAT, trim)

    outcomes = {o.student: o for o in course.autograde(root / "submitted", root, [chapter])}
    report = "\n".join(f"{s}: {o.total:g}/{o.max_total:g} {o.scores} {o.messages}" for s, o in outcomes.items())
    print(report)

    full = outcomes["solution"]
    assert full.max_total > 0 and full.max_total % 10 == 0, f"points should total a round number: {full.max_total}"
    assert full.total == full.max_total, f"the solution must score full marks:\n{report}"
    assert outcomes["untouched"].total == 0, f"the untouched release must score 0:\n{report}"
    assert outcomes["cheat"].total == 0, f"rebinding checks must not earn points:\n{report}"
    assert len(cases.WRONG) >= 3
    for student, (_, losers) in wrong.items():
        o = outcomes[student]
        lost = {cell for cell, pts in o.scores.items() if pts < o.max_scores[cell]}
        assert lost == set(losers), (f"{student}: expected to lose points on {sorted(losers)}, "
                                     f"lost on {sorted(lost)}:\n{report}")
    # where the chapter's registry knows the mistake, the message names it (and no other)
    for student, named in {k: v for k, v in getattr(cases, "NAMED", {}).items() if k in wrong}.items():
        messages = cell_messages(root / "autograded" / student / chapter)
        for cell, description in named.items():
            assert f"known mistake: {description}" in messages.get(cell, ""), (
                f"{student}/{cell}: the message should name {description!r}: {messages.get(cell)}")


def graded_wrong_answers(wrong: dict) -> dict:
    """The wrong-answer submissions graded through nbgrader here: the first group (one known mistake
    in every exercise that has one, so every exercise's verdict is exercised end to end), or all of
    them with COURSE_GRADE_EVERY_MISTAKE=1. Each known mistake is also graded alone, in-process and
    with the same probes, by tests/test_verdict.py (it loses exactly its exercise and is named)."""
    if os.environ.get("COURSE_GRADE_EVERY_MISTAKE") == "1":
        return dict(wrong)
    return dict(list(wrong.items())[:1])


def trimmed(nb):
    """Only the imports cell and the exercises (solution and test cells): a fast submission. nbgrader
    tracks only its own cells, so dropping the experiments is what a student may do too."""
    keep = [c for c in nb.cells if nbgrader_meta(c) or (c.cell_type == "code" and "from course_lib" in c.source
                                                         and "import" in c.source and "doctor" not in c.source)]
    nb.cells = keep
    return nb


def cell_messages(folder) -> dict[str, str]:
    """grade_id -> the text of the error outputs of each graded cell of the autograded notebooks."""
    found = {}
    for path in folder.glob("*.ipynb"):
        for cell in json.loads(path.read_text())["cells"]:
            gid = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
            text = " ".join(f"{o.get('ename')}: {o.get('evalue')}" for o in cell.get("outputs", [])
                            if o.get("output_type") == "error")
            text += " ".join("".join(o.get("text", "")) for o in cell.get("outputs", [])
                             if o.get("output_type") == "stream")
            if gid:
                found[gid] = text
    return found


def test_the_formgraders_autograde_button_grades_through_the_verdict(tmp_path):
    """The Formgrader's Autograde button runs nbgrader inside the Jupyter server (not through
    ``./course``): a real ``jupyter server`` on the course root, the button's own API call, and the
    gradebook it fills. One submission carries a known mistake in every exercise that has one: with
    the verdict it loses exactly those exercises, each message naming its mistake."""
    import secrets
    import signal
    import socket
    import subprocess
    import sys
    import time
    import urllib.request

    from nbgrader.api import Gradebook

    chapter = "01_intro"
    cases = importlib.import_module(f"grading_cases.case_{chapter}")
    student, (replacements, losers) = next(iter(cases.WRONG.items()))
    root = make_course(tmp_path, chapter)
    course.release(root, [chapter])
    folder = root / "submitted" / "alice" / chapter
    folder.mkdir(parents=True)
    for path in (root / "notebooks" / chapter).glob("*.ipynb"):
        nbformat.write(trimmed(with_replacements(path, replacements)), folder / path.name)

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    token = secrets.token_hex(16)
    env = course.nbgrader_env()
    for name in ("config", "data", "runtime"):  # a fresh Jupyter: every server extension enabled
        (tmp_path / name).mkdir()
        env[f"JUPYTER_{name.upper()}_DIR"] = str(tmp_path / name)
    for var in ("COURSE_FAST", "NBGRADER_EXECUTION"):
        env.pop(var, None)
    with open(tmp_path / "server.log", "wb") as log:
        server = subprocess.Popen([sys.executable, "-m", "jupyter", "server", "--allow-root", "--ServerApp.ip=127.0.0.1",
                                   f"--ServerApp.port={port}", "--ServerApp.port_retries=0",
                                   f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}"],
                                  cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    base, auth = f"http://127.0.0.1:{port}", {"Authorization": f"token {token}"}
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                urllib.request.urlopen(urllib.request.Request(f"{base}/api/status", headers=auth), timeout=5)
                break
            except OSError:
                assert server.poll() is None and time.monotonic() < deadline, (tmp_path / "server.log").read_text()[-3000:]
                time.sleep(0.5)
        # what the button posts (nbgrader's formgrader/static/js/manage_submissions.js)
        button = urllib.request.Request(f"{base}/formgrader/api/submission/{chapter}/alice/autograde",
                                        data=b"", method="POST", headers=auth)
        answer = json.loads(urllib.request.urlopen(button, timeout=600).read())
        assert answer["success"], answer.get("error", "")[-3000:]
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=60)

    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gb:
        submission = gb.find_submission(chapter, "alice")
        scores = {g.cell.name: (g.score, g.max_score) for nb in submission.notebooks for g in nb.grades
                  if g.cell.name.startswith("test_")}
    lost = {cell for cell, (score, most) in scores.items() if score < most}
    assert lost == set(losers), scores
    messages = cell_messages(root / "autograded" / "alice" / chapter)
    for cell, description in cases.NAMED[student].items():
        assert f"known mistake: {description}" in messages.get(cell, ""), messages.get(cell)
