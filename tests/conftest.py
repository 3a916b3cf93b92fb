"""Shared fixtures and helpers of the test suite (see helpers.py for notebook and nbgrader tools)."""
import os
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # the instructor side (autograder/) is imported from the checkout
sys.path.insert(0, str(Path(__file__).resolve().parent))

# Tests execute notebooks in fast mode.
os.environ.setdefault("COURSE_FAST", "1")
os.environ["PATH"] = str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", "")
os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("MPLBACKEND", "Agg")
