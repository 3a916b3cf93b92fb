"""Loading the instructor's reference implementations for hidden checks (chapters not yet converted).

Converted chapters (01_intro so far: those with ``autograder/reference/solution_<chapter>.py``) do not
use this module: their hidden checks run in the grader's own process (``autograder/verdict/``), and
the student's kernel holds no reference, no path to one and no variable naming one. The rest of this
docstring describes the old path, which chapters 02-05 still take until they are converted.

Hidden test cells (removed from the student release by nbgrader) do::

    from course_lib.grading import load_reference
    ref = load_reference("01_intro")
    ref.checks.check_close(student_fn(x), ref.student_fn(x), "name", mistakes={...})

The references live in ``autograder/reference/`` of the course repository, which is not installed
with ``course_lib``: they are found only through ``COURSE_REFERENCE_DIR``, which the grading tools,
the tests and ``./course start --instructor`` set. A student's kernel has neither.

Each call loads the reference and a private copy of :mod:`course_lib.checks` fresh from their files,
outside ``sys.modules``: rebinding names in the notebook or in ``course_lib`` cannot change them.
"""
from __future__ import annotations

import importlib.util
import itertools
import os
from pathlib import Path
from types import ModuleType

_CHECKS_FILE = Path(__file__).with_name("checks.py")
_counter = itertools.count()


def _load(path: Path, name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"_course_grading_{name}_{next(_counter)}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def reference_dir() -> Path:
    """The folder of reference modules, from ``COURSE_REFERENCE_DIR``."""
    value = os.environ.get("COURSE_REFERENCE_DIR")
    if not value:
        raise RuntimeError(
            "This cell is a hidden check: it needs the instructor's reference implementations "
            "(COURSE_REFERENCE_DIR is not set). Students never see it; instructors run "
            "`./course grade` or `./course start --instructor`, which set it.")
    path = Path(value)
    if not path.is_dir():
        raise RuntimeError(f"COURSE_REFERENCE_DIR={value} is not a folder")
    return path


def load_reference(chapter: str) -> ModuleType:
    """A fresh module of the chapter's reference code (``<chapter>.py``), with ``.checks`` attached.

    ``chapter`` is the chapter folder's name, e.g. ``"01_intro"``; the file is
    ``ch<chapter>.py`` in :func:`reference_dir`.
    """
    path = reference_dir() / f"ch{chapter}.py"
    if not path.is_file():
        raise RuntimeError(f"no reference implementation for chapter {chapter!r} at {path}")
    module = _load(path, chapter)
    module.checks = _load(_CHECKS_FILE, "checks")
    return module
