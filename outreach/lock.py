"""One outreach run at a time per checkout: an advisory lock on a file under ``.git/``.

Two runs in one checkout (a cron job that overlaps the previous one, a person typing
``make outreach`` while the scheduled run sends) would both read history before
either wrote its ``attempting`` records, and send the same touches. The lock is
held from planning to the last record and the commit; a second run waits up to
``OUTREACH_LOCK_WAIT`` seconds, then stops with who holds it and since when.

It is ``fcntl.flock`` on ``.git/relead-outreach.lock`` (``.relead-outreach.lock`` at the
root when the repository is not a git checkout). The kernel releases it when the
holding process ends, however it ends: a run killed with ``kill -9`` never blocks
the next one. The file itself stays; its content only says who held it last.
Runs in *other* checkouts (a laptop and a scheduled job) coordinate through the
remote instead: see :mod:`outreach.claim`.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import os
import socket
import subprocess
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from .errors import OutreachError

__all__ = ["RunLocked", "run_lock", "lock_path", "LOCK_NAME"]

LOCK_NAME = "relead-outreach.lock"


class RunLocked(OutreachError, BlockingIOError):
    """Another run holds this checkout's lock."""

    exit_code = 7


def lock_path(root: Path) -> Path:
    """``<git dir>/relead-outreach.lock``: inside ``.git/``, so it never shows in ``git status``."""
    try:
        out = subprocess.run(["git", "rev-parse", "--absolute-git-dir"], cwd=root, capture_output=True,
                             text=True, timeout=30)
        if out.returncode == 0 and out.stdout.strip():
            return Path(out.stdout.strip()) / LOCK_NAME
    except (OSError, subprocess.SubprocessError):
        pass
    return Path(root) / f".{LOCK_NAME}"


def _holder(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8").strip() or "another run"
    except OSError:
        return "another run"


@contextmanager
def run_lock(root: Path | str, *, wait: float, what: str, poll: float = 0.1) -> Iterator[Path]:
    """Hold the checkout's lock for the ``with`` block; :class:`RunLocked` after ``wait`` seconds."""
    path = lock_path(Path(root))
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        deadline = time.monotonic() + max(0.0, wait)
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise RunLocked(
                        f"{_holder(path)} holds this checkout's outreach lock ({path}); waited {wait:g} s. "
                        "Nothing was sent. Run again once it has finished (OUTREACH_LOCK_WAIT sets the wait)."
                    ) from None
                time.sleep(poll)
        since = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{what} (pid {os.getpid()} on {socket.gethostname()}, since {since})\n".encode(), 0)
        yield path
    finally:
        os.close(fd)        # closing the descriptor releases the lock

