"""``python -m autograder {release,grade,feedback,bench,lock}``: the instructor's commands."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from . import course


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m autograder", description=__doc__)
    parser.add_argument("--root", type=Path, default=course.REPO,
                        help="course root holding nbgrader_config.py and notebooks/ (default: the repo)")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("release", help="build the student release of every chapter, or of those named")
    p.add_argument("chapters", nargs="*")

    p = sub.add_parser("grade", help="autograde a folder of <student>/<chapter>/<notebook>.ipynb")
    p.add_argument("submissions", type=Path)
    p.add_argument("--chapter", action="append", help="only this chapter (repeatable)")
    p.add_argument("--csv", type=Path, default=Path("grades.csv"), help="where to write the scores")
    p.add_argument("--timeout", type=int, default=None, help="seconds per cell (default: config, 120)")

    p = sub.add_parser("feedback", help="generate HTML feedback for autograded submissions")
    p.add_argument("chapters", nargs="*")

    p = sub.add_parser("bench", help="time notebooks and autograding against the design's budgets")
    p.add_argument("--full", action="store_true", help="also run every notebook in full mode (long)")
    p.add_argument("--chapter", action="append", help="only this chapter (repeatable)")

    p = sub.add_parser("lock", help="rewrite requirements.lock and environment.yml from this environment")

    args = parser.parse_args(argv)
    root = args.root.resolve()
    if args.command == "release":
        built = course.release(root, args.chapters or None)
        print(f"released {', '.join(built)} into {root / 'release'}")
    elif args.command == "grade":
        outcomes = course.autograde(args.submissions, root, args.chapter, args.timeout)
        path = course.write_csv(outcomes, args.csv)
        for o in outcomes:
            print(f"{o.student:<20} {o.chapter:<20} {o.total:6g} / {o.max_total:g}")
            for m in o.messages:
                print(f"    ! {m}")
        print(f"wrote {path}")
    elif args.command == "feedback":
        course.feedback(root, args.chapters or None)
        print(f"feedback written under {root / 'feedback'}")
    elif args.command == "bench":
        from . import benchmark
        return benchmark.main(root, full=args.full, which=args.chapter)
    elif args.command == "lock":
        from . import lockfile
        lockfile.write(root)
    return 0


if __name__ == "__main__":
    sys.exit(main())
