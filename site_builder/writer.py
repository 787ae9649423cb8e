"""The one place that writes the site: relative paths and their text, into a directory."""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from pathlib import Path
from typing import Callable, Iterable, Mapping, Union

from relead.jobs import MIN_PAGES, Mapped, jobs_for

__all__ = ["write_site", "remove_stale_staging"]

_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)


def _write_file(path: str, data: bytes) -> None:
    fd = os.open(path, _FLAGS, 0o644)     # O_EXCL: two pages with one path is a bug, not a rewrite
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
    finally:
        os.close(fd)


# What tempfile.mkdtemp names a staging folder beside the site: ".<site>-" and 8 of its letters;
# ".<site>-old" is the previous site while it is swapped out.
_STAGING = re.compile(r"\.(?P<site>.+)-(?:[a-z0-9_]{8}|old)")


def remove_stale_staging(out: Path) -> list[Path]:
    """Remove what a killed build left beside ``out``: only folders named as this writer names
    them for this site (``._site-k3j4h5g6``, ``._site-old``), never anything else; the ones removed.
    Two builds into one folder at once are not supported: the second would remove the first's."""
    out = Path(out)
    removed = []
    try:
        entries = list(os.scandir(out.parent))
    except OSError:
        return removed
    for entry in entries:
        m = _STAGING.fullmatch(entry.name)
        if m and m.group("site") == out.name and entry.is_dir(follow_symlinks=False):
            shutil.rmtree(entry.path, ignore_errors=True)
            removed.append(Path(entry.path))
    return sorted(removed)


Content = Union[str, bytes, Callable[[], Union[str, bytes]]]


def write_site(out: Path, files: Mapping[str, Content] | Iterable[tuple[str, Content]], *,
               jobs: int | None = None) -> int:
    """Replace ``out`` with exactly ``files``; returns how many were written.

    ``files`` is a mapping (written in sorted order) or an iterable of
    ``(path, content)`` pairs, written as they come, so a generator of pages is
    never held in memory whole. The new site is written beside the old one and
    swapped in at the end, so a failed build never leaves half a site behind.

    A content may be a function that returns it (a page not rendered yet). A run of
    those is handed, when the stream moves past it, to ``jobs`` worker processes
    (:func:`relead.jobs.jobs_for`) if there are enough of them; this process writes what
    follows meanwhile (a short run of functions too: rendered here, not by one more
    process, which would copy again every page of memory they read), then takes its
    share of what is left. The files are the same whichever process writes them.
    """
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    items = sorted(files.items()) if isinstance(files, Mapping) else files
    remove_stale_staging(out)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}-", dir=out.parent))
    made: set[str] = set()
    deferred: list[tuple[str, Callable]] = []
    started: list[_Deferred] = []
    n = 0
    try:
        for rel, content in items:
            if callable(content):
                deferred.append((rel, content))
                continue
            if deferred:
                started.append(_Deferred(str(staging), deferred, made, jobs))
                deferred = []
            path = os.path.join(staging, rel)
            folder = os.path.dirname(path)
            if folder not in made:
                os.makedirs(folder, exist_ok=True)
                made.add(folder)
            _write_file(path, content.encode("utf-8") if isinstance(content, str) else content)
            n += 1
        if deferred:
            started.append(_Deferred(str(staging), deferred, made, jobs))
        for run in started:
            n += run.finish()
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
        for run in started:
            run.close()
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return n


_TAKING: "_Deferred | None" = None     # the pages being handed out, set while workers fork
_RUN = 50                               # pages a process takes at a time: a few hundredths of a second


class _Deferred:
    """Pages given as functions, rendered and written: by worker processes when there are
    many, else here and now; :meth:`finish` waits, and says how many.

    The pages are taken a run at a time (``_RUN`` pages at most), in order, from a counter
    the processes share: each takes the next run when it is free, this process too once it
    has nothing else to do. So a slow run holds nothing up, and what this process does
    meanwhile (the contexts of the pages after these) leaves no core idle."""

    def __init__(self, staging: str, deferred: list[tuple[str, Callable]], made: set[str],
                 jobs: int | None):
        for folder in {os.path.dirname(os.path.join(staging, rel)) for rel, _ in deferred} - made:
            os.makedirs(folder, exist_ok=True)
            made.add(folder)
        self.staging = staging
        self.deferred = deferred
        self._mapped = None
        self._count = 0
        n_jobs = jobs_for(jobs) if len(deferred) >= MIN_PAGES else 1
        if n_jobs == 1:
            self._count = _render(staging, deferred, 0, len(deferred))
            return
        import multiprocessing      # only for a pool (see relead.jobs)

        self._next = multiprocessing.get_context("fork").Value("q", 0)
        # Smaller runs when there are few pages (each may be a long one), so every process gets some.
        self._size = max(1, min(_RUN, len(deferred) // (8 * n_jobs)))
        self._runs = -(-len(deferred) // self._size)
        global _TAKING
        _TAKING = self
        try:
            # The workers fork here, all at once, inheriting the pages and the counter; they
            # write straight into the staging folder. This process is one of the ``n_jobs``: it
            # takes runs too once it has made the contexts of the pages that follow.
            self._mapped = Mapped(_take_runs, range(n_jobs - 1), jobs=n_jobs)
        finally:
            _TAKING = None

    def take(self) -> int:
        """Render runs until none is left; how many pages."""
        n = 0
        while True:
            with self._next.get_lock():
                run = self._next.value
                self._next.value = run + 1
            if run >= self._runs:
                return n
            start = run * self._size
            n += _render(self.staging, self.deferred, start, min(start + self._size, len(self.deferred)))

    def finish(self) -> int:
        if self._mapped is not None:
            mine = self.take()
            self._count = mine + sum(self._mapped.results())
            self._mapped = None
        return self._count

    def close(self) -> None:
        if self._mapped is not None:
            self._mapped.close()
            self._mapped = None


def _take_runs(_worker: int) -> int:
    return _TAKING.take()


def _render(staging: str, deferred: list[tuple[str, Callable]], start: int, end: int) -> int:
    for rel, make in deferred[start:end]:
        content = make()
        _write_file(os.path.join(staging, rel), content.encode("utf-8") if isinstance(content, str) else content)
    return end - start
