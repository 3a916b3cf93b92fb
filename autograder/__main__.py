"""``python -m autograder COMMAND``: the commands behind ``./course`` (see ``./course help``)."""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from . import course


def say(message: str) -> None:
    print(message, flush=True)


def _lab(root: Path, instructor: bool, lab_args: list[str]) -> int:
    """Prepare the role's JupyterLab and replace this process with it."""
    from . import workspace

    env = dict(os.environ)
    if os.geteuid() == 0 and "--allow-root" not in lab_args:
        lab_args = ["--allow-root", *lab_args]  # containers and cloud machines run as root
    if instructor:
        workspace.ensure_exchange(root)
        folder = root
        say(f"course: instructor's JupyterLab on {root} (sources, Formgrader, Create Assignment)")
    else:
        folder = workspace.prepare_student(root, say=say)
        env["JUPYTER_CONFIG_DIR"] = str(workspace.student_config_dir(root))
        say(f"course: your workspace is {folder}; hand in with Nbgrader > Assignment List > Submit")
    argv = [sys.executable, "-m", "jupyter", "lab", f"--ServerApp.root_dir={folder}", *lab_args]
    os.execve(sys.executable, argv, env)
    return 0  # not reached


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m autograder", description=__doc__)
    parser.add_argument("--root", type=Path, default=course.REPO,
                        help="course root holding nbgrader_config.py and notebooks/ (default: the repo)")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("lab", help="open JupyterLab for a student (workspace) or an instructor")
    p.add_argument("--instructor", action="store_true")
    p.add_argument("lab_args", nargs=argparse.REMAINDER)

    p = sub.add_parser("prepare", help="what `lab` does before JupyterLab opens, for a student")

    p = sub.add_parser("release", help="build the student release and put it in the exchange")
    p.add_argument("chapters", nargs="*")

    p = sub.add_parser("collect", help="collect students' hand-ins from the exchange into submitted/")
    p.add_argument("chapters", nargs="*")

    p = sub.add_parser("grade", help="autograde submitted/ (or a folder of <student>/<chapter>/*.ipynb)")
    p.add_argument("submissions", type=Path, nargs="?", default=None)
    p.add_argument("--chapter", action="append", help="only this chapter (repeatable)")
    p.add_argument("--student", action="append", help="only this student (repeatable)")
    p.add_argument("--csv", type=Path, default=Path("grades.csv"), help="where to write the scores")
    p.add_argument("--timeout", type=int, default=None, help="seconds per cell (default: config, 120)")
    p.add_argument("--jobs", type=int, default=None,
                   help="submissions graded at once (default: the number of CPU cores)")
    p.add_argument("--submission-timeout", type=float, default=900,
                   help="wall-clock seconds for one submission, all its notebooks (default 900)")
    p.add_argument("--ray", metavar="ADDRESS", default=None,
                   help="grade on this Ray cluster (host:port of `ray start --head`), one task per submission")
    p.add_argument("--db", metavar="URL", default=None,
                   help="the gradebook as an SQLAlchemy URL, e.g. postgresql://user@host:5432/gradebook "
                        "(default: COURSE_DB, else gradebook.db in the course root)")

    p = sub.add_parser("feedback", help="HTML feedback for what has been graded, released to students")
    p.add_argument("chapters", nargs="*")

    p = sub.add_parser("report", help="an HTML page of the class: scores per chapter and exercise, "
                                      "known mistakes and how often")
    p.add_argument("--out", type=Path, default=None, help="folder of the page (default: report/)")

    p = sub.add_parser("bench", help="time notebooks and autograding against the design's budgets")
    p.add_argument("--full", action="store_true", help="also run every notebook in full mode (long)")
    p.add_argument("--chapter", action="append", help="only this chapter (repeatable)")
    p.add_argument("--grading", action="store_true",
                   help="only measure grading throughput: submissions per minute for --jobs 1, --jobs N "
                        "and, with --ray ADDRESS, a Ray cluster")
    p.add_argument("--students", type=int, default=6, help="class size of --grading (default 6)")
    p.add_argument("--peers", action="store_true",
                   help="train the chapters' agents and their Stable-Baselines3 peers under one protocol and "
                        "compare (installs the bench extra on first use; tens of minutes)")
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2], help="seeds of --peers (default 0 1 2)")
    p.add_argument("--budget", type=int, default=None, help="environment steps per run of --peers (default: full mode)")
    p.add_argument("--ray", metavar="ADDRESS", default=None, help="Ray cluster for --grading ('local' starts one on this machine)")

    sub.add_parser("lock", help="rewrite requirements.lock and environment.yml from this environment")

    args = parser.parse_args(argv)
    root = args.root.resolve()
    try:
        return _run(args, root)
    except course.UsageError as exc:
        print(f"course: {exc}", file=sys.stderr)
        return 2


def _run(args, root: Path) -> int:
    from . import workspace

    if args.command == "lab":
        extra = [a for a in args.lab_args if a != "--"]
        return _lab(root, args.instructor, extra)
    if args.command == "prepare":
        say(str(workspace.prepare_student(root, say=say)))
    elif args.command == "release":
        built = course.release(root, args.chapters or None, say=say)
        workspace.publish(root, built)
        say(f"released {', '.join(built)}: built into {root / 'release'}, "
            f"published to the exchange {workspace.exchange_root(root)}")
    elif args.command == "collect":
        got = course.collect(root, args.chapters or None, say=say)
        say(f"collected into {root / 'submitted'}" if got else "no hand-ins yet")
    elif args.command == "grade":
        if args.db:
            os.environ["COURSE_DB"] = args.db  # nbgrader_config.py reads it in every nbgrader process
        if args.jobs is not None and args.jobs < 1:
            raise course.UsageError(f"--jobs must be at least 1, got {args.jobs}")
        outcomes = course.autograde(args.submissions, root, args.chapter, args.timeout,
                                    student_timeout=args.submission_timeout, students=args.student,
                                    say=say, jobs=args.jobs, ray_address=args.ray)
        path = course.write_csv(outcomes, args.csv)
        for o in outcomes:
            say(f"{o.student:<20} {o.chapter:<20} {o.total:6g} / {o.max_total:g}")
            for m in o.messages:
                say(f"    ! {m}")
        say(f"wrote {path}" if outcomes else f"nothing to grade; wrote an empty {path}")
    elif args.command == "feedback":
        done = course.feedback(root, args.chapters or None, say=say)
        if not done:
            say("no feedback written: nothing has been autograded yet (./course grade)")
    elif args.command == "report":
        from . import report
        say(f"wrote {report.write(root, args.out)}")
    elif args.command == "bench":
        from . import benchmark
        if args.peers:
            from . import peers
            return peers.run(course.check_chapters(args.chapter, root) if args.chapter else None, args.seeds,
                             args.budget)
        if args.grading:
            if args.ray == "local":
                from .cluster import local_cluster
                with local_cluster() as address:
                    benchmark.grading_throughput(root, students=args.students, ray_address=address)
            else:
                benchmark.grading_throughput(root, students=args.students, ray_address=args.ray)
            return 0
        return benchmark.main(root, full=args.full, which=course.check_chapters(args.chapter, root)
                              if args.chapter else None)
    elif args.command == "lock":
        from . import lockfile
        lockfile.write(root)
    return 0


if __name__ == "__main__":
    sys.exit(main())
