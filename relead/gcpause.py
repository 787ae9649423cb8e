"""Pausing Python's cyclic garbage collector around work that builds many objects.

Loading and planning make hundreds of thousands of small containers and free them
(if ever) by reference counting; no cycles. The cyclic collector would scan them
again and again as they pile up, which costs a third of the planner's time at
100,000 leads. Memory is unaffected: reference counting frees what it always did.

What was made while the collector slept is still in its youngest generation when it
wakes: its first collection would walk all of it (seconds after a 100,000-lead load),
then again each time the survivors move up a generation. ``keep=True`` is for work
whose results live as long as the command (the model, the derivations): they are
moved out of the collector's sight (``gc.freeze``) before it wakes.
"""

from __future__ import annotations

import gc
from contextlib import contextmanager
from typing import Iterator

__all__ = ["collector_paused"]


@contextmanager
def collector_paused(*, keep: bool = False) -> Iterator[None]:
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if keep:
            gc.freeze()
        if enabled:
            gc.enable()
