"""A lead's first name as copy greets them: ``Hi {{ lead.first_name or "there" }}``.

``name`` is whatever the CRM or a person typed: "Jane Doe", "Doe, Jane", "JOHN SMITH",
"Dr. Ana Lima", "Cher". :func:`first_name` finds the name a person is greeted by, and
gives "" when there is none to give (a title and a surname: "Dr. Smith"; an initial),
so the copy's fallback ("there") is used rather than "Hi Smith" or "Hi J.".

It runs for every lead a message is rendered for, so the common case ("Jane Doe", a
capitalised first word with no comma) is answered before anything else is looked at.
"""

from __future__ import annotations

import re

__all__ = ["first_name", "TITLES"]

# Written before a name (compared lowercased, without their full stop). "M." (Monsieur) only
# with its full stop: a bare "M" is an initial.
TITLES = frozenset({"dr", "mr", "mrs", "ms", "miss", "mx", "prof", "sir", "dame", "herr", "frau",
                    "mme", "mlle", "sr", "sra", "srta"})
# Written after a comma: "John Smith, Jr." is John's name, not Mr Jr's.
_SUFFIXES = frozenset({"jr", "sr", "ii", "iii", "iv", "phd", "md", "mba", "esq", "cpa"})
_INITIAL = re.compile(r"[^\W\d_](?:\.[^\W\d_])*\.?")
_LETTERS = re.compile(r"[^\W\d_]+")
_QUOTES = "\"'()\u201c\u201d\u2018\u2019"


def first_name(name: str) -> str:
    """The first name in ``name``; "" when it has none."""
    head = name.partition(" ")[0]
    rest = head[1:]
    if rest.isalpha() and rest.islower() and head[0].isupper() and "," not in name \
            and head.lower() not in TITLES:
        return head                     # "Jane Doe", "Zoë Åkesson", "Cher"
    return _first_name(name)


def _first_name(name: str) -> str:
    text = " ".join(name.split())
    in_front = True                     # the words are "First Last", not the part after "Last,"
    if "," in text:
        last, _, after = text.partition(",")
        after_words, _ = _without_titles(after.replace(",", " ").split())
        if after_words and not all(_bare(w) in _SUFFIXES for w in after_words):
            text, in_front = " ".join(after_words), False          # "Doe, Jane"
        else:
            text = last                                             # "John Smith, Jr."
    words, titled = _without_titles(text.split())
    while len(words) > 2 and _INITIAL.fullmatch(words[0]):
        words = words[1:]               # "J. Edgar Hoover" goes by Edgar
    if not words or (titled and in_front and len(words) == 1):
        return ""                       # only a title, or a title and a surname ("Dr. Smith")
    word = words[0].strip(_QUOTES)
    if not word or _INITIAL.fullmatch(word):
        return ""
    if word.isupper() or word.islower():    # "JOHN", "ÅSA", "O'NEIL": as a name is written
        return _LETTERS.sub(lambda m: m.group(0).capitalize(), word.lower())
    return word                         # "McDonald", "O'Neil", "Jean-Luc": as written


def _bare(word: str) -> str:
    return word.rstrip(".").lower()


def _without_titles(words: list[str]) -> tuple[list[str], bool]:
    """``words`` without the titles in front ("Prof. Dr. Hans Meier"), and whether there were any."""
    i = 0
    while i < len(words) and (_bare(words[i]) in TITLES or (words[i] in ("M.", "m."))):
        i += 1
    return words[i:], i > 0
