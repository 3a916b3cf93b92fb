"""The doctor: prints the versions that matter and says clearly what is wrong.

Run ``./course doctor`` (or ``python -m course_lib.doctor``), or call :func:`doctor` in a notebook
(chapter 01's first cell does). It checks: the Python version; that torch is the pinned 2.13.0;
every package of ``requirements.lock`` installed at its locked version; the widget manager and the
nbgrader extension enabled in JupyterLab; the Gymnasium environment ids the course uses; the device.
"""
from __future__ import annotations

import difflib
import re
import subprocess
import sys
from importlib import metadata
from pathlib import Path

TORCH_PIN = "2.13.0"
COURSE_ENV_IDS = ("FrozenLake-v1", "CliffWalking-v1", "Taxi-v4", "CartPole-v1", "Pendulum-v1",
                  "course/GridWorld-v0")
LAB_EXTENSIONS = {"@jupyter-widgets/jupyterlab-manager": "ipywidgets (sliders and progress bars)",
                  "@jupyter/nbgrader": "nbgrader (Validate button, assignment tools)"}


def lock_file() -> Path | None:
    """The repository's ``requirements.lock`` when course_lib is installed from a checkout."""
    candidate = Path(__file__).resolve().parents[1] / "requirements.lock"
    return candidate if candidate.is_file() else None


def read_lock(path: Path) -> dict[str, str]:
    """``{normalized name: version}`` from ``name==version`` lines."""
    pins = {}
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if "==" in line:
            name, version = line.split("==", 1)
            pins[normalize(name)] = version.strip()
    return pins


def normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _installed(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def check_packages(pins: dict[str, str]) -> list[str]:
    problems = []
    for name, wanted in sorted(pins.items()):
        got = _installed(name)
        if got is None:
            problems.append(f"package {name} is missing (locked at {wanted}): run ./course doctor "
                            "after ./course test, which reinstalls the environment")
        elif got.split("+")[0] != wanted.split("+")[0]:
            problems.append(f"package {name} is {got}, the lock says {wanted}")
    return problems


def check_torch() -> list[str]:
    got = _installed("torch")
    if got is None:
        return [f"torch is not installed: pip install torch=={TORCH_PIN}"]
    if got.split("+")[0] != TORCH_PIN:
        return [f"torch is {got}, the course is pinned to {TORCH_PIN} "
                f"(pip install torch=={TORCH_PIN}; any looser spec downloads CUDA builds)"]
    return []


def check_lab_extensions() -> list[str]:
    try:
        out = subprocess.run([sys.executable, "-m", "jupyter", "labextension", "list"],
                             capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return [f"could not list JupyterLab extensions: {exc}"]
    return lab_extension_problems(out.stdout + out.stderr)


def lab_extension_problems(listing: str) -> list[str]:
    """Problems found in the text of ``jupyter labextension list``."""
    text = re.sub(r"\x1b\[[0-9;]*m", "", listing)
    problems = []
    for ext, purpose in LAB_EXTENSIONS.items():
        line = next((ln for ln in text.splitlines() if ln.strip().startswith(ext + " ")), None)
        if line is None:
            problems.append(f"JupyterLab extension {ext} is not installed: {purpose} will not work")
        elif "enabled" not in line or "OK" not in line:
            problems.append(f"JupyterLab extension {ext} is not enabled: {line.strip()} "
                            f"(jupyter labextension enable {ext})")
    return problems


def check_env_ids(env_ids) -> list[str]:
    import gymnasium as gym

    import course_lib.envs  # noqa: F401  registers course/GridWorld-v0

    problems = []
    for env_id in env_ids:
        if env_id not in gym.registry:
            close = difflib.get_close_matches(env_id, list(gym.registry), n=3, cutoff=0.6)
            hint = f"; did you mean {', '.join(close)}?" if close else ""
            problems.append(f"environment id {env_id!r} does not exist in gymnasium "
                            f"{_installed('gymnasium')}{hint}")
    return problems


def doctor(env_ids=COURSE_ENV_IDS, lab: bool = True) -> list[str]:
    """Print a report and return the list of problems (empty when all is well)."""
    from course_lib.config import device, fast_mode

    print(f"python      {sys.version.split()[0]}  ({sys.executable})")
    for name in ("torch", "gymnasium", "numpy", "matplotlib", "ipywidgets", "nbgrader", "jupyterlab"):
        print(f"{name:<11} {_installed(name) or 'MISSING'}")
    print(f"device      {device()}   fast mode: {'on' if fast_mode() else 'off'} (COURSE_FAST)")
    problems = []
    if sys.version_info < (3, 11):
        problems.append(f"Python {sys.version.split()[0]} is too old: the course needs 3.11+")
    problems += check_torch()
    lock = lock_file()
    if lock is not None:
        problems += [p for p in check_packages(read_lock(lock)) if not p.startswith("package torch ")]
    if lab:
        problems += check_lab_extensions()
    problems += check_env_ids(env_ids)
    if problems:
        print(f"\n\u2718 {len(problems)} problem(s):")
        for p in problems:
            print(f"  - {p}")
    else:
        print("\n\u2714 all good: the environment matches the course's lock.")
    return problems


def main(argv=None) -> int:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--env", action="append", default=None,
                        help="also check this environment id (repeatable)")
    parser.add_argument("--no-lab", action="store_true", help="skip the JupyterLab extension check")
    args = parser.parse_args(argv)
    ids = tuple(COURSE_ENV_IDS) + tuple(args.env or ())
    return 1 if doctor(ids, lab=not args.no_lab) else 0


if __name__ == "__main__":
    sys.exit(main())
