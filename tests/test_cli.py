"""The instructor's grading tool on a class with bad submissions: each gets a clear message and a
score, and none stops the rest of the class from being graded."""
from __future__ import annotations

import csv
import subprocess
import sys

import nbformat
import pytest

from helpers import NOTEBOOKS, make_course, with_replacements

pytestmark = pytest.mark.slow
CHAPTER = "01_intro"
NOTEBOOK = "01_intro.ipynb"

RAISES = '''
def discounted_return(rewards, gamma):
    raise ValueError("I gave up")
'''
LOOPS = '''
def discounted_return(rewards, gamma):
    while True:
        pass
'''


def test_grade_a_class_with_bad_submissions(tmp_path):
    root = make_course(tmp_path, CHAPTER)
    source = NOTEBOOKS / CHAPTER / NOTEBOOK
    subs = tmp_path / "collected"

    def put(student: str, nb=None, text: str | None = None):
        folder = subs / student / CHAPTER
        folder.mkdir(parents=True)
        if nb is not None:
            nbformat.write(nb, folder / NOTEBOOK)
        if text is not None:
            (folder / NOTEBOOK).write_text(text)

    put("alice", with_replacements(source, {}))
    put("bob_invalid_json", text='{"cells": [ this is not json')
    put("carol_missing")
    put("dave_raises", with_replacements(source, {"discounted_return": RAISES}))
    put("erin_infinite_loop", with_replacements(source, {"discounted_return": LOOPS}))

    out_csv = tmp_path / "grades.csv"
    run = subprocess.run([sys.executable, "-m", "autograder", "--root", str(root), "grade", str(subs),
                          "--chapter", CHAPTER, "--timeout", "15", "--csv", str(out_csv)],
                         capture_output=True, text=True, timeout=900)
    print(run.stdout, run.stderr[-3000:])
    assert run.returncode == 0, run.stderr[-3000:]
    rows = {r["student"]: r for r in csv.DictReader(out_csv.open())}
    assert set(rows) == {"alice", "bob_invalid_json", "carol_missing", "dave_raises", "erin_infinite_loop"}

    def total(student):
        return float(rows[student]["total"])

    assert total("alice") == 100 and rows["alice"]["messages"] == ""
    assert total("bob_invalid_json") == 0 and "could not be read" in rows["bob_invalid_json"]["messages"]
    assert total("carol_missing") == 0 and "missing" in rows["carol_missing"]["messages"]
    assert total("dave_raises") == 85 and "ValueError: I gave up" in rows["dave_raises"]["messages"]
    assert float(rows["dave_raises"]["test_discounted_return"]) == 0
    assert total("erin_infinite_loop") == 85
    assert "test_discounted_return: ran past the per-cell time limit" in rows["erin_infinite_loop"]["messages"]
    assert "erin_infinite_loop" in run.stdout and "wrote" in run.stdout

    fb = subprocess.run([sys.executable, "-m", "autograder", "--root", str(root), "feedback", CHAPTER],
                        capture_output=True, text=True, timeout=300)
    assert fb.returncode == 0, fb.stderr[-2000:]
    assert (root / "feedback" / "alice" / CHAPTER / "01_intro.html").is_file()
