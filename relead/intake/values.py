"""The values of an export's cells (and of quick capture): amounts, emails, phones, dates.

:func:`parse_amount`, :func:`clean_email` and :func:`format_phone` read one cell
each; a :class:`DateReader` reads the dates of one export, telling day/month
order from the file's own dates. Pure.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Iterable
from zoneinfo import ZoneInfo

import phonenumbers

from ..read.values import NANP_WRITTEN, normalise_phone

__all__ = ["parse_amount", "clean_email", "format_phone", "DateReader"]


_NOT_AMOUNT = re.compile(r"[^\d,.\-]")
_DIGIT = re.compile(r"\d")
_THOUSANDS = re.compile(r"-?\d{1,3}(,\d{3})+")
_ANGLED = re.compile(r"<([^<>]*)>")
_MAILTO = re.compile(r"^mailto:", re.I)


def parse_amount(text: str) -> float | int | None:
    """``$12,000.00`` -> 12000, ``12.500,50 €`` -> 12500.5; None when there is no number."""
    t = _NOT_AMOUNT.sub("", text.replace("\u00a0", " "))
    if not _DIGIT.search(t) or t.count("-") > 1 or ("-" in t and not t.startswith("-")):
        return None
    if "," in t and "." in t:
        if t.rfind(",") > t.rfind("."):
            t = t.replace(".", "").replace(",", ".")
        else:
            t = t.replace(",", "")
    elif "," in t:
        t = t.replace(",", "") if _THOUSANDS.fullmatch(t) else t.replace(",", ".")
    elif t.count(".") > 1:
        t = t.replace(".", "")
    try:
        value = float(t)
    except ValueError:
        return None
    if value != value or value in (float("inf"), float("-inf")):
        return None
    return int(value) if value == int(value) and abs(value) < 1e15 else value


def clean_email(text: str) -> str:
    """One address as relead stores it: no ``mailto:`` or angle brackets, the domain in lower case."""
    t = text.strip()
    m = _ANGLED.search(t)
    if m:
        t = m.group(1)
    t = _MAILTO.sub("", t.strip()).strip().strip(".,;")
    if "@" in t:
        local, _, domain = t.rpartition("@")
        t = f"{local}@{domain.lower()}"
    return t


def format_phone(text: str, region: str) -> tuple[str, str] | None:
    """(written form, E.164) for a valid number: ``+1 415 555 0134``; None when it is not one."""
    if NANP_WRITTEN.fullmatch(text):
        # Most rows of a North American export: the cached check (relead.read.values) and the
        # written form from its digits, without parsing the text again (phonenumbers.parse
        # was a fifth of an import's time).
        e164 = normalise_phone(text, region)
        if e164 is not None and e164.startswith("+1"):
            return f"+1 {e164[2:5]} {e164[5:8]} {e164[8:]}", e164
    try:
        num = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(num):
        return None
    written = phonenumbers.format_number(num, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    written = re.sub(r"(?<=\d)-(?=\d)", " ", written)
    return written, phonenumbers.format_number(num, phonenumbers.PhoneNumberFormat.E164)


_ISO = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})(?:$|[T ]\S?)")
_NUMERIC = re.compile(r"(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{2}|\d{4})(?:$|[ ,T])")


class DateReader:
    """Reads the dates of one export: ISO always; ``03/04/2026`` as the file's dates allow.

    Day/month order: ``date_format`` when given; else the only order every such
    date in the file fits; else month first where the team is in the US (settings
    ``phone_region``), day first elsewhere (the report says so).
    """

    def __init__(self, values: Iterable[str], *, date_format: str, month_first: bool, zone: str, today: dt.date):
        self.date_format = date_format
        self.zone = zone
        self.today = today
        self.note = ""
        self.order = "mdy" if month_first else "dmy"
        if date_format:
            return
        fits = {"mdy": True, "dmy": True}
        seen = False
        for v in values:
            m = _NUMERIC.match(v.strip())
            if not m or _ISO.match(v.strip()):
                continue
            seen = True
            a, b, y = int(m.group(1)), int(m.group(2)), self._year(m.group(3))
            fits["mdy"] = fits["mdy"] and self._valid(y, a, b)
            fits["dmy"] = fits["dmy"] and self._valid(y, b, a)
        if seen:
            if fits["mdy"] != fits["dmy"]:
                self.order = "mdy" if fits["mdy"] else "dmy"
            elif fits["mdy"]:
                self.note = ("dates such as 03/04/2026 were read as "
                             + ("month/day/year" if month_first else "day/month/year")
                             + " (settings phone_region); pass --date-format "
                             + ("%d/%m/%Y" if month_first else "%m/%d/%Y") + " if that is wrong")

    def _year(self, text: str) -> int:
        y = int(text)
        if len(text) == 2:
            y += 2000 if 2000 + y <= self.today.year + 1 else 1900
        return y

    @staticmethod
    def _valid(y: int, m: int, d: int) -> bool:
        try:
            dt.date(y, m, d)
        except ValueError:
            return False
        return True

    def read(self, text: str) -> dt.date:
        """The date in ``text``; ValueError saying what is wrong."""
        t = text.strip()
        if self.date_format:
            for candidate in (t, t.split()[0] if t.split() else t):
                try:
                    return dt.datetime.strptime(candidate, self.date_format).date()
                except ValueError:
                    continue
        if _ISO.match(t):
            try:
                stamp = dt.datetime.fromisoformat(t.replace(" ", "T", 1) if len(t) > 10 else t)
            except ValueError:
                stamp = None
            if stamp is None:
                y, m, d = (int(x) for x in _ISO.match(t).groups())
                if not self._valid(y, m, d):
                    raise ValueError(f"`{t}` is not a real date")
                return dt.date(y, m, d)
            if stamp.tzinfo is not None:
                stamp = stamp.astimezone(ZoneInfo(self.zone))
            return stamp.date()
        m = _NUMERIC.match(t)
        if m and not self.date_format:
            a, b, y = int(m.group(1)), int(m.group(2)), self._year(m.group(3))
            month, day = (a, b) if self.order == "mdy" else (b, a)
            if self._valid(y, month, day):
                return dt.date(y, month, day)
            raise ValueError(f"`{t}` is not a real date (read as {'month/day' if self.order == 'mdy' else 'day/month'}/year)")
        if self.date_format:
            raise ValueError(f"`{t}` does not match the date format {self.date_format}")
        raise ValueError(f"`{t}` is not a date relead can read; pass --date-format (e.g. %d %b %Y)")

