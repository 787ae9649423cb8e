"""Sending the day's queue: never twice, never lost.

The order of things for each touch that goes to a provider:

1. ``attempting`` is appended to today's history file and fsynced before the touch is
   handed to a transport; a touch whose ``attempting`` is not on disk is never sent.
   The writes are grouped (one fsync for a group of touches, with the results finished
   meanwhile: ``batch`` touches, or a tenth of a second of sending under a rate limit),
   and at most one group is ever durable-but-not-yet-sent: that, plus the sends in
   flight, is what a crash can leave unknown.
2. Touches go out concurrently over the transport's connections, each send retried
   on temporary failures with exponential backoff (or the provider's
   ``Retry-After``), at most ``attempts`` times, within the per-second limit.
3. Each result is appended with the next group, or within
   :class:`~outreach.journal.Journal`'s delay: ``sent`` with the provider's id, ``failed``
   (permanent, with the code), ``deferred`` (temporary: planned again next run). A result that cannot be known
   (a timeout after the data went out) is not written: the touch stays
   ``attempting`` with no result, which is what ``unknown`` means. A crash leaves
   the same. Unknown touches are never sent again by a run;
   ``make record ... OUTCOME=sent|not_sent TOUCH=...`` settles them.

Before that, every touch of the queue is checked against history (a touch whose
latest record is one of :data:`relead.derive.plan.DONE_EVENTS` is done: a re-run sends
nothing twice; one ``deferred`` last is tried again) and against the lead as it
is now (:func:`outreach.compliance.check_touch`). Call and mail steps are handed
to their owners (recorded ``sent`` with ref ``task``) and mailed to each owner as
one digest.

When more than ``max_failure_share`` of the finished sends failed (after at least
:data:`PAUSE_AFTER`), the run stops sending: the touches not sent are recorded
``deferred`` with ref ``paused`` and the reason, and :class:`~outreach.outcome.RunResult` says
why. When a provider refuses our account (a wrong password, a suspended account:
:class:`~outreach.errors.AccountRefused`), that channel stops at once and its touches not
sent are ``deferred`` with ref ``account``.

With a remote (``PUSH=1``) the ``attempting`` records are a *claim*: ``claim`` commits and
pushes them, ``claim_size`` touches at a time, before any of those touches is sent. A push
the remote rejects means another runner moved first: the claim is taken back and the run
returns with ``restart`` set, to plan again on what the remote holds (:mod:`outreach.claim`).

This module runs it all: the checks against history and the lead, the claims, the records and the
owners' task digests. Sending through the transports (step 2, and step 1's ``attempting`` groups)
is :mod:`outreach.send`; today's history file, :mod:`outreach.journal`; what a run did,
:mod:`outreach.outcome`.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections import Counter, defaultdict
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Awaitable, Callable, Mapping

from relead.history import HistoryWriter, Record, last_touch_events
from relead.names import first_name
from relead.derive.hygiene import unknown_touches
from relead.model import Model
from relead.derive.plan import DONE_EVENTS, TASK_STEPS
from relead.derive.state import LeadState, derive_states

from .compliance import check_touch
from .errors import RenderError
from .journal import Journal
from .mime import EmailParts, Layout, build_email, digest_id
from .outcome import Outcome, RunResult
from .progress import NullProgress
from .queue import Queue, QueuedTouch
from .send import RateLimiter, Sending
from .transports import EmailTransport, OutgoingEmail, SmsTransport

__all__ = ["send_queue", "send_queue_async", "PAUSE_AFTER", "WRITER", "Claim"]

WRITER = "outreach"
PAUSE_AFTER = 20          # finished sends before the failure share can pause a run
_FAILING = ("failed", "deferred", "unknown")

# claim(journal, records, commit message) -> True once ``records`` (the `attempting` records of the
# touches about to be sent, and whatever else goes with them) are on the remote; False when another
# runner got there first, and the records were taken back.
Claim = Callable[["Journal", list[Record], str], bool]


def _utc(now: dt.datetime) -> str:
    return now.astimezone(dt.timezone.utc).isoformat(timespec="seconds")


class _Run(Sending):
    """One run of :func:`send_queue_async`: the checks, the claims, the records; its sending is
    :class:`outreach.send.Sending`."""

    def __init__(self, queue: Queue, model: Model, states: Mapping[str, LeadState], *, root: Path,
                 email: EmailTransport | None, sms: SmsTransport | None, now: dt.datetime,
                 clock: Callable[[], dt.datetime], attempts: int, backoff: float, batch: int,
                 email_per_second: float | None, sms_per_second: float | None,
                 max_failure_share: float | None, progress, sleep, layout: Layout | None,
                 claim: Claim | None, claim_size: int):
        self.queue, self.model, self.states = queue, model, states
        self.settings = model.settings
        self.sender = model.settings.sender
        self.root = Path(root)
        self.email, self.sms = email, sms
        self.now, self.clock = now, clock
        self.attempts, self.backoff, self.batch = attempts, backoff, max(1, batch)
        sending = model.settings.sending
        self.limits = {
            "email": RateLimiter(sending.email_per_second if email_per_second is None else email_per_second,
                                 sleep=sleep),
            "sms": RateLimiter(sending.sms_per_second if sms_per_second is None else sms_per_second,
                               sleep=sleep),
        }
        self.max_share = sending.max_failure_share if max_failure_share is None else max_failure_share
        self.progress = progress or NullProgress()
        self.sleep = sleep
        self.layout = layout
        self.outcomes: list[Outcome] = []
        self.started = False        # before sending starts, outcomes are written with the run's first records
        self.checked: list[Record] = []
        self._stamp_at: dt.datetime | None = None
        self._stamp_text = ""
        self.finished = Counter()
        self.paused = ""
        self.blocked: dict[str, set[str]] = defaultdict(set)
        self.refused: dict[str, str] = {}       # channel -> why the provider refused our account
        self.claim, self.claim_size = claim, max(1, claim_size)
        self.claimed: set[str] = set()          # touches this run claimed on the remote
        self.digests: tuple[tuple[str, ...], tuple[str, ...]] = ((), ())    # (mailed to, errors)
        self.producing = 0          # channels still writing `attempting` groups
        # With claims, results ride in groups on a timer: no sender writes `attempting` groups.
        self.journal = Journal(HistoryWriter(self.root / "history", queue.day, WRITER), batch=self.batch,
                               eager=lambda: not self.producing and claim is None)

    # -- records -------------------------------------------------------------------------

    def _stamp(self) -> str:
        at = self.clock().replace(microsecond=0)
        if at != self._stamp_at:        # records are stamped to the second: format once per second
            self._stamp_at, self._stamp_text = at, _utc(at)
        return self._stamp_text

    def _rec(self, event: str, t: QueuedTouch, ref: str = "", note: str = "", *, channel: str = "") -> Record:
        return Record(self.queue.day, self._stamp(), event, t.lead, t.campaign, t.enrolment, str(t.step),
                      channel or t.channel, t.variant, t.touch, ref, note)

    def _finish(self, outcome: Outcome) -> None:
        """Note an outcome; queue its records (nothing for unknown); maybe pause the run."""
        t = outcome.touch
        self.outcomes.append(outcome)
        records = []
        # Only a claim may record a touch this run does not own: pushed later, after a rebase, a
        # `deferred` could land behind another runner's claim of the touch and undo that claim.
        unowned = self.claim is not None and self.started and t.touch not in self.claimed
        if outcome.state != "unknown" and not unowned:
            records.append(self._rec(outcome.state, t, outcome.ref, outcome.note))
        if outcome.mark:
            bounced = outcome.mark == "bounced"
            # A bounce names the address: once the lead's address is corrected, it no longer counts.
            note = f"{self.model.by_id[t.lead].email}: {outcome.note}" if bounced else outcome.note
            records.append(self._rec(outcome.mark, t, outcome.ref, note, channel="email" if bounced else t.channel))
            self.blocked[t.lead].add(t.channel)
        if outcome.tries:
            self.finished[outcome.state in _FAILING] += 1
            failing, total = self.finished[True], sum(self.finished.values())
            if not self.paused and total >= PAUSE_AFTER and failing / total > self.max_share:
                self.paused = (f"{failing} of {total} sends failed ({failing / total:.0%}, more than the "
                               f"{self.max_share:.0%} allowed): stopped sending; check the provider, then run again")
        self.progress.advance("tasks" if t.is_task else t.channel)
        if self.started:
            self.journal.later(records)
        else:
            self.checked.extend(records)

    # -- the run -----------------------------------------------------------------------------

    async def run(self) -> RunResult:
        history = self.model.history
        done = {t for t, r in last_touch_events(history.records).items() if r.event in DONE_EVENTS}
        enrolled = {(r.lead, r.campaign, r.enrolment or r.day) for r in history.records if r.event == "enrolled"}
        unknown_before = unknown_touches(history)
        day = self.queue.day
        first: list[Record] = []
        at = self._stamp()

        for e in self.queue.enrolments:
            if (e.lead, e.campaign, day) not in enrolled and e.lead in self.states:
                enrolled.add((e.lead, e.campaign, day))
                first.append(Record(day, at, "enrolled", e.lead, e.campaign, day, "", "", e.variant, "", "", e.why))
        n_enrolled = len(first)
        for t in self.queue.touches:        # a touch whose enrolment nobody recorded (an edited queue)
            if str(t.step) not in TASK_STEPS and (t.lead, t.campaign, t.enrolment) not in enrolled \
                    and t.lead in self.states and t.touch not in done:
                enrolled.add((t.lead, t.campaign, t.enrolment))
                first.append(Record(day, at, "enrolled", t.lead, t.campaign, t.enrolment, "", "", t.variant,
                                    "", "", "enrolment recorded with its first touch"))
        for s in self.queue.skipped:
            if s.touch and s.touch not in done and s.lead in self.states:
                done.add(s.touch)
                first.append(Record(day, at, "skipped", s.lead, s.campaign, s.enrolment, str(s.step), s.channel,
                                    s.variant, s.touch, "unreachable", s.reason))

        transports = {"email": self.email, "sms": self.sms}
        sends: list[QueuedTouch] = []
        tasks: list[QueuedTouch] = []
        already = 0
        for t in self.queue.touches:
            if t.touch in done:
                already += 1
                continue
            done.add(t.touch)
            st = self.states.get(t.lead)
            if st is None:
                self._finish(Outcome(t, "skipped", "unknown_lead", "the lead is no longer in the leads"))
                continue
            if t.error:
                code, _, why = t.error.partition(": ")
                self._finish(Outcome(t, "failed", code if why and code.isidentifier() else "render", t.error))
                continue
            verdict = check_touch(t.channel, t.enrolment, st, history.for_lead(t.lead), self.settings,
                                  self.now, step=t.step, blocked=frozenset(self.blocked.get(t.lead, ())))
            if verdict.action == "skip":
                self._finish(Outcome(t, "skipped", verdict.reason, verdict.note))
            elif verdict.action == "defer":
                self._finish(Outcome(t, "deferred", verdict.reason, verdict.note))
            elif t.is_task:
                tasks.append(t)
            elif transports[t.channel] is None:
                self._finish(Outcome(t, "deferred", "no_transport", f"no {t.channel} transport in this run"))
            else:
                sends.append(t)
        counts = Counter(t.channel for t in sends)
        self.progress.start({"email": counts["email"], "sms": counts["sms"], "tasks": len(tasks)})
        for t in tasks:
            self._finish(Outcome(t, "sent", "task", f"handed to {t.owner or 'the team'}"))
        opening, self.checked = first + self.checked, []

        restart = False
        try:
            async with AsyncExitStack() as stack:
                for channel, transport in transports.items():
                    if transport is not None and (counts[channel] or (channel == "email" and tasks)):
                        await stack.enter_async_context(transport)
                if self.claim is None:
                    self.journal.durable(opening)
                    self.started = True
                    await self._tasks(tasks)
                    await self._send(sends)
                else:
                    restart = await self._send_claimed(opening, sends, tasks)
        finally:
            self.journal.close()
            self.progress.close()
        return RunResult(day=day, outcomes=tuple(self.outcomes), enrolled=0 if restart and not self.started
                         else n_enrolled, already_done=already, unknown_before=unknown_before,
                         paused=self.paused, digests=self.digests[0], digest_errors=self.digests[1],
                         records=self.journal.written, refused=dict(self.refused), restart=restart)

    async def _tasks(self, tasks: list[QueuedTouch]) -> None:
        if tasks:
            self.digests = await self._mail_digests(tasks)

    async def _send_claimed(self, opening: list[Record], sends: list[QueuedTouch], tasks: list[QueuedTouch]) -> bool:
        """Claim, then send, ``claim_size`` touches at a time; True when another runner claimed first
        (the claim was withdrawn: nothing of it was sent)."""
        size = self.claim_size
        chunks = [sends[i:i + size] for i in range(0, len(sends), size)] or [[]]
        for n, chunk in enumerate(chunks):
            if self.paused:
                break
            chunk = [t for t in chunk if t.channel not in self.refused]
            records = (opening if n == 0 else []) + [self._rec("attempting", t) for t in chunk]
            if not records:
                continue
            self.journal.durable([])        # the results so far go with this claim
            if not self.claim(self.journal, records, self._claim_message(chunk, n, len(chunks), tasks)):
                self.journal.written -= len(records)
                if n == 0:
                    self.outcomes.clear()   # nothing of this pass was recorded
                return True
            self.claimed.update(t.touch for t in chunk)
            self.started = True
            if n == 0:
                await self._tasks(tasks)
            await self._send(chunk, claimed=True)
        for t in sends:     # not claimed: the run paused, or the provider refused us
            if t.touch not in self.claimed:
                self._finish(Outcome(t, "deferred", *self._held_back(t.channel)))
        return False

    def _claim_message(self, chunk: list[QueuedTouch], n: int, total: int, tasks: list) -> str:
        counts = Counter(t.channel for t in chunk)
        what = [f"{counts[c]} {c}" for c in ("email", "sms") if counts[c]]
        if n == 0 and tasks:
            what.append(f"{len(tasks)} tasks")
        part = f" (part {n + 1} of {total})" if total > 1 else ""
        return f"outreach {self.queue.day}: claim {', '.join(what) or 'the plan'}{part}"

    def _held_back(self, channel: str) -> tuple[str, str]:
        """(ref, note) of a touch this run did not send because it stopped sending."""
        if channel in self.refused:
            return "account", self.refused[channel]
        return "paused", self.paused

    # -- tasks -------------------------------------------------------------------------------

    async def _mail_digests(self, tasks: list[QueuedTouch]) -> tuple[tuple[str, ...], tuple[str, ...]]:
        if self.email is None:
            return (), ()
        by_owner: dict[str, list[QueuedTouch]] = defaultdict(list)
        for t in tasks:
            by_owner[t.owner].append(t)
        team = self.settings.team
        mailed, errors = [], []
        for owner in sorted(by_owner):
            if "email" in self.refused:
                errors.append(f"{owner}: {self.refused['email']}")
                continue
            items = by_owner[owner]
            member = team.get(owner)
            name, addr = (member.name, member.email) if member else (self.sender.name, self.sender.email)
            kinds = Counter(t.channel for t in items)
            what = ", ".join(f"{n} {k}{'s' * (n != 1)}" for k, n in sorted(kinds.items()))
            lines = [f"Hi {first_name(name) or name},", "",
                     f"Your relead tasks for {self.queue.day} ({what}). Record what happened with",
                     "`make record LEAD=<id> OUTCOME=<outcome> NOTE=\"...\"`.", ""]
            for i, t in enumerate(items, 1):
                lines.append(f"{i}. {t.lead}: {t.why}")
                lines.extend("   " + ln if ln else "" for ln in t.text.rstrip().splitlines())
                lines.append("")
            did = digest_id(self.queue.day, addr, [t.touch for t in items])
            try:
                data = build_email(EmailParts(did, name, addr, f"Your relead tasks for {self.queue.day}: {what}",
                                              "\n".join(lines), unsubscribe=False),
                                   sender=self.sender, now=self.now)
            except RenderError as exc:
                errors.append(f"{addr}: {exc}")
                continue
            outcome = await self._deliver("email", items[0], self.email,
                                          OutgoingEmail(did, self.sender.email, (addr,), data))
            if outcome.state == "sent":
                mailed.append(addr)
            else:
                errors.append(f"{addr}: {outcome.note or outcome.state}")
        return tuple(mailed), tuple(errors)


async def send_queue_async(queue: Queue, model: Model, *, root: Path | str, email: EmailTransport | None,
                           sms: SmsTransport | None, now: dt.datetime,
                           states: Mapping[str, LeadState] | None = None,
                           clock: Callable[[], dt.datetime] | None = None, attempts: int = 4,
                           backoff: float = 1.0, batch: int = 64, email_per_second: float | None = None,
                           sms_per_second: float | None = None, max_failure_share: float | None = None,
                           progress=None, sleep: Callable[[float], Awaitable] = asyncio.sleep,
                           layout: Layout | None = None, claim: Claim | None = None,
                           claim_size: int = 100) -> RunResult:
    """Send ``queue`` (see the module docstring). ``now`` is the time compliance rules use;
    ``clock`` stamps the records (default: ``now``). Transports are entered here. With
    ``claim`` (:class:`outreach.claim.Claimer`), touches are claimed ``claim_size`` at a time
    before they are sent; the result's ``restart`` says another runner claimed first."""
    if now.tzinfo is None:
        raise ValueError("now must carry its UTC offset")
    root = Path(root)
    if layout is None and any(t.channel == "email" for t in queue.touches):
        layout = Layout(root / "templates" / "email")
    run = _Run(queue, model, states if states is not None else derive_states(model), root=root,
               email=email, sms=sms, now=now, clock=clock or (lambda: now), attempts=attempts,
               backoff=backoff, batch=batch, email_per_second=email_per_second,
               sms_per_second=sms_per_second, max_failure_share=max_failure_share,
               progress=progress, sleep=sleep, layout=layout, claim=claim, claim_size=claim_size)
    return await run.run()


def send_queue(queue: Queue, model: Model, **options) -> RunResult:
    """:func:`send_queue_async` in a new event loop."""
    result: list[RunResult] = []

    async def main() -> None:
        # Not returned through asyncio.run: on its way out (Python 3.11) it formats the repr of
        # its main task, result included, and a run's result holds every outcome.
        result.append(await send_queue_async(queue, model, **options))

    asyncio.run(main())
    return result[0]
