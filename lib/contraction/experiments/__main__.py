"""``python -m contraction.experiments NAME [--mode full|fast] [--results-dir DIR] |
--list``."""

from __future__ import annotations

import argparse
import sys

from .. import runtime
from . import EXPERIMENTS, run


def _summary(experiment) -> str:
    doc = (experiment.__doc__ or "").strip()
    return doc.splitlines()[0] if doc else ""


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m contraction.experiments",
        description="Run one of the book's experiments and record results/NAME.json.",
    )
    parser.add_argument(
        "name", nargs="?", metavar="NAME", help="experiment to run (see --list)"
    )
    parser.add_argument(
        "--mode",
        choices=runtime.MODES,
        default=None,
        help="full or fast (default: full with a CUDA GPU, else fast; "
        "CONTRACTION_MODE overrides)",
    )
    parser.add_argument(
        "--list", action="store_true", help="list the experiments and exit"
    )
    parser.add_argument(
        "--results-dir",
        default=None,
        help="write NAME.json here instead of the package's results folder",
    )
    args = parser.parse_args(argv)
    if args.list:
        for name in sorted(EXPERIMENTS):
            print(f"{name:24s} {_summary(EXPERIMENTS[name])}")
        return 0
    if args.name is None:
        parser.error("NAME is required (or --list)")
    if args.name not in EXPERIMENTS:
        parser.error(f"unknown experiment {args.name!r}; --list shows the known ones")
    mode = args.mode or runtime.mode()
    path = run(args.name, mode, results_dir=args.results_dir)
    print(f"{args.name} ({mode} mode): wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
