"""Lead ids for new leads: the slug of name and company, ASCII-folded, made unique.

``jane-doe-acme`` for Jane Doe of Acme Corp (legal suffixes such as Inc., LLC
and GmbH are left out), ``harbor-view-packaging`` for a lead with only a
company. An id already taken (by a lead, by history, or earlier in the same
import) gets ``-2``, ``-3``... Ids are never reused, so the taken set should
hold the ids history knows too.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Container

__all__ = ["slug", "lead_id", "unique_id", "MAX_ID"]

MAX_ID = 60   # characters, before any -N suffix

# Letters NFKD does not decompose into ASCII.
_FOLD = str.maketrans({
    "ß": "ss", "ẞ": "SS", "ø": "o", "Ø": "O", "ł": "l", "Ł": "L", "đ": "d", "Đ": "D",
    "ð": "d", "Ð": "D", "þ": "th", "Þ": "Th", "æ": "ae", "Æ": "AE", "œ": "oe", "Œ": "OE",
    "ı": "i", "ħ": "h", "Ħ": "H", "ŋ": "ng", "&": " and ",
})
_LEGAL = frozenset("""
    inc incorporated llc llp ltd limited co corp corporation company gmbh ag kg ab as asa oy oyj
    sa sas sarl srl spa bv nv plc pty pte lp kk aps sl sro
""".split())


_INNER_DOT = re.compile(r"(?<=\w)\.(?=\w)")
_WORD = re.compile(r"[a-z0-9]+")


def _fold(text: str) -> str:
    if text.isascii():      # most names: nothing to decompose or drop (an import folds tens of thousands)
        return text.translate(_FOLD).lower()
    # what is not ASCII once decomposed (an accent, a letter of another script) is left out
    return unicodedata.normalize("NFKD", text.translate(_FOLD)).encode("ascii", "ignore").decode("ascii").lower()


def slug(text: str, *, company: bool = False) -> str:
    """Lowercase ASCII words joined by ``-``; for a company, without a trailing legal suffix."""
    if company:
        text = _INNER_DOT.sub("", text)      # S.r.l. -> Srl, so the suffix is known
    words = _WORD.findall(_fold(text))
    if company:
        while len(words) > 1 and words[-1] in _LEGAL:
            words.pop()
    return "-".join(words)


def lead_id(name: str, company: str) -> str:
    """The id a new lead gets before it is made unique: ``name-company``, or what there is."""
    # The legal suffix goes only after a name: a company on its own keeps all its words.
    person = slug(name or "")
    parts = [p for p in (person, slug(company or "", company=bool(person))) if p]
    text = "-".join(parts) or "lead"
    if len(text) > MAX_ID:
        text = text[:MAX_ID].rsplit("-", 1)[0] or text[:MAX_ID]
    return text.strip("-") or "lead"


def unique_id(base: str, taken: Container[str]) -> str:
    """``base``, or ``base-2``, ``base-3``... whichever is not taken first."""
    if base not in taken:
        return base
    n = 2
    while f"{base}-{n}" in taken:
        n += 1
    return f"{base}-{n}"
