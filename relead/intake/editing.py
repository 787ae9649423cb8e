"""`python -m relead import` and `python -m relead add`: the one place that writes leads files.

Both commands run the same steps:

1. load and validate the repository once (:func:`relead.read.load.load`); refuse
   when it has errors already (the result could not pass ``make check``). An
   import maps its rows meanwhile, while workers validate the leads;
2. decide, row by row, what is new, what fills in an existing lead and what
   repeats (:func:`relead.intake.dedupe.plan`);
3. edit the text, never re-dump it: new leads are appended to the list, keys
   for an existing lead are spliced into its lines (:mod:`relead.intake.leads_text`),
   so every lead nobody touched keeps its bytes, comments and blank lines;
4. check the edit: the edited lines parse back to exactly the intended leads,
   and those leads pass the same checks ``make check`` runs, against the
   settings, the campaigns and every other id (many new leads are written,
   read back and checked in runs, over several processes: :mod:`relead.jobs`);
5. write each changed file atomically (a temporary file, then ``os.replace``),
   unless ``--dry-run``, and only if the file did not change meanwhile.

The whole file is never loaded twice, so adding one lead to a 100,000-lead
file costs one load, and an import of N rows one load plus work in N.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import os
import sys
import tempfile
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable, Sequence

from ..arguments import date_arg
from ..clock import note_for
from ..gcpause import collector_paused
from ..jobs import Mapped, jobs_for
from ..model import Settings
from ..problems import Problem, Problems
from ..read.leadlines import Layout, LayoutError, scan
from ..read.leads import leads_from
from ..read.load import LEADS_FILE, Loaded, load
from ..read.values import did_you_mean
from ..read.yamlparse import YamlSyntaxError, locate, parse
from .capture import FOLLOW_UP_BUSINESS_DAYS, business_days_after, capture
from .crm_formats import (FROM_CHOICES, Format, MappingFile, Resolver, detect, mapping_from, merge_rules,
                          with_columns)
from .dedupe import Incoming, Known, Outcome, Plan, counts, locate_estimates, plan, report_lines
from .importing import ImportFailed, Mapped as MappedRows, Table, map_rows, read_table
from .leads_text import add_keys, append_head, emit_appended, emit_lead, item_text, parse_items

__all__ = ["Edited", "apply_incoming", "import_file", "add_lead", "add_edit_commands", "write_atomically"]

EXIT_OK, EXIT_INVALID, EXIT_USAGE = 0, 1, 2


@dataclass(frozen=True)
class Edited:
    """What an import or an add did (or, with ``dry_run``, would do)."""

    plan: Plan
    texts: dict[str, str]                        # changed file -> its new text
    written: bool
    notes: tuple[str, ...] = ()
    rewritten: tuple[str, ...] = ()              # leads whose lines had to be written anew
    target: str = LEADS_FILE                     # where new leads went
    read_as: str = ""                            # the export format it was read as (import)

    @property
    def counts(self) -> dict[str, int]:
        return counts(self.plan.outcomes)


# ---------------------------------------------------------------------------
# Reading the leads files as text
# ---------------------------------------------------------------------------

@dataclass
class _File:
    rel: str
    path: Path
    digest: bytes                 # of the bytes read: the file must not change before the write
    text: str
    layout: Layout | None = None
    ids: list[str] = field(default_factory=list)          # lead ids in file order (from the model)
    raws: dict[int, dict] = field(default_factory=dict)   # index -> the lead as parsed from its lines

    def lay(self) -> Layout:
        if self.layout is None:
            text = self.text
            # A file whose leads were parsed has content lines: only one without leads is looked through.
            if not self.ids and not any(line.strip() and not line.lstrip().startswith("#")
                                        for line in text.splitlines()):
                # An empty leads file (comments at most) means no leads: give it its `leads:`.
                text += ("\n" if text and not text.endswith("\n") else "") + "leads:\n"
            try:
                self.layout = scan(text)
            except LayoutError as exc:
                raise ImportFailed([f"{self.rel}: {exc}; relead edits a leads file in place only when it is a "
                                    "block list of leads (`leads:`, then `- id:` blocks)"], "layout") from None
            if len(self.layout.starts) != len(self.ids):
                raise ImportFailed([f"{self.rel}: found {len(self.layout.starts)} leads in its lines but "
                                    f"{len(self.ids)} when parsed (a quoted text running over several lines?); "
                                    "cannot edit it in place"], "layout")
        return self.layout

    def raw(self, index: int) -> dict:
        if index not in self.raws:
            items = parse_items(item_text(self.lay(), index))
            if len(items) != 1 or not isinstance(items[0], dict) or items[0].get("id") != self.ids[index]:
                raise ImportFailed([f"{self.rel}: the lines of lead {index + 1} (`{self.ids[index]}`) do not "
                                    "parse on their own; cannot edit it in place"], "layout")
            self.raws[index] = items[0]
        return self.raws[index]


def _read_files(root: Path, loaded: Loaded) -> dict[str, _File]:
    files: dict[str, _File] = {}
    for rel, (text, _offset) in loaded.texts.items():
        if rel != LEADS_FILE and not (rel.startswith("leads/") and rel.endswith(".yaml")):
            continue
        path = root / rel
        data = path.read_bytes()
        mine = data.decode("utf-8")
        if mine != text and _lf(mine) != _lf(text):
            raise ImportFailed([f"{rel} changed while it was being read; run the command again"], "changed")
        files[rel] = _File(rel, path, hashlib.sha256(data).digest(), mine)
        del data, mine
    for lead in loaded.model.leads:
        files[lead.file].ids.append(lead.id)
    return files


def _lf(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


# ---------------------------------------------------------------------------
# The edit
# ---------------------------------------------------------------------------

def apply_incoming(root: Path | str, loaded: Loaded, incoming: Sequence[Incoming], *, dry_run: bool,
                   where: Callable[[int], str] = lambda row: f"row {row}", notes: Sequence[str] = ()) -> Edited:
    """Plan, edit, check and (unless ``dry_run``) write; :class:`ImportFailed` when the result would not be valid."""
    root = Path(root)
    _require_valid(loaded)
    model = loaded.model
    files = _read_files(root, loaded)
    position = {lead.id: (lead.file, lead.index) for lead in model.leads}
    known = [Known(lead.id, lead.name, lead.company, lead.email, lead.phone,
                   min(lead.reached.values(), default=None)) for lead in model.leads]

    def present(lead_id: str) -> set[str]:
        rel, index = position[lead_id]
        raw = files[rel].raw(index)
        return {k for k, v in raw.items() if v is not None and v != "" and v != [] and v != {}}

    taken = set(position) | set(model.history.by_lead)
    follow_up = business_days_after(loaded.today, FOLLOW_UP_BUSINESS_DAYS, model.settings.sending)
    p = plan(incoming, known, present=present, taken=taken, follow_up=follow_up)
    if not p.new and not p.updates:
        return Edited(p, {}, False, tuple(notes))

    target = LEADS_FILE if LEADS_FILE in files else sorted(files)[-1]
    texts: dict[str, str] = {}
    rewritten: list[str] = []
    checks: list[tuple[str, dict, str]] = []        # (file, the lead as parsed from its new lines, label)
    by_file: dict[str, list[str]] = {}
    for lead_id in p.updates:
        by_file.setdefault(position[lead_id][0], []).append(lead_id)
    for rel in sorted(set(by_file) | ({target} if p.new else set())):
        f = files[rel]
        lay = f.lay()
        text = lay.text
        last = len(f.ids) - 1
        expected_last = f.raw(last) if last >= 0 else None
        last_start = lay.block(last)[0] if last >= 0 else None
        pieces: list[str] = []
        prev = shift = 0
        for lead_id in sorted(by_file.get(rel, ()), key=lambda i: position[i][1]):
            index = position[lead_id][1]
            fields = p.updates[lead_id]
            expected = {**f.raw(index), **fields}
            a, b = lay.block(index)
            new, parsed, rebuilt = _edit_block(text[a:b], fields, expected, lay)
            if rebuilt:
                rewritten.append(lead_id)
            if index == last:
                expected_last, last_start = expected, a + shift
            pieces += [text[prev:a], new]
            shift += len(new) - (b - a)
            prev = b
            rows = p.update_rows.get(lead_id, ())
            label = where(0) if rows == (0,) else f"row{'s' * (len(rows) > 1)} {', '.join(map(str, rows))}"
            checks.append((rel, parsed, f"{label} ({lead_id}, updated)"))
        pieces.append(text[prev:])
        edited = "".join(pieces)
        if last_start is not None and last not in [position[i][1] for i in by_file.get(rel, ())]:
            last_start += shift
        if rel == target and p.new:
            body, parsed_new = _append_checked(lay, edited, p.new, rel, last_start, expected_last)
            new_text = ("\ufeff" if lay.bom else "") + body
            for lead, parsed in zip(p.new, parsed_new):
                checks.append((rel, parsed, f"{where(p.new_rows.get(lead['id'], 0))} ({lead['id']})"))
        else:
            new_text = ("\ufeff" if lay.bom else "") + edited
        texts[rel] = new_text

    _check_leads(loaded, checks, updated=set(p.updates))
    if not dry_run:
        for rel, text in texts.items():
            f = files[rel]
            if hashlib.sha256(f.path.read_bytes()).digest() != f.digest:
                raise ImportFailed([f"{rel} changed while the import ran; nothing was written, run it again"],
                                   "changed")
        for rel, text in texts.items():
            write_atomically(files[rel].path, text.encode("utf-8"))
    return Edited(p, texts, not dry_run, tuple(notes), tuple(rewritten), target)


def _split(text: str) -> list[str]:
    parts = text.split("\n")
    return [x + "\n" for x in parts[:-1]] + ([parts[-1]] if parts[-1] else [])


def _require_valid(loaded: Loaded) -> None:
    """The repository must pass ``make check`` before the edit, or the result cannot."""
    if loaded.model is None:
        errors = [p.format() for p in loaded.located() if p.severity == "error"]
        shown = errors[:10] + ([f"... and {len(errors) - 10} more"] if len(errors) > 10 else [])
        raise ImportFailed(shown + ["the repository has errors already: fix them first (make check), "
                                    "then run this again"], "invalid repository")


def _edit_block(old: str, fields: dict, expected: dict, lay: Layout) -> tuple[str, dict, bool]:
    """(new lines, the lead they parse to, whether the lead had to be written anew)."""
    try:
        new = add_keys(old, fields, newline=lay.newline)
        items = parse_items(new)
        if items == [expected]:
            return new, items[0], False
    except LayoutError:
        pass
    # Written anew in schema order; the blank lines and comments after it stay.
    body_end = len(_split(old))
    olds = _split(old)
    while body_end > 1 and (not olds[body_end - 1].strip()
                            or (olds[body_end - 1].lstrip().startswith("#")
                                and len(olds[body_end - 1]) - len(olds[body_end - 1].lstrip(" ")) <= lay.item_indent)):
        body_end -= 1
    new = emit_lead(expected, indent=lay.item_indent, key_indent=lay.key_indent, newline=lay.newline) \
        + "".join(olds[body_end:])
    items = parse_items(new)
    if items != [expected]:
        raise ImportFailed([f"lead `{expected.get('id')}`: its lines could not be edited so that they read back "
                            "as intended; nothing was written"], "edit")
    return new, items[0], True


def _check_append(text: str, tail_from: int | None, expected_last: dict | None,
                  new: Sequence[dict], rel: str) -> list[dict]:
    """The appended leads, parsed from the new text: they, and the lead before them, read back as intended."""
    if tail_from is None:
        try:
            value = parse(text)
        except YamlSyntaxError as exc:
            raise ImportFailed([f"{rel}: the new text does not parse ({exc.message}, line {exc.line})"],
                               "edit") from None
        items = value.get("leads") if isinstance(value, dict) else None
        if items != list(new):
            raise ImportFailed([f"{rel}: the new leads do not read back as intended; nothing was written"], "edit")
        return items
    try:
        items = parse_items(text[tail_from:])
    except LayoutError as exc:
        raise ImportFailed([f"{rel}: {exc}; nothing was written"], "edit") from None
    if items[:1] != [expected_last] or items[1:] != list(new):
        raise ImportFailed([f"{rel}: the new leads do not read back as intended (the file's last lead ends in a "
                            "way relead cannot append after); nothing was written"], "edit")
    return items[1:]


def _append_checked(lay: Layout, edited: str, new: Sequence[dict], rel: str, tail_from: int | None,
                    expected_last: dict | None) -> tuple[str, list[dict]]:
    """``edited`` (no BOM) with ``new`` appended, and the new leads as parsed from the result.

    The new leads are written and read back in runs (in several processes when there
    are many, :mod:`relead.jobs`), the file's last lead with the first new one. Should
    any of that not read back as intended, the whole tail is read as one, for the
    report to be the one :func:`_check_append` gives.
    """
    head = append_head(lay, edited)
    results = _mapped(_append_run, *_runs(len(new)), (lay, new))
    body = head + "".join(text for text, _ in results)
    if any(items is None for _, items in results) or not _reads_back(
            head + emit_appended(lay, new[:1], more=len(new) > 1), tail_from, expected_last, new[:1], rel):
        return body, _check_append(body, tail_from, expected_last, new, rel)
    return body, [item for _, items in results for item in items]


def _append_run(span: tuple[int, int]) -> tuple[str, list | None]:
    """(the lines of a run of new leads, the leads they parse to, or None if not the intended ones)."""
    lay, new = _SHARED
    a, b = span
    text = emit_appended(lay, new[a:b], more=b < len(new))
    try:
        items = parse_items(text)
    except LayoutError:
        return text, None
    return text, items if items == list(new[a:b]) else None


def _reads_back(text: str, tail_from: int | None, expected_last: dict | None, new: Sequence[dict],
                rel: str) -> bool:
    try:
        _check_append(text, tail_from, expected_last, new, rel)
    except ImportFailed:
        return False
    return True


def _check_leads(loaded: Loaded, checks: list[tuple[str, dict, str]], *, updated: set[str]) -> None:
    """The edited and new leads pass the lead checks of ``make check``, against everything else."""
    model = loaded.model
    seen = {lead.id: (lead.file, lead.index) for lead in model.leads if lead.id not in updated}
    problems: list[Problem] = []
    labels: list[str] = []
    by_file: dict[str, list[tuple[dict, str]]] = {}
    for rel, lead, label in checks:
        by_file.setdefault(rel, []).append((lead, label))
    for rel, items in by_file.items():
        # Runs checked in other processes do not see each other's ids. No id is checked twice:
        # dedupe.plan gives each new lead an id no lead, history record or other new lead has.
        shared = ([lead for lead, _ in items], rel, model.settings, set(model.campaigns), loaded.today, seen)
        found = [p for run in _mapped(_check_run, *_runs(len(items)), shared) for p in run]
        problems.extend(found)
        for p in found:
            index = p.path[1] if len(p.path) > 1 and isinstance(p.path[1], int) else None
            label = items[index][1] if index is not None else rel
            where = ".".join(str(x) for x in p.path[2:])
            labels.append(f"{label}: {where + ': ' if where else ''}{p.message}; {p.fix}")
    errors = [line for line, p in zip(labels, problems) if p.severity == "error"]
    if errors:
        raise ImportFailed(errors[:25] + ([f"... and {len(errors) - 25} more"] if len(errors) > 25 else []),
                           "the result would not pass make check")


def _check_run(span: tuple[int, int]) -> list[Problem]:
    """The problems of a run of one file's edited and new leads (indexes as in the whole list)."""
    leads, rel, settings, campaign_ids, today, seen = _SHARED
    a, b = span
    problems = Problems()
    leads_from({"leads": leads[a:b]}, rel, problems, settings=settings, campaign_ids=campaign_ids, today=today,
               seen=seen, start=a)
    return problems.items


# Fewer leads than this are not worth a run of their own: writing, reading back and checking 2,000
# leads takes about a tenth of a second, a fork and the way back of the results tens of milliseconds.
_RUN_LEADS = 2_000

_SHARED: tuple | None = None      # what the runs read, set before the workers fork: they inherit it


def _runs(count: int) -> tuple[list[tuple[int, int]], int]:
    """(start, end) of the runs ``count`` leads are cut into, and the processes for them."""
    jobs = jobs_for()
    pieces = max(1, min(8 * jobs, count // _RUN_LEADS)) if jobs > 1 else 1
    bounds = [count * i // pieces for i in range(pieces + 1)]
    return list(zip(bounds, bounds[1:])), jobs if pieces > 1 else 1


def _mapped(fn: Callable, spans: list[tuple[int, int]], jobs: int, shared: tuple) -> list:
    """``fn`` over ``spans`` (:class:`relead.jobs.Mapped`, this process one of the ``jobs``), with
    ``shared`` where ``fn`` finds it."""
    global _SHARED
    _SHARED = shared
    try:
        with Mapped(fn, spans, jobs=jobs, workers=jobs - 1) as mapped:
            return list(mapped.results())
    finally:
        _SHARED = None


def write_atomically(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` all at once: a temporary file next to it, then a rename."""
    mode = path.stat().st_mode & 0o7777 if path.exists() else None
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        if mode is not None:
            os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


# ---------------------------------------------------------------------------
# The two commands
# ---------------------------------------------------------------------------

# An import makes a few objects per row and per lead and frees them by reference counting; the
# cyclic collector would walk them again and again as they pile up (a tenth of a large import).
@collector_paused()
def import_file(root: Path | str, file: Path | str, *, choice: str | None = None, mapping: Path | str | None = None,
                today: dt.date | None = None, dry_run: bool = False, source: str = "", owner: str = "",
                encoding: str | None = None, date_format: str = "") -> Edited:
    """Import a CRM export into the repository at ``root``: what happened (or would, with ``dry_run``)."""
    root, file = Path(root), Path(file)
    name = file.name
    try:
        data = file.read_bytes()
    except OSError as exc:
        raise ImportFailed([f"{file}: cannot read it ({exc.strerror})"], "unreadable") from None
    if choice is not None and choice not in FROM_CHOICES:
        raise ImportFailed([f"FROM={choice} is not a format relead knows; use one of {', '.join(FROM_CHOICES)}"],
                           "usage")
    table = read_table(data, name=name, encoding=encoding)
    outcome: list = []

    def meanwhile(settings: Settings, day: dt.date) -> None:
        # While the leads are validated. What goes wrong is said once the repository is known
        # to be valid, as if the rows had been mapped then.
        try:
            outcome.append(_map_table(table, settings, day, choice=choice, mapping=mapping, source=source,
                                      owner=owner, date_format=date_format))
        except Exception as exc:
            outcome.append(exc)

    loaded = load(root, today=today, meanwhile=meanwhile)
    _require_valid(loaded)
    if isinstance(outcome[0], Exception):
        raise outcome[0]
    fmt, mapped = outcome[0]
    edited = apply_incoming(root, loaded, mapped.incoming, dry_run=dry_run, notes=mapped.notes)
    if edited.plan.estimates:     # the report says at which line to correct a value the row did not give
        edited = replace(edited, plan=locate_estimates(edited.plan, edited.texts))
    if mapped.skipped:       # rows the mapping left out (a status that maps to skip, nobody named)
        outcomes = edited.plan.outcomes + tuple(Outcome(row, "skipped", "", why) for row, why in mapped.skipped)
        edited = replace(edited, plan=replace(edited.plan, outcomes=tuple(sorted(outcomes, key=lambda o: o.row))))
    return replace(edited, read_as=fmt.label)


def _map_table(table: Table, settings: Settings, today: dt.date, *, choice: str | None,
               mapping: Path | str | None, source: str, owner: str, date_format: str) -> tuple[Format, MappedRows]:
    """The format ``table`` is read as, and its rows as leads to bring in; :class:`ImportFailed` if they cannot be."""
    if owner and owner not in settings.team:
        raise ImportFailed([f"--owner `{owner}` is not in the team; "
                            + (did_you_mean(owner, settings.team) or f"use one of {', '.join(settings.team)}")],
                           "usage")
    mapfile = MappingFile()
    if mapping is not None:
        mapfile = _read_mapping(Path(mapping), settings)
    fmt = with_columns(detect(list(table.headers), choice), mapfile.columns)
    rules = merge_rules(settings.importing, mapfile.rules)
    resolver = Resolver(fmt, settings, rules)
    mapped = map_rows(table, fmt, resolver, today=today, source=source or mapfile.source,
                      owner=owner or mapfile.owner, date_format=date_format or mapfile.date_format,
                      phone_region=mapfile.phone_region, mapped_columns=dict(mapfile.columns))
    return fmt, mapped


def _read_mapping(path: Path, settings) -> MappingFile:
    rel = path.name
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ImportFailed([f"{path}: cannot read the mapping file ({exc})"], "mapping") from None
    try:
        raw = parse(text)
    except YamlSyntaxError as exc:
        raise ImportFailed([f"{rel}:{exc.line}: {exc.message}"], "mapping") from None
    problems = Problems()
    mf = mapping_from(raw, rel, problems, settings)
    if mf is None:
        lines = locate(text, [p.path for p in problems.items])
        raise ImportFailed([f"{rel}:{lines[p.path]}: {p.message}; {p.fix}" for p in problems.items], "mapping")
    return mf


@collector_paused()
def add_lead(root: Path | str, *, today: dt.date | None = None, dry_run: bool = False, **fields: str) -> Edited:
    """Capture one lead (``name``, ``company``, ``email``, ``phone``, ``source``, ``owner``...)."""
    root = Path(root)
    loaded = load(root, today=today)
    _require_valid(loaded)
    incoming = capture(loaded.model.settings, loaded.today, **fields)
    return apply_incoming(root, loaded, [incoming], dry_run=dry_run, where=lambda row: "the new lead")


# ---------------------------------------------------------------------------
# Command line
# ---------------------------------------------------------------------------

def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--root", type=Path, default=Path("."),
                   help="the repository to change (default: the current directory)")
    p.add_argument("--today", type=date_arg, metavar="YYYY-MM-DD",
                   help="the day to judge dates against and to date new leads (default: today in the team's time zone)")
    p.add_argument("--dry-run", action="store_true", help="show what would change, write nothing")


def add_edit_commands(sub) -> None:
    """Register `import` and `add` on the `python -m relead` subcommands."""
    p = sub.add_parser("import", help="add leads from a CRM export (CSV), de-duplicated",
                       description="Add leads from a CRM's CSV export. Rows that match a lead (same email, "
                                   "phone, or name and company) fill in only its empty keys; rows that match "
                                   "each other are merged. Prints what was added, updated, merged and skipped. "
                                   "Nothing is written unless the result is valid. See docs/import.md. "
                                   "Exit 0 on success, 1 on bad input or an invalid result, 2 on bad usage.")
    p.add_argument("file", type=Path, metavar="FILE", help="the CSV export")
    p.add_argument("--from", dest="choice", choices=FROM_CHOICES, metavar="CRM",
                   help=f"the CRM it comes from: {', '.join(FROM_CHOICES)} (default: told by its columns)")
    p.add_argument("--map", dest="mapping", type=Path, metavar="MAPPING.yaml",
                   help="a mapping file: columns, stages, reasons... (docs/import.md)")
    p.add_argument("--source", default="", help="`source` for rows that have none (default: the CRM's name)")
    p.add_argument("--owner", default="", help="`owner` (a team key) for rows that have none")
    p.add_argument("--encoding", default=None, help="the file's encoding when it is not UTF-8, e.g. cp1252")
    p.add_argument("--date-format", default="", metavar="FORMAT",
                   help="how the file writes dates when not YYYY-MM-DD, e.g. %%d/%%m/%%Y")
    p.add_argument("--verbose", action="store_true", help="list every row in the report")
    _common(p)
    p.set_defaults(func=_import_command)

    p = sub.add_parser("add", help="quick capture: add a lead from whatever is known, print its id",
                       description="Add a lead at once, from whatever is known (a name or a company is enough). "
                                   "Without email or phone it is tagged incomplete with a follow-up date two "
                                   "business days out. Someone already in the leads gets their empty keys "
                                   "filled in instead. Prints the lead's id. "
                                   "Exit 0 on success, 1 on invalid values, 2 on bad usage.")
    for flag, text in (("name", "the person's name"), ("company", "the organisation"),
                       ("email", "email address"), ("phone", "phone number, best with +country code"),
                       ("source", "where the lead came from, e.g. expo-2026-spring"),
                       ("owner", "who works it: a key of settings `team`"), ("title", "job title"),
                       ("interest", "what they are interested in"), ("notes", "anything else")):
        p.add_argument(f"--{flag}", default="", help=text)
    _common(p)
    p.set_defaults(func=_add_command)


def _import_command(args) -> int:
    for what, path in (("FILE", args.file), ("MAP", args.mapping)):
        if path is not None and not path.is_file():
            print(f"error: {what} {path} is not a file", file=sys.stderr)
            return EXIT_USAGE
    try:
        edited = import_file(args.root, args.file, choice=args.choice, mapping=args.mapping,
                                    today=args.today, dry_run=args.dry_run, source=args.source,
                                    owner=args.owner, encoding=args.encoding, date_format=args.date_format)
    except ImportFailed as exc:
        for line in exc.problems:
            print(line, file=sys.stdout)
        print(f"import failed ({exc.summary}): nothing was written", file=sys.stdout)
        return EXIT_INVALID
    out = sys.stdout
    c = edited.counts
    rows = sum(c.values())
    print(f"import {args.file.name} as {edited.read_as}: {rows} row{'s' * (rows != 1)}", file=out)
    for line in report_lines(edited.plan, limit=None if args.verbose else 50):
        print(line, file=out)
    for note in edited.notes:
        print(f"  ! {note}", file=out)
    for lead_id in edited.rewritten:
        print(f"  ! {lead_id}: its lines were written anew (their layout could not be kept)", file=out)
    print(f"{c['added']} added, {c['updated']} updated, {c['merged']} merged, {c['skipped']} skipped", file=out)
    print(_written(edited, args.dry_run), file=out)
    if args.today is None and note_for(args.root):     # dated as of the example's as_of: say so
        print(note_for(args.root), file=out)
    return EXIT_OK


def _written(edited: Edited, dry_run: bool) -> str:
    if not edited.texts:
        return "nothing to change"
    files = ", ".join(sorted(edited.texts))
    return f"dry run: would change {files}; nothing was written" if dry_run else f"wrote {files}"


def _add_command(args) -> int:
    fields = {k: getattr(args, k) for k in ("name", "company", "email", "phone", "source", "owner", "title",
                                            "interest", "notes")}
    if not fields["name"].strip() and not fields["company"].strip():
        print("error: give at least --name or --company (NAME= or COMPANY=)", file=sys.stderr)
        return EXIT_USAGE
    try:
        edited = add_lead(args.root, today=args.today, dry_run=args.dry_run, **fields)
    except ImportFailed as exc:
        for line in exc.problems:
            print(f"error: {line}", file=sys.stderr)
        print("nothing was written", file=sys.stderr)
        return EXIT_INVALID
    outcome = edited.plan.outcomes[0]
    print(outcome.lead or "")
    if outcome.kind == "added":
        lead = edited.plan.new[0]
        extra = ""
        if "incomplete" in lead.get("tags", ()):
            extra = f" (tagged incomplete: no email or phone; follow up on {lead['follow_up']})"
        msg = f"added {outcome.lead} to {edited.target}{extra}"
    elif outcome.kind == "updated":
        msg = f"{outcome.lead} was already in the leads: {outcome.detail}"
    else:
        msg = outcome.detail
    if args.dry_run:
        msg = "dry run: " + msg + "; nothing was written"
    print(msg, file=sys.stderr)
    if args.today is None and note_for(args.root):     # dated as of the example's as_of: say so
        print(note_for(args.root), file=sys.stderr)
    return EXIT_OK
