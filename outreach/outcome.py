"""What a run did: each queued touch's :class:`Outcome`, and the :class:`RunResult` of the whole run.

:func:`outreach.run.send_queue` returns a :class:`RunResult`; :mod:`outreach.summary` shows it to
people, and its :meth:`~RunResult.commit_message` is the message of the run's commit.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Mapping

from relead.history import Record

from .queue import QueuedTouch

__all__ = ["Outcome", "RunResult"]


@dataclass(frozen=True, slots=True)
class Outcome:
    """How one queued touch ended in this run."""

    touch: QueuedTouch
    state: str              # sent | failed | deferred | skipped | unknown
    ref: str = ""           # provider id when sent; else a code or reason key
    note: str = ""
    mark: str = ""          # bounced | opted_out | wrong_number: what a failure said about the lead
    tries: int = 0          # deliveries attempted (0: never handed to a transport)


@dataclass(frozen=True)
class RunResult:
    day: str
    outcomes: tuple[Outcome, ...] = ()
    enrolled: int = 0
    already_done: int = 0                       # queued touches a previous run finished
    unknown_before: tuple[Record, ...] = ()     # attempted earlier, never settled
    paused: str = ""                            # why the run stopped sending ("" = it did not)
    digests: tuple[str, ...] = ()               # owners mailed their tasks
    digest_errors: tuple[str, ...] = ()
    records: int = 0                            # history records written
    transports: Mapping[str, str] = field(default_factory=dict)
    refused: Mapping[str, str] = field(default_factory=dict)   # channel -> why the provider refused us
    restart: bool = False                       # another runner claimed first: plan again, then go on

    def then(self, later: "RunResult") -> "RunResult":
        """This pass followed by ``later`` (a run that went on after another runner's claim): one
        result. What this pass did, ``later`` counts as already done; that is not news."""
        mine = sum(1 for o in self.outcomes if o.state in ("sent", "failed", "skipped", "unknown"))
        return replace(later, outcomes=self.outcomes + later.outcomes, enrolled=self.enrolled + later.enrolled,
                       already_done=max(0, later.already_done - mine) + self.already_done,
                       digests=self.digests + later.digests, digest_errors=self.digest_errors + later.digest_errors,
                       records=self.records + later.records, refused={**self.refused, **later.refused},
                       paused=later.paused or self.paused)

    def count(self, state: str, channel: str | None = None) -> int:
        return sum(1 for o in self.outcomes if o.state == state
                   and (channel is None or o.touch.channel == channel))

    @property
    def tasks(self) -> tuple[Outcome, ...]:
        return tuple(o for o in self.outcomes if o.touch.is_task and o.state == "sent")

    @property
    def unknown(self) -> tuple[Outcome, ...]:
        return tuple(o for o in self.outcomes if o.state == "unknown")

    def commit_message(self) -> str:
        head = (f"outreach {self.day}: {self.count('sent', 'email')} email, {self.count('sent', 'sms')} sms, "
                f"{len(self.tasks)} tasks, {self.count('failed')} failed, {len(self.unknown)} unknown")
        why = [f"Paused: {self.paused}"] if self.paused else []
        why += [f"{channel} stopped: {note}" for channel, note in sorted(self.refused.items())]
        return head + ("\n\n" + "\n".join(why) + "\n" if why else "")
