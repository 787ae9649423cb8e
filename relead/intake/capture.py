"""Quick capture (``make add``): whatever little is known about someone, as a lead, at once. Pure.

A name or a company is enough. The lead enters the funnel's first stage today.
With neither email nor phone it is tagged ``incomplete`` and gets a
``follow_up`` two business days out, so someone completes it; the de-duplication that
``import`` uses applies too, so capturing someone already in the leads fills
in what their lead is missing instead of adding them twice.
"""

from __future__ import annotations

import datetime as dt

from ..model import Sending, Settings
from ..read.values import did_you_mean, single_line_problem, valid_email
from .csv_table import ImportFailed
from .dedupe import Incoming
from .values import clean_email, format_phone

__all__ = ["business_days_after", "capture", "FOLLOW_UP_BUSINESS_DAYS"]

FOLLOW_UP_BUSINESS_DAYS = 2


def business_days_after(day: dt.date, n: int, sending: Sending) -> dt.date:
    """The ``n``-th business day after ``day`` (settings ``business_days`` and ``holidays``)."""
    out = day
    for _ in range(n):
        out += dt.timedelta(days=1)
        for _guard in range(366):
            if sending.is_business_day(out):
                break
            out += dt.timedelta(days=1)
    return out


def capture(settings: Settings, today: dt.date, *, name: str = "", company: str = "", email: str = "",
            phone: str = "", source: str = "", owner: str = "", title: str = "", interest: str = "",
            notes: str = "") -> Incoming:
    """The lead to add, checked; :class:`ImportFailed` naming each value that is wrong."""
    problems = []
    texts = {"name": name, "company": company, "title": title, "source": source, "interest": interest}
    for key, value in texts.items():
        bad = single_line_problem(value.strip()) if value else None
        if bad:
            problems.append(f"--{key} contains {bad}; keep it on one line")
    if not name.strip() and not company.strip():
        problems.append("give at least --name or --company (NAME= or COMPANY=)")
    lead: dict = {}
    for key in ("name", "company", "title"):
        if texts[key].strip():
            lead[key] = " ".join(texts[key].split())
    phone164 = ""
    if email.strip():
        addr = clean_email(email)
        if valid_email(addr):
            lead["email"] = addr
        else:
            problems.append(f"--email `{email}` is not an email address; write it as name@example.com")
    if phone.strip():
        got = format_phone(phone, settings.phone_region)
        if got is None:
            problems.append(f"--phone `{phone}` is not a valid phone number; write it with its country code, "
                            f"e.g. \"+1 415 555 0134\" (numbers without one are read as {settings.phone_region})")
        else:
            lead["phone"], phone164 = got
    if source.strip():
        lead["source"] = " ".join(source.split())
    if owner.strip():
        if owner.strip() not in settings.team:
            problems.append(f"--owner `{owner}` is not in the team; "
                            + (did_you_mean(owner.strip(), settings.team)
                               or f"use one of {', '.join(settings.team)} (settings.yaml `team`)"))
        else:
            lead["owner"] = owner.strip()
    if interest.strip():
        lead["interest"] = " ".join(interest.split())
    lead["reached"] = {settings.funnel[0]: today}
    if notes.strip():
        text = notes.strip()
        lead["notes"] = text + ("\n" if "\n" in text else "")
    if problems:
        raise ImportFailed(problems, "bad values")
    # Entering the funnel today is true of a new lead only, not of one found already in the leads.
    return Incoming(row=0, lead=lead, phone164=phone164, new_only=frozenset({"reached"}))
