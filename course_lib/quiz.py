"""Checked questions: predict first, then answer, then read why.

    from course_lib.quiz import Choice, Number, quiz

    quiz(Choice("Which learns faster at first?", ["lambda = 0", "lambda = 1", "no consistent difference"],
                correct=0, explanation="In 3 seeds ..."),
         Number("How many steps ahead does gamma = 0.9 look?", 10, tolerance=1, explanation="1 / (1 - 0.9)"))

In JupyterLab each question shows radio buttons (or a number box) and a **Check** button. After an
answer it says right or wrong and reveals the explanation either way. Without a widget front end
(a plain console, a test) answer in code: ``question.answer(1)`` returns a :class:`Verdict` whose
text says the same.
"""
from __future__ import annotations

import html
import math
from dataclasses import dataclass
from typing import Sequence

import ipywidgets as widgets
from IPython.display import display


@dataclass(frozen=True)
class Verdict:
    """The result of one answer: right or wrong, and the message shown (the explanation included)."""

    right: bool
    message: str

    def __repr__(self) -> str:
        return self.message


class Question(widgets.VBox):
    """What every checked question shares: the question, an input, a Check button and a feedback line.

    Subclasses build ``self.input`` and implement :meth:`_judge` (is this answer right?),
    :meth:`_value` (the input's current answer) and :meth:`_solution` (the right answer, in words).
    """

    def __init__(self, question: str, explanation: str, input_widget: widgets.Widget):
        if not question.strip() or not explanation.strip():
            raise ValueError("a question needs a non-empty question and a non-empty explanation")
        self.question, self.explanation = question, explanation
        self.input = input_widget
        self.verdict: Verdict | None = None  # the last answer's verdict; None before any answer
        self.button = widgets.Button(description="Check", button_style="primary",
                                     tooltip="Check your answer and show the explanation")
        self.button.on_click(lambda _: self.check())
        self.feedback = widgets.HTML(value="")
        super().__init__([widgets.HTML(f"<b>{html.escape(question)}</b>"), self.input, self.button,
                          self.feedback])

    def check(self) -> Verdict | None:
        """Answer with what the input holds now (what the Check button does)."""
        value = self._value()
        if value is None:
            self.feedback.value = "<span style='color:#555'>Choose an answer first.</span>"
            return None
        return self.answer(value)

    def answer(self, value) -> Verdict:
        """Answer the question with ``value``: say right or wrong and reveal the explanation."""
        right = self._judge(value)
        head = "Right." if right else f"Not quite: the answer is {self._solution()}."
        self.verdict = Verdict(right, f"{'✔' if right else '✘'} {head}\n{self.explanation}")
        color = "#080" if right else "#c00"
        self.feedback.value = (f"<span style='color:{color}'><b>{html.escape(head)}</b></span><br>"
                               f"{html.escape(self.explanation)}")
        return self.verdict

    def __repr__(self) -> str:  # what a front end without widgets shows
        return f"{self.question}\n{self._choices_text()}(answer in code: question.answer(...))"

    def _choices_text(self) -> str:
        return ""

    def _value(self):
        raise NotImplementedError

    def _judge(self, value) -> bool:
        raise NotImplementedError

    def _solution(self) -> str:
        raise NotImplementedError


class Choice(Question):
    """A multiple-choice question: radio buttons, one right option.

    Args:
        question: the question.
        options: the possible answers (at least two, all different).
        correct: the index of the right option in ``options``.
        explanation: why, shown after any answer.
    """

    def __init__(self, question: str, options: Sequence[str], correct: int, explanation: str):
        options = list(options)
        if len(options) < 2 or len(set(options)) != len(options):
            raise ValueError(f"a Choice needs at least two different options, got {options!r}")
        if not isinstance(correct, int) or isinstance(correct, bool) or not 0 <= correct < len(options):
            raise ValueError(f"correct must be the index of an option (0 to {len(options) - 1}), got {correct!r}")
        self.options, self.correct = options, correct
        radio = widgets.RadioButtons(options=options, value=None, layout=widgets.Layout(width="auto"))
        super().__init__(question, explanation, radio)

    def _value(self) -> str | None:
        return self.input.value

    def _judge(self, value: int | str) -> bool:
        """``value``: an option's index or its text."""
        if isinstance(value, str):
            if value not in self.options:
                raise ValueError(f"{value!r} is not one of the options {self.options!r}")
            value = self.options.index(value)
        if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value < len(self.options):
            raise ValueError(f"answer with an option's text or its index (0 to {len(self.options) - 1}), got {value!r}")
        return value == self.correct

    def _solution(self) -> str:
        return f"“{self.options[self.correct]}”"

    def _choices_text(self) -> str:
        return "".join(f"  {i}: {option}\n" for i, option in enumerate(self.options))


class Number(Question):
    """A question answered by a number, right within an absolute tolerance.

    Args:
        question: the question (say the unit and the precision you expect).
        correct: the right number.
        tolerance: how far from ``correct`` an answer may be and still count as right (>= 0).
        explanation: why, shown after any answer.
    """

    def __init__(self, question: str, correct: float, tolerance: float, explanation: str):
        if not (_finite(correct) and _finite(tolerance)) or tolerance < 0:
            raise ValueError(f"a Number needs a finite answer and a finite tolerance >= 0, got {correct!r} "
                             f"and {tolerance!r}")
        self.correct, self.tolerance = float(correct), float(tolerance)
        box = widgets.FloatText(value=0.0, description="your answer", style={"description_width": "initial"})
        super().__init__(question, explanation, box)

    def _value(self) -> float:
        return self.input.value

    def _judge(self, value: float) -> bool:
        if not _finite(value):
            raise ValueError(f"answer with a finite number, got {value!r}")
        return abs(float(value) - self.correct) <= self.tolerance

    def _solution(self) -> str:
        return f"{self.correct:g} (± {self.tolerance:g})"


def _finite(x) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


def quiz(*questions: Question) -> None:
    """Show the questions one below the other (keep them in names to answer in code: ``q.answer(...)``)."""
    if not questions or not all(isinstance(q, Question) for q in questions):
        raise TypeError("quiz(...) takes one or more Choice or Number questions")
    for q in questions:
        display(q)
