"""The lock of exact versions (requirements.lock) and the conda environment.yml that mirrors it."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HEADER = ("# Exact versions the course is tested with (Python 3.11, CPU). Regenerate with: ./course lock\n"
          "# torch is the CPU build of 2.13.0; ./course installs it first so pip never pulls CUDA wheels.\n"
          "# ipykernel is held at 6.x: ipykernel 7 can drop an execute request and hang a cell (ipykernel #1554).\n")


def read_pins(text: str) -> list[str]:
    """``name==version`` lines, comments and blanks dropped, local versions (+cpu) stripped."""
    pins = []
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if "==" in line and not line.startswith("-e"):
            pins.append(line.split("+", 1)[0])
    return pins


def environment_yml(pins: list[str]) -> str:
    """A conda environment with Python 3.11 and exactly ``pins`` from pip, then course_lib."""
    lines = ["# Conda environment of the Deep RL Workbook: the same exact versions as requirements.lock",
             "# (a test checks that they agree). conda env create -f environment.yml",
             "name: deep-rl-workbook", "channels:", "  - conda-forge", "dependencies:",
             "  - python=3.11", "  - pip", "  - pip:"]
    lines += [f"      - {p}" for p in pins]
    lines.append("      - -e .")
    return "\n".join(lines) + "\n"


def write(root: Path) -> None:
    frozen = subprocess.run([sys.executable, "-m", "pip", "freeze", "--exclude-editable"],
                            capture_output=True, text=True, check=True).stdout
    extra = {p.split("==")[0].lower().replace("_", "-") for name in ("requirements-grading.lock", "requirements-bench.lock")
             for p in read_pins((root / name).read_text())}
    pins = [p for p in read_pins(frozen) if not p.lower().startswith("deep-rl-workbook")
            and p.split("==")[0].lower().replace("_", "-") not in extra]  # the extras have locks of their own
    torch = [p for p in pins if p.startswith("torch==")]
    rest = [p for p in pins if not p.startswith("torch==")]
    (root / "requirements.lock").write_text(HEADER + "\n".join(torch + rest) + "\n")
    (root / "environment.yml").write_text(environment_yml(torch + rest))
    print(f"wrote {len(pins)} pins to requirements.lock and environment.yml")
