"""Simulate the example repository's past: write a plausible ``history/`` for it.

    python tools/example_history.py [--root .] [--start 2026-09-01] [--end 2026-11-20] [--seed 4] [--new-per-day 1]

For each business day from ``--start`` to ``--end`` it does what a team using
relead would have done that day, in that order:

1. the responses people recorded that morning (``record-<owner>`` files): replies,
   interest, opt-outs, bounces noticed late, call outcomes, meetings booked and
   deals won, decided with a seeded random generator when the touch went out;
2. the daily run (``outreach`` files): the repository is loaded and validated
   (:func:`relead.check.check_repository`), cut back to what it held that day
   (stages, losses and leads dated later are left out, because the example
   leads.yaml is as of today), and :func:`relead.derive.plan.plan_day` says
   what is due, and the run records ``enrolled`` for each new enrolment,
   ``attempting`` then ``sent`` (or ``failed`` and a ``bounced`` for a dead
   address) for each touch and task, and ``skipped`` for steps that cannot reach
   the lead.

One touch is left ``attempting`` with no result (a run that died mid-send), so
the dashboard has an unknown touch for a person to settle. The same arguments
always write the same bytes. The history directory must not exist yet (history
is append-only: this tool writes a past, it never rewrites one).

The tests keep their own copy of the example, history included, in ``tests/example/``;
this tool never writes there. A new example is copied there by hand, and the golden
files rewritten (``UPDATE_GOLDEN=1``) and read before they are committed.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import hashlib
import random
import sys
from collections import defaultdict
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:   # run as a script from anywhere
    sys.path.insert(0, str(ROOT))

from relead.check import check_repository  # noqa: E402
from relead.derive.derived import derive  # noqa: E402
from relead.history import History, HistoryWriter, Record, read_history  # noqa: E402
from relead.model import Model, frozen_map  # noqa: E402
from relead.problems import Problems  # noqa: E402
from relead.derive.plan import INTERESTED_STEP, plan_day  # noqa: E402

__all__ = ["simulate", "main"]

# Chance of each response after one touch, by channel. Tuned so that about one
# enrolled lead in twelve says it is interested, and a couple of deals close.
RESPONSES = {
    "email": (("replied", 0.030), ("interested", 0.022), ("not_interested", 0.020),
              ("unsubscribed", 0.008), ("out_of_scope", 0.006)),
    "sms": (("replied", 0.040), ("interested", 0.035), ("not_interested", 0.015),
            ("unsubscribed", 0.015)),
    "call": (("interested", 0.080), ("not_interested", 0.050), ("out_of_scope", 0.010)),
    "mail": (("interested", 0.050), ("replied", 0.020)),
}
BOUNCE_RATE = 0.02          # email addresses that no longer exist
REPLY_NOTES = (
    "Asked us to send the audit dates for January.",
    "Says the budget opens in Q1; call back then.",
    "Forwarded the email to their new operations lead.",
    "Wants the benchmark report, not a call yet.",
    "Asked whether the trial kit covers freezer models.",
    "Asked us to call after the 15th, once their audit is done.",
)
INTEREST_NOTES = (
    "Wants the ROI audit before the new year.",
    "Asked for a quote for 20 scanners.",
    "Interested in the trial kit for one site.",
    "Wants to talk after their peak season.",
)
NOT_INTERESTED_NOTES = ("Happy with their current supplier.", "No budget this year or next.",
                        "Project cancelled.")
OUT_OF_SCOPE_NOTES = ("Moved picking to Monterrey.", "The warehouse is closing in the spring.")
CALL_NOTES = {"no_answer": "", "voicemail": "Left the audit offer on voicemail.",
              "called": "Spoke briefly; will think about it."}


def _business_days(start: dt.date, end: dt.date, sending) -> list[dt.date]:
    days, day = [], start
    while day <= end:
        if sending.is_business_day(day):
            days.append(day)
        day += dt.timedelta(days=1)
    return days


class _Clock:
    """UTC timestamps for local times of the team's day, strictly increasing per file."""

    def __init__(self, zone: str):
        self.zone = ZoneInfo(zone)

    def at(self, day: dt.date, seconds: int) -> str:
        local = dt.datetime.combine(day, dt.time(0), self.zone) + dt.timedelta(seconds=seconds)
        return local.astimezone(dt.timezone.utc).replace(tzinfo=None).isoformat(timespec="seconds") + "+00:00"


def _as_of(model: Model, day: dt.date, history: History) -> Model:
    """The model as it stood on ``day``: leads that existed, stages and losses dated by then."""
    leads = []
    for lead in model.leads:
        reached = {stage: when for stage, when in lead.reached.items() if when <= day}
        if lead.reached and not reached:
            continue        # not a lead yet
        lost = lead.lost if lead.lost is not None and lead.lost.date <= day else None
        leads.append(dataclasses.replace(lead, reached=frozen_map(reached), lost=lost))
    return dataclasses.replace(model, leads=tuple(leads), history=history,
                               by_id=frozen_map({lead.id: lead for lead in leads}))


def _ref(channel: str, touch: str, day: dt.date) -> str:
    digest = hashlib.blake2b(touch.encode(), digest_size=6).hexdigest()
    if channel == "email":
        return f"<{day:%Y%m%d}.{digest}@northwind.example>"
    if channel == "sms":
        return "SM" + hashlib.blake2b(touch.encode(), digest_size=16).hexdigest()
    return "task"


EXAMPLE_AS_OF = dt.date(2026, 11, 22)    # the day the example leads.yaml is written as of


def simulate(root: Path, start: dt.date, end: dt.date, *, seed: int = 4,
             new_per_day: int = 1, as_of: dt.date = EXAMPLE_AS_OF) -> dict[str, int]:
    """Write ``root/history`` for ``start``..``end``; returns counts by event.

    The repository is validated as of ``as_of`` (its leads carry dates up to then),
    then cut back to each simulated day."""
    root = Path(root)
    history = root / "history"
    if history.exists() and any(history.rglob("*.tsv")):
        raise SystemExit(f"{history} already has records: history is append-only, not rewritten")
    rng = random.Random(seed)
    checked = check_repository(root, today=max(end, as_of))
    if checked.derived is None:
        raise SystemExit("the repository does not validate: " + "; ".join(p.format() for p in checked.errors))
    model = checked.derived.model
    settings = model.settings
    clock = _Clock(settings.timezone)
    days = _business_days(start, end, settings.sending)
    later: dict[dt.date, list[tuple[str, Record]]] = defaultdict(list)   # day -> (writer, record)
    counts: dict[str, int] = defaultdict(int)
    unknown_left = False

    def schedule(day_i: int, gap: int, owner: str, event: str, rec_base: Record, note: str = "",
                 *, touch: str = "") -> None:
        if day_i + gap >= len(days):
            return
        when = days[day_i + gap]
        later[when].append((f"record-{owner or 'team'}", rec_base._replace(
            day=when.isoformat(), event=event, step=rec_base.step if touch else "", touch=touch,
            ref="", note=note)))

    def flush(day: dt.date, start_secs: int) -> None:
        """Write what people recorded on ``day`` so far, one file per person."""
        by_writer: dict[str, list[Record]] = defaultdict(list)
        for n, (writer, rec) in enumerate(later.pop(day, [])):
            by_writer[writer].append(rec._replace(at=clock.at(day, start_secs + 7 * n * 60 + rng.randrange(60))))
        for writer in sorted(by_writer):
            with HistoryWriter(history, day.isoformat(), writer) as w:
                w.append(by_writer[writer])
            for rec in by_writer[writer]:
                counts[rec.event] += 1

    for i, day in enumerate(days):
        iso = day.isoformat()
        # 1. What people recorded this morning (answers that came in since yesterday's run).
        flush(day, 8 * 3600)

        # 2. The daily run, on the repository as it stood that day.
        problems = Problems()
        so_far = read_history(history, problems, rel_to=root)
        if problems.errors:
            raise SystemExit(f"{iso}: history does not read back: {problems.errors}")
        derived = derive(_as_of(model, day, so_far), day)
        plan = plan_day(derived.model, derived.states, derived.priorities, day)
        if not plan.sending_day:
            continue
        secs = 9 * 3600 + 15 * 60
        out: list[Record] = []

        def add(rec: Record) -> None:
            nonlocal secs
            secs += 1 + rng.randrange(3)
            out.append(rec._replace(at=clock.at(day, secs)))
            counts[rec.event] += 1

        # The team worked through its backlog gradually: at most `new_per_day` leads
        # a day enter a campaign through its audience (hand-offs always go through).
        fresh = [e for e in plan.enrolments if e.why.startswith("matches its audience")]
        held = {e.lead for e in fresh[new_per_day:]}
        enrolled_on = {e.lead: e for e in plan.enrolments if e.lead not in held}
        for e in enrolled_on.values():
            add(Record(iso, "", "enrolled", e.lead, e.campaign, iso, "", "", e.variant, "", "", e.why))
        for s in plan.skipped:
            if s.lead in held:
                continue
            add(Record(iso, "", "skipped", s.lead, s.campaign, s.enrolment, str(s.step), s.channel,
                       s.variant, s.touch, s.reason))
        for t in plan.touches:
            if t.lead in held:
                continue
            base = Record(iso, "", "attempting", t.lead, t.campaign, t.enrolment, str(t.step), t.channel,
                          t.variant, t.id)
            add(base)
            if not unknown_left and i >= len(days) - 8 and t.channel == "email" and t.lead not in enrolled_on:
                unknown_left = True      # the run died here: no result for this touch
                continue
            lead = derived.model.by_id[t.lead]
            if t.channel == "email" and rng.random() < BOUNCE_RATE:
                add(base._replace(event="failed", ref="550", note="5.1.1 mailbox unavailable"))
                add(base._replace(event="bounced", step="", touch="", ref="550",
                                  note="the address no longer exists"))
                continue
            add(base._replace(event="sent", ref=_ref(t.channel, t.id, day)))
            if t.step == INTERESTED_STEP:
                # The owner's call after an interested answer: some book a meeting, a few buy.
                u = rng.random()
                if u < 0.7:
                    schedule(i, 1 + rng.randrange(3), lead.owner, "appointment", base)
                    if u < 0.45:
                        schedule(i, 6 + rng.randrange(6), lead.owner, "won", base,
                                 "Signed after the audit.")
                continue
            if t.channel == "call":
                u = rng.random()
                outcome = "no_answer" if u < 0.45 else "voicemail"
                schedule(i, 0, lead.owner, outcome, base, CALL_NOTES[outcome], touch=t.id)
            u = rng.random()
            for event, p in RESPONSES[t.channel]:
                if u < p:
                    note = (rng.choice(REPLY_NOTES) if event == "replied"
                            else rng.choice(INTEREST_NOTES) if event == "interested"
                            else rng.choice(NOT_INTERESTED_NOTES) if event == "not_interested"
                            else rng.choice(OUT_OF_SCOPE_NOTES) if event == "out_of_scope" else "")
                    schedule(i, rng.choice((0, 1, 1, 2, 3, 5)), lead.owner, event, base, note)
                    break
                u -= p
        with HistoryWriter(history, iso, "outreach") as w:
            w.append(out)
        # 3. Same-day answers and call outcomes, recorded in the afternoon.
        flush(day, 15 * 3600)
    return dict(sorted(counts.items()))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--root", type=Path, default=ROOT)
    p.add_argument("--start", type=dt.date.fromisoformat, default=dt.date(2026, 9, 1))
    p.add_argument("--end", type=dt.date.fromisoformat, default=dt.date(2026, 11, 20))
    p.add_argument("--seed", type=int, default=4)
    p.add_argument("--new-per-day", type=int, default=1,
                   help="leads a day newly enrolled through campaign audiences (default 1)")
    args = p.parse_args(argv)
    counts = simulate(args.root, args.start, args.end, seed=args.seed, new_per_day=args.new_per_day)
    print(", ".join(f"{k} {v}" for k, v in counts.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
