"""Today's history file as a run writes it: ``attempting`` records on disk before their sends, results
grouped with them.

:func:`outreach.run.send_queue` records through one :class:`Journal`; with a remote, a claim
(:class:`outreach.claim.Claimer`) writes its ``attempting`` records through it before it commits
and pushes them.
"""

from __future__ import annotations

import asyncio
from typing import Callable

from relead.history import HistoryWriter, Record

__all__ = ["Journal"]


class Journal:
    """Today's history file: ``attempting`` groups written durably, results grouped with them.

    ``durable(records)`` returns once those records, and every result queued before
    them, are on disk: one append, one fsync. ``later(records)`` queues results: they
    ride along with the next durable write (the senders' next ``attempting`` group), or
    are written on their own once ``batch`` are waiting, ``delay`` seconds have passed,
    or no sender is producing (``eager``). An fsync costs about as much as sending a
    message, so grouping is what keeps recording from halving the throughput; a crash
    loses at most the results of the last ``delay`` seconds, which then read as
    unknown (never sent again). The writes block the loop: a local fsync is cheaper than
    handing it to a thread, and a slow disk only slows a run whose pace the provider sets.
    """

    def __init__(self, writer: HistoryWriter, *, batch: int, eager: Callable[[], bool],
                 delay: float = 0.05):
        self.writer = writer
        self.batch, self.eager, self.delay = batch, eager, delay
        self.pending: list[Record] = []
        self.written = 0
        self._timer: asyncio.TimerHandle | None = None

    def durable(self, records: list[Record]) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        records, self.pending = self.pending + records, []
        if records:
            self.writer.append(records)
            self.written += len(records)

    def later(self, records: list[Record]) -> None:
        self.pending.extend(records)
        if len(self.pending) >= self.batch or (self.pending and self.eager()):
            self.durable([])
        elif self.pending and self._timer is None:
            self._timer = asyncio.get_running_loop().call_later(self.delay, self.durable, [])

    def close(self) -> None:
        self.durable([])
        self.writer.close()
