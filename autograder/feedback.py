"""What a student's feedback page may show: the message of a failed check, never its code.

nbgrader's feedback shows each graded cell as it was autograded, hidden tests and full tracebacks
included (nbgrader issues #917 and #1363): the hidden checks' code, their tolerances and the
grader's file paths would reach every student. :class:`HideHiddenChecks` runs inside
``nbgrader generate_feedback`` (``nbgrader_config.py`` adds it, so the formgrader's feedback button
gets it too) and, in every cell:

- removes the ``### BEGIN HIDDEN TESTS`` ... ``### END HIDDEN TESTS`` block from the source;
- replaces each error's traceback by its last line, ``ErrorName: message``;
- shortens absolute file paths in error messages to the file's name.
"""
from __future__ import annotations

import re

from nbconvert.preprocessors import Preprocessor
from traitlets import Bool

BEGIN, END = "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"
NOTE = "# (hidden checks ran here; their messages, if any, are shown below)"
_PATH = re.compile(r"(?:[A-Za-z]:)?(?:/[^\s/'\"():,]+){2,}/([^\s/'\"():,]+)")
_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def without_hidden_block(source: str) -> str:
    """``source`` with every hidden-tests block replaced by a one-line note."""
    lines, out, hiding = source.splitlines(), [], False
    for line in lines:
        text = line.strip()
        if text.startswith(BEGIN):
            hiding = True
            out.append(NOTE)
            continue
        if text.startswith(END):
            hiding = False
            continue
        if not hiding:
            out.append(line)
    return "\n".join(out)


def short_paths(text: str) -> str:
    """Absolute paths shortened to their last component (``/srv/course/x/ch01.py`` -> ``ch01.py``)."""
    return _PATH.sub(lambda m: m.group(1), text)


class HideHiddenChecks(Preprocessor):
    """An nbconvert preprocessor for ``GenerateFeedback``: see the module's docstring."""

    enabled = Bool(True)  # nbgrader registers preprocessors without enabling them: on by default

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type == "code":
            if BEGIN in cell.source:
                cell.source = without_hidden_block(cell.source)
            for out in cell.get("outputs", []):
                if out.get("output_type") == "error":
                    out["evalue"] = short_paths(_ANSI.sub("", str(out.get("evalue", ""))))
                    out["traceback"] = [f"{out.get('ename', 'Error')}: {out['evalue']}"]
        return cell, resources
