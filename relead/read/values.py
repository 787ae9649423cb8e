"""Checking one value against its :class:`~relead.schema.Key`, and one mapping against its schema.

Converters take the parsed value and return the model's value, or raise
:class:`Invalid` with what is wrong and how to fix it. :func:`check_mapping`
runs them over a mapping and reports every problem it finds.
"""

from __future__ import annotations

import datetime as dt
import difflib
import math
import re
from functools import lru_cache
from typing import Any, Callable
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers

from ..problems import Problems
from ..schema import Key

__all__ = ["Invalid", "NANP_WRITTEN", "check_mapping", "convert", "did_you_mean", "normalise_phone",
           "valid_email", "valid_timezone", "ID_RE", "KEY_RE", "single_line_problem"]

ID_RE = re.compile(r"[a-z0-9-]+")
KEY_RE = re.compile(r"[a-z0-9_-]+")
_DATEISH = re.compile(r"\d{4}-\d{1,2}-\d{1,2}")
_TIME_RE = re.compile(r"([01]\d|2[0-3]):([0-5]\d)")
_EMAIL_RE = re.compile(
    r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z][A-Za-z0-9-]{0,62}")
# Unicode line breaks count too: some mail clients and terminals break lines on them.
_CONTROL_LINE = re.compile("[\x00-\x1f\x7f\x85\u2028\u2029]")
_CONTROL_TEXT = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class Invalid(ValueError):
    def __init__(self, message: str, fix: str):
        super().__init__(message)
        self.message = message
        self.fix = fix


def did_you_mean(word: str, options) -> str:
    close = difflib.get_close_matches(str(word), [str(o) for o in options], n=1, cutoff=0.6)
    return f"did you mean `{close[0]}`?" if close else ""


def _describe(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return f"`{str(value).lower()}` (a yes/no value)"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dt.datetime):
        return f"a date and time ({value.isoformat()})"
    if isinstance(value, dt.date):
        return f"a date ({value.isoformat()})"
    if isinstance(value, (int, float)):
        return f"a number ({value})"
    text = str(value)
    return f"`{text[:40]}{'...' if len(text) > 40 else ''}`"


def single_line_problem(text: str) -> str | None:
    m = None if text.isprintable() else _CONTROL_LINE.search(text)
    if not m:
        return None
    names = {"\r": "a carriage return (CR)", "\n": "a line break (LF)", "\x00": "a NUL character",
             "\t": "a tab", "\x85": "a line break (U+0085)", "\u2028": "a line break (U+2028)",
             "\u2029": "a line break (U+2029)"}
    return names.get(m.group(0), f"the control character U+{ord(m.group(0)):04X}")


def _line(value: Any, key: Key) -> str:
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise Invalid(f"`{key.name}` must be text, not {_describe(value)}",
                      f'write it as text in quotes, e.g. {key.name}: "..."')
    text = str(value).strip()
    bad = single_line_problem(text)
    if bad:
        raise Invalid(f"`{key.name}` contains {bad}", "keep it on one line, without control characters")
    return text


def _text(value: Any, key: Key) -> str:
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise Invalid(f"`{key.name}` must be text, not {_describe(value)}",
                      f"write it as text; for several lines use `{key.name}: |`")
    text = str(value)
    m = None if text.isprintable() else _CONTROL_TEXT.search(text)
    if m:
        raise Invalid(f"`{key.name}` contains the control character U+{ord(m.group(0)):04X}",
                      "remove it")
    return text.strip()


def _id(value: Any, key: Key) -> str:
    text = str(value) if isinstance(value, (str, int)) and not isinstance(value, bool) else None
    if text is None or not ID_RE.fullmatch(text):
        raise Invalid(f"`{key.name}` {_describe(value)} is not a valid id",
                      "use lowercase letters, digits and hyphens only, e.g. jane-doe-acme")
    return text


def _date(value: Any, key: Key) -> dt.date:
    if isinstance(value, dt.datetime):
        raise Invalid(f"`{key.name}` is a date and time", "write just the date, YYYY-MM-DD")
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str) and _DATEISH.fullmatch(value.strip()):
        try:
            y, m, d = (int(p) for p in value.strip().split("-"))
            return dt.date(y, m, d)
        except ValueError:
            raise Invalid(f"`{key.name}` {value} is not a real date",
                          "check the month and the day (YYYY-MM-DD)") from None
    raise Invalid(f"`{key.name}` must be a date, not {_describe(value)}",
                  "write it as YYYY-MM-DD, e.g. 2026-11-25")


def yaml_special_float(value: float) -> str:
    """How YAML writes infinity and not-a-number (.inf, -.inf, .nan): what the file says."""
    return ".nan" if value != value else ".inf" if value > 0 else "-.inf"


def _int(value: Any, key: Key) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise Invalid(f"`{key.name}` must be a whole number, not {_describe(value)}",
                      "write digits only, e.g. 3")
    if key.minimum is not None and value < key.minimum:
        raise Invalid(f"`{key.name}` is {value}, below {key.minimum:g}",
                      f"use {key.minimum:g} or more")
    return value


def _number(value: Any, key: Key) -> float:
    if isinstance(value, float) and not math.isfinite(value):
        raise Invalid(f"`{key.name}` must be a finite number, not {yaml_special_float(value)}",
                      "write digits only, without currency signs or separators, e.g. 12000")
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise Invalid(f"`{key.name}` must be a number, not {_describe(value)}",
                      "write digits only, without currency signs or separators, e.g. 12000")
    if key.minimum is not None and value < key.minimum:
        raise Invalid(f"`{key.name}` is {value}, below {key.minimum:g}",
                      f"use {key.minimum:g} or more")
    return value


def _bool(value: Any, key: Key) -> bool:
    if not isinstance(value, bool):
        raise Invalid(f"`{key.name}` must be true or false, not {_describe(value)}",
                      f"write {key.name}: true or {key.name}: false")
    return value


def valid_email(text: str) -> bool:
    return len(text) <= 254 and _EMAIL_RE.fullmatch(text) is not None


def _email(value: Any, key: Key) -> str:
    text = _line(value, key)
    if not valid_email(text):
        raise Invalid(f"`{key.name}` {_describe(text)} is not an email address",
                      "write it as name@example.com, with no spaces or angle brackets")
    return text


@lru_cache(maxsize=4096)
def valid_timezone(name: str) -> bool:
    if not name or name.startswith("/") or ".." in name:
        return False
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return False
    return True


def _timezone(value: Any, key: Key) -> str:
    text = _line(value, key)
    if not valid_timezone(text):
        raise Invalid(f"`{key.name}` {_describe(text)} is not a time zone",
                      "use an IANA name such as America/Chicago or Europe/Berlin")
    return text


def _region(value: Any, key: Key) -> str:
    text = _line(value, key).upper()
    if text not in phonenumbers.SUPPORTED_REGIONS:
        raise Invalid(f"`{key.name}` {_describe(text)} is not a country code",
                      "use a two-letter country code such as US, GB or DE")
    return text


# A North American number as people write it: +1 first or not, then ten digits in groups of
# 3-3-4 (spaces, dots, hyphens, brackets). phonenumbers.parse takes most of the time of checking one (75 us of
# 90); for these forms its result is known: country code 1, the ten digits.
NANP_WRITTEN = re.compile(r"(?:\+1[ .-]?)?(?:\(([2-9]\d\d)\) ?|([2-9]\d\d)([ .-]?))([2-9]\d\d)[ .-]?(\d{4})")


@lru_cache(maxsize=1 << 16)
def normalise_phone(text: str, region: str) -> str | None:
    """E.164 for a valid number, else None. The same text is checked once per process."""
    fast = NANP_WRITTEN.fullmatch(text)
    if fast is not None and (text[0] == "+" or phonenumbers.country_code_for_region(region) == 1):
        digits = (fast.group(1) or fast.group(2)) + fast.group(4) + fast.group(5)
        num = phonenumbers.PhoneNumber(country_code=1, national_number=int(digits))
    else:
        try:
            num = phonenumbers.parse(text, region)
        except phonenumbers.NumberParseException:
            return None
    # Most numbers are the team's own country's: checking that region alone is much
    # cheaper than finding the region of the number first.
    if not (phonenumbers.is_valid_number_for_region(num, region) or phonenumbers.is_valid_number(num)):
        return None
    return phonenumbers.format_number(num, phonenumbers.PhoneNumberFormat.E164)


def _phone(value: Any, key: Key) -> str:
    # The region is applied by the caller (it comes from settings); here only the text.
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    return _line(value, key)


def _time(value: Any, key: Key) -> dt.time:
    if isinstance(value, int) and not isinstance(value, bool):
        raise Invalid(f"`{key.name}` was read as the number {value}",
                      f'write the time in quotes, e.g. {key.name}: "09:00"')
    m = _TIME_RE.fullmatch(str(value).strip()) if isinstance(value, str) else None
    if not m:
        raise Invalid(f"`{key.name}` must be a time, not {_describe(value)}",
                      f'write it as "HH:MM" in quotes, e.g. {key.name}: "09:00"')
    return dt.time(int(m.group(1)), int(m.group(2)))


def _url(value: Any, key: Key) -> str:
    text = _line(value, key)
    if not re.fullmatch(r"https?://[^\s<>\"]+", text):
        raise Invalid(f"`{key.name}` {_describe(text)} is not a web address",
                      "write a full address starting with https://")
    return text


def _seq(value: Any, key: Key) -> list:
    if not isinstance(value, list):
        raise Invalid(f"`{key.name}` must be a list, not {_describe(value)}",
                      f"write it as a list, e.g. {key.name}: [a, b]")
    return value


def _lines(value: Any, key: Key) -> tuple[str, ...]:
    out = []
    for item in _seq(value, key):
        out.append(_line(item, key))
    return tuple(out)


def _choice(value: Any, key: Key) -> str:
    if not isinstance(value, str) or value not in key.choices:
        hint = did_you_mean(value, key.choices) if isinstance(value, str) else ""
        raise Invalid(f"`{key.name}` {_describe(value)} is not one of {', '.join(key.choices)}",
                      hint or f"use one of {', '.join(key.choices)}")
    return value


def _choices(value: Any, key: Key) -> tuple[str, ...]:
    return tuple(_choice(v, key) for v in _seq(value, key))


def _dates(value: Any, key: Key) -> tuple[dt.date, ...]:
    return tuple(_date(v, key) for v in _seq(value, key))


CONVERTERS: dict[str, Callable[[Any, Key], Any]] = {
    "id": _id, "line": _line, "text": _text, "date": _date, "int": _int, "number": _number,
    "bool": _bool, "email": _email, "phone": _phone, "timezone": _timezone, "region": _region,
    "time": _time, "url": _url, "lines": _lines, "choice": _choice, "choices": _choices,
    "dates": _dates, "list": _seq,
}


def convert(key: Key, value: Any) -> Any:
    """Convert a scalar-ish value; structured kinds (maps) are handled by the caller."""
    return CONVERTERS[key.kind](value, key)


def check_mapping(raw: Any, schema: tuple[Key, ...], *, file: str, path: tuple,
                  problems: Problems, lead: str | None = None, what: str = "this entry",
                  structured: Callable[[Key, Any, tuple], Any] | None = None) -> dict[str, Any] | None:
    """Check a mapping: unknown keys, missing keys, each value. Returns the valid values.

    Keys whose kind has no converter are passed to ``structured(key, value, path)``.
    Returns None when ``raw`` is not a mapping at all (already reported).
    """
    if not isinstance(raw, dict):
        problems.error(file, path, f"{what} must be a mapping of `key: value` lines, not {_describe(raw)}",
                       "see docs/formats.md for its keys", lead)
        return None
    known = _names(schema)
    out: dict[str, Any] = {}
    for name, value in raw.items():
        key = known.get(name) if isinstance(name, str) else None
        if key is None:
            hint = did_you_mean(name, known)
            problems.error(file, path + (str(name),), f"unknown key `{name}` in {what}",
                           hint or f"allowed keys: {', '.join(known)}", lead)
            continue
        if value is None:
            if key.required:
                problems.error(file, path + (name,), f"`{name}` is empty",
                               f"give `{name}` a value or remove the line", lead)
            continue
        try:
            if key.kind in CONVERTERS:
                out[name] = CONVERTERS[key.kind](value, key)
            elif structured is not None:
                result = structured(key, value, path + (name,))
                if result is not None:
                    out[name] = result
        except Invalid as exc:
            problems.error(file, path + (name,), exc.message, exc.fix, lead)
    for key in schema:
        if key.required and key.name not in raw:
            problems.error(file, path, f"{what} has no `{key.name}`", f"add `{key.name}:`", lead)
    return out


_NAMES: dict[int, dict[str, Key]] = {}


def _names(schema: tuple[Key, ...]) -> dict[str, Key]:
    names = _NAMES.get(id(schema))
    if names is None:
        names = _NAMES[id(schema)] = {k.name: k for k in schema}
    return names
