"""CRM exports into leads: read the CSV, map each row to a lead. Pure: bytes and settings in, leads out.

:func:`read_table` decodes and splits the file, refusing (with the row
number) a wrong encoding, a missing header and ragged rows. :func:`map_rows`
turns each row into an :class:`~relead.intake.dedupe.Incoming` lead: names joined,
emails and phones normalised, the CRM's stage and status mapped onto the
funnel, a "closed lost" with its reason and date made a ``lost`` record. Every
problem in the file is collected and reported at once (:class:`ImportFailed`);
nothing is written unless there are none.

A column the CRM's default export may leave out never refuses the file: a lost
row without a loss date takes the latest date it has, and says so
(:class:`~relead.intake.dedupe.Estimate`). A byte order mark wins over the encoding
asked for; text that reads as mojibake (UTF-8 read as Windows-1252) is refused
with the encoding to use.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import re
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, Iterable
from zoneinfo import ZoneInfo

import phonenumbers

from ..model import Settings
from ..read.values import NANP_WRITTEN, normalise_phone, valid_email
from .crm_formats import Format, Resolver, norm
from .dedupe import Estimate, Incoming

__all__ = ["ImportFailed", "Table", "read_table", "map_rows", "Mapped", "parse_amount", "clean_email",
           "format_phone", "DateReader"]

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


# ---------------------------------------------------------------------------
# Values
# ---------------------------------------------------------------------------

def parse_amount(text: str) -> float | int | None:
    """``$12,000.00`` -> 12000, ``12.500,50 €`` -> 12500.5; None when there is no number."""
    t = re.sub(r"[^\d,.\-]", "", text.replace("\u00a0", " "))
    if not re.search(r"\d", t) or t.count("-") > 1 or ("-" in t and not t.startswith("-")):
        return None
    if "," in t and "." in t:
        if t.rfind(",") > t.rfind("."):
            t = t.replace(".", "").replace(",", ".")
        else:
            t = t.replace(",", "")
    elif "," in t:
        t = t.replace(",", "") if re.fullmatch(r"-?\d{1,3}(,\d{3})+", t) else t.replace(",", ".")
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
    m = re.search(r"<([^<>]*)>", t)
    if m:
        t = m.group(1)
    t = re.sub(r"^mailto:", "", t.strip(), flags=re.I).strip().strip(".,;")
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


_TRUE = frozenset(("true", "yes", "y", "1", "x", "checked", "on"))
_FALSE = frozenset(("false", "no", "n", "0", "unchecked", "off", ""))

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


# ---------------------------------------------------------------------------
# Rows into leads
# ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Mapped:
    """What :func:`map_rows` made of a table."""

    incoming: tuple[Incoming, ...]
    skipped: tuple[tuple[int, str], ...]          # (row, why)
    notes: tuple[str, ...]                         # file-level notes for the report
    columns: tuple[tuple[str, str], ...]           # (field, column) actually used


@dataclass
class _Unmapped:
    rows: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))
    shown: dict[str, str] = field(default_factory=dict)

    def add(self, word: str, row: int) -> None:
        self.shown.setdefault(norm(word), word)
        self.rows[norm(word)].append(row)

    def listing(self) -> str:
        parts = []
        for key, rows in self.rows.items():
            where = ", ".join(str(r) for r in rows[:5]) + (f" and {len(rows) - 5} more" if len(rows) > 5 else "")
            parts.append(f"`{self.shown[key] or '(blank)'}` (row{'s' * (len(rows) > 1)} {where})")
        return "; ".join(parts)


_CONTACT = re.compile(r"^(?P<name>.*?)\s*\((?P<email>[^()]*@[^()]*)\)\s*$")


def _columns(table: Table, fmt: Format, required: dict[str, tuple[str, ...]]) -> tuple[dict[str, list[int]], list[str]]:
    """Field -> indexes of the columns it comes from, in order; problems for missing mapped columns."""
    index: dict[str, list[int]] = defaultdict(list)
    for i, h in enumerate(table.headers):
        index[norm(h)].append(i)
    problems = []
    out: dict[str, list[int]] = {}
    for fld, names in fmt.columns.items():
        cols = []
        for n in names:
            hits = index.get(norm(n), [])
            if len(hits) > 1:
                problems.append(f"{table.name}: row 1: the column `{n}` appears {len(hits)} times; "
                                "rename or remove the copies")
            cols.extend(hits[:1])
        if not cols and fld in required:
            problems.append(f"{table.name}: row 1: the mapping file names the column "
                            f"`{' / '.join(required[fld])}` for `{fld}`, but the file has no such column; "
                            f"its columns are {', '.join(f'`{h}`' for h in table.headers if h)}")
        if cols:
            out[fld] = list(dict.fromkeys(cols))
    return out, problems


def map_rows(table: Table, fmt: Format, resolver: Resolver, *, today: dt.date, source: str = "",
             owner: str = "", date_format: str = "", phone_region: str = "",
             mapped_columns: dict[str, tuple[str, ...]] | None = None) -> Mapped:
    """Every row of ``table`` as an :class:`Incoming` lead, or :class:`ImportFailed` listing every problem."""
    settings: Settings = resolver.settings
    region = phone_region or settings.phone_region
    cols, problems = _columns(table, fmt, dict(mapped_columns or {}))
    people = ("name", "first_name", "last_name", "contact", "company", "email", "phone")
    if not any(f in cols for f in people):
        sample = ", ".join(f"`{h}`" for h in table.headers[:6] if h)
        known = sorted({c for f in people for c in fmt.columns.get(f, ())})
        problems.insert(0, f"{table.name}: row 1 is not a header {fmt.label} uses: none of its cells ({sample}) "
                           f"names a person or a company; the first row must name the columns, e.g. "
                           f"{', '.join(f'`{c}`' for c in known[:8])}"
                           + ("" if fmt.key == "csv" else " (or use FROM=csv with a MAP= mapping file)"))
        raise ImportFailed(problems, "no header")
    if problems:
        raise ImportFailed(_cap(problems), "columns")

    def cells(row_cells: tuple[str, ...], fld: str) -> list[str]:
        return [row_cells[i].strip() for i in cols.get(fld, ()) if row_cells[i].strip()]

    def first(row_cells, fld) -> str:
        found = cells(row_cells, fld)
        return found[0] if found else ""

    def column_of(row_cells, fld) -> str:
        """The header of the column ``first`` took the value from."""
        return next((table.headers[i] for i in cols.get(fld, ()) if row_cells[i].strip()), fld)

    def latest(row_cells, given, wanted: tuple[str, ...]) -> tuple[dt.date, str]:
        """The latest of the row's ``given`` dates (else the import day), and how to say where it came from."""
        dated = [(d, fld) for fld, d in given if d is not None]
        present = list(dict.fromkeys(table.headers[i] for f in wanted for i in cols.get(f, ())))
        if present:
            named = " and ".join(f"`{h}`" for h in present)
            missing = f"{named} {'is' if len(present) == 1 else 'are'} empty in this row"
        else:
            missing = f"the file has no {_column_names(fmt, wanted)} column"
        if not dated:
            return today, f"set to the import day {today}: the row gives no date at all ({missing})"
        day, fld = max(dated, key=lambda t: t[0])
        return day, f"taken from `{column_of(row_cells, fld)}` {day}: {missing}"

    date_fields = ("created", "updated", "stage_date", "lost_date", "won_date")
    dates = DateReader((row[2][i] for row in table.rows for f in date_fields for i in cols.get(f, ())
                        if row[2][i].strip()),
                       date_format=date_format, month_first=resolver.month_first(),
                       zone=settings.timezone, today=today)
    funnel = settings.funnel
    entry, won_stage = funnel[0], funnel[-1]
    default_source = source or fmt.source
    unmapped_stages, unmapped_reasons, unmapped_temps = _Unmapped(), _Unmapped(), _Unmapped()
    unknown_owners: dict[str, list[int]] = defaultdict(list)
    incoming: list[Incoming] = []
    skipped: list[tuple[int, str]] = []
    row_problems: list[str] = []

    for row, line, rc in table.rows:
        where = f"{table.name}: row {row}" + (f" (line {line})" if line != row else "")
        notes: list[str] = []
        warnings: list[str] = []
        lead: dict[str, Any] = {}

        def date_of(fld: str) -> dt.date | None:
            text = first(rc, fld)
            if not text:
                return None
            try:
                return dates.read(text)
            except ValueError as exc:
                row_problems.append(f"{where}: `{fld}` {exc}")
                return None

        # Who.
        contact_name = contact_email = ""
        contacts = [c.strip() for c in re.split(r";", first(rc, "contact")) if c.strip()]
        if contacts:
            m = _CONTACT.match(contacts[0])
            if m:
                contact_name, contact_email = m.group("name").strip(), m.group("email").strip()
            elif "@" in contacts[0]:
                contact_email = contacts[0]
            else:
                contact_name = contacts[0]
            if len(contacts) > 1:
                notes.append("Other contacts: " + "; ".join(contacts[1:]))
        name = first(rc, "name") or " ".join(p for p in (first(rc, "first_name"), first(rc, "last_name")) if p) \
            or contact_name
        company = first(rc, "company")
        if name:
            lead["name"] = " ".join(name.split())
        if company:
            lead["company"] = " ".join(company.split())
        if first(rc, "title"):
            lead["title"] = " ".join(first(rc, "title").split())

        emails: list[str] = []
        bad_emails: list[str] = []
        for cell in cells(rc, "email") + ([contact_email] if contact_email else []):
            for part in re.split(r"[;,\s]+(?![^<]*>)", cell):
                if not part.strip():
                    continue
                addr = clean_email(part)
                if valid_email(addr):
                    if addr.lower() not in (e.lower() for e in emails):
                        emails.append(addr)
                else:
                    bad_emails.append(part.strip())
        if emails:
            lead["email"] = emails[0]
            if len(emails) > 1:
                notes.append("Other emails: " + ", ".join(emails[1:]))
        for bad in bad_emails:
            warnings.append(f"`{bad}` is not an email address (kept in notes)")
            notes.append(f"Email in the CRM, not valid: {bad}")

        phone164 = ""
        phones: list[tuple[str, str]] = []
        for cell in cells(rc, "phone"):
            got = format_phone(cell, region)
            if got is None:
                warnings.append(f"`{cell}` is not a valid phone number (kept in notes)")
                notes.append(f"Phone in the CRM, not valid: {cell}")
            elif got[1] not in (p[1] for p in phones):
                phones.append(got)
        if phones:
            lead["phone"], phone164 = phones[0]
            if len(phones) > 1:
                notes.append("Other phones: " + ", ".join(p[0] for p in phones[1:]))

        defaults: set[str] = set()           # keys filled with a default, not the row's data
        src = first(rc, "source")
        if not src and default_source:
            src = default_source
            defaults.add("source")
        if src:
            lead["source"] = " ".join(src.split())
        crm_owner = first(rc, "owner")
        if crm_owner:
            key = resolver.owner(crm_owner)
            if key:
                lead["owner"] = key
            else:
                unknown_owners[crm_owner].append(row)
        if "owner" not in lead and owner:
            lead["owner"] = owner
            defaults.add("owner")
        value_text = first(rc, "value")
        if value_text:
            value = parse_amount(value_text)
            if value is None or value < 0:
                warnings.append(f"the value `{value_text}` is not an amount (left out)")
            else:
                lead["value"] = value
        if first(rc, "interest"):
            lead["interest"] = " ".join(first(rc, "interest").split())

        opt_out = first(rc, "email_opt_out").lower()
        if opt_out in _TRUE:
            lead["consent"] = {"email": False}
        elif opt_out not in _FALSE:
            warnings.append(f"`{first(rc, 'email_opt_out')}` is not true or false (email opt-out left out)")

        # Where in the funnel.
        words = [w for w in (first(rc, "status"), first(rc, "stage")) if w]
        targets = []
        for w in words:
            target = resolver.stage(w)
            if target is None:
                unmapped_stages.add(w, row)
            else:
                targets.append((w, target))
        if "skip" in [t for _, t in targets]:
            word = next(w for w, t in targets if t == "skip")
            skipped.append((row, f"`{word}` maps to skip"))
            continue
        outcome = "won" if any(t == won_stage or t == "won" for _, t in targets) else \
            "lost" if any(t == "lost" for _, t in targets) else "open"
        stage = entry
        for _, t in targets:
            if t in funnel and t != won_stage and funnel.index(t) > funnel.index(stage):
                stage = t
        lost_word = next((w for w, t in targets if t == "lost"), "")

        created = date_of("created")
        updated = date_of("updated")
        stage_date = date_of("stage_date")
        reached: dict[str, dt.date] = {}
        estimates: list[Estimate] = []
        if outcome == "won":
            won_on = date_of("won_date") or updated or stage_date
            if won_on is None:
                won_on, why = latest(rc, (("created", created),), ("won_date", "updated"))
                estimates.append(Estimate("reached", f"reached.{won_stage}", why, "if you know the real date"))
            reached[entry] = min(created or won_on, won_on)
            reached[won_stage] = won_on
        elif outcome == "lost":
            lost_on = date_of("lost_date") or updated
            if lost_on is None:
                # Salesforce's default lead export, for one, has no loss date nor last activity: the
                # latest date the row gives is the best there is, and the report says so row by row.
                lost_on, why = latest(rc, (("stage_date", stage_date), ("created", created)),
                                      ("lost_date", "updated"))
                estimates.append(Estimate("lost", "lost.date", why, "if you know the real date"))
            at = min(stage_date or created or lost_on, lost_on)
            reached[entry] = min(created or at, at)
            if stage != entry:
                reached[stage] = at
            reason_text = first(rc, "lost_reason")
            reason = resolver.reason(reason_text) if reason_text else None
            if reason is None and not reason_text and lost_word:
                reason = resolver.reason(lost_word)        # a status that says why, e.g. "Bad Timing"
            by_default = False
            if reason is None and resolver.rules.default_reason:
                reason, by_default = resolver.rules.default_reason, True
            if reason is None:
                unmapped_reasons.add(reason_text or lost_word, row)
                continue
            temp_text = first(rc, "temperature")
            temperature = resolver.temperature(temp_text) if temp_text else resolver.temperature_at(stage)
            if temperature is None:
                unmapped_temps.add(temp_text, row)
                continue
            loss: dict[str, Any] = {"date": lost_on}
            if stage != entry:
                loss["stage"] = stage
            loss["reason"] = reason
            loss["temperature"] = temperature
            note_parts = [first(rc, "lost_note")]
            if reason_text and by_default:
                note_parts.insert(0, reason_text)          # the CRM's words, which no mapping placed
            note_parts = [p for p in note_parts if p]
            if note_parts:
                loss["note"] = " — ".join(" ".join(p.split()) for p in note_parts)
            lead["reached"] = reached
            lead["lost"] = loss
        else:
            at = stage_date or created or updated
            if at is None:
                at = today
                defaults.add("reached")         # no date at all: the import day, for a new lead only
            reached[entry] = min(created or at, at)
            if stage != entry:
                reached[stage] = at
        if "reached" not in lead:
            lead["reached"] = reached

        deal = first(rc, "deal")
        crm_notes = first(rc, "notes")
        text = "\n".join(p for p in ([crm_notes] if crm_notes else []) + ([f"Deal: {deal}"] if deal else [])
                         + notes)
        if text:
            lead["notes"] = text + ("\n" if "\n" in text else "")
        if not any(k in lead for k in ("name", "company", "email", "phone")):
            skipped.append((row, "no name, company, email or phone"))
            continue
        incoming.append(Incoming(row=row, lead=lead, phone164=phone164, new_only=frozenset(defaults),
                                 warnings=tuple(f"row {row}: {w}" for w in warnings),
                                 estimates=tuple(estimates)))

    if unmapped_stages.rows:
        hint = ", ".join(funnel) + ", or open / lost / won / skip"
        builtin = [f"`{unmapped_stages.shown[k]}` would be `{resolver.builtin_misses[k]}`"
                   for k in unmapped_stages.rows if k in resolver.builtin_misses]
        row_problems.insert(0, f"{table.name}: stages or statuses with no funnel stage: {unmapped_stages.listing()}; "
                               f"map each under `import: stages:` in content/settings.yaml (or `stages:` in the "
                               f"MAP= file) to one of {hint}"
                               + (f" (built in, {'; '.join(builtin)}, which is not in your funnel)" if builtin else ""))
    if unmapped_reasons.rows:
        row_problems.insert(0, f"{table.name}: lost reasons with no key of lost_reasons: {unmapped_reasons.listing()}; "
                               f"map each under `import: reasons:` in content/settings.yaml (or the MAP= file) to one "
                               f"of {', '.join(settings.lost_reasons)}, or set `import: default_reason:`")
    if unmapped_temps.rows:
        row_problems.insert(0, f"{table.name}: ratings that are not hot, warm or cold: {unmapped_temps.listing()}; "
                               "map each under `import: temperatures:` (settings or the MAP= file)")
    if row_problems:
        raise ImportFailed(_cap(row_problems), "rows")
    file_notes = list(table.notes)
    if dates.note:
        file_notes.append(dates.note)
    for who, rows in unknown_owners.items():
        file_notes.append(f"owner `{who}` is not in the team ({len(rows)} row{'s' * (len(rows) != 1)}, left "
                          f"{'with --owner' if owner else 'without an owner'}); map it under `import: owners:`")
    used = tuple((f, table.headers[i[0]]) for f, i in cols.items())
    return Mapped(tuple(incoming), tuple(skipped), tuple(file_notes), used)


def _column_names(fmt: Format, fields: tuple[str, ...]) -> str:
    """The format's columns for ``fields``, as a person would look for them (report labels, not API names)."""
    names: list[str] = []
    for f in fields:
        cols = fmt.columns.get(f, ())
        if fmt.key == "csv":
            cols = cols[:1]
        names.extend([c for c in cols if " " in c] or cols)
    return " or ".join(f"`{c}`" for c in dict.fromkeys(names)) or "date"
