"""history/: the append-only log of enrolments, touches and responses.

Format (version 1), chosen to load a million records in about a second and to
merge without conflicts:

* one file per day per writer: ``history/YYYY/MM/YYYY-MM-DD.<writer>.tsv``
  (``outreach`` for the daily run, ``sync`` for what ``make sync`` brings back,
  ``record-<who>`` for responses people record),
  so the daily outreach commit and a pull request that records a response never
  touch the same file; ``.gitattributes`` sets ``merge=union`` on them as well;
* UTF-8 text, one record a line, tab-separated, never rewritten, only appended;
* the first line is a header, ``#relead-history v1`` then the column names;
  lines starting with ``#`` are comments;
* columns: ``at`` (ISO 8601 UTC), ``event``, ``lead``, ``campaign``,
  ``enrolment`` (the day the lead entered that campaign), ``step`` (0-based),
  ``channel``, ``variant``, ``touch`` (the touch id), ``ref`` (provider id,
  error code or skip reason) and ``note``; empty where they do not apply. In
  ``ref`` and ``note`` a backslash, tab, CR and LF are written ``\\\\``, ``\\t``, ``\\r``, ``\\n``.

Every record also carries ``day``, taken from its file name: the day (in the
team's time zone) of the run that wrote it.
"""

from __future__ import annotations

import hashlib
import os
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Iterable, Mapping, NamedTuple

from .problems import Problems
from .read.safepath import OUTSIDE_FIX, not_utf8, outside

__all__ = [
    "COLUMNS", "HEADER", "Record", "History", "HistoryWriter", "read_history", "history_lead_ids", "touch_id",
    "TOUCH_EVENTS", "RESPONSE_EVENTS", "SYNC_EVENTS", "SYNC_RECORDED", "EVENTS", "escape", "unescape", "history_file",
    "last_touch_events",
]

COLUMNS = ("at", "event", "lead", "campaign", "enrolment", "step", "channel", "variant",
           "touch", "ref", "note")
HEADER = "#relead-history v1\t" + "\t".join(COLUMNS) + "\n"

ENROL_EVENTS = ("enrolled",)
# A touch's life: attempting -> sent | failed | deferred; skipped never attempted;
# settled_* is a person's word on a touch that was attempting when a run died.
TOUCH_EVENTS = ("attempting", "sent", "failed", "deferred", "skipped", "settled_sent",
                "settled_not_sent")
RESPONSE_EVENTS = (
    "replied", "interested", "not_interested", "unsubscribed", "opted_out", "do_not_contact",
    "bounced", "wrong_number", "out_of_scope", "appointment", "proposal", "won",
    "called", "no_answer", "voicemail",
)
# What only `make sync` writes (replies, bounces and opt-outs it writes as the responses above):
# an automatic reply (note `until YYYY-MM-DD`: no touch before that day), a soft bounce, a
# bounce that is a block against us (the lead is not blamed), a spam complaint, an SMS START
# (lifts an SMS opt-out) and an SMS HELP.
SYNC_EVENTS = ("auto_reply", "soft_bounce", "policy_block", "complained", "opted_in", "sms_help")
EVENTS = frozenset(ENROL_EVENTS + TOUCH_EVENTS + RESPONSE_EVENTS + SYNC_EVENTS)
# Every event `make sync` records, each with the inbound Message-ID or SMS sid as its ref.
SYNC_RECORDED = frozenset(SYNC_EVENTS + ("replied", "bounced", "opted_out"))

_FILE_RE = re.compile(r"^(\d{4}-\d{2}-\d{2})\.([a-z0-9][a-z0-9_.-]*)\.tsv$")


class Record(NamedTuple):
    day: str
    at: str
    event: str
    lead: str
    campaign: str = ""
    enrolment: str = ""
    step: str = ""
    channel: str = ""
    variant: str = ""
    touch: str = ""
    ref: str = ""
    note: str = ""

    @property
    def step_index(self) -> int | None:
        return int(self.step) if self.step else None

    def line(self) -> str:
        fields = list(self[1:])
        # ref (a provider's error text) and note are free text; the rest are ids.
        fields[-2] = escape(fields[-2])
        fields[-1] = escape(fields[-1])
        return "\t".join(fields) + "\n"


_ESC = {"\\": "\\\\", "\t": "\\t", "\r": "\\r", "\n": "\\n"}
_UNESC = {v: k for k, v in _ESC.items()}


_NEEDS_ESCAPE = re.compile(r"[\\\t\r\n]").search


def escape(text: str) -> str:
    if not _NEEDS_ESCAPE(text):
        return text
    return "".join(_ESC.get(c, c) for c in text)


def unescape(text: str) -> str:
    if "\\" not in text:
        return text
    return re.sub(r"\\[\\trn]", lambda m: _UNESC[m.group(0)], text)


def touch_id(lead: str, campaign: str, enrolment: str, step: int) -> str:
    """The one id a touch has, whichever run plans it: never sent twice under it."""
    raw = f"{lead}\x1f{campaign}\x1f{enrolment}\x1f{step}".encode()
    return hashlib.blake2b(raw, digest_size=10).hexdigest()


@dataclass(frozen=True, slots=True)
class History:
    """Every record, in file order (day, then writer), and an index by lead."""

    records: tuple[Record, ...] = ()
    by_lead: Mapping[str, tuple[Record, ...]] = field(
        default_factory=lambda: MappingProxyType({}))
    # Where each lead's first record is: (file, line), so a message about it names a file.
    first_seen: Mapping[str, tuple[str, int]] = field(
        default_factory=lambda: MappingProxyType({}))

    def for_lead(self, lead_id: str) -> tuple[Record, ...]:
        return self.by_lead.get(lead_id, ())


def last_touch_events(records: Iterable[Record]) -> dict[str, Record]:
    """Each touch's latest record: what the touch is now.

    ``attempting`` last means unknown (it may or may not have gone out: never sent
    again automatically); ``deferred`` last means it is due again; anything else
    is final.
    """
    last: dict[str, Record] = {}
    touch_events = _TOUCH_EVENTS
    for rec in records:
        if rec.touch and rec.event in touch_events:
            last[rec.touch] = rec
    return last


_TOUCH_EVENTS = frozenset(TOUCH_EVENTS)


def history_file(root: Path, day: str, writer: str) -> Path:
    return Path(root) / day[:4] / day[5:7] / f"{day}.{writer}.tsv"


def read_history(root: Path, problems: Problems, *, rel_to: Path | None = None) -> History:
    """Read every history file under ``root``; bad lines become problems, not exceptions."""
    root = Path(root)
    if not root.is_dir():
        return History()
    files = []
    for path in root.rglob("*.tsv"):
        m = _FILE_RE.match(path.name)
        shown = path.relative_to(rel_to).as_posix() if rel_to else str(path)
        if not m:
            problems.error(shown, (), "a history file name must be YYYY-MM-DD.<writer>.tsv",
                           "rename it, or move it out of history/", line=1)
            continue
        writer, _, n = m.group(2).partition(".")
        files.append((m.group(1), writer, int(n) if n.isdigit() else 1, path, shown))
    files.sort()
    away = outside(root, rel_to) if rel_to is not None and files else None
    if away is not None:        # history/ itself links out: said once, not for each of its files
        problems.error(files[0][4], (), f"history/ is a symlink to {away}, outside the repository",
                       OUTSIDE_FIX, line=1)
        return History()
    intern = sys.intern
    new = tuple.__new__
    records: list[Record] = []
    by_lead: dict[str, list[Record]] = {}
    first_seen: dict[str, tuple[str, int]] = {}
    width = len(COLUMNS)
    events = EVENTS
    for day, _writer, _n, path, shown in files:
        day = intern(day)
        target = outside(path, rel_to) if rel_to is not None else None
        if target is not None:
            problems.error(shown, (), f"this file is a symlink to {target}, outside the repository",
                           OUTSIDE_FIX, line=1)
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError as exc:
            line, column, byte = not_utf8(path, exc)
            problems.error(shown, (), f"the file is not UTF-8 text (byte 0x{byte:02X} at column {column})",
                           "history files are written by relead: restore this one from git", line=line)
            continue
        except OSError as exc:
            problems.error(shown, (), f"cannot read this history file ({exc.strerror or exc})",
                           "restore it from git", line=1)
            continue
        lines = text.split("\n")
        if lines[-1]:
            # No newline at the end: a run died mid-write. That record's fsync never
            # returned, so nothing acted on it; it is ignored, and the file is never
            # appended to again (HistoryWriter moves on to a new file).
            problems.warning(shown, (), "the last record is incomplete (a run was interrupted "
                             "while writing it) and is ignored", "nothing to do", line=len(lines))
        lines[-1] = ""
        for lineno, line in enumerate(lines, 1):
            if not line or line[0] == "#":
                continue
            parts = line.split("\t")
            if len(parts) != width or parts[1] not in events:
                what = (f"expected {width} tab-separated columns, found {len(parts)}"
                        if len(parts) != width else f"unknown event {parts[1]!r}")
                problems.error(shown, (), f"malformed history record: {what}",
                               "history files are written by relead; restore the line from git",
                               line=lineno)
                continue
            # tuple.__new__ skips NamedTuple's Python-level constructor; the columns that
            # repeat are interned (memory), the nearly unique ones (at, touch) are not.
            rec = new(Record, (day, parts[0], intern(parts[1]), intern(parts[2]), intern(parts[3]),
                               intern(parts[4]), intern(parts[5]), intern(parts[6]), intern(parts[7]),
                               parts[8], unescape(parts[9]), unescape(parts[10])))
            records.append(rec)
            lst = by_lead.get(rec.lead)
            if lst is None:
                by_lead[rec.lead] = [rec]
                first_seen[rec.lead] = (shown, lineno)
            else:
                lst.append(rec)
    return History(tuple(records),
                   MappingProxyType({k: tuple(v) for k, v in by_lead.items()}),
                   MappingProxyType(first_seen))


def history_lead_ids(root: Path, *, rel_to: Path) -> frozenset[str]:
    """Every lead id the history files under ``root`` name, from their lead column alone: the
    ids a new lead may not take (an import's, :mod:`relead.intake`). A line or file that
    :func:`read_history` would refuse gives what it can; saying so is ``make check``'s job."""
    root = Path(root)
    if not root.is_dir() or outside(root, rel_to) is not None:
        return frozenset()
    ids: set[str] = set()
    for path in root.rglob("*.tsv"):
        if not _FILE_RE.match(path.name) or outside(path, rel_to) is not None:
            continue
        try:
            text = path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        for line in text.split("\n"):
            parts = line.split("\t", 3)        # at, event, lead, the rest
            if len(parts) == 4 and line[0] != "#" and parts[2]:
                ids.add(parts[2])
    return frozenset(ids)


class HistoryWriter:
    """Appends records to one day's file of one writer; each ``append`` call is durable.

    ``append`` writes all the records it is given and fsyncs once, so a caller
    that must know a record is on disk before acting (outreach's ``attempting``)
    can batch many touches into one fsync.
    """

    def __init__(self, root: Path, day: str, writer: str):
        if not re.fullmatch(r"[a-z0-9][a-z0-9_-]*", writer):
            raise ValueError(f"writer name {writer!r} must match [a-z0-9][a-z0-9_-]*")
        self.path = history_file(root, day, writer)
        # A file whose last record was torn by a crash is left as it is (the reader
        # ignores that record): later records go to writer.2, writer.3, ...
        n = 1
        while _torn(self.path):
            n += 1
            self.path = history_file(root, day, f"{writer}.{n}")
        self.day = day
        self._fh = None

    def _open(self):
        if self._fh is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            new = not self.path.exists()
            self._fh = open(self.path, "a", encoding="utf-8", newline="\n")
            if new:
                self._fh.write(HEADER)
                self._fh.flush()
                os.fsync(self._fh.fileno())
                _fsync_dir(self.path.parent)
        return self._fh

    def append(self, records: Iterable[Record]) -> None:
        fh = self._open()
        data = "".join(r.line() for r in records)
        if not data:
            return
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None

    def __enter__(self) -> "HistoryWriter":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _torn(path: Path) -> bool:
    try:
        with open(path, "rb") as fh:
            fh.seek(0, os.SEEK_END)
            if fh.tell() == 0:
                return False
            fh.seek(-1, os.SEEK_END)
            return fh.read(1) != b"\n"
    except FileNotFoundError:
        return False


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:  # pragma: no cover - not every platform opens directories
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
