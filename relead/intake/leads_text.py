"""leads.yaml as text: write new leads in the example's style and edit one lead without touching the rest.

Commands that change a leads file (``import``, ``add``) never load and dump
the whole file: that would lose comments, quoting, key order and blank lines,
and a YAML round-trip of a 100,000-lead file takes minutes. Instead

* :func:`emit_lead` writes a lead the way people write them in the example
  file: ``  - id: ...``, keys in schema order, dates unquoted, phones quoted,
  text quoted only when YAML would otherwise read it as something else,
  ``notes: |`` for several lines;
* :func:`relead.read.leadlines.scan` finds where each lead's lines start (the one
  scan of a leads file's text, its result checked against the parsed data by the caller);
* :func:`append` adds new leads at the end of the ``leads:`` list;
* :func:`add_keys` splices ``key: value`` lines into one lead's lines, each
  where schema order puts it, keeping every other line as it was.

Everything here is pure: text in, text out. Every edit is checked by parsing
the edited lines again (:func:`parse_items`); :class:`LayoutError` says an
edit cannot be made in place, and the caller decides what to do instead.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from functools import lru_cache
from typing import Any, Iterable, Mapping, Sequence

import yaml

from .. import schema as S
from ..read.leadlines import LEAD_DASH, Layout, LayoutError
from ..read.yamlparse import YamlSyntaxError, parse, parse_written

__all__ = ["emit_lead", "emit_scalar", "append", "append_head", "emit_appended", "add_keys", "parse_items",
           "item_text", "KEY_ORDER"]

KEY_ORDER = tuple(k.name for k in S.LEAD)
_SUB_ORDER = {"lost": tuple(k.name for k in S.LOST), "consent": tuple(k.name for k in S.CONSENT)}
_FLOW_MAPS = frozenset(("consent",))           # written {email: false, sms: true}, as in the example
_ALWAYS_QUOTED = frozenset(("phone",))         # phone numbers are text: "+1 415 555 0134"


# ---------------------------------------------------------------------------
# Scalars
# ---------------------------------------------------------------------------

# What YAML may hold unescaped (PyYAML's printable set), minus the characters
# PyYAML reads as line breaks or a byte order mark.
_UNPRINTABLE = re.compile("[^\x09\x0a\x0d\x20-\x7e\xa0-\ud7ff\ue000-\ufefe\uff00-\ufffd\U00010000-\U0010ffff]"
                          "|[\u2028\u2029]")
_RESOLVERS = yaml.resolver.Resolver.yaml_implicit_resolvers


def _resolves_to_text(text: str) -> bool:
    """True when PyYAML reads ``text``, written bare, as a string."""
    for tag, regexp in _RESOLVERS.get(text[0], []) + _RESOLVERS.get(None, []):
        if regexp.match(text):
            return tag == "tag:yaml.org,2002:str"
    return True


# A bare word: printable, on one line, not starting with an indicator, a digit, a sign, `.` or `~`
# (YAML 1.2 reads 0o17, .5 and +1 as numbers, `~` is a null).
_PRINTABLE_LINE = "\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd\U00010000-\U0010ffff"
_PLAIN_RE = re.compile(f"(?![-?:,\\[\\]{{}}#&*!|>'\"%@`0-9+.~ ])[{_PRINTABLE_LINE}]+")


def _plain_ok(text: str, *, flow: bool = False) -> bool:
    """Can ``text`` be written without quotes and read back as the same text, by YAML 1.1 and 1.2?"""
    if not _PLAIN_RE.fullmatch(text) or text != text.strip():
        return False
    if ": " in text or text[-1] == ":" or " #" in text:
        return False
    if flow and not all(c.isalnum() or c in " -_./+@'" for c in text):
        return False                  # in [a, b] and {k: v}, PyYAML ends a bare word at , : ? [ ] { }
    return _resolves_to_text(text)


def _escape(c: str) -> str:
    code = ord(c)
    if code < 0x100:
        return f"\\x{code:02x}"
    if code < 0x10000:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


_DQ_SIMPLE = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\t": "\\t", "\r": "\\r", "\x00": "\\0"}


_ESCAPED = re.compile('[' + re.escape("".join(_DQ_SIMPLE) + "\x85\ufeff") + ']|' + _UNPRINTABLE.pattern)


def _double_quoted(text: str) -> str:
    if not _ESCAPED.search(text):       # most text: nothing to escape, no loop over its characters
        return '"' + text + '"'
    out = []
    for c in text:
        if c in _DQ_SIMPLE:
            out.append(_DQ_SIMPLE[c])
        elif _UNPRINTABLE.match(c) or c in "\x85\ufeff":
            out.append(_escape(c))
        else:
            out.append(c)
    return '"' + "".join(out) + '"'


def _text(text: str, *, flow: bool = False, quote: bool = False) -> str:
    return text if not quote and _plain_ok(text, flow=flow) else _double_quoted(text)


def _number(value: float) -> str:
    if isinstance(value, bool):
        raise TypeError(value)
    if isinstance(value, int):
        return str(value)
    if not math.isfinite(value):
        raise ValueError(f"cannot write the number {value}")
    if value == int(value) and abs(value) < 1e15:
        return str(int(value))
    text = f"{value:.10f}".rstrip("0")
    return text + "0" if text.endswith(".") else text


def emit_scalar(value: Any, *, key: str = "", flow: bool = False) -> str:
    """One value, on one line, as YAML reads it back: ``true``, ``12000``, ``2026-11-25``, ``Acme Corp``, ``"Re: pricing"``."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return _number(value)
    if isinstance(value, dt.datetime):
        raise TypeError("a date and time has no place in a lead")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, str):
        return _text(value, flow=flow, quote=key in _ALWAYS_QUOTED)
    raise TypeError(f"cannot write {type(value).__name__} as a scalar")


@lru_cache(maxsize=4096)
def _key(name: str) -> str:
    return name if _plain_ok(name, flow=True) else _double_quoted(name)


# ---------------------------------------------------------------------------
# A lead
# ---------------------------------------------------------------------------

def _ordered(mapping: Mapping[str, Any], order: Iterable[str]) -> list[tuple[str, Any]]:
    rank = _rank(tuple(order))
    return sorted(mapping.items(), key=lambda kv: rank.get(kv[0], len(rank)))


@lru_cache(maxsize=16)
def _rank(order: tuple[str, ...]) -> dict[str, int]:
    return {k: i for i, k in enumerate(order)}


def _block_text(text: str, indent: str) -> list[str] | None:
    """``|`` block lines for multi-line text, or None when only a quoted scalar keeps it exact."""
    if "\n" not in text or _UNPRINTABLE.search(text) or "\r" in text or "\x85" in text or "\ufeff" in text:
        return None
    body = text.rstrip("\n")
    trailing = len(text) - len(body)
    if not body.strip():
        return None
    lines = body.split("\n")
    first = next((ln for ln in lines if ln), "")
    if first[:1] in (" ", "\t") or any(ln.strip() == "" and ln for ln in lines):
        return None
    chomp = "-" if trailing == 0 else "" if trailing == 1 else "+"
    out = ["|" + chomp]
    out.extend(indent + ln if ln else "" for ln in lines)
    out.extend("" for _ in range(trailing - 1))
    return out


_SCALARS = (str, int, float, dt.date)


def _field_lines(key: str, value: Any, indent: int) -> list[str]:
    """``key: value`` at ``indent`` (the first line without its indentation), and any lines under it."""
    pad = " " * (indent + 2)
    head = f"{_key(key)}:"
    if isinstance(value, _SCALARS):      # most values: asked first, as asking Mapping (an ABC) is slow
        block = _block_text(value, pad) if isinstance(value, str) and "\n" in value else None
        if block is not None:
            return [f"{head} {block[0]}"] + block[1:]
        return [f"{head} {emit_scalar(value, key=key)}"]
    if isinstance(value, Mapping):
        if not value:
            return [head + " {}"]
        items = _ordered(value, _SUB_ORDER.get(key, ()))
        if key in _FLOW_MAPS and all(not isinstance(v, (Mapping, list, tuple)) for _, v in items):
            inner = ", ".join(f"{_key(k)}: {emit_scalar(v, key=k, flow=True)}" for k, v in items)
            return [f"{head} {{{inner}}}"]
        lines = [head]
        for k, v in items:
            sub = _field_lines(k, v, indent + 2)
            lines.append(pad + sub[0])
            lines.extend(sub[1:])
        return lines
    if isinstance(value, (list, tuple)):
        return [f"{head} [" + ", ".join(emit_scalar(v, flow=True) for v in value) + "]"]
    return [f"{head} {emit_scalar(value, key=key)}"]


def emit_lead(lead: Mapping[str, Any], *, indent: int = 2, key_indent: int | None = None,
              newline: str = "\n") -> str:
    """A lead as block YAML: ``- id: ...`` at ``indent``, its keys at ``key_indent`` (default indent + 2)."""
    if "id" not in lead:
        raise ValueError("a lead needs an id")
    k = indent + 2 if key_indent is None else key_indent
    dash = " " * indent + "-" + " " * (k - indent - 1)
    out = []
    for i, (key, value) in enumerate(_ordered(lead, KEY_ORDER)):
        lines = _field_lines(key, value, k)
        out.append((dash if i == 0 else " " * k) + lines[0])
        out.extend(lines[1:])
    return newline.join(out) + newline


# ---------------------------------------------------------------------------
# Where the leads are
# ---------------------------------------------------------------------------

def _split_lines(text: str) -> list[str]:
    parts = text.split("\n")
    lines = [p + "\n" for p in parts[:-1]]
    if parts[-1]:
        lines.append(parts[-1])
    return lines


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _is_content(line: str) -> bool:
    s = line.strip()
    return bool(s) and not s.startswith("#")


def item_text(layout: Layout, index: int) -> str:
    a, b = layout.block(index)
    return layout.text[a:b]


def parse_items(block: str, *, written: bool = False) -> list:
    """Parse lead lines (``- id: ...`` at any indentation) as a leads list: the leads they hold.
    ``written``: lines :func:`emit_lead` wrote, read back to compare with the leads it was given
    (:func:`relead.read.yamlparse.parse_written`)."""
    try:
        value = (parse_written if written else parse)("leads:\n" + block)
    except YamlSyntaxError as exc:
        raise LayoutError(f"the edited lines do not parse: {exc.message} (line {exc.line - 1})") from None
    items = value.get("leads") if isinstance(value, dict) else None
    if not isinstance(items, list):
        raise LayoutError("the edited lines do not hold a list of leads")
    return items


# ---------------------------------------------------------------------------
# Edits
# ---------------------------------------------------------------------------

def append(layout: Layout, leads: Sequence[Mapping[str, Any]], *, text: str | None = None) -> str:
    """The file's text with ``leads`` added at the end of the list (the rest byte for byte as it was).

    ``text`` is the file as edited so far (same start as ``layout.text``, leads
    changed in place), when it is not ``layout.text`` itself.
    """
    return ("\ufeff" if layout.bom else "") + append_head(layout, text, bool(leads)) + emit_appended(layout, leads)


def append_head(layout: Layout, text: str | None = None, leads: bool = True) -> str:
    """What :func:`append` writes before the first new lead: the file as it was (``text``, else
    ``layout.text``; no BOM), ended with a line break and, where leads are apart, a blank line."""
    body = layout.text if text is None else text
    nl = layout.newline
    if layout.flow_empty:
        line = re.sub(r":[ \t]*\[\]", ":", body[layout.key_start:layout.key_end], count=1)
        body = body[:layout.key_start] + line + body[layout.key_end:]
    last_blank = not body or (body.endswith("\n") and not body[:-1].rsplit("\n", 1)[-1].strip())
    if body and not body.endswith("\n"):
        body += nl
    return body + (nl if leads and layout.blank_between and not last_blank else "")


def emit_appended(layout: Layout, leads: Sequence[Mapping[str, Any]], *, more: bool = False) -> str:
    """The lines :func:`append` writes for ``leads``; ``more``: other new leads follow them.

    A blank line between two leads ends the first one's lines, so the lines of a
    run of leads read back (a ``|+`` text keeps the blank lines after it) as they
    do in the whole file.
    """
    gap = layout.newline if layout.blank_between else ""
    out = [emit_lead(lead, indent=layout.item_indent, key_indent=layout.key_indent, newline=layout.newline)
           for lead in leads]
    return gap.join(out) + (gap if more and out else "")


_KEY_RE = re.compile(r"""(?P<key>[A-Za-z_][A-Za-z0-9_-]*|"[^"\n]*"|'[^'\n]*')[ \t]*:(?=[ \t]|\r?\n|$)(?P<rest>.*?)\r?\n?$""")
_BLOCK_SCALAR = re.compile(r"[ \t]*[|>][-+0-9]*[ \t]*(?:#.*)?$")
_EMPTY_VALUE = re.compile(r"[ \t]*(?:~|null|Null|NULL)?[ \t]*(?:#.*)?$")


def _block_key_indent(block: list[str]) -> int:
    """The column of a lead's keys: after its `- `, or of its first line under a bare `-`."""
    m = LEAD_DASH.match(block[0]) if block else None
    if m is None:
        raise LayoutError("the lead does not start with `- `")
    if m.group("first"):
        if block[0][m.end("gap"):].startswith("{"):
            raise LayoutError("the lead is written in flow style ({...})")
        return m.end("gap")
    for line in block[1:]:
        if _is_content(line):
            return _indent(line)
    raise LayoutError("the lead has no keys")


def _top_keys(block: list[str], key_indent: int) -> list[tuple[str, int, str]]:
    """(key, line index, rest of the line) of each key of the lead (not of its nested mappings)."""
    out = []
    for i, line in enumerate(block):
        if i == 0:
            m = LEAD_DASH.match(line)
            if not m.group("first"):
                continue
            body = line[key_indent:]
        else:
            if not _is_content(line):
                continue
            ind = _indent(line)
            if ind < key_indent:
                raise LayoutError("a line of the lead is indented less than its keys")
            if ind > key_indent:
                continue
            body = line[key_indent:]
        m = _KEY_RE.match(body)
        if not m:
            raise LayoutError(f"cannot read a key in {body.strip()[:40]!r}")
        out.append((m.group("key").strip("\"'"), i, m.group("rest")))
    return out


def _span_end(block: list[str], key_line: int, rest: str, key_indent: int) -> int:
    """Index of the last line that belongs to the key on ``key_line`` (its value's lines)."""
    last = key_line
    scalar = bool(_BLOCK_SCALAR.match(rest))
    for j in range(key_line + 1, len(block)):
        line = block[j]
        if scalar and not line.strip():
            continue
        if not scalar and not _is_content(line):
            continue
        if _indent(line) > key_indent:
            last = j
            continue
        break
    return last


def add_keys(block_text: str, fields: Mapping[str, Any], *, newline: str = "\n") -> str:
    """Splice ``key: value`` lines for ``fields`` into one lead's lines, each in schema order.

    ``block_text`` is the lead's lines, from its ``-`` line on. A key already there
    with an empty value (``email:``) gets the value in place; a key that has a
    value raises :class:`LayoutError` (nothing is ever overwritten).
    """
    block = _split_lines(block_text)
    key_indent = _block_key_indent(block)
    keys = _top_keys(block, key_indent)
    present = {k: (i, rest) for k, i, rest in keys}
    rank = {k: i for i, k in enumerate(KEY_ORDER)}
    inserts: dict[int, list[str]] = {}
    replace: dict[int, list[str]] = {}
    for name, value in _ordered(fields, KEY_ORDER):
        new = _field_lines(name, value, key_indent)
        new = [" " * key_indent + new[0]] + new[1:]
        if name in present:
            i, rest = present[name]
            if i == 0 or not _EMPTY_VALUE.match(rest) or _span_end(block, i, rest, key_indent) != i:
                raise LayoutError(f"`{name}` already has a value")
            if "#" in rest:
                new[0] += "  " + rest[rest.index("#"):].strip()
            replace[i] = new
            continue
        before = [(k, i, rest) for k, i, rest in keys if rank.get(k, len(rank)) < rank.get(name, len(rank))]
        if not before:
            raise LayoutError(f"`{name}` would come before the lead's first key")
        k, i, rest = before[-1]
        inserts.setdefault(_span_end(block, i, rest, key_indent), []).extend(new)
    out = []
    for j, line in enumerate(block):
        if j in replace:
            out.extend(ln + newline for ln in replace[j])
            continue
        if j in inserts and not line.endswith("\n"):
            line += newline
        out.append(line)
        out.extend(ln + newline for ln in inserts.get(j, ()))
    return "".join(out)
