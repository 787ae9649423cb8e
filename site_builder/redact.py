"""``build --redact``: the dashboard for a wider audience, with email addresses and phone numbers masked.

:func:`redact` takes the derived data and returns it with every email address
and phone number masked, before any page or export is made, so every page,
``data/*.csv`` and ``data/summary.json`` get the same masked values from the
one code path the normal build uses. It runs after deriving: statuses,
duplicates (the same email, the same phone) and priorities are worked out on
the real values, then only what is shown is masked.

The rules (docs/guide.md, "Publishing the dashboard"):

* a lead's ``email``: the first character of the address, ``•••``, and the
  domain: ``jane@acme.example`` -> ``j•••@acme.example``;
* a lead's ``phone`` (and the number as written): the country code and the
  last two digits: ``+1 415 555 0134`` -> ``+1 ••• ••34``;
* free text (notes, the loss note, names, companies, titles, interests,
  history notes, provider replies such as a bounce's text, content pages):
  anything that looks like an email address or a phone number (7 to 15
  digits, possibly with ``+``, spaces, dots, dashes or brackets; dates and
  times are left alone) is masked the same way;
* the team's and the sender's addresses and numbers are masked too.

Names, companies and notes stay: a redacted dashboard still holds personal
data, and is for an internal audience on access-controlled hosting only.
"""

from __future__ import annotations

import re
from dataclasses import replace
from types import MappingProxyType

import phonenumbers

from relead.derive.derived import Derived
from relead.history import History, Record
from relead.model import Lead, Model, Settings

__all__ = ["redact", "mask_email", "mask_phone", "mask_text", "MASK"]

MASK = "•••"

_EMAIL = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
                    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+")
# A run of digits with the separators people write numbers with; what it holds is checked below.
_PHONE = re.compile(r"(?<![\w+(])(?:\+[ \t]?|\()?\d[\d \t().\-/]{5,}\d(?!\w)")
# Dates and times are not phone numbers: they are left out of the search (and left as they are).
_DATE_TIME = re.compile(r"\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?")
_DATE_LIKE = re.compile(r"\d{1,2}[./]\d{1,2}[./]\d{2,4}|\d{4}[ \t]*[-–/][ \t]*\d{2,4}")


def mask_email(address: str) -> str:
    """``jane@acme.example`` -> ``j•••@acme.example``."""
    local, at, domain = address.strip().rpartition("@")
    if not at or not local:
        return MASK
    return f"{local[0]}{MASK}@{domain}"


def mask_phone(number: str) -> str:
    """``+1 415 555 0134`` -> ``+1 ••• ••34``: the country code (when written) and the last two digits."""
    digits = re.sub(r"\D", "", number)
    if len(digits) < 4:
        return MASK
    country = ""
    if number.strip().startswith("+"):
        try:
            country = f"+{phonenumbers.parse(number, None).country_code} "
        except phonenumbers.NumberParseException:
            country = ""
    return f"{country}{MASK} ••{digits[-2:]}"


_SEVEN_DIGITS = re.compile(r"(?:\d\D*){7}")


def _phone_match(m: re.Match) -> str:
    text = m.group(0)
    digits = sum(c.isdigit() for c in text)
    if not 7 <= digits <= 15 or _DATE_LIKE.fullmatch(text.strip()):
        return text
    return mask_phone(text)


def mask_text(text: str) -> str:
    """Free text with anything that looks like an email address or a phone number masked."""
    if not text:
        return text
    if "@" in text:
        text = _EMAIL.sub(lambda m: mask_email(m.group(0)), text)
    if _SEVEN_DIGITS.search(text):
        parts = _DATE_TIME.split(text)
        if len(parts) == 1:
            return _PHONE.sub(_phone_match, text)
        dates = _DATE_TIME.findall(text)
        text = "".join(_PHONE.sub(_phone_match, part) + (dates[i] if i < len(dates) else "")
                       for i, part in enumerate(parts))
    return text


def _lead(lead: Lead) -> Lead:
    lost = lead.lost
    return replace(
        lead, name=mask_text(lead.name), company=mask_text(lead.company), title=mask_text(lead.title),
        interest=mask_text(lead.interest), notes=mask_text(lead.notes),
        email=mask_email(lead.email) if lead.email else "",
        phone=mask_phone(lead.phone) if lead.phone else "",
        phone_written=mask_phone(lead.phone or lead.phone_written) if lead.phone_written else "",
        lost=replace(lost, note=mask_text(lost.note)) if lost is not None and lost.note else lost)


# Events whose `ref` is a provider's id (a Message-ID made from the touch id and the sender's
# domain, a Twilio SID, `task`): no one's address, and most of a large history; left as they are.
_PROVIDER_REF = frozenset(("enrolled", "attempting", "sent", "settled_sent", "settled_not_sent"))


def _record(rec: Record | None) -> Record | None:
    if rec is None:
        return rec
    ref = rec.ref if rec.event in _PROVIDER_REF else mask_text(rec.ref)
    note = mask_text(rec.note)
    return rec if note == rec.note and ref == rec.ref else rec._replace(note=note, ref=ref)


def _settings(settings: Settings) -> Settings:
    team = {key: replace(m, email=mask_email(m.email) if m.email else "",
                         phone=mask_phone(m.phone) if m.phone else m.phone)
            for key, m in settings.team.items()}
    s = settings.sender
    sender = replace(s, email=mask_email(s.email) if s.email else "",
                     reply_to=mask_email(s.reply_to) if s.reply_to else s.reply_to,
                     unsubscribe_email=mask_email(s.unsubscribe_email) if s.unsubscribe_email else s.unsubscribe_email,
                     postal_address=mask_text(s.postal_address))
    return replace(settings, team=MappingProxyType(team), sender=sender)


def redact(derived: Derived) -> Derived:
    """``derived`` with every email address and phone number masked (see the module's rules)."""
    model: Model = derived.model
    leads = {lead.id: _lead(lead) for lead in model.leads}
    records = tuple(_record(r) for r in model.history.records)
    by_lead: dict[str, list[Record]] = {}
    for rec in records:
        by_lead.setdefault(rec.lead, []).append(rec)
    history = History(records, MappingProxyType({k: tuple(v) for k, v in by_lead.items()}))
    # a lead's state points at its records; the masked copies are equal but for note and ref
    masked = {id(old): new for old, new in zip(model.history.records, records) if old is not new}

    def rec(r: Record | None) -> Record | None:
        return masked.get(id(r), r) if r is not None else None

    pages = tuple(replace(p, title=mask_text(p.title), body=mask_text(p.body)) for p in model.pages)
    new_model = replace(model, settings=_settings(model.settings), leads=tuple(leads.values()),
                        by_id=MappingProxyType(leads), history=history, pages=pages)
    states = {lead_id: replace(st, lead=leads[lead_id], last_response=rec(st.last_response),
                               enrolment=rec(st.enrolment),
                               closed=MappingProxyType({ch: rec(r) for ch, r in st.closed.items()})
                               if st.closed else st.closed)
              for lead_id, st in derived.states.items()}
    priorities = tuple(replace(p, state=states[p.state.lead.id]) for p in derived.priorities)
    hyg = derived.hygiene
    hygiene = replace(hyg, unknown_touches=tuple(rec(r) for r in hyg.unknown_touches),
                      policy_blocks=tuple(rec(r) for r in hyg.policy_blocks))
    # ahead=None: the campaign statistics and periods are worked out again, from the masked model
    return replace(derived, model=new_model, states=states, priorities=priorities, hygiene=hygiene, ahead=None)
