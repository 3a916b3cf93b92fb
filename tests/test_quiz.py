"""Checked questions (course_lib.quiz): right and wrong answers, the numeric tolerance, the
explanation revealed after any answer, clear errors for a badly built question; and every
"Predict before ..." question of chapters 01-05 followed by a quiz cell."""
from __future__ import annotations

import re

import nbformat
import pytest

from course_lib.quiz import Choice, Number, Verdict, quiz
from helpers import NOTEBOOKS

WHY = "Because the measured runs say so."


def choice():
    return Choice("Which is larger?", ["one", "two", "no difference"], correct=1, explanation=WHY)


def test_nothing_is_revealed_before_an_answer():
    q = choice()
    assert q.verdict is None and q.feedback.value == ""
    assert WHY not in repr(q) and "0: one" in repr(q) and "Which is larger?" in repr(q)


def test_right_choice_by_index_or_text():
    for value in (1, "two"):
        q = choice()
        verdict = q.answer(value)
        assert isinstance(verdict, Verdict) and verdict.right and q.verdict is verdict
        assert verdict.message.startswith("✔ Right.") and WHY in verdict.message
        assert "Right." in q.feedback.value and WHY in q.feedback.value


def test_wrong_choice_names_the_answer_and_explains():
    q = choice()
    verdict = q.answer(0)
    assert not verdict.right
    assert "the answer is “two”" in verdict.message and WHY in verdict.message
    assert WHY in q.feedback.value and "#c00" in q.feedback.value
    assert repr(verdict) == verdict.message


def test_check_button_answers_with_the_selected_option():
    q = choice()
    q.button.click()
    assert q.verdict is None and "Choose an answer first" in q.feedback.value
    q.input.value = "no difference"
    q.button.click()
    assert q.verdict is not None and not q.verdict.right and WHY in q.feedback.value
    q.input.value = "two"
    q.button.click()
    assert q.verdict.right


def test_numeric_tolerance_is_inclusive_and_absolute():
    q = Number("How many steps ahead?", 10, tolerance=1.5, explanation=WHY)
    assert q.answer(11.5).right and q.answer(8.5).right and q.answer(10).right
    assert not q.answer(11.6).right and not q.answer(-10).right
    assert "10 (± 1.5)" in q.verdict.message and WHY in q.verdict.message
    q.input.value = 9.0
    q.button.click()
    assert q.verdict.right and WHY in q.feedback.value


def test_exact_number_with_zero_tolerance():
    q = Number("Two plus two?", 4, tolerance=0, explanation=WHY)
    assert q.answer(4).right and not q.answer(4.001).right


@pytest.mark.parametrize("build, message", [
    (lambda: Choice("Q?", ["a"], 0, WHY), "at least two different options"),
    (lambda: Choice("Q?", ["a", "a"], 0, WHY), "at least two different options"),
    (lambda: Choice("Q?", ["a", "b"], 2, WHY), "index of an option"),
    (lambda: Choice("Q?", ["a", "b"], True, WHY), "index of an option"),
    (lambda: Choice("Q?", ["a", "b"], "a", WHY), "index of an option"),
    (lambda: Choice("Q?", ["a", "b"], 0, "  "), "non-empty explanation"),
    (lambda: Number("Q?", 1.0, -0.1, WHY), "tolerance >= 0"),
    (lambda: Number("Q?", float("nan"), 0.1, WHY), "finite answer"),
    (lambda: Number("", 1.0, 0.1, WHY), "non-empty question"),
])
def test_bad_construction_raises_a_clear_error(build, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        build()


def test_bad_answers_raise_a_clear_error():
    with pytest.raises(ValueError, match="not one of the options"):
        choice().answer("three")
    with pytest.raises(ValueError, match="option's text or its index"):
        choice().answer(3)
    with pytest.raises(ValueError, match="finite number"):
        Number("Q?", 1.0, 0.1, WHY).answer(float("inf"))


def test_quiz_displays_each_question(monkeypatch):
    shown = []
    monkeypatch.setattr("course_lib.quiz.display", shown.append)
    a, b = choice(), Number("Q?", 1.0, 0.1, WHY)
    assert quiz(a, b) is None and shown == [a, b]
    with pytest.raises(TypeError, match="Choice or Number"):
        quiz("not a question")


# Every "Predict before you ..." markdown cell (and 03b's "Questions." cell) of these notebooks is
# followed, before the next markdown cell that starts a section, by a code cell that calls quiz(...).
QUIZ_NOTEBOOKS = ["01_intro/01_intro.ipynb", "02_qlearning/02_qlearning.ipynb", "03_dqn/03a_dqn.ipynb",
                  "03_dqn/03b_dqn_improvements.ipynb", "04_policy_gradient/04a_reinforce.ipynb",
                  "04_policy_gradient/04b_gae_gaussian.ipynb", "05_actor_critic/05a_a2c.ipynb",
                  "05_actor_critic/05b_a3c.ipynb"]
PREDICT = re.compile(r"\*\*Predict before you|\*\*Questions\.\*\*|\(predict before you")


@pytest.mark.parametrize("name", QUIZ_NOTEBOOKS)
def test_every_predict_question_is_followed_by_a_quiz(name):
    cells = nbformat.read(NOTEBOOKS / name, as_version=4).cells
    predicts = [i for i, c in enumerate(cells) if c.cell_type == "markdown" and PREDICT.search(c.source)]
    assert predicts, f"{name}: no predict question found (has the wording changed?)"
    missing = []
    for i in predicts:
        following = []
        for cell in cells[i + 1:]:
            if cell.cell_type == "markdown" and re.match(r"#+ ", cell.source):
                break  # the next section
            following.append(cell)
        if not any(c.cell_type == "code" and re.search(r"^quiz\(", c.source, re.M) for c in following):
            missing.append(cells[i].source.splitlines()[0][:60])
    assert not missing, f"{name}: predict questions without a quiz cell after them: {missing}"
