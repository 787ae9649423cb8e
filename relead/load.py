"""Reading a relead repository from disk into the model, with every problem located.

This is the one place the core reads files. ``load`` never raises for bad
input: it returns the problems, each with its file and line.
"""

from __future__ import annotations

import datetime as dt
import gc
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from zoneinfo import ZoneInfo

from .check_content import campaign_from, message_from, page_from, split_front_matter
from .check_leads import leads_from
from .check_settings import settings_from
from .gcpause import collector_paused
from .history import read_history
from .leadlines import LeadLines
from .model import Model
from .problems import Problem, Problems
from .yamlparse import YamlSyntaxError, locate, parse_checked

__all__ = ["Loaded", "load", "today_in", "is_copy_fault", "SETTINGS_FILE", "LEADS_FILE", "MESSAGES_DIR"]

SETTINGS_FILE = "content/settings.yaml"
LEADS_FILE = "leads.yaml"
MESSAGES_DIR = "content/messages/"


def is_copy_fault(problem: Problem) -> bool:
    """A problem of one message's copy: it stops only the touches that send that message."""
    return problem.file.startswith(MESSAGES_DIR)


@dataclass(frozen=True)
class Loaded:
    """What :func:`load` found: the model when there are no errors, and every problem."""

    model: Model | None
    problems: tuple[Problem, ...]
    today: dt.date
    texts: dict = field(default_factory=dict, repr=False, compare=False)
    lead_counts: dict = field(default_factory=dict, repr=False, compare=False)

    def located(self, extra: Problems | None = None) -> tuple[Problem, ...]:
        """Every problem (and ``extra``'s), with its line, sorted by file and line."""
        items = list(self.problems) + (list(extra.items) if extra else [])
        return _located(items, self.texts, self.lead_counts)


def today_in(timezone: str | None) -> dt.date:
    """Today in the team's time zone (the default for every --today)."""
    try:
        return dt.datetime.now(ZoneInfo(timezone)).date() if timezone else dt.date.today()
    except Exception:  # an invalid zone is reported by validation; the date still has to be something
        return dt.date.today()


@dataclass
class _Sources:
    """Texts read so far, kept only to locate problems in them afterwards."""

    root: Path
    texts: dict[str, tuple[str, int]] = field(default_factory=dict)   # file -> (yaml text, line offset)
    lead_counts: dict[str, int] = field(default_factory=dict)         # leads file -> leads in it

    def rel(self, path: Path) -> str:
        return path.relative_to(self.root).as_posix()

    def read(self, path: Path, problems: Problems) -> str | None:
        file = self.rel(path)
        try:
            return path.read_text(encoding="utf-8")
        except UnicodeDecodeError as exc:
            problems.error(file, (), f"the file is not UTF-8 text (byte {exc.start})",
                           "save it as UTF-8", line=1)
        except OSError as exc:
            problems.error(file, (), f"cannot read the file ({exc.strerror})",
                           "check it exists and is readable", line=1)
        return None

    def markdown(self, path: Path, problems: Problems, make):
        """Read a Markdown file with front matter; ``make(file, text, front matter data)`` or None."""
        file = self.rel(path)
        text = self.read(path, problems)
        if text is None:
            return None
        front, _body, _ = split_front_matter(text)
        ok, data = self.parse(file, front, problems, offset=1) if front else (True, None)
        return make(file, text, data) if ok else None

    def parse(self, file: str, text: str, problems: Problems, *, offset: int = 0):
        """Parse YAML; (ok, value). Syntax errors and duplicate keys become problems."""
        self.texts[file] = (text, offset)
        try:
            value, dups = parse_checked(text)
        except YamlSyntaxError as exc:
            problems.error(file, (), exc.message, "fix the indentation, quotes or brackets on that line",
                           line=exc.line + offset)
            return False, None
        for path, first, again in dups:
            problems.error(file, path, f"`{path[-1]}` appears twice (also on line {first + offset})",
                           "keep one of them", _lead_at(value, path), line=again + offset)
        return True, value


def _lead_at(value, path) -> str | None:
    """The id of the lead a path in a leads file is in, if it has one."""
    if len(path) < 2 or path[0] != "leads" or not isinstance(path[1], int) or not isinstance(value, dict):
        return None
    items = value.get("leads")
    item = items[path[1]] if isinstance(items, list) and path[1] < len(items) else None
    lead_id = item.get("id") if isinstance(item, dict) else None
    return lead_id if isinstance(lead_id, str) and lead_id else None


def load(root: Path | str, *, today: dt.date | None = None, lenient_copy: bool = False) -> Loaded:
    """Load and validate everything under ``root``; never raises for bad input. With
    ``lenient_copy``, errors in message copy (:func:`is_copy_fault`) still give a model: a
    send fails only the touches of a broken message."""
    # Loading makes millions of small objects and frees almost none, so the cyclic
    # collector would scan them again and again (seconds at 100,000 leads). It is
    # paused meanwhile (relead.gcpause); afterwards what was loaded is moved out of its sight
    # (gc.freeze): the model is immutable and lives as long as the command.
    try:
        with collector_paused():
            return _load(Path(root), today, lenient_copy)
    finally:
        gc.freeze()


def _load(root: Path, today: dt.date | None, lenient_copy: bool) -> Loaded:
    problems = Problems()
    src = _Sources(root)

    settings = None
    settings_path = root / SETTINGS_FILE
    if not settings_path.is_file():
        problems.error(SETTINGS_FILE, (), "there is no settings file",
                       "create content/settings.yaml (see docs/formats.md)")
    else:
        text = src.read(settings_path, problems)
        if text is not None:
            ok, raw = src.parse(SETTINGS_FILE, text, problems)
            if ok:
                settings = settings_from(raw, SETTINGS_FILE, problems)
    if today is None:
        today = today_in(settings.timezone if settings else None)

    messages = {}
    for path in sorted((root / "content" / "messages").rglob("*.md")):
        key = path.relative_to(root / "content" / "messages").with_suffix("").as_posix()
        msg = src.markdown(path, problems, lambda file, text, data: message_from(key, file, text, problems, data))
        if msg is not None:
            messages[key] = msg

    pages = []
    for path in sorted((root / "content" / "pages").glob("*.md")):
        page = src.markdown(path, problems, lambda file, text, data: page_from(path.stem, file, text, problems, data))
        if page is not None:
            pages.append(page)
    pages.sort(key=lambda p: (p.order, p.slug))

    campaign_paths = sorted((root / "content" / "campaigns").glob("*.yaml"))
    campaign_ids = {p.stem for p in campaign_paths}
    campaigns = {}
    for path in campaign_paths:
        file = src.rel(path)
        text = src.read(path, problems)
        if text is None:
            continue
        ok, raw = src.parse(file, text, problems)
        if ok:
            camp = campaign_from(path.stem, file, raw, problems, settings=settings,
                                 campaign_ids=campaign_ids, messages=messages)
            if camp is not None:
                campaigns[camp.id] = camp

    lead_paths = [root / LEADS_FILE] if (root / LEADS_FILE).is_file() else []
    lead_paths += sorted((root / "leads").glob("*.yaml"))
    if not lead_paths:
        problems.error(LEADS_FILE, (), "there is no leads file",
                       "create leads.yaml starting with `leads:` (see docs/formats.md)")
    leads = []
    seen: dict[str, tuple[str, int]] = {}
    for path in lead_paths:
        file = src.rel(path)
        text = src.read(path, problems)
        if text is None:
            continue
        ok, raw = src.parse(file, text, problems)
        del text
        if ok and isinstance(raw, dict) and isinstance(raw.get("leads"), list):
            src.lead_counts[file] = len(raw["leads"])
        if ok:
            leads.extend(leads_from(raw, file, problems, settings=settings, campaign_ids=campaign_ids,
                                    today=today, seen=seen))
        del raw

    history = read_history(root / "history", problems, rel_to=root)

    model = None
    blocking = [p for p in problems.errors if not (lenient_copy and is_copy_fault(p))]
    if not blocking and settings is not None:
        model = Model(settings=settings, leads=tuple(leads), campaigns=MappingProxyType(campaigns),
                      messages=MappingProxyType(messages), pages=tuple(pages), history=history,
                      by_id=MappingProxyType({lead.id: lead for lead in leads}))
    return Loaded(model, tuple(problems.items), today, src.texts, src.lead_counts)


def _located(items: list[Problem], texts: dict[str, tuple[str, int]],
             lead_counts: dict[str, int]) -> tuple[Problem, ...]:
    pending: dict[str, list[int]] = {}
    for i, p in enumerate(items):
        if p.line is None and p.file in texts:
            pending.setdefault(p.file, []).append(i)
    for file, indexes in pending.items():
        text, offset = texts[file]
        scan = LeadLines.scan(text, lead_counts[file]) if file in lead_counts else None
        if scan is not None:
            for i in indexes:
                line = scan.line(items[i].path)
                if line is not None:
                    items[i] = items[i].located(line + offset)
            indexes = [i for i in indexes if items[i].line is None]
            if not indexes:
                continue
        lines = locate(text, [items[i].path for i in indexes])
        for i in indexes:
            items[i] = items[i].located(lines[items[i].path] + offset)
    return tuple(sorted(items, key=lambda p: (p.file, p.line or 0, p.severity, p.message)))
