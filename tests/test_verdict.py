"""The verdict machinery in-process (fast): extracted references are fresh, the mistake registry
works (each known mistake loses points on exactly its exercise, and its message names it and no
other), the reference passes its own checks, answers are data only."""
from __future__ import annotations

import base64
import json

import numpy as np
import pytest

from autograder.verdict import converted_chapters, extract, wire
from autograder.verdict.core import Chapter, LocalStudent, grade_exercise

CHAPTERS = converted_chapters()
_CHAPTERS: dict[str, Chapter] = {}


def chapter(name: str) -> Chapter:
    if name not in _CHAPTERS:
        _CHAPTERS[name] = Chapter(name)
    return _CHAPTERS[name]


def test_chapter_01_is_converted():
    assert "01_intro" in CHAPTERS


@pytest.mark.parametrize("name", CHAPTERS)
def test_extracted_reference_is_fresh(name):
    path = extract.generated_path(name)
    assert path.read_text() == extract.render(name), (
        f"{path.name} is stale: run `python -m autograder.verdict.extract {name}` after editing the notebook")


@pytest.mark.parametrize("name", CHAPTERS)
def test_every_solution_cell_is_an_exercise_with_mistakes(name):
    ch = chapter(name)
    cells = [gid for gid, _ in extract.solution_cells(name)]
    assert sorted(cells) == sorted(ch.exercises), "each solution cell needs an Exercise (and vice versa)"
    without = [e for e in ch.exercises if not any(m.exercise == e for m in ch.mistakes)]
    assert not without, f"exercises without a known mistake in the registry: {without}"
    keys = [(m.exercise, m.description) for m in ch.mistakes]
    assert len(set(keys)) == len(keys), "two mistakes of one exercise share a description"


@pytest.mark.parametrize("name", CHAPTERS)
def test_reference_passes_its_own_checks(name):
    ch = chapter(name)
    for exercise in ch.exercises:
        student = ch.student(extract.namespace(ch.text))
        verdict = ch.grade(exercise, student)
        assert verdict.passed, verdict.message


def _mistakes():
    return [(name, i) for name in CHAPTERS for i in range(len(chapter(name).mistakes))]


@pytest.mark.parametrize("name,index", _mistakes(),
                         ids=lambda v: v if isinstance(v, str) else str(v))
def test_mistake_is_named_and_costs_only_its_exercise(name, index):
    ch = chapter(name)
    mistake = ch.mistakes[index]
    ns = extract.namespace(extract.with_mistake(ch.text, mistake))
    lost = {}
    for exercise in ch.exercises:
        verdict = ch.grade(exercise, ch.student(ns))
        if not verdict.passed:
            lost[exercise] = verdict
    assert list(lost) == [mistake.exercise], f"{mistake.description}: lost points on {list(lost)}"
    verdict = lost[mistake.exercise]
    assert verdict.mistakes == [mistake.description], verdict.message
    assert mistake.description in verdict.message


def test_one_mistake_costs_one_exercise_even_when_others_build_on_it():
    """The issue's case: a backup that writes V[terminal] = 0 into its argument loses its own points;
    value iteration, which uses the backup, is graded with the reference backup and keeps its."""
    ch = chapter("01_intro")
    mistake = next(m for m in ch.mistakes if "V[terminal] = 0" in m.description)
    ns = extract.namespace(extract.with_mistake(ch.text, mistake))
    assert not ch.grade("bellman_backup", ch.student(ns)).passed
    assert ch.grade("value_iteration", ch.student(ns)).passed
    assert ch.grade("policy_evaluation", ch.student(ns)).passed


def test_an_unknown_wrong_answer_is_not_given_a_mistake_name():
    ch = chapter("01_intro")
    ns = extract.namespace(ch.text)
    exec("def discounted_return(rewards, gamma):\n    return 42.0\n", ns)
    verdict = ch.grade("discounted_return", ch.student(ns))
    assert not verdict.passed and verdict.mistakes == [] and "known mistake" not in verdict.message
    assert "expected" in verdict.message and "42" in verdict.message


def test_a_raising_answer_says_what_it_raised():
    ch = chapter("01_intro")
    ns = extract.namespace(ch.text)
    exec("def bellman_backup(P, R, terminal, V, gamma):\n    raise NotImplementedError()\n", ns)
    verdict = ch.grade("bellman_backup", ch.student(ns))
    assert not verdict.passed and "raised NotImplementedError" in verdict.message


def test_answers_are_data_only():
    obj = {"t": "nd", "dtype": "|O", "shape": [1], "b64": base64.b64encode(b"x" * 8).decode()}
    with pytest.raises(wire.WireError):
        wire.decode(obj)
    with pytest.raises(wire.WireError):
        wire.decode({"t": "pickle", "v": "gASV"})
    bad_shape = {"t": "nd", "dtype": "<f8", "shape": [3], "b64": base64.b64encode(b"x" * 8).decode()}
    with pytest.raises(wire.WireError):
        wire.decode(bad_shape)
    a = np.arange(6.0).reshape(2, 3)
    assert np.array_equal(wire.decode(wire.encode(a)), a)


def test_local_student_sees_the_same_encoding_as_a_kernel():
    ns = {"np": np}
    exec("def f(x):\n    x[0] = 99.0\n    return np.float32(x.sum()), [1, (2, 'a')], {'k': None}\n", ns)
    student = LocalStudent(ns)
    r = student.call("f", np.array([1.0, 2.0]))
    assert isinstance(r.value[0], np.float32) and r.value[1] == [1, (2, "a")] and r.value[2] == {"k": None}
    assert r.args_after[0].tolist() == [99.0, 2.0]
    assert json.loads(json.dumps(student.request({"op": "call", "fn": "missing", "args": [], "kwargs": [],
                                                  "deps": []})))["raised"]["ename"] == "NameError"
