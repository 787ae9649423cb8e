"""The one place that writes the site: relative paths and their text, into a directory."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Iterable, Mapping

__all__ = ["write_site"]

_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)


def _write_file(path: str, data: bytes) -> None:
    fd = os.open(path, _FLAGS, 0o644)     # O_EXCL: two pages with one path is a bug, not a rewrite
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
    finally:
        os.close(fd)


def write_site(out: Path, files: Mapping[str, str | bytes] | Iterable[tuple[str, str | bytes]]) -> int:
    """Replace ``out`` with exactly ``files``; returns how many were written.

    ``files`` is a mapping (written in sorted order) or an iterable of
    ``(path, content)`` pairs, written as they come, so a generator of pages is
    never held in memory whole. The new site is written beside the old one and
    swapped in at the end, so a failed build never leaves half a site behind.
    """
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    items = sorted(files.items()) if isinstance(files, Mapping) else files
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}-", dir=out.parent))
    made: set[str] = set()
    n = 0
    try:
        for rel, content in items:
            path = os.path.join(staging, rel)
            folder = os.path.dirname(path)
            if folder not in made:
                os.makedirs(folder, exist_ok=True)
                made.add(folder)
            _write_file(path, content.encode("utf-8") if isinstance(content, str) else content)
            n += 1
        os.chmod(staging, 0o755)
        if out.exists():
            old = out.with_name(f".{out.name}-old")
            shutil.rmtree(old, ignore_errors=True)
            out.rename(old)
            staging.rename(out)
            shutil.rmtree(old, ignore_errors=True)
        else:
            staging.rename(out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return n
