"""Feedback while a run sends: a bar per channel on a terminal, plain lines elsewhere (CI, logs)."""

from __future__ import annotations

import sys
import time
from typing import TextIO

__all__ = ["Progress", "NullProgress"]


class NullProgress:
    def start(self, totals: dict[str, int]) -> None: ...
    def advance(self, channel: str, n: int = 1) -> None: ...
    def close(self) -> None: ...


class Progress:
    """``start(totals)``, ``advance(channel)`` for each touch finished, ``close()``.

    On a TTY one line is redrawn (at most ten times a second); otherwise a line is
    printed when a channel passes each quarter, so logs stay short and readable.
    """

    WIDTH = 24

    def __init__(self, stream: TextIO | None = None, *, tty: bool | None = None):
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty() if tty is None else tty
        self.totals: dict[str, int] = {}
        self.done: dict[str, int] = {}
        self._quarter: dict[str, int] = {}
        self._drawn = 0.0

    def start(self, totals: dict[str, int]) -> None:
        self.totals = {k: v for k, v in totals.items() if v}
        self.done = {k: 0 for k in self.totals}
        self._quarter = {k: 0 for k in self.totals}

    def advance(self, channel: str, n: int = 1) -> None:
        if channel not in self.totals:
            return
        self.done[channel] += n
        if self.tty:
            now = time.monotonic()
            if now - self._drawn >= 0.1 or self.done[channel] >= self.totals[channel]:
                self._drawn = now
                self._draw()
            return
        total, done = self.totals[channel], self.done[channel]
        quarter = done * 4 // total
        if quarter > self._quarter[channel]:
            self._quarter[channel] = quarter
            print(f"{channel}: {done}/{total}", file=self.stream, flush=True)

    def _draw(self) -> None:
        parts = []
        for ch, total in self.totals.items():
            done = self.done[ch]
            fill = self.WIDTH * done // total
            parts.append(f"{ch} [{'#' * fill}{'.' * (self.WIDTH - fill)}] {done}/{total}")
        self.stream.write("\r" + "  ".join(parts))
        self.stream.flush()

    def close(self) -> None:
        if self.tty and self.totals:
            self._draw()
            self.stream.write("\n")
            self.stream.flush()
