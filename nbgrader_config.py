# nbgrader configuration of the Deep RL Workbook. nbgrader reads this file from the course root
# (the folder it runs in): each folder of notebooks/ is one assignment (one chapter).
import os
import sys
from pathlib import Path

c = get_config()  # noqa: F821  (provided by traitlets when nbgrader loads this file)

# The grader's own tools (autograder/) are imported from the course root by nbgrader's process;
# a student's kernel never has this folder on its path.
COURSE_ROOT = Path(__file__).resolve().parent
if str(COURSE_ROOT) not in sys.path:
    sys.path.insert(0, str(COURSE_ROOT))

c.CourseDirectory.course_id = "deep-rl-workbook"
# The gradebook: COURSE_DB (any SQLAlchemy URL, e.g. postgresql://user@host/db for parallel and
# cluster grading), else sqlite in the course root, where parallel graders wait for each other.
c.CourseDirectory.db_url = os.environ.get("COURSE_DB") or f"sqlite:///{COURSE_ROOT / 'gradebook.db'}?timeout=60"
c.CourseDirectory.source_directory = "notebooks"
c.CourseDirectory.release_directory = "release"
c.CourseDirectory.submitted_directory = "submitted"
c.CourseDirectory.autograded_directory = "autograded"
c.CourseDirectory.feedback_directory = "feedback"
c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", "*.egg-info", "runs"]  # runs: training runs

# What a student sees in place of a solution region.
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"

# Per-cell limit while autograding: the slowest honest cell in fast mode takes well under a minute;
# an infinite loop is stopped here and only that cell's points are lost.
c.ExecutePreprocessor.timeout = 120
c.ExecutePreprocessor.interrupt_on_timeout = True

# The exchange: where released chapters wait to be fetched, hand-ins arrive and feedback goes back.
# One machine: <course root>/exchange. A shared server (JupyterHub style): a folder every user can
# write, e.g. COURSE_EXCHANGE=/srv/nbgrader/exchange (the students' nbgrader config names the same).
c.Exchange.root = os.environ.get("COURSE_EXCHANGE") or str(COURSE_ROOT / "exchange")

# Feedback shows a failed check's message, never the hidden checks' code or the grader's paths.
from autograder.feedback import HideHiddenChecks  # noqa: E402
from nbgrader.preprocessors import GetGrades  # noqa: E402
from nbconvert.preprocessors import CSSHTMLHeaderPreprocessor  # noqa: E402

c.GenerateFeedback.preprocessors = [GetGrades, HideHiddenChecks, CSSHTMLHeaderPreprocessor]

# ---- grading you can trust (autograder/verdict/) ----------------------------------------------
# Chapters with a generated solution module (autograder/reference/solution_<chapter>.py) are judged
# outside the student's kernel: VerdictExecute runs the notebook in a sandboxed kernel, then asks it
# for the student's answers (data only) and compares them here, in nbgrader's own process. Other
# chapters run as with nbgrader's Execute. Same for ./course grade, `nbgrader autograde` and the
# formgrader's Autograde button.
from autograder.verdict.execute import VerdictExecute  # noqa: E402
from nbconvert.preprocessors import ClearMetadataPreprocessor  # noqa: E402
from nbgrader.preprocessors import (AssignLatePenalties, CheckCellMetadata, IgnorePattern,  # noqa: E402
                                    LimitOutput, SaveAutoGrades)

c.Autograde.autograde_preprocessors = [VerdictExecute, IgnorePattern, ClearMetadataPreprocessor, LimitOutput,
                                       SaveAutoGrades, AssignLatePenalties, CheckCellMetadata]
c.VerdictExecute.verdict_timeout = 60

# Every graded kernel runs in a sandbox of its own (bubblewrap and resource limits): see
# autograder/sandbox.py. COURSE_SANDBOX=off turns bubblewrap off (resource limits stay).
c.Execute.kernel_manager_class = "autograder.sandbox.SandboxedKernelManager"
