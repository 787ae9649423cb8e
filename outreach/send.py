"""Sending a run's touches through the transports: each channel's senders, retries, rate limits.

:class:`Sending` is the part of a run (:func:`outreach.run.send_queue`, whose docstring gives the
order of things) that hands touches to a transport: per channel, senders take the touches in queue
order, write each group's ``attempting`` records before its sends (unless a claim already did),
build each message just before it goes, and retry temporary failures with backoff within the
channel's :class:`RateLimiter`.
"""

from __future__ import annotations

import asyncio
import math
import random
import time
from typing import Awaitable, Callable

from .errors import (AccountRefused, DeliveryError, DeliveryUnknown, PermanentDeliveryError, RenderError,
                     TemporaryDeliveryError)
from .mime import EmailParts, build_email
from .outcome import Outcome
from .queue import QueuedTouch
from .transports import OutgoingEmail, OutgoingSms

__all__ = ["Sending", "RateLimiter", "MAX_WAIT", "GROUP_SECONDS"]

MAX_WAIT = 60.0           # longest single wait between two tries of one message (seconds)
GROUP_SECONDS = 0.1       # under a rate limit, one `attempting` write covers this much sending


class RateLimiter:
    """At most ``per_second`` starts a second across all callers (0 or None: no limit)."""

    def __init__(self, per_second: float | None, *, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], Awaitable] = asyncio.sleep):
        self.interval = 1.0 / per_second if per_second else 0.0
        self._clock, self._sleep = clock, sleep
        self._next = 0.0

    async def wait(self) -> None:
        if not self.interval:
            return
        now = self._clock()
        slot = max(now, self._next)
        self._next = slot + self.interval
        if slot > now:
            await self._sleep(slot - now)


class Sending:
    """The sending part of :class:`outreach.run._Run`, which mixes it in.

    It works on the run's state (``email``, ``sms``, ``limits``, ``batch``, ``attempts``,
    ``backoff``, ``sleep``, ``journal``, ``producing``, ``paused``, ``refused``, ``model``,
    ``layout``...) and ends each touch through the run's ``_finish``, ``_rec`` and ``_held_back``.
    """

    async def _send(self, items: list[QueuedTouch], *, claimed: bool = False) -> None:
        by_channel: dict[str, list[QueuedTouch]] = {"email": [], "sms": []}
        for t in items:
            by_channel[t.channel].append(t)
        await asyncio.gather(*[
            self._channel(channel, todo, transport, payload, claimed=claimed)
            for channel, transport, payload in (("email", self.email, self._email_payload),
                                                ("sms", self.sms, self._sms_payload))
            if (todo := by_channel[channel])])

    # -- one channel ---------------------------------------------------------------------------

    async def _channel(self, channel: str, items: list[QueuedTouch], transport, payload, *,
                       claimed: bool) -> None:
        # Senders take touches in queue order. Unless a claim already recorded them, the one that
        # reaches a touch whose `attempting` is not yet on disk writes the next group of them
        # (one append, one fsync, carrying the results finished meanwhile) while the others'
        # sends are on the wire: at most one group is ever durable but not yet handed to the
        # transport, which is what a crash can leave unknown beyond the sends in flight.
        taken = 0
        durable = len(items) if claimed else 0
        group = self._group(channel)
        producing = durable < len(items)
        self.producing += producing

        def going() -> bool:
            return taken < len(items) and not self.paused and channel not in self.refused

        async def work() -> None:
            nonlocal taken, durable, producing
            while going():
                if taken == durable:
                    end = min(len(items), taken + group)
                    self.journal.durable([self._rec("attempting", t) for t in items[taken:end]])
                    durable = end       # only once on disk: a failed write sends nothing more
                    if durable == len(items):
                        self.producing -= 1     # results need not wait for another group
                        producing = False
                t = items[taken]
                taken += 1
                # Built just before it is sent: a sender that answers its connection's reply
                # at once keeps the server busy.
                try:
                    message = payload(t)
                except RenderError as exc:
                    self._finish(Outcome(t, "failed", exc.code, str(exc)))
                    continue
                except Exception as exc:    # one touch's fault never stops the run
                    self._finish(Outcome(t, "failed", "render", f"{exc} ({exc.__class__.__name__})"))
                    continue
                self._finish(await self._deliver(channel, t, transport, message))

        try:
            await asyncio.gather(*[work() for _ in range(max(1, transport.concurrency))])
        finally:
            if producing:
                self.producing -= 1
            self.journal.later([])
        for t in items[taken:]:
            self._finish(Outcome(t, "deferred", *self._held_back(channel)))

    def _group(self, channel: str) -> int:
        """How many touches one `attempting` write covers: ``batch``, or under a rate limit
        what a tenth of a second of sending holds (an fsync is then a tiny share of the
        time, and a crash leaves fewer touches unknown)."""
        interval = self.limits[channel].interval
        return self.batch if not interval else max(1, min(self.batch, math.ceil(GROUP_SECONDS / interval)))

    async def _deliver(self, channel: str, t: QueuedTouch, transport, message) -> Outcome:
        tries = 0
        while True:
            tries += 1
            await self.limits[channel].wait()
            try:
                result = await transport.send(message)
                ref, note = (result, "") if isinstance(result, str) else result
                return Outcome(t, "sent", ref, note, tries=tries)
            except DeliveryUnknown as exc:
                return Outcome(t, "unknown", exc.code, str(exc), tries=tries)
            except AccountRefused as exc:
                self.refused.setdefault(channel, str(exc))
                return Outcome(t, "deferred", "account", self.refused[channel], tries=tries)
            except PermanentDeliveryError as exc:
                return Outcome(t, "failed", exc.code, str(exc), mark=exc.mark, tries=tries)
            except TemporaryDeliveryError as exc:
                if tries >= self.attempts or self.paused or exc.final or channel in self.refused:
                    return Outcome(t, "deferred", exc.code, f"{exc} (tried {tries} times)", tries=tries)
                wait = exc.retry_after if exc.retry_after is not None else \
                    self.backoff * (2 ** (tries - 1)) * random.uniform(0.5, 1.0)
                await self.sleep(min(wait, MAX_WAIT))
            except DeliveryError as exc:   # pragma: no cover - transports raise only the three above
                return Outcome(t, "unknown", exc.code, str(exc), tries=tries)

    # -- payloads ----------------------------------------------------------------------------

    def _email_payload(self, t: QueuedTouch) -> OutgoingEmail:
        lead = self.model.by_id[t.lead]
        text, html = self.layout.wrap(subject=t.subject, text=t.text, html=t.html, sender=self.sender,
                                      touch_id=t.touch)
        member = self.settings.team.get(t.author) if t.author else None
        data = build_email(EmailParts(t.touch, lead.name or lead.company, lead.email, t.subject, text, html,
                                      author=(member.name, member.email) if member else None,
                                      references=t.references),
                           sender=self.sender, now=self.now)
        return OutgoingEmail(t.touch, self.sender.email, (lead.email,), data)

    def _sms_payload(self, t: QueuedTouch) -> OutgoingSms:
        return OutgoingSms(t.touch, self.model.by_id[t.lead].phone, t.text)
