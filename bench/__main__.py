"""``python -m bench``: generate a synthetic repository, then measure (see :mod:`bench.run`)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .run import run

DEFAULT_OUT = Path(__file__).resolve().parent / "out"


def _positive(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError("must be 0 or more")
    return value


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="relead's benchmarks: the bars of docs/scaling.md, measured side by side in one run.")
    parser.add_argument("--leads", type=_positive, default=100_000, metavar="N",
                        help="leads in the generated leads.yaml (default 100000)")
    parser.add_argument("--history", type=_positive, default=1_000_000, metavar="M",
                        help="history records (default 1000000)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, metavar="DIR",
                        help="where the repository and results.json go (default bench/out)")
    parser.add_argument("--keep", action="store_true",
                        help="reuse DIR/repo if it was generated with the same N, M and options")
    parser.add_argument("--repeat", type=int, default=3, metavar="R",
                        help="run each task R times, alternating, and take the median (default 3)")
    parser.add_argument("--jobs", type=_positive, default=None, metavar="N",
                        help="processes relead may use (RELEAD_JOBS; default: one per core)")
    parser.add_argument("--scaling", action="store_true",
                        help="also time relead check and the build in one process: the speed-up")
    parser.add_argument("--profile", action="store_true",
                        help="also run check_repository under cProfile and list the hotspots")
    parser.add_argument("--top", type=int, default=25, help="hotspots to list with --profile (default 25)")
    parser.add_argument("--risky", action="store_true",
                        help="also put 'Hale & Sons' companies and '$5,000' notes into the leads, as the example "
                             "leads.yaml has (the run says whether relead still took its fast parser)")
    parser.add_argument("--seed", type=int, default=1, help="the generator's seed (default 1)")
    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    return run(leads=args.leads, history=args.history, out=args.out, keep=args.keep,
               repeat=args.repeat, profile=args.profile, risky=args.risky, seed=args.seed, top=args.top,
               jobs=args.jobs, scaling=args.scaling)


if __name__ == "__main__":
    sys.exit(main())
