"""`python -m relead diff BASE HEAD`: what a change does to the funnel, read from git.

The edge around :mod:`relead.diff.compare`: each revision's data (leads.yaml,
leads/, content/, history/) is exported with ``git archive`` into a temporary
directory, loaded and validated there with :func:`relead.check.check_repository`
(both with the same ``today``), and the two are compared. A revision with
errors is reported as such, never a traceback.
"""

from __future__ import annotations

import argparse
import datetime as dt
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

from ..arguments import date_arg
from ..check import Checked, check_repository
from ..clock import note_for
from .compare import FORMATS, LIMIT, MIN_MOVE, TOP, Side, render

__all__ = ["DATA_PATHS", "RevisionError", "export_revision", "load_revision", "diff_revisions",
           "add_diff_command"]

# What a revision's data is made of (templates/ changes nothing the comparison shows).
DATA_PATHS = ("leads.yaml", "leads", "content", "history")


class RevisionError(ValueError):
    """A revision git does not know, or a directory that is not in a git repository."""


def _git(root: Path, *args: str) -> str:
    try:
        done = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, check=False)
    except FileNotFoundError:
        raise RevisionError("git is not installed") from None
    if done.returncode != 0:
        raise RevisionError(done.stderr.strip().splitlines()[-1] if done.stderr.strip()
                            else f"git {args[0]} failed")
    return done.stdout


def _resolve(root: Path, rev: str) -> str:
    try:
        return _git(root, "rev-parse", "--verify", "--quiet", "--end-of-options", f"{rev}^{{commit}}").strip()
    except RevisionError:
        raise RevisionError(f"{rev!r} is not a commit in this repository") from None


def export_revision(root: Path | str, rev: str, dest: Path | str) -> str:
    """Write ``rev``'s data files (as they are under ``root`` in that commit) into ``dest``.

    Returns the commit id. ``root`` may be a subdirectory of the repository.
    """
    root, dest = Path(root), Path(dest)
    prefix = _git(root, "rev-parse", "--show-prefix").strip()
    top = Path(_git(root, "rev-parse", "--show-toplevel").strip())   # git lists less from a subdirectory
    commit = _resolve(top, rev)
    tree = f"{commit}:{prefix}"
    try:
        names = set(_git(top, "ls-tree", "--name-only", tree).splitlines())
    except RevisionError:
        names = set()     # the directory did not exist in that commit
    present = [p for p in DATA_PATHS if p in names]
    dest.mkdir(parents=True, exist_ok=True)
    if not present:
        return commit
    proc = subprocess.Popen(["git", "archive", "--format=tar", tree, "--", *present], cwd=top,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        with tarfile.open(fileobj=proc.stdout, mode="r|") as tar:
            tar.extractall(dest, filter="data")
    finally:
        proc.stdout.close()
        err = proc.stderr.read().decode("utf-8", "replace")
        proc.stderr.close()
        code = proc.wait()
    if code != 0:
        raise RevisionError(err.strip() or f"git archive {rev} failed")
    return commit


def load_revision(root: Path | str, rev: str, *, today: dt.date | None = None) -> tuple[str, Checked]:
    """(commit id, the revision loaded and validated) for ``rev`` of the repository at ``root``."""
    with tempfile.TemporaryDirectory(prefix="relead-rev-") as tmp:
        commit = export_revision(root, rev, tmp)
        return commit, check_repository(tmp, today=today)


def _side(rev: str, commit: str, checked: Checked) -> Side:
    label = f"{rev} ({commit[:10]})" if not commit.startswith(rev) else rev
    return Side(label, checked.derived, checked.errors)


def diff_revisions(root: Path | str, base: str, head: str = "HEAD", *, today: dt.date | None = None,
                   fmt: str = "text", min_move: int = MIN_MOVE, top: int = TOP, limit: int = LIMIT) -> tuple[str, bool]:
    """(the report, whether both revisions are valid). ``today`` defaults to HEAD's "today"."""
    head_commit, head_checked = load_revision(root, head, today=today)
    base_commit, base_checked = load_revision(root, base, today=head_checked.today)
    text = render(_side(base, base_commit, base_checked), _side(head, head_commit, head_checked),
                  fmt=fmt, min_move=min_move, top=top, limit=limit)
    return text, base_checked.derived is not None and head_checked.derived is not None


def _positive(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        n = 0
    if n < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of 1 or more")
    return n


def _diff(args) -> int:
    try:
        text, valid = diff_revisions(args.root, args.base, args.head, today=args.today, fmt=args.format,
                                     min_move=args.min_move, top=args.top, limit=args.limit)
    except RevisionError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    sys.stdout.write(text)
    if args.today is None and note_for(args.root):     # both revisions judged as of the example's as_of
        print(note_for(args.root), file=sys.stderr)
    return 0 if valid else 1


def add_diff_command(sub) -> None:
    """Register ``diff`` on relead's command line (relead/cli.py)."""
    p = sub.add_parser(
        "diff", help="what a change does to the funnel: compare two git revisions of the data",
        description="Load leads.yaml, leads/, content/ and history/ as they are in two git revisions and "
                    "report what changed: leads added and removed, status changes, priority changes and "
                    "the funnel per stage. Exit 0; 1 when a revision has errors (the report says so); "
                    "2 on bad usage (not a git repository, an unknown revision).")
    p.add_argument("base", metavar="BASE", help="the revision before the change, e.g. origin/main")
    p.add_argument("head", metavar="HEAD", nargs="?", default="HEAD",
                   help="the revision after the change (default: HEAD)")
    p.add_argument("--root", type=Path, default=Path("."),
                   help="the repository (default: the current directory)")
    p.add_argument("--today", type=date_arg, metavar="YYYY-MM-DD",
                   help="the day both revisions are judged against (default: today in HEAD's team time zone)")
    p.add_argument("--format", choices=FORMATS, default="text",
                   help="text (default), or markdown for a pull request's job summary")
    p.add_argument("--min-move", type=_positive, default=MIN_MOVE, metavar="N",
                   help=f"list rank moves of at least N places (default {MIN_MOVE})")
    p.add_argument("--top", type=_positive, default=TOP, metavar="N",
                   help=f"always list changes to the first N ranks (default {TOP})")
    p.add_argument("--limit", type=_positive, default=LIMIT, metavar="N",
                   help=f"at most N rows per list (default {LIMIT})")
    p.set_defaults(func=_diff)
