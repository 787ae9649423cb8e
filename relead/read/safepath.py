"""Where a file really is: relead reads only files inside the repository.

A symlink in ``content/messages/`` to ``/etc/passwd`` would otherwise be read as
copy and mailed to leads. Every file relead reads (leads, content/, history/,
templates/) is checked with :func:`outside`; a symlink that stays inside the
repository is fine.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path

__all__ = ["outside", "OUTSIDE_FIX", "not_utf8"]

OUTSIDE_FIX = ("relead reads only files inside the repository: copy the file in instead of linking "
               "to it, or delete the link")


@functools.lru_cache(maxsize=64)
def _real(root: str) -> str:
    return os.path.realpath(root)


def outside(path: Path | str, root: Path | str) -> str | None:
    """The real path of ``path`` when a symlink (the file's own or a folder's on the way) takes it
    outside ``root``; None when it stays inside (or does not exist)."""
    real = os.path.realpath(path)
    base = _real(os.path.abspath(root))
    if real == base or real.startswith(base.rstrip(os.sep) + os.sep):
        return None
    return real


def not_utf8(path: Path | str, exc: UnicodeDecodeError) -> tuple[int, int, int]:
    """(line, column, byte) of the first byte of ``path`` that is not UTF-8, from the error
    decoding it: the line to open the file at, not a byte offset."""
    data = exc.object if isinstance(exc.object, (bytes, bytearray)) else Path(path).read_bytes()
    at = exc.start
    start = data.rfind(b"\n", 0, at) + 1
    column = len(data[start:at].decode("utf-8", errors="replace")) + 1
    return data.count(b"\n", 0, at) + 1, column, data[at]
