"""`python -m relead`: the core's commands. A thin layer over :mod:`relead.check`."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from .annotations import annotation
from .arguments import date_arg
from .check import check_repository
from .clock import as_of_note
from .diff.revisions import add_diff_command
from .intake.editing import add_edit_commands
from .problems import Problem

__all__ = ["main", "date_arg", "add_common", "finish"]

EXIT_OK, EXIT_INVALID, EXIT_USAGE = 0, 1, 2


def add_common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--root", type=Path, default=Path("."),
                        help="the repository to read (default: the current directory)")
    parser.add_argument("--today", type=date_arg, metavar="YYYY-MM-DD",
                        help="the day to judge dates against (default: the settings' as_of, else today in "
                             "the team's time zone)")
    parser.add_argument("--strict", action="store_true",
                        help="fail on warnings too (for pull-request checks)")
    parser.add_argument("--jobs", type=_jobs_arg, metavar="N",
                        help="processes for large repositories (default: $RELEAD_JOBS, else one per core; "
                             "1: one process; the result is the same; docs/scaling.md)")


def finish(args: argparse.Namespace, code: int) -> int:
    """A command's last word: its exit code. Run as a script (``python -m``, ``main(script=True)``),
    the process ends right here, output flushed, while the caller still holds what it built: a
    model of 100,000 leads and a million records is millions of objects, and freeing them one
    by one only to exit took half a second."""
    if getattr(args, "script", False):
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    return code


def _jobs_arg(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        n = -1
    if n < 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of processes (0: one per core)")
    return n


def _check(args) -> int:
    result = check_repository(args.root, today=args.today, strict=args.strict, jobs=args.jobs)
    out = sys.stdout
    show = annotation if args.format == "github" else Problem.format
    for p in result.problems:
        print(show(p), file=out)
    n_err, n_warn = len(result.errors), len(result.warnings)
    model = result.loaded.model
    leads = f" in {len(model.leads)} leads" if model is not None else ""
    as_of = as_of_note(result.loaded.as_of)
    if result.ok:
        note = f", {n_warn} warning{'s' * (n_warn != 1)}" if n_warn else ""
        print(f"ok: no errors{note}{leads} (as of {result.today})", file=out)
        if as_of:
            print(as_of, file=out)
        return finish(args, EXIT_OK)
    why = f"{n_err} error{'s' * (n_err != 1)}"
    if n_warn:
        why += f", {n_warn} warning{'s' * (n_warn != 1)}" + (" (fatal with --strict)" if args.strict else "")
    print(f"failed: {why}", file=out)
    if as_of:
        print(as_of, file=out)
    return finish(args, EXIT_INVALID)


def main(argv: list[str] | None = None, *, script: bool = False) -> int:
    """``script``: run as ``python -m relead``; a command may end the process (:func:`finish`)."""
    parser = argparse.ArgumentParser(prog="python -m relead",
                                     description="relead's core commands: validate the data.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    p = sub.add_parser("check", help="validate leads.yaml, content/ and history/",
                       description="Validate everything; list every problem with its file and line. "
                                   "Exit 0 when clean, 1 on errors (or warnings with --strict), 2 on bad usage.")
    add_common(p)
    p.add_argument("--format", choices=("text", "github"), default="text",
                   help="text (default): file:line: message; fix. github: one GitHub Actions "
                        "annotation per problem (::error file=...,line=...::...), for pull-request checks")
    p.set_defaults(func=_check)
    add_edit_commands(sub)      # import, add (relead/intake/editing.py)
    add_diff_command(sub)       # diff (relead/diff/revisions.py)
    args = parser.parse_args(argv)
    args.script = script
    if not getattr(args, "func", None):
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    if not args.root.is_dir():
        print(f"error: {args.root} is not a directory", file=sys.stderr)
        return EXIT_USAGE
    try:
        return args.func(args)
    except KeyboardInterrupt:
        return 130
