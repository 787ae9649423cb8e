"""Reading a relead repository from disk into the model, with every problem located.

This is the one place the core reads files. ``load`` never raises for bad
input: it returns the problems, each with its file and line.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from types import MappingProxyType
from typing import Callable

from ..clock import default_now, default_today, real_today
from ..gcpause import collector_paused
from ..history import History, history_lead_ids, read_history
from ..jobs import MIN_LEADS_BYTES, Mapped, jobs_for
from ..model import Model, Settings
from ..problems import Problem, Problems
from .content import campaign_from, message_from, page_from, split_front_matter
from .leadlines import LayoutError, LeadLines, check_rest, split_leads
from .leads import check_not_emptied, duplicate_id, leads_from
from .safepath import OUTSIDE_FIX, not_utf8, outside
from .settings import settings_from
from .yamlparse import YamlSyntaxError, locate, parse_checked

__all__ = ["Loaded", "load", "today_in", "is_copy_fault", "SETTINGS_FILE", "LEADS_FILE", "MESSAGES_DIR"]

SETTINGS_FILE = "content/settings.yaml"
LEADS_FILE = "leads.yaml"
MESSAGES_DIR = "content/messages/"


def is_copy_fault(problem: Problem) -> bool:
    """A problem of one message's copy: it stops only the touches that send that message. A file
    that leads out of the repository is not copy with a mistake: it stops everything."""
    return problem.file.startswith(MESSAGES_DIR) and problem.fix != OUTSIDE_FIX


@dataclass(frozen=True)
class Loaded:
    """What :func:`load` found: the model when there are no errors, and every problem."""

    model: Model | None
    problems: tuple[Problem, ...]
    today: dt.date
    texts: dict = field(default_factory=dict, repr=False, compare=False)
    lead_counts: dict = field(default_factory=dict, repr=False, compare=False)
    as_of: dt.datetime | None = None    # the settings' as_of, when it gave ``today`` (relead.clock)
    lead_lines: dict = field(default_factory=dict, repr=False, compare=False)

    def located(self, extra: Problems | None = None) -> tuple[Problem, ...]:
        """Every problem (and ``extra``'s), with its line, sorted by file and line."""
        items = list(self.problems) + (list(extra.items) if extra else [])
        return _located(items, self.texts, self.lead_counts, self.lead_lines)


def today_in(timezone: str | None) -> dt.date:
    """Today on the real clock in the team's time zone (what the scheduled workflows send on; a
    command not given --today uses :func:`relead.clock.default_today`: the settings' ``as_of``
    first)."""
    return real_today(timezone)


@dataclass
class _Sources:
    """Texts read so far, kept only to locate problems in them afterwards."""

    root: Path
    texts: dict[str, tuple[str, int]] = field(default_factory=dict)   # file -> (yaml text, line offset)
    lead_counts: dict[str, int] = field(default_factory=dict)         # leads file -> leads in it
    lead_lines: dict[str, LeadLines] = field(default_factory=dict)    # leads file -> its leads' lines, when cut

    def rel(self, path: Path) -> str:
        return path.relative_to(self.root).as_posix()

    def read(self, path: Path, problems: Problems) -> str | None:
        file = self.rel(path)
        target = outside(path, self.root)
        if target is not None:
            problems.error(file, (), f"this file is a symlink to {target}, outside the repository",
                           OUTSIDE_FIX, line=1)
            return None
        try:
            return path.read_text(encoding="utf-8")
        except UnicodeDecodeError as exc:
            line, column, byte = not_utf8(path, exc)
            problems.error(file, (), f"the file is not UTF-8 text (byte 0x{byte:02X} at column {column})",
                           "save it as UTF-8 (an editor or a spreadsheet saved it in another encoding, "
                           "such as Windows-1252)", line=line)
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


def load(root: Path | str, *, today: dt.date | None = None, lenient_copy: bool = False,
         jobs: int | None = None, meanwhile: Callable[[Settings, dt.date], None] | None = None,
         history: bool = True) -> Loaded:
    """Load and validate everything under ``root``; never raises for bad input. With
    ``lenient_copy``, errors in message copy (:func:`is_copy_fault`) still give a model: a
    send fails only the touches of a broken message. ``jobs``: processes for the leads
    (:func:`relead.jobs.jobs_for`; the result is the same with any number). ``meanwhile``
    (settings, today): the caller's work that needs only the settings, done while workers
    validate the leads (an import maps its rows), when the settings are valid. Without
    ``history``, history/ is not read: the model's is empty (an edit of the leads files
    needs only its lead ids, :func:`relead.history.history_lead_ids`)."""
    # Loading makes millions of small objects and frees almost none, so the cyclic
    # collector would scan them again and again (seconds at 100,000 leads). It is
    # paused meanwhile (relead.gcpause), and what was loaded is moved out of its sight
    # before it wakes: the model is immutable and lives as long as the command.
    with collector_paused(keep=True):
        return _load(Path(root), today, lenient_copy, jobs, meanwhile, history)


def _load(root: Path, today: dt.date | None, lenient_copy: bool, jobs: int | None = None,
          meanwhile: Callable[[Settings, dt.date], None] | None = None, history: bool = True) -> Loaded:
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
    as_of = None
    if today is None:
        today = default_today(settings)
        as_of = default_now(settings)

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

    main_file = root / LEADS_FILE
    # a link that leads nowhere (broken, or a loop) is a file that cannot be read, not a missing one
    lead_paths = [main_file] if main_file.is_file() or main_file.is_symlink() else []
    lead_paths += sorted((root / "leads").glob("*.yaml"))
    if not lead_paths:
        problems.error(LEADS_FILE, (), "there is no leads file",
                       "create leads.yaml starting with `leads:` (see docs/formats.md)")
    texts = []
    for path in lead_paths:
        text = src.read(path, problems)
        if text is not None:
            texts.append((src.rel(path), text))
    work = partial(meanwhile, settings, today) if meanwhile is not None and settings is not None else None
    leads, records = _leads_and_history(root, src, texts, problems, _Context(settings, campaign_ids, today),
                                        jobs=jobs, meanwhile=work, history=history)
    if not leads and lead_paths:
        # without the records, their ids (an import or an add must not fill an emptied file either)
        known = len(records.by_lead) if history else len(history_lead_ids(root / "history", rel_to=root))
        if known:
            check_not_emptied([src.rel(path) for path in lead_paths], known, problems)

    model = None
    blocking = [p for p in problems.errors if not (lenient_copy and is_copy_fault(p))]
    if not blocking and settings is not None:
        model = Model(settings=settings, leads=tuple(leads), campaigns=MappingProxyType(campaigns),
                      messages=MappingProxyType(messages), pages=tuple(pages), history=records,
                      by_id=MappingProxyType({lead.id: lead for lead in leads}))
    return Loaded(model, tuple(problems.items), today, src.texts, src.lead_counts, as_of,
                  lead_lines=src.lead_lines)


@dataclass(frozen=True)
class _Context:
    """What validating a lead needs besides the lead."""

    settings: object
    campaign_ids: set[str]
    today: dt.date


def _leads_and_history(root: Path, src: _Sources, texts: list[tuple[str, str]], problems: Problems,
                       ctx: _Context, *, jobs: int | None,
                       meanwhile: Callable[[], None] | None = None, history: bool = True) -> tuple[list, object]:
    """Every leads file's leads (problems into ``problems``), then history/.

    With several processes, each file is cut into runs of whole leads
    (:func:`relead.read.leadlines.split_leads`), parsed and validated by workers while
    this process reads history. A lead's problems do not depend on other leads but
    for a reused id, so workers list the ids in order and duplicates are found
    here, in file order, as one process finds them. A run that does not parse as
    part of its file (a quoted text cut in two, an anchor used across runs) sends
    the whole file back to this process.
    """
    n = jobs_for(jobs)
    total = sum(len(text) for _, text in texts)
    if n <= 1 or total < MIN_LEADS_BYTES:
        leads: list = []
        seen: dict[str, tuple[str, int]] = {}
        for file, text in texts:
            leads.extend(_file_leads(src, file, text, problems, ctx, seen))
        if meanwhile is not None:
            meanwhile()
        return leads, read_history(root / "history", problems, rel_to=root) if history else History()

    tasks = []
    cuts = {}
    for index, (file, text) in enumerate(texts):
        src.texts[file] = (text, 0)
        pieces = max(round(8 * n * len(text) / total), round(len(text) / _RUN_CHARS))
        runs = cuts[file] = split_leads(text, pieces, whole=False) if pieces > 1 else None
        if runs is None:
            tasks.append((index, 0, len(text), 0, -1))
        else:
            tasks.extend((index, start, end, first, count) for start, end, first, count in runs)
    global _SHARED
    _SHARED = (texts, ctx)
    try:
        with Mapped(_validate_run, tasks, jobs=n, workers=n - 1) as mapped:
            for file, runs in cuts.items():
                if runs is not None and not _rest_is_leads(runs.layout):
                    cuts[file] = None       # its lines are not kept for locating and editing
            later = Problems()
            records = read_history(root / "history", later, rel_to=root) if history else History()
            if meanwhile is not None:
                meanwhile()
            results = list(mapped.results())
    finally:
        _SHARED = None

    leads = []
    seen = {}
    for index, (file, text) in enumerate(texts):
        mine = [result for task, result in zip(tasks, results) if task[0] == index]
        if any(result is None for result in mine):
            leads.extend(_file_leads(src, file, text, problems, ctx, seen))
            continue
        count = 0
        for found, items, ids, n_leads in mine:
            problems.items.extend(items)
            count = None if n_leads is None or count is None else count + n_leads
            dropped = set()
            for lead_id, at, who in ids:
                prior = seen.get(lead_id)
                if prior is not None:
                    duplicate_id(problems, file, at, lead_id, prior, who)
                    dropped.add(at)
                else:
                    seen[lead_id] = (file, at)
            if dropped:
                found = [lead for lead in found if lead.index not in dropped]
            leads.extend(found)
        if count is not None:
            src.lead_counts[file] = count
            runs = cuts.get(file)
            if runs is not None and len(runs.starts) == count:
                src.lead_lines[file] = LeadLines(text, runs.starts, runs.layout)
    problems.items.extend(later.items)
    return leads, records


def _rest_is_leads(layout) -> bool:
    """Nothing but leads after the first one (split_leads left it to be seen once the workers
    started; a run that holds something else does not parse, and its file is read whole)."""
    try:
        check_rest(layout)
    except LayoutError:
        return False
    return True


def _file_leads(src: _Sources, file: str, text: str, problems: Problems, ctx: _Context, seen: dict) -> list:
    """One whole leads file's valid leads."""
    ok, raw = src.parse(file, text, problems)
    if ok and isinstance(raw, dict) and isinstance(raw.get("leads"), list):
        src.lead_counts[file] = len(raw["leads"])
    if not ok:
        return []
    return leads_from(raw, file, problems, settings=ctx.settings, campaign_ids=ctx.campaign_ids,
                      today=ctx.today, seen=seen)


_SHARED: tuple | None = None     # (texts, context), set before workers fork: they inherit it
# A run of leads a worker parses at a time, at most: about 1,000 leads. Small runs share the work out
# evenly to the end (the last one to finish is short), and their results cross the pipe in pieces
# the allocator reuses: measured at 100,000 leads on 2 cores, runs of 3 MB (16 runs) left the
# leads loaded 0.5 s later than runs of 0.5 MB (96 runs).
_RUN_CHARS = 500_000


class _Ids(dict):
    """``seen`` for leads validated apart from the others: it finds no duplicate itself but
    lists every id in order, (id, index, lead shown as), for the parent to find them."""

    def __init__(self, items, first: int):
        super().__init__()
        self.items = items
        self.first = first
        self.order: list[tuple[str, int, str | None]] = []

    def get(self, key, default=None):
        return None

    def __setitem__(self, key, value) -> None:
        at = value[1]
        item = self.items[at - self.first]
        shown = item.get("id") if isinstance(item, dict) else None
        self.order.append((key, at, shown if isinstance(shown, str) and shown else None))


def _validate_run(task: tuple[int, int, int, int, int]):
    """In a worker: (leads, problems, ids, leads in the text) for one run of a leads file, or
    None when the run does not parse as a part of its file. ``count`` -1: the whole file."""
    index, start, end, first, count = task
    texts, ctx = _SHARED
    file, text = texts[index]
    problems = Problems()
    if count < 0:
        scratch = _Sources(Path("."))
        ok, raw = scratch.parse(file, text, problems)
        items = raw.get("leads") if ok and isinstance(raw, dict) else None
        ids = _Ids(items if isinstance(items, list) else [], 0)
        found = leads_from(raw, file, problems, settings=ctx.settings, campaign_ids=ctx.campaign_ids,
                           today=ctx.today, seen=ids) if ok else []
        return found, problems.items, ids.order, len(items) if isinstance(items, list) else None
    try:
        raw, dups = parse_checked("leads:\n" + text[start:end])
    except YamlSyntaxError:
        return None
    items = raw.get("leads") if isinstance(raw, dict) and len(raw) == 1 else None
    if dups or not isinstance(items, list) or len(items) != count:
        return None
    ids = _Ids(items, first)
    found = leads_from(raw, file, problems, settings=ctx.settings, campaign_ids=ctx.campaign_ids,
                       today=ctx.today, seen=ids, start=first)
    return found, problems.items, ids.order, count


def _located(items: list[Problem], texts: dict[str, tuple[str, int]],
             lead_counts: dict[str, int], lead_lines: dict | None = None) -> tuple[Problem, ...]:
    pending: dict[str, list[int]] = {}
    for i, p in enumerate(items):
        if p.line is None and p.file in texts:
            pending.setdefault(p.file, []).append(i)
    for file, indexes in pending.items():
        text, offset = texts[file]
        scan = (lead_lines or {}).get(file)
        if scan is None and file in lead_counts:
            scan = LeadLines.scan(text, lead_counts[file])
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
