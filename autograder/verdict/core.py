"""Hidden checks outside the student's process: probes, students, references, known mistakes.

A chapter module (``autograder/reference/chNN_topic.py``) declares, per exercise, an
:class:`Exercise`: a list of :class:`Probe` (each asks the student something and turns the answer
into a comparable *trace*), the exercises it depends on, and the chapter's known mistakes
(:class:`Mistake`: an edit of the instructor's solution). The reference is the instructor's solution
cells, extracted from the source notebook (:mod:`autograder.verdict.extract`).

A *student* is anything with ``request(dict) -> dict`` that runs :data:`wire.KERNEL_HELPER`: the
student's kernel over Jupyter messages (:mod:`autograder.verdict.execute`), or a module namespace in
this process (:class:`LocalStudent`: the reference, a known mistake, a mutant). Every answer goes
through the same encoding, so all of them are judged alike.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import numpy as np

from course_lib import checks
from autograder.verdict import wire
from autograder.verdict.wire import Raised


class StudentRaised(Exception):
    """The student's code raised; ``.raised`` says what."""

    def __init__(self, raised: Raised):
        super().__init__(str(raised))
        self.raised = raised


class KernelDied(Exception):
    """The student's kernel died while answering."""


class StudentTimeout(Exception):
    """The student's code ran past the time limit while answering."""


@dataclass
class Result:
    value: Any
    args_after: list


class Student:
    """The interface hidden checks use. Subclasses implement :meth:`request`."""

    #: answers a reference piece a student's code calls (set by the grader: dep name -> function)
    reference_pieces: dict[str, Callable] = {}

    def request(self, req: dict) -> dict:  # pragma: no cover - abstract
        raise NotImplementedError

    #: grader-side callbacks and proxies of the request in progress (see :class:`wire.Callback`)
    _callbacks: list = []

    def call(self, fn: str, *args, deps: Sequence[str] = (), seed: int | None = None,
             backward: bool | str = False, repeat: int = 1, **kwargs) -> Result:
        """Call the student's ``fn(*args, **kwargs)``; ``deps`` are replaced by the reference pieces
        for the duration of the call. Raises :class:`StudentRaised` when the student's code raises.

        ``seed`` seeds ``random``, ``numpy.random`` and ``torch`` in the kernel first. With
        ``backward``, a scalar tensor result (or the first item of a tuple result) that requires grad
        is back-propagated, so ``args_after`` carries the arguments' gradients (tensors' ``.grad``,
        :class:`wire.Module` ``"grads"``); ``backward="sum"`` back-propagates the sum of a tensor
        result of any shape (the gradients of a batch of per-row values). ``repeat`` calls ``fn`` that
        many times on the same arguments (the same tensors and networks, graphs included) and answers
        the last result: what an optimizer or a solver that calls a function again and again needs of
        it (a Hessian-vector product called by conjugate gradient on one loss, for example)."""
        callbacks: list = []
        req = {"op": "call", "fn": fn, "args": [wire.encode(a, callbacks) for a in args],
               "kwargs": [[k, wire.encode(v, callbacks)] for k, v in kwargs.items()],
               "deps": list(deps), "seed": seed,
               "backward": backward if backward == "sum" else bool(backward), "repeat": int(repeat)}
        self._callbacks = callbacks
        try:
            answer = self.request(req)
        finally:
            self._callbacks = []
        if "raised" in answer:
            raise StudentRaised(Raised(str(answer["raised"]["ename"]), str(answer["raised"]["evalue"])))
        return Result(wire.decode(answer["ok"]), [wire.decode(a) for a in answer["args_after"]])

    def script(self, cls: str, kwargs: dict, steps: list) -> list:
        """Build ``cls(**kwargs)`` and run ``steps`` on it: ``("reset", {...})``, ``("step", action)``
        or ``("attr", name)``. Returns one decoded value per step done, a :class:`Raised` last if a
        step raised (the script stops there)."""
        enc_steps, callbacks = [], []
        for what, arg in steps:
            if what == "reset":
                enc_steps.append(["reset", [[k, wire.encode(v)] for k, v in arg.items()]])
            elif what == "step":
                enc_steps.append(["step", wire.encode(arg)])
            elif what == "call":  # ("call", (method, args, kwargs))
                method, a, k = (tuple(arg) + ((), {}))[:3]
                enc_steps.append(["call", [str(method), [wire.encode(v, callbacks) for v in a],
                                           [[n, wire.encode(v, callbacks)] for n, v in dict(k).items()]]])
            else:
                enc_steps.append(["attr", str(arg)])
        self._callbacks = callbacks
        try:
            answer = self.request({"op": "script", "cls": cls,
                                   "kwargs": [[k, wire.encode(v, callbacks)] for k, v in kwargs.items()],
                                   "steps": enc_steps})
        finally:
            self._callbacks = []
        out = []
        for item in answer["steps"]:
            if "raised" in item:
                out.append(Raised(str(item["raised"]["ename"]), str(item["raised"]["evalue"])))
            else:
                out.append(wire.decode(item["ok"]))
        return out

    def answer_piece(self, prompt: str, allowed: Sequence[str]) -> str:
        """The reply to a reference-piece request from the student's code (a JSON string)."""
        try:
            req = json.loads(prompt[len("\x00verdict:"):])
            if "cb" in req:  # a callback or proxy method of the request in progress
                target = self._callbacks[int(req["cb"])]
                fn = target.fn if isinstance(target, wire.Callback) else getattr(target.obj, str(req["method"]))
                if isinstance(target, wire.Proxy) and req["method"] not in target.methods:
                    raise ValueError(f"{req['method']} is not a method of this object")
                args = [wire.decode(a) for a in req["args"]]
                kwargs = {k: wire.decode(v) for k, v in req["kwargs"]}
                return json.dumps({"ok": wire.encode(fn(*args, **kwargs))})
            dep = req["dep"]
            if dep not in allowed or dep not in self.reference_pieces:
                raise ValueError(f"{dep} is not a piece this check supplies")
            args = [wire.decode(a) for a in req["args"]]
            kwargs = {k: wire.decode(v) for k, v in req["kwargs"]}
            return json.dumps({"ok": wire.encode(self.reference_pieces[dep](*args, **kwargs))})
        except Exception as exc:  # a malformed request is the student's problem
            return json.dumps({"raised": {"ename": type(exc).__name__, "evalue": str(exc)[:300]}})


def _as_sent(x):
    """A copy of ``x`` as it would arrive over the wire: tensors become leaves (``requires_grad``
    kept, no graph), containers are copied item by item, anything else is deep-copied."""
    import copy
    if type(x).__module__.startswith("torch") and hasattr(x, "detach"):
        t = x.detach().clone()
        return t.requires_grad_(bool(x.requires_grad)) if t.is_floating_point() else t
    if isinstance(x, list):
        return [_as_sent(v) for v in x]
    if isinstance(x, tuple) and not hasattr(x, "_fields"):
        return tuple(_as_sent(v) for v in x)
    if isinstance(x, dict):
        return {k: _as_sent(v) for k, v in x.items()}
    return copy.deepcopy(x)


class LocalStudent(Student):
    """A module namespace in this process answering through the same helper and encoding."""

    def __init__(self, namespace: dict, reference_pieces: dict[str, Callable] | None = None):
        self.ns = namespace
        self.reference_pieces = reference_pieces or {}
        exec(compile(wire.KERNEL_HELPER, "<verdict helper>", "exec"), self.ns)

    def request(self, req: dict) -> dict:
        allowed = list(req.get("deps", ()))

        def ask(prompt):
            return self.answer_piece(prompt, allowed)

        def direct(dep, args, kwargs):  # same contract as answer_piece, without the encoding
            if dep not in allowed or dep not in self.reference_pieces:
                raise RuntimeError(f"{dep} is not a piece this check supplies")
            return _as_sent(self.reference_pieces[dep](*_as_sent(list(args)), **_as_sent(dict(kwargs))))
        ask.direct = direct
        reply = self.ns["__verdict_call"](json.dumps(req), ask)
        return json.loads(reply)


# ------------------------------------------------------------------ probes and exercises


@dataclass
class Probe:
    """One hidden check: ``run(student)`` returns a trace; ``compare(got, expected)`` returns what is
    wrong (None when right). ``key`` maps a trace to what must agree for a known mistake to be named
    (default: the trace itself, compared within tolerance)."""

    label: str
    run: Callable[[Student], Any]
    compare: Callable[[Any, Any], str | None] | None = None
    key: Callable[[Any], Any] | None = None
    atol: float = 1e-8
    rtol: float = 1e-8

    def problem(self, got, expected) -> str | None:
        if self.compare is not None:
            return self.compare(got, expected)
        return diff(got, expected, self.atol, self.rtol)


@dataclass
class Exercise:
    name: str
    probes: Callable[[], list[Probe]]
    deps: tuple[str, ...] = ()


@dataclass
class Mistake:
    """A known mistake: ``old`` replaced by ``new`` in the solution of ``exercise`` (``old`` must
    occur exactly once)."""

    exercise: str
    description: str
    old: str
    new: str

    def apply(self, source: str) -> str:
        count = source.count(self.old)
        if count != 1:
            raise ValueError(f"mistake {self.description!r}: {self.old!r} occurs {count} times in the "
                             f"solution of {self.exercise}")
        return source.replace(self.old, self.new)


@dataclass
class Verdict:
    exercise: str
    passed: bool
    message: str
    probes: int = 0
    failed: int = 0
    mistakes: list[str] = field(default_factory=list)
    kernel_died: bool = False
    timed_out: bool = False


# ------------------------------------------------------------------ comparing traces


def _is_number(x) -> bool:
    return isinstance(x, (int, float, np.integer, np.floating)) and not isinstance(x, (bool, np.bool_))


def _numeric(x) -> bool:
    if _is_number(x) or isinstance(x, np.ndarray):
        return not isinstance(x, np.ndarray) or x.dtype.kind in "iuf"
    return type(x).__module__.startswith("torch")


def diff(got, expected, atol: float = 1e-8, rtol: float = 1e-8, name: str = "") -> str | None:
    """What differs between two traces (None when they agree within the tolerances)."""
    where = f"{name}: " if name else ""
    if isinstance(expected, Raised) or isinstance(got, Raised):
        if isinstance(got, Raised) and isinstance(expected, Raised) and got.ename == expected.ename:
            return None
        if isinstance(got, Raised):
            return f"{where}raised {got}"
        return f"{where}expected it to raise {expected.ename}, got {_show(got)}"
    if isinstance(expected, np.ndarray) and expected.dtype.kind == "b":
        if not isinstance(got, np.ndarray) or got.shape != expected.shape or not np.array_equal(got, expected):
            return f"{where}expected the bool array {expected.tolist()!r:.80}, got {_show(got)}"
        return None
    if _numeric(expected):
        if not _numeric(got):
            return f"{where}expected a number or array, got {_show(got)}"
        try:
            checks.check_close(got, expected, name or "value", atol=atol, rtol=rtol)
        except AssertionError as exc:
            return str(exc)
        return None
    if isinstance(expected, (tuple, list)):
        if not isinstance(got, (tuple, list)) or len(got) != len(expected):
            return f"{where}expected {len(expected)} items, got {_show(got)}"
        for i, (g, e) in enumerate(zip(got, expected)):
            problem = diff(g, e, atol, rtol, f"{name}[{i}]" if name else f"item {i}")
            if problem:
                return problem
        return None
    if isinstance(expected, dict):
        if not isinstance(got, dict) or set(got) != set(expected):
            return f"{where}expected keys {sorted(expected)}, got {_show(got)}"
        for k in expected:
            problem = diff(got[k], expected[k], atol, rtol, f"{name}[{k!r}]")
            if problem:
                return problem
        return None
    if type(got) is not type(expected) or got != expected:
        return f"{where}expected {_show(expected)}, got {_show(got)}"
    return None


def _show(x) -> str:
    if isinstance(x, wire.Opaque):
        return f"a {x.type} ({x.repr[:60]})"
    if isinstance(x, np.ndarray):
        return f"an array of shape {x.shape}"
    text = repr(x)
    return text if len(text) < 120 else text[:117] + "..."


# ------------------------------------------------------------------ grading one exercise


def _trace(probe: Probe, student: Student):
    try:
        return probe.run(student)
    except StudentRaised as exc:
        return exc.raised
    except (KernelDied, StudentTimeout):
        raise
    except Exception as exc:  # the answer was not what the probe could read
        return Raised("UnreadableAnswer", f"{type(exc).__name__}: {exc}"[:300])


def grade_exercise(exercise: Exercise, student: Student, reference: Student,
                   mistakes: dict[str, Student] | Callable[[], dict] | None = None) -> Verdict:
    """Run every probe of ``exercise`` on the student and the reference; on failure name the known
    mistakes whose answers agree with the student's on every probe."""
    probes = exercise.probes()
    got, expected, problems = [], [], []
    died, timed_out = None, False
    for probe in probes:
        exp = probe.run(reference)  # the reference never fails: if it does, the check is wrong
        expected.append(exp)
        try:
            g = _trace(probe, student)
        except KernelDied as exc:
            died = f"the kernel died while the hidden check ran {probe.label} ({exc})"
            problems.append((probe, died))
            break
        except StudentTimeout as exc:
            problems.append((probe, f"{probe.label}: ran past the time limit ({exc}) and was stopped"))
            timed_out = True
            break
        got.append(g)
        problem = probe.problem(g, exp)
        if problem:
            problems.append((probe, problem if probe.label in problem else f"{probe.label}: {problem}"))
    if not problems:
        return Verdict(exercise.name, True, f"{exercise.name}: all {len(probes)} hidden checks passed",
                       probes=len(probes))
    named = []
    if callable(mistakes):
        mistakes = mistakes()
    if mistakes and died is None and len(got) == len(probes):
        for description, other in mistakes.items():
            if _agrees(probes, got, other):
                named.append(description)
    first = problems[0][1]
    head = (f"{exercise.name}: this is a known mistake: {'; or '.join(named)}. "
            if named else f"{exercise.name}: ")
    message = (f"{head}{len(problems)} of {len(probes)} hidden checks failed; the first: {first}")
    return Verdict(exercise.name, False, message, len(probes), len(problems), named, died is not None, timed_out)


def _agrees(probes: list[Probe], got: list, other: Student) -> bool:
    for probe, g in zip(probes, got):
        try:
            o = _trace(probe, other)
        except (KernelDied, StudentTimeout):
            return False
        key = probe.key or (lambda t: t)
        if diff(key(g), key(o), max(probe.atol, 1e-8), max(probe.rtol, 1e-8)) is not None:
            return False
    return True


# ------------------------------------------------------------------ helpers for chapter modules


def scalar_trace(x) -> tuple:
    """A returned loss as ``(kind, value, requires_grad)``: kind ``"scalar"`` for a 0-d tensor, else
    what came back instead (a tensor of another shape, or a type name), with no value."""
    if type(x).__module__.startswith("torch") and hasattr(x, "detach"):
        if x.ndim != 0:
            return ("tensor of shape " + str(tuple(x.shape)), None, None)
        return ("scalar", float(x.detach()), bool(x.requires_grad))
    return (type(x).__name__, None, None)


def modified_args(result: Result, args: Sequence, names: Sequence[str]) -> list[str]:
    """Names of the arguments the student's call changed in place."""
    return [n for n, before, after in zip(names, args, result.args_after)
            if diff(after, before, 0.0, 0.0) is not None]


class Chapter:
    """A converted chapter: its exercises, its reference (the extracted solution) and its mistakes."""

    def __init__(self, chapter: str, text: str | None = None):
        from autograder.verdict import extract
        self.name = chapter
        self.module = extract.chapter_module(chapter)
        self.text = extract.source(chapter) if text is None else text
        self.exercises: dict[str, Exercise] = {e.name: e for e in self.module.EXERCISES}
        self.mistakes: list[Mistake] = list(self.module.MISTAKES)
        self._ref_ns = extract.namespace(self.text)
        self.reference = self.student(self._ref_ns)

    def pieces(self) -> dict[str, Callable]:
        """The reference pieces a dependent exercise's check supplies (fresh copies of the inputs)."""
        ns = self._ref_ns
        deps = {d for e in self.exercises.values() for d in e.deps}
        return {d: ns[d] for d in deps}

    def student(self, namespace: dict) -> LocalStudent:
        return LocalStudent(namespace, self.pieces() if hasattr(self, "_ref_ns") else {})

    def mistake_students(self, exercise: str) -> dict[str, Student]:
        from autograder.verdict import extract
        return {m.description: self.student(extract.namespace(extract.with_mistake(self.text, m)))
                for m in self.mistakes if m.exercise == exercise}

    def grade(self, exercise: str, student: Student) -> Verdict:
        student.reference_pieces = self.pieces()
        return grade_exercise(self.exercises[exercise], student, self.reference,
                              lambda: self.mistake_students(exercise))
