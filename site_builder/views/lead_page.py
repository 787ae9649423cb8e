"""Each lead's own page: its path through the funnel, its priority, its next action and the
timeline of its history."""

from __future__ import annotations

import datetime as dt
import operator
import zoneinfo

from relead.derive.derived import Derived
from relead.derive.funnel import NO_OWNER
from relead.model import Lead

from ..contexts import Chrome, LeadContext, NavItem, StageStep, TimelineItem
from .common import chrome, label
from .words import _TASK_HANDED, _TASK_WORDS, TIMELINE_EVENTS, _Lookup, _Steps, _auto_reply_words, reply_said

_RESULTS = frozenset(("sent", "failed", "deferred", "settled_sent", "settled_not_sent"))


_DAY_AT = operator.itemgetter(0, 1)      # a Record's day, then its time


class LeadPages:
    """Everything the lead pages share, computed once; :meth:`context` is then cheap per lead."""

    def __init__(self, derived: Derived, nav: tuple[NavItem, ...]):
        self.derived = derived
        model = derived.model
        self.model = model
        self.settings = model.settings
        self.funnel = model.settings.funnel
        self.stage_labels = tuple(label(s) for s in self.funnel)
        self.priority = {p.lead.id: p for p in derived.priorities}
        self.campaign_names = _Lookup({cid: c.name for cid, c in model.campaigns.items()})
        self.step_labels = _Steps()
        self.owner_names = {k: m.name for k, m in model.settings.team.items()}
        self.status_labels = {"won": "Won", "recovered": "Recovered", "back_in_funnel": "Back in the funnel",
                              "dead": "Gone for good", "lost": "Lost", "open": "Open"}
        self.chrome = chrome(derived, nav, "", depth=1)
        try:
            self.zone = zoneinfo.ZoneInfo(model.settings.timezone or "UTC")
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            self.zone = dt.timezone.utc
        self._local: dict[str, str] = {}     # "YYYY-MM-DDTHH:MM" + offset -> as the team reads it
        self._hours: dict[str, tuple[str, str] | None] = {}    # "YYYY-MM-DDTHH" + offset -> see _hour
        self._steps: dict[tuple[int, dt.date | None, str], StageStep] = {}

    def local_time(self, at: str) -> str:
        """A record's ISO time in the team's time zone: ``2026-09-01 09:15 CDT``. Worked out once
        per minute of history (outreach writes many records in the same minute), and from the
        hour's own reading when the zone's offset is whole hours and the same all hour long."""
        tail = at[19:].lstrip("0123456789.")
        key = at[:16] + tail
        text = self._local.get(key)
        if text is None:
            parts = None
            if at[16:17] == ":":        # seconds written: at[14:16] is the minute, `tail` the offset
                hour = at[:13] + tail
                parts = self._hours.get(hour, False)
                if parts is False:
                    parts = self._hours[hour] = self._hour(at[:13] + ":00:00" + tail)
            if parts is not None:
                text = parts[0] + at[14:16] + parts[1]
            else:
                local = self._when(at)
                text = at if local is None else f"{local:%Y-%m-%d %H:%M} {local.tzname()}"
            self._local[key] = text
        return text

    def _when(self, at: str, minutes: int = 0) -> dt.datetime | None:
        """``at`` (plus ``minutes``), in the team's time zone; None when it is not a time."""
        try:
            when = dt.datetime.fromisoformat(at)
        except ValueError:
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=dt.timezone.utc)
        return (when + dt.timedelta(minutes=minutes)).astimezone(self.zone)

    def _hour(self, start: str) -> tuple[str, str] | None:
        """What the minutes of the hour starting at ``start`` read as, around their minute:
        ``("2026-09-01 09:", " CDT")``; None when the hour is not read alike all through."""
        first, last = self._when(start), self._when(start, 59)
        if first is None or first.minute or first.second or last.minute != 59 \
                or last.utcoffset() != first.utcoffset() or last.tzname() != first.tzname():
            return None
        return f"{first:%Y-%m-%d %H}:", f" {first.tzname()}"

    def _timeline(self, records, owner: str = "") -> tuple[TimelineItem, ...]:
        """The lead's records in time order, as its page shows them; an `attempting` only when
        nothing says how that touch ended. (Hot at 100,000 leads: records are unpacked, not
        read field by field.)"""
        done = {rec[9] for rec in records if rec[2] in _RESULTS}
        events, names, steps, local, known = (TIMELINE_EVENTS, self.campaign_names, self.step_labels,
                                              self.local_time, self._local)
        handed = {"email": "Email sent", "sms": "SMS sent",
                  "call": f"Call task handed to {owner or 'the owner'}: a call to make",
                  "mail": f"Mail task handed to {owner or 'the owner'}: a letter to print and send"}
        new = tuple.__new__
        items = []
        for day, at, ev, _lead, campaign, _enrolment, step, channel, variant, touch, ref, note in \
                sorted(records, key=_DAY_AT):
            if ev == "attempting" and touch in done:
                continue
            text, kind, show_ref = events[ev]
            if step and step[0] == "-" and ev in _TASK_HANDED:
                # the owner's task, handed out: not a call that was made
                text, kind, channel, step = f"Task for the owner: {_TASK_WORDS.get(step, 'follow up')}", "", "", ""
            elif ev == "sent" and channel in handed:
                text = handed[channel]
            elif ev == "replied" and note:
                note, colleague = reply_said(note)
                if colleague:
                    text = f"Replied: a colleague wrote ({colleague})"
            elif ev == "auto_reply":
                note = _auto_reply_words(note)
            if campaign:
                where = names[campaign] + steps[step] + (", variant " + variant if variant else "")
            else:
                where = ""
            # local_time's own key, but for fractional seconds (which miss, and go the long way)
            items.append(new(TimelineItem, (at, known.get(at[:16] + at[19:]) or local(at), kind, text, channel,
                                            where, note or (ref if show_ref else ""))))
        return tuple(items)

    def context(self, lead: Lead) -> LeadContext:
        d = self.derived
        st = d.states[lead.id]
        lost = lead.lost
        reached = st.reached
        path = []
        steps = self._steps
        for i, stage in enumerate(self.funnel):
            day = reached.get(stage)
            if lost is not None and lost.stage == stage:
                state = "lost"
            elif day is not None and lost is not None and day > lost.date:
                state = "after"
            elif day is not None or i <= st.furthest:
                state = "reached"
            else:
                state = ""
            step = steps.get((i, day, state))
            if step is None:     # a few thousand kinds of step in all: made once each
                step = steps[i, day, state] = StageStep(self.stage_labels[i], day.isoformat() if day else "", state)
            path.append(step)
        records = self.model.history.by_lead.get(lead.id, ())
        timeline: tuple[TimelineItem, ...] = ()
        if records:
            timeline = self._timeline(records, self.owner_names.get(self.settings.owner_of(lead.owner), ""))
        ch = self.chrome
        return LeadContext(
            chrome=Chrome(lead.display_name, ch.root, ch.active, ch.nav, ch.as_of, ch.team_name,
                          as_of_note=ch.as_of_note),
            currency=self.settings.currency, lead=lead, state=st,
            status=self.status_labels.get(st.status, st.status),
            owner=self.owner_names.get(lead.owner, lead.owner or NO_OWNER),
            reason=self.settings.lost_reasons[lost.reason].label if lost else "",
            path=tuple(path), priority=self.priority.get(lead.id),
            next_action=d.next_actions[lead.id] or "none: lost in the system",
            paused_until=st.paused_until.isoformat() if st.paused_until is not None and st.paused_until > d.today
            else "",
            timeline=timeline)


def lead(derived: Derived, lead_: Lead, nav: tuple[NavItem, ...]) -> LeadContext:
    """One lead's page context (building many: use :class:`LeadPages`)."""
    return LeadPages(derived, nav).context(lead_)
