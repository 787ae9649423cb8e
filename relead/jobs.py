"""How many processes independent work may use, and the forked pool that runs it.

Parsing and validating leads, and rendering lead pages, are independent per lead:
on a machine with several cores they are split between processes. Results are
the same bytes as with one process: work is split into pieces in a fixed order
and joined back in that order.

The number of processes is, first found: the ``jobs`` a command was given
(``--jobs``, ``make ... JOBS=N``), the ``RELEAD_JOBS`` environment variable, the
cores this process may run on. ``1`` means no pool at all. Small repositories
get no pool either, whatever the number: below the thresholds here, starting
processes costs more than it saves (docs/scaling.md has the figures).

Workers are forked, so they start with everything the parent has already
loaded (settings, the leads text, the derived data) without copying it through
a pipe; only what they produce comes back. Where processes cannot be forked
(Windows, or a macOS Python that forbids it), the work runs in one process.
"""

from __future__ import annotations

import os
import sys
from typing import Callable, Iterable, Iterator, TypeVar

__all__ = ["ENV", "jobs_for", "available_cores", "Mapped", "can_fork",
           "MIN_LEADS_BYTES", "MIN_PAGES"]

ENV = "RELEAD_JOBS"

# Below these, one process is faster: a fork and a pickled result cost tens of
# milliseconds, the work itself less (about 4 MB of leads text is 8,000 leads).
MIN_LEADS_BYTES = 4_000_000
MIN_PAGES = 2_000

T = TypeVar("T")
R = TypeVar("R")

# A pool's results come back through a pipe that a thread of this process reads, and that thread
# needs the interpreter lock: while this process works meanwhile, it gets it once a switch
# interval (5 ms by default). A run of validated leads is megabytes, a pipe holds 64 KB, and the
# worker waits on it: a fifth of a second per run, measured. Shorter turns while a pool is open.
_SWITCH_INTERVAL = 0.0005
_open_pools = 0
_switch_before = 0.0


def available_cores() -> int:
    """Cores this process may run on (a container's CPU set, not the host's count)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def can_fork() -> bool:
    return hasattr(os, "fork")


def jobs_for(requested: int | None = None) -> int:
    """The number of processes to use: ``requested``, else ``RELEAD_JOBS``, else every core.

    ``0`` (or an unreadable ``RELEAD_JOBS``) means every core.
    """
    n = requested
    if n is None:
        raw = os.environ.get(ENV, "").strip()
        n = int(raw) if raw.isdigit() else 0
    if n <= 0:
        n = available_cores()
    return n if can_fork() else 1


class Mapped:
    """``fn`` applied to each of ``items``, started at once over ``jobs`` forked processes.

    The parent is free meanwhile (it reads history while workers parse leads);
    :meth:`results` then gives the results in the order of ``items``. ``fn`` and what
    it reads are inherited by fork, so only ``items`` (small: offsets, indexes) and
    the results cross a pipe. An exception in a worker is raised by :meth:`results`.
    With one job, or no item, nothing is forked: :meth:`results` runs ``fn`` itself. One
    item is worth a worker when the parent has other work to do meanwhile.

    ``workers`` (default ``jobs``) is how many processes are forked; with fewer workers
    than jobs the parent is counted as one of them: when it asks for the results, it
    runs itself every item no worker has started yet, from the last one back, while the
    workers go on from the front. Its own results cross no pipe.
    """

    def __init__(self, fn: Callable[[T], R], items: Iterable[T], *, jobs: int, workers: int | None = None):
        self._fn = fn
        self._items = list(items)
        self._pool = None
        self._futures = []
        self._helps = False
        if jobs > 1 and self._items:
            # Imported here: `make check` on a small repository never starts a pool, and these
            # imports would cost it about 10 ms of its 250.
            import multiprocessing
            from concurrent.futures import ProcessPoolExecutor

            ctx = multiprocessing.get_context("fork")
            forked = min(jobs if workers is None else max(1, workers), len(self._items))
            self._helps = forked < jobs
            self._pool = ProcessPoolExecutor(max_workers=forked, mp_context=ctx)
            _pool_opened()
            self._futures = [self._pool.submit(fn, item) for item in self._items]

    @property
    def forked(self) -> bool:
        return self._pool is not None

    def results(self) -> Iterator[R]:
        if self._pool is None:
            yield from map(self._fn, self._items)
            return
        mine = {}
        if self._helps:
            # A future no worker has taken can still be cancelled: then it is the parent's. The
            # workers take them in order, so once one is taken, so are all before it.
            for i in range(len(self._futures) - 1, -1, -1):
                if not self._futures[i].cancel():
                    break
                mine[i] = self._fn(self._items[i])
        try:
            for i, future in enumerate(self._futures):
                yield mine.pop(i) if i in mine else future.result()
        finally:
            self.close()

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
            _pool_closed()

    def __enter__(self) -> "Mapped":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _pool_opened() -> None:
    global _open_pools, _switch_before
    if _open_pools == 0:
        _switch_before = sys.getswitchinterval()
        sys.setswitchinterval(min(_switch_before, _SWITCH_INTERVAL))
    _open_pools += 1


def _pool_closed() -> None:
    global _open_pools
    _open_pools -= 1
    if _open_pools == 0:
        sys.setswitchinterval(_switch_before)
