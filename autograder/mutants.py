"""Mutation testing of the hidden checks: ``python -m autograder.mutants [chapter ...]``.

Tool: cosmic-ray 8.7 (not mutmut 3.8). cosmic-ray mutates one file in place and runs any test
command per mutant, so the mutated file can be the chapter's *extracted solution module* and the test
the chapter's hidden checks run in-process against it as a local student (the same probes, encoding
and comparison as real grading). mutmut 3 instead rewrites every function into a trampoline inside
its own ``mutants/`` copy of the project and drives pytest through its own stats collection, which
fits a package's own test suite, not "a notebook's solutions judged by another module's checks".
cosmic-ray is installed in its own virtual environment (``.venv-mutants/``, created on first use),
so its dependencies never touch the course's pinned ones.

For each exercise the table gives the mutants generated in its solution cell, killed (a hidden
check failed, or the mutant did not even load) and surviving; survivors listed in the chapter
module's ``EQUIVALENT_MUTANTS`` (with a one-line reason) are counted apart. The score is
killed / (generated - equivalent).
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TOOL_VENV = REPO / ".venv-mutants"
COSMIC_RAY = "cosmic-ray==8.7.0"


def _cosmic_ray() -> Path:
    exe = TOOL_VENV / "bin" / "cosmic-ray"
    if not exe.exists():
        print(f"installing {COSMIC_RAY} into {TOOL_VENV} (once)...", flush=True)
        subprocess.run(["python3", "-m", "venv",
                        str(TOOL_VENV)], check=True)
        (TOOL_VENV / ".gitignore").write_text("*\n")
        subprocess.run([str(TOOL_VENV / "bin" / "pip"), "install", "-q", COSMIC_RAY], check=True)
    return exe


def exercise_of_line(text: str, line: int) -> str | None:
    """The solution cell (exercise) of a 1-based line of a generated solution module."""
    current = None
    for i, ln in enumerate(text.splitlines(), start=1):
        if ln.startswith("# ---- solution cell: "):
            current = ln.split(":", 1)[1].strip()
        if i == line:
            return current
    return None


def check(chapter: str, path: Path) -> int:
    """The test command cosmic-ray runs per mutant: 0 when the hidden checks pass (survived)."""
    from autograder.verdict import extract
    from autograder.verdict.core import Chapter
    pristine = extract.source(chapter)
    mutated = Path(path).read_text()
    a, b = pristine.splitlines(), mutated.splitlines()
    changed = [i + 1 for i, (x, y) in enumerate(zip(a, b)) if x != y] or [min(len(a), len(b))]
    exercise = exercise_of_line(pristine, changed[0])
    chapter_ = Chapter(chapter)
    try:
        ns = extract.namespace(mutated, str(path))
    except Exception:
        return 1  # the mutant does not even load: killed
    names = [exercise] if exercise in chapter_.exercises else list(chapter_.exercises)
    for name in names:
        student = chapter_.student(ns)
        student.reference_pieces = chapter_.pieces()
        from autograder.verdict.core import grade_exercise
        verdict = grade_exercise(chapter_.exercises[name], student, chapter_.reference, None)
        if not verdict.passed:
            return 1
    return 0


def _fingerprint(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _resumable(work: Path, text: str) -> bool:
    """Whether ``work`` holds a session made for exactly this solution text.

    Its killed results (incompetent mutants included) are kept; survivors (and mutants never run) are run again against the
    hidden checks as they are now, so a resumed table is never staler than a fresh one on what
    counts: a check strengthened since the first run gets its chance on every survivor.
    """
    session, stamp = work / "session.sqlite", work / "source.sha256"
    if not (session.exists() and stamp.exists() and stamp.read_text().strip() == _fingerprint(text)):
        return False
    with sqlite3.connect(session) as db:
        db.execute("DELETE FROM work_results WHERE test_outcome IS NULL OR upper(test_outcome) NOT IN ('KILLED', 'INCOMPETENT')")
    return True


def run(chapter: str, keep: Path | None = None, resume: bool = False) -> dict:
    """Mutate ``chapter``'s extracted solutions with cosmic-ray; returns the per-exercise table.

    ``keep`` is the work folder (session, config, mutated copy); with ``resume`` a session left
    there by an interrupted run of the same solution text continues where it stopped.
    """
    from autograder.verdict import extract
    exe = _cosmic_ray()
    work = Path(keep or tempfile.mkdtemp(prefix=f"mutants-{chapter}-"))
    work.mkdir(parents=True, exist_ok=True)
    target = work / f"solution_{chapter}.py"
    text = extract.source(chapter)
    target.write_text(text)  # an interrupted run can leave a mutant in place
    config = work / "cosmic-ray.toml"
    test = f"{sys.executable} -m autograder.mutants --check {chapter} {target}"
    config.write_text(f"""[cosmic-ray]
module-path = "{target}"
timeout = 60.0
excluded-modules = []
test-command = "{test}"

[cosmic-ray.distributor]
name = "local"
""")
    session = work / "session.sqlite"
    env = dict(os.environ, PYTHONPATH=str(REPO), COURSE_FAST="1")
    if resume and _resumable(work, text):
        print(f"resuming the session in {work}", flush=True)
    else:
        if session.exists():
            session.unlink()
        subprocess.run([str(exe), "init", str(config), str(session)], check=True, cwd=REPO, env=env)
        (work / "source.sha256").write_text(_fingerprint(text) + "\n")
    subprocess.run([str(exe), "exec", str(config), str(session)], check=True, cwd=REPO, env=env)
    dump = subprocess.run([str(exe), "dump", str(session)], check=True, cwd=REPO, env=env,
                          capture_output=True, text=True).stdout
    target.write_text(text)
    return summarize(chapter, text, [json.loads(ln) for ln in dump.splitlines() if ln.strip()])


def summarize(chapter: str, text: str, records: list) -> dict:
    from autograder.verdict.extract import chapter_module
    equivalent = getattr(chapter_module(chapter), "EQUIVALENT_MUTANTS", [])
    lines = text.splitlines()
    table: dict[str, dict] = {}
    for item, result in records:
        mutation = item["mutations"][0]
        line = mutation["start_pos"][0]
        exercise = exercise_of_line(text, line) or "(preamble)"
        row = table.setdefault(exercise, {"generated": 0, "killed": 0, "survived": [], "equivalent": []})
        row["generated"] += 1
        outcome = (result or {}).get("test_outcome")
        if outcome in ("killed", "incompetent"):
            row["killed"] += 1
            continue
        diff = (result or {}).get("diff") or ""
        new = [d[1:].strip() for d in diff.splitlines() if d.startswith("+") and not d.startswith("+++")]
        entry = {"line": line, "source": lines[line - 1].strip(), "mutated": new[0] if new else "",
                 "operator": mutation["operator_name"]}
        def same(a: str, b: str) -> bool:
            return a.replace(" ", "") == b.replace(" ", "")
        reason = next((r for ex, old, mut, r in equivalent
                       if ex == exercise and same(old, entry["source"]) and (mut == "*" or same(mut, entry["mutated"]))), None)
        if reason:
            entry["reason"] = reason
            row["equivalent"].append(entry)
        else:
            row["survived"].append(entry)
    return table


def score_of(table: dict) -> float:
    """killed / (generated - equivalent) over the whole table."""
    killed = sum(r["killed"] for r in table.values())
    counted = sum(r["generated"] - len(r["equivalent"]) for r in table.values())
    return killed / counted if counted else 1.0


def print_table(chapter: str, table: dict) -> float:
    print(f"\nmutation testing of {chapter}'s hidden checks (cosmic-ray over the extracted solutions)")
    print(f"{'exercise':<22}{'generated':>10}{'killed':>8}{'survived':>10}{'equivalent':>12}{'score':>8}")
    for exercise, row in table.items():
        print(f"{exercise:<22}{row['generated']:>10}{row['killed']:>8}{len(row['survived']):>10}"
              f"{len(row['equivalent']):>12}{score_of({exercise: row}):>8.0%}")
    score = score_of(table)
    print(f"{'total':<22}{sum(r['generated'] for r in table.values()):>10}"
          f"{sum(r['killed'] for r in table.values()):>8}"
          f"{sum(len(r['survived']) for r in table.values()):>10}"
          f"{sum(len(r['equivalent']) for r in table.values()):>12}{score:>8.0%}")
    for exercise, row in table.items():
        for e in row["survived"]:
            print(f"  SURVIVED {exercise} line {e['line']} ({e['operator']}): {e['source']}  ->  {e['mutated']}")
        for e in row["equivalent"]:
            print(f"  equivalent {exercise}: {e['source']}  ->  {e['mutated']}  ({e['reason']})")
    return score


RESULTS = REPO / "benchmarks" / "mutants.md"


def record(chapter: str, table: dict, out: Path = RESULTS, note: str = "") -> None:
    """Put ``chapter``'s table into ``out`` (one section per chapter; the others are kept)."""
    from autograder.benchmark import machine
    rows = [f"## {chapter}", "", f"Recorded on {machine()}.{' ' + note if note else ''}", "",
            "| exercise | generated | killed | survived | equivalent (listed, with reasons) | score |",
            "| --- | --- | --- | --- | --- | --- |"]
    for exercise, row in table.items():
        rows.append(f"| {exercise} | {row['generated']} | {row['killed']} | {len(row['survived'])} "
                    f"| {len(row['equivalent'])} | {score_of({exercise: row}):.0%} |")
    rows.append(f"| **total** | {sum(r['generated'] for r in table.values())} | "
                f"{sum(r['killed'] for r in table.values())} | {sum(len(r['survived']) for r in table.values())} | "
                f"{sum(len(r['equivalent']) for r in table.values())} | **{score_of(table):.0%}** |")
    rows += [f"- survived: {e['source']} -> {e['mutated']} ({ex}, line {e['line']})"
             for ex, r in table.items() for e in r["survived"]]
    sections: dict[str, str] = {}
    if out.exists():
        for part in out.read_text().split("\n## ")[1:]:
            sections[part.split("\n", 1)[0].strip()] = "## " + part.rstrip() + "\n"
    sections[chapter] = "\n".join(rows) + "\n"
    head = ("# Mutation testing of the hidden checks (`./course mutants`)\n\n"
            "cosmic-ray mutates each chapter's extracted solutions; a mutant is killed when the exercise's hidden "
            "checks fail on it (or it does not load). Score = killed / (generated - equivalent); the equivalent "
            "mutants and their reasons are listed in each chapter's `EQUIVALENT_MUTANTS`.\n\n")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(head + "\n".join(sections[k] for k in sorted(sections)))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m autograder.mutants", description=__doc__.split("\n\n")[0])
    parser.add_argument("chapters", nargs="*")
    parser.add_argument("--check", nargs=2, metavar=("CHAPTER", "FILE"), help=argparse.SUPPRESS)
    parser.add_argument("--keep", type=Path, help="work folder (kept: session, config, json table)")
    parser.add_argument("--resume", action="store_true",
                        help="continue an interrupted run kept in --keep (same solution text only)")
    parser.add_argument("--goal", type=float, default=0.95)
    args = parser.parse_args(argv)
    if args.resume and not args.keep:
        parser.error("--resume continues the run kept in a --keep folder: name that folder")
    if args.check:
        return check(args.check[0], Path(args.check[1]))
    from autograder.verdict import converted_chapters
    ok = True
    for chapter in args.chapters or converted_chapters():
        work = args.keep / chapter if args.keep and len(args.chapters or []) != 1 else args.keep
        table = run(chapter, keep=work, resume=args.resume)
        score = print_table(chapter, table)
        record(chapter, table)
        if args.keep:
            (work / f"table_{chapter}.json").write_text(json.dumps(table, indent=1))
        ok &= score >= args.goal and not any(r["survived"] for r in table.values())
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
