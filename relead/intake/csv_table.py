"""A CSV export's bytes into a :class:`Table`, and :class:`ImportFailed`, the refusal every step of intake raises.

:func:`read_table` decodes and splits the file, refusing (with the row
number) a wrong encoding, a missing header and ragged rows. Every problem in
the file is collected and reported at once (:class:`ImportFailed`); nothing is
written unless there are none.

A byte order mark wins over the encoding asked for; text that reads as
mojibake (UTF-8 read as Windows-1252) is refused with the encoding to use.
Pure: bytes in, a table out.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from dataclasses import dataclass
from typing import Iterable

__all__ = ["ImportFailed", "Table", "read_table"]

MAX_LISTED = 25      # problems listed one by one; the rest are counted


class ImportFailed(ValueError):
    """The input cannot be imported as it is; ``problems`` says where and why. Nothing was written."""

    def __init__(self, problems: Iterable[str], summary: str = ""):
        self.problems = tuple(problems)
        self.summary = summary or f"{len(self.problems)} problem{'s' * (len(self.problems) != 1)}"
        super().__init__("\n".join(self.problems) or self.summary)


def _cap(problems: list[str]) -> list[str]:
    if len(problems) <= MAX_LISTED:
        return problems
    return problems[:MAX_LISTED] + [f"... and {len(problems) - MAX_LISTED} more like these"]


# ---------------------------------------------------------------------------
# The CSV file
# ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Table:
    name: str
    headers: tuple[str, ...]
    rows: tuple[tuple[int, int, tuple[str, ...]], ...]   # (row number, first line, cells); the header is row 1
    delimiter: str = ","
    encoding: str = "utf-8"
    notes: tuple[str, ...] = ()                          # for the report: how the file was read, where not as asked


# A byte order mark says the encoding better than anyone's guess, ENCODING= included.
# (mark, codec, what to call it, the ENCODING= names that agree with it)
# UTF-32's marks first: its little-endian one begins with UTF-16's.
_BOMS = ((b"\xef\xbb\xbf", "utf-8-sig", "UTF-8", ("utf-8", "utf-8-sig")),
         (b"\xff\xfe\x00\x00", "utf-32", "UTF-32", ("utf-32", "utf-32-le")),
         (b"\x00\x00\xfe\xff", "utf-32", "UTF-32", ("utf-32", "utf-32-be")),
         (b"\xff\xfe", "utf-16", "UTF-16", ("utf-16", "utf-16-le")),
         (b"\xfe\xff", "utf-16", "UTF-16", ("utf-16", "utf-16-be")))
_HINT = ("export it again as UTF-8 (\"CSV UTF-8\" in Excel), or name its encoding with "
         "ENCODING=cp1252 (--encoding cp1252) for a Windows file")

# Mojibake: UTF-8 bytes shown one byte a character (cp1252 or latin-1), `é` as `Ã©`, `’` as `â€™`.
# A lead byte's character, then as many characters as the sequence has continuation bytes (0x80-0xBF).
_CONT_BYTE: dict[str, int] = {}
for _b in range(0x80, 0xC0):
    _CONT_BYTE[chr(_b)] = _b                                   # latin-1
    try:
        _CONT_BYTE.setdefault(bytes([_b]).decode("cp1252"), _b)
    except UnicodeDecodeError:
        pass
_C = "[" + re.escape("".join(sorted(_CONT_BYTE))) + "]"
# Only the lead bytes of what :func:`_typical` accepts: C2-C5 (U+00A0-U+017F) and E2 (quotes, dashes, €, ™).
_MOJIBAKE = re.compile(f"[\u00c2-\u00c5]{_C}|\u00e2{_C}{{2}}")


def _typical(char: str) -> bool:
    """What mojibake usually hides: accented Latin letters, a no-break space, quotes, dashes, €, ™."""
    o = ord(char)
    return 0xA0 <= o <= 0x17F or 0x2010 <= o <= 0x2026 or o in (0x20AC, 0x2122)


def _garbled(text: str) -> tuple[int, str, str] | None:
    """(offset, garbled, meant) of the first typical mojibake in ``text``, else None.

    Each candidate is turned back into its bytes and must be one UTF-8 character
    of the typical kind, so a real `É’` (an initial before a curly apostrophe) is
    not taken for one.
    """
    if text.isascii():
        return None
    for m in _MOJIBAKE.finditer(text):
        garbled = m.group(0)
        raw = bytes([ord(garbled[0])] + [_CONT_BYTE[c] for c in garbled[1:]])
        try:
            meant = raw.decode("utf-8")
        except UnicodeDecodeError:
            continue
        if _typical(meant):
            return m.start(), garbled, meant
    return None


def _utf16_without_bom(data: bytes) -> str:
    """``utf-16-le``/``utf-16-be`` when most bytes on one side of each pair are zero (text in UTF-16), else ""."""
    sample = data[:4096]
    pairs = len(sample) // 2
    if pairs < 2:
        return ""
    even = sample[0:pairs * 2:2].count(0)
    odd = sample[1:pairs * 2:2].count(0)
    if odd >= pairs * 0.4 and even <= pairs * 0.1:
        return "utf-16-le"
    if even >= pairs * 0.4 and odd <= pairs * 0.1:
        return "utf-16-be"
    return ""


def _decode(data: bytes, name: str, encoding: str | None) -> tuple[str, str, tuple[str, ...]]:
    """(text, the encoding used, notes for the report); :class:`ImportFailed` when it is not text as asked."""
    notes: list[str] = []
    if data.startswith(b"PK\x03\x04"):
        raise ImportFailed([f"{name}: line 1: this is a spreadsheet workbook (.xlsx), not a CSV file; "
                            "save it as \"CSV UTF-8\" (File → Save As in Excel) and import that file"], "not CSV")
    asked = encoding
    if asked is not None:
        try:
            b"abcd".decode(asked)      # a codec that is no text encoding (rot13, base64) fails here too
        except UnicodeDecodeError:
            pass
        except LookupError:
            raise ImportFailed([f"{name}: `{asked}` is not an encoding Python knows; "
                                "use e.g. utf-8, cp1252 or latin-1"]) from None
    bom = next(((codec, label, agree) for mark, codec, label, agree in _BOMS if data.startswith(mark)), None)
    if bom is not None:
        encoding = bom[0]
        if asked is not None and codecs.lookup(asked).name not in bom[2]:
            notes.append(f"{name}: the file starts with a {bom[1]} byte order mark, so it was read as {bom[1]}, "
                         f"not {asked} as ENCODING= said")
    else:
        asked_name = codecs.lookup(asked).name if asked else ""
        wide = "" if asked_name.startswith(("utf-16", "utf-32")) else _utf16_without_bom(data)
        if asked_name == "utf-16":
            asked = _utf16_without_bom(data) or asked      # without a mark Python would take this machine's order
        if wide:
            raise ImportFailed([f"{name}: line 1: the file looks like UTF-16 text without a byte order mark "
                                f"(every other byte is zero), not {asked or 'UTF-8'}; run it again with "
                                f"ENCODING={wide} (--encoding {wide})"], "wrong encoding")
        encoding = asked or "utf-8"
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        byte = data[exc.start:exc.start + 1].hex().upper()
        if encoding.startswith("utf-8"):
            what = f"byte 0x{byte} is not UTF-8 text"
        else:
            what = f"byte 0x{byte} is not {encoding} text"
        raise ImportFailed([f"{name}: line {line}: {what}; {_HINT}"], "wrong encoding") from None
    text = text.removeprefix("\ufeff")
    found = _garbled(text)
    if found is not None:
        offset, garbled, meant = found
        line = text.count("\n", 0, offset) + 1
        start = max(text.rfind(c, 0, offset) for c in ",;\t\n\"") + 1
        ends = [i for i in (text.find(c, offset) for c in ",;\t\r\n\"") if i >= 0]
        cell = text[start:min(ends) if ends else len(text)].strip()
        if len(cell) > 60:
            cell = cell[:57] + "..."
        said = f"`{cell}` has `{garbled}` where `{meant}` was meant"
        if not encoding.startswith("utf-8") and _is_utf8(data):
            raise ImportFailed([f"{name}: line {line}: {said}: UTF-8 text read as {encoding}; the file is UTF-8: "
                                "run it again with ENCODING=utf-8 (--encoding utf-8)"], "wrong encoding")
        raise ImportFailed([f"{name}: line {line}: {said}: UTF-8 text read as Windows-1252 and saved again, so "
                            "the file itself is garbled; "
                            "export it again from the CRM as UTF-8 and import that file as it is (to look at it "
                            "in Excel first, use Data → From Text/CSV with File origin \"65001: Unicode (UTF-8)\")"],
                           "wrong encoding")
    return text, encoding, tuple(notes)


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


# Excel's `sep=;` first line (after a save in Excel, trailing separators may follow it).
_SEP_LINE = re.compile(r'"?sep=(,|;|\t|\\t|\|)"?[ \t,;|]*(?:\r\n|\n|\r|$)', re.I)


def _delimiter(first_line: str) -> str:
    counts = {d: 0 for d in (",", ";", "\t")}
    quoted = False
    for c in first_line:
        if c == '"':
            quoted = not quoted
        elif not quoted and c in counts:
            counts[c] += 1
    best = max(counts, key=lambda d: (counts[d], d == ","))
    return best if counts[best] else ","


def read_table(data: bytes, *, name: str, encoding: str | None = None) -> Table:
    """Decode and split a CSV export; :class:`ImportFailed` with row numbers for anything malformed.

    A byte order mark wins over ``encoding`` (the report says so); text that reads
    as mojibake, or UTF-16 without a byte order mark, is refused with the encoding
    to use. Excel's ``sep=;`` first line names the separator and is not a row:
    rows are numbered as a spreadsheet shows them (the header is row 1), lines as
    the file has them.
    """
    text, used, notes = _decode(data, name, encoding)
    if not text.strip():
        raise ImportFailed([f"{name}: the file is empty; export the CRM's records with their column "
                            "names in the first row"], "empty file")
    skipped_lines = 0
    declared = _SEP_LINE.match(text)
    if declared:
        delimiter = {"\\t": "\t"}.get(declared.group(1).lower(), declared.group(1))
        text = text[declared.end():]
        skipped_lines = 1
    else:
        delimiter = _delimiter(text.split("\n", 1)[0])
    if not text.strip():
        raise ImportFailed([f"{name}: line 2: the file has only its `sep=` line; export the CRM's records "
                            "with their column names in the first row"], "empty file")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    rows: list[tuple[int, int, tuple[str, ...]]] = []
    problems: list[str] = []
    headers: tuple[str, ...] | None = None
    row = 0
    last_line = 0

    def where(r: int, line: int) -> str:
        line += skipped_lines
        return f"row {r}" + (f" (line {line})" if line != r else "")

    try:
        for cells in reader:
            row += 1
            start = last_line + 1
            last_line = reader.line_num
            if headers is None:
                headers = tuple(c.replace("\ufeff", "").strip() for c in cells)
                continue
            if not cells or not any(c.strip() for c in cells):
                continue                                # an empty row
            if len(cells) != len(headers):
                problems.append(f"{name}: {where(row, start)} has {len(cells)} cells but the header has "
                                f"{len(headers)}: a separator too many or too few, or a quote left open in that row")
                continue
            rows.append((row, start + skipped_lines, tuple(cells)))
    except csv.Error as exc:
        problems.append(f"{name}: {where(row + 1, last_line + 1)}: the CSV is malformed ({exc}); "
                        "check the quotes in that row")
    if headers is None or not any(headers):
        problems.insert(0, f"{name}: row 1 is empty; the first row must name the columns")
    if problems:
        raise ImportFailed(_cap(problems), "malformed CSV")
    return Table(name, headers, tuple(rows), delimiter, used, notes)

