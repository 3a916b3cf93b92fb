"""The hostile suite: submissions that try to fake a grade, graded end to end with the real nbgrader
in one class. Each scores zero on what it tried to fake, with a message an instructor understands,
while the rest of its notebook is graded correctly. Every case is a few lines on top of the
instructor's solution (or the untouched release), sharing one preamble.
"""
from __future__ import annotations

import pytest

from autograder import course
from autograder.sandbox import bubblewrap_problem
from helpers import REPO, make_course, nbgrader_meta, with_replacements
from test_grading import cell_messages, trimmed

import nbformat

pytestmark = pytest.mark.slow
CHAPTER = "01_intro"
POINTS = {"test_discounted_return": 15, "test_bellman_backup": 20, "test_policy_evaluation": 20,
          "test_value_iteration": 25, "test_Corridor": 20}
WRONG_RETURN = "def discounted_return(rewards, gamma):\n    return 0.0\n"
WRONG_BACKUP = "def bellman_backup(P, R, terminal, V, gamma):\n    return R\n"
WRONG_EVALUATION = ("def policy_evaluation(P, R, terminal, policy, gamma, tol=1e-10, max_iters=100_000):\n"
                    "    return np.zeros(P.shape[0])\n")


def solution_of(gid: str) -> str:
    nb = nbformat.read(REPO / "notebooks" / CHAPTER / f"{CHAPTER}.ipynb", as_version=4)
    return next(c.source for c in nb.cells if nbgrader_meta(c).get("grade_id") == gid)


# student -> (base notebook, {grade_id: code}, {test cell: expected points}, {test cell: words in its message})
CASES = {
    "rebinds_the_verdict_helper": ("solution", {"discounted_return": """
import json as _json
def __verdict_call(request, ask):  # the grader's entry point in the kernel, answering "right" to all
    return _json.dumps({"ok": {"t": "float", "v": 1.5}, "args_after": []})
""" + WRONG_RETURN}, {"test_discounted_return": 0}, {"test_discounted_return": "expected"}),

    "rebinds_checks_numpy_torch": ("solution", {"bellman_backup": """
import numpy as np, torch, course_lib.checks as _c
np.allclose = np.array_equal = lambda *a, **k: True
np.testing.assert_allclose = lambda *a, **k: None
torch.allclose = torch.equal = lambda *a, **k: True
for _n in ("check_close", "check_shape", "check_type", "check_all", "is_close"):
    setattr(_c, _n, lambda *a, **k: True)
check_close = check_shape = check_type = lambda *a, **k: None
""" + WRONG_BACKUP}, {"test_bellman_backup": 0}, {"test_bellman_backup": "expected"}),

    "patches_builtins_and_exceptions": ("solution", {"policy_evaluation": """
import builtins
builtins.AssertionError = type("AssertionError", (Warning,), {})
builtins.NotImplementedError = builtins.AssertionError
AssertionError = builtins.AssertionError
""" + WRONG_EVALUATION}, {"test_policy_evaluation": 0}, {"test_policy_evaluation": "expected"}),

    "reads_references_env_and_files": ("solution", {"discounted_return": f"""
import os, pathlib
_places = [pathlib.Path.cwd(), *pathlib.Path.cwd().parents, pathlib.Path({str(REPO)!r})]
_secrets = ["notebooks/01_intro/01_intro.ipynb", "autograder/reference/solution_01_intro.py",
            "gradebook.db", "source/01_intro/01_intro.ipynb", "submitted"]
_found = [str(p / s) for p in _places for s in _secrets if (p / s).exists()]
_found += [v for k, v in os.environ.items() if "COURSE_REF" in k or "NBGRADER_COURSE" in k]
try:
    import autograder
    _found.append(autograder.__file__)
except ImportError:
    pass
print("found:", _found)
""" + solution_of("discounted_return").replace("    g = 0.0\n", "    g = 0.0 if _found else 1.0\n")},
        {"test_discounted_return": 0}, {"test_discounted_return": "expected"}),

    "input_transformer_swallows_errors": ("release", {"discounted_return": """
def _swallow(lines):
    return ["try:\\n"] + ["    " + ln for ln in lines] + ["\\nexcept BaseException:\\n    pass\\n"]
get_ipython().input_transformers_post.append(_swallow)
"""}, {t: 0 for t in POINTS}, {**{t: "NotImplementedError" for t in POINTS},
                                "test_discounted_return": "discounted_return' is not defined"}),

    "patched_showtraceback": ("release", {"discounted_return": """
_ip = get_ipython()
_ip.showtraceback = _ip._showtraceback = lambda *a, **k: None
_ip.showsyntaxerror = lambda *a, **k: None
"""}, {t: 0 for t in POINTS}, {**{t: "NotImplementedError" for t in POINTS},
                                "test_discounted_return": "discounted_return' is not defined"}),

    "sys_exit": ("solution", {"policy_evaluation": WRONG_EVALUATION + "import sys\nsys.exit(0)\n"},
                 {"test_policy_evaluation": 0}, {"test_policy_evaluation": "expected"}),

    "os_exit_in_a_cell": ("solution", {"value_iteration": "import os\nos._exit(0)\n"},
                          {"test_value_iteration": 0, "test_Corridor": 0},
                          {"test_value_iteration": "kernel died", "test_Corridor": "kernel died"}),

    "kills_the_kernel_in_the_hidden_check": ("solution", {"value_iteration": solution_of("value_iteration").replace(
        "    ### BEGIN SOLUTION\n", "    ### BEGIN SOLUTION\n    import os, signal\n"
        "    if P.shape[0] > 2:\n        os.kill(os.getpid(), signal.SIGKILL)\n")},
        {"test_value_iteration": 0, "test_Corridor": 0},
        {"test_value_iteration": "kernel died", "test_Corridor": "kernel died"}),

    "stderr_flood_and_honest_debug_line": ("solution", {
        "bellman_backup": "import sys\ndef bellman_backup(P, R, terminal, V, gamma):\n"
                          "    sys.stderr.write('x' * 1_000_000 + '\\n')\n    return R\n",
        "discounted_return": solution_of("discounted_return").replace(
            "    g = 0.0\n", "    import sys\n    print('debug: rewards', len(rewards), file=sys.stderr)\n    g = 0.0\n")},
        {"test_bellman_backup": 0, "test_discounted_return": 15},
        {"test_bellman_backup": "expected", "test_discounted_return": "stderr output were ignored"}),
}


def test_hostile_submissions(tmp_path):
    if bubblewrap_problem():
        pytest.skip(f"no kernel sandbox here: {bubblewrap_problem()}")
    root = make_course(tmp_path, CHAPTER)
    course.release(root, [CHAPTER])
    bases = {"solution": root / "notebooks" / CHAPTER / f"{CHAPTER}.ipynb",
             "release": root / "release" / CHAPTER / f"{CHAPTER}.ipynb"}
    for student, (base, replacements, _, _) in CASES.items():
        folder = root / "submitted" / student / CHAPTER
        folder.mkdir(parents=True)
        nb = with_replacements(bases[base], {g: code for g, code in replacements.items()})
        nbformat.write(trimmed(nb), folder / f"{CHAPTER}.ipynb")
    outcomes = {o.student: o for o in course.autograde(root / "submitted", root, [CHAPTER])}
    report = "\n".join(f"{s}: {o.total:g}/{o.max_total:g} {o.scores}" for s, o in outcomes.items())
    print(report)
    problems = []
    for student, (base, _, expected, words) in CASES.items():
        o = outcomes[student]
        messages = cell_messages(root / "autograded" / student / CHAPTER)
        default = POINTS if base == "solution" else {t: 0 for t in POINTS}
        for cell, full in POINTS.items():
            want = expected.get(cell, default[cell])
            if o.scores.get(cell) != want:
                problems.append(f"{student}/{cell}: {o.scores.get(cell)} points, expected {want}: {messages.get(cell)}")
        for cell, word in words.items():
            if word.lower() not in messages.get(cell, "").lower():
                problems.append(f"{student}/{cell}: the message should say {word!r}: {messages.get(cell)}")
    assert not problems, "\n".join(problems) + "\n" + report
