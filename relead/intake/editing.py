"""`python -m relead import` and `python -m relead add`: the two commands and their command line.

Both commands run the same steps (2 to 5 are :func:`relead.intake.splice.apply_incoming`,
the one place that writes leads files):

1. load and validate the repository once (:func:`relead.read.load.load`); refuse
   when it has errors already (the result could not pass ``make check``). Of
   history/, only the lead ids are read: a new lead never takes one, and history's
   own problems are ``make check``'s to report (an edit of the leads files neither
   makes nor mends them). An import reads its file and maps its rows meanwhile,
   while workers validate the leads;
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
import sys
from dataclasses import replace
from pathlib import Path

from ..arguments import date_arg
from ..clock import note_for
from ..gcpause import collector_paused
from ..history import history_lead_ids
from ..model import Settings
from ..problems import Problems
from ..read.load import load
from ..read.values import did_you_mean
from ..read.yamlparse import YamlSyntaxError, locate, parse
from .capture import capture
from .crm_formats import (FROM_CHOICES, Format, MappingFile, Resolver, detect, mapping_from, merge_rules,
                          with_columns)
from .csv_table import ImportFailed, Table, read_table
from .dedupe import Outcome, locate_estimates, report_lines
from .importing import Mapped as MappedRows, map_rows
from .splice import Edited, _require_valid, apply_incoming

__all__ = ["import_file", "add_lead", "add_edit_commands"]

EXIT_OK, EXIT_INVALID, EXIT_USAGE = 0, 1, 2


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
    outcome: list = []
    taken: list[frozenset[str]] = []

    def meanwhile(settings: Settings, day: dt.date) -> None:
        # While the leads are validated: the file read and its rows mapped. What goes wrong is
        # said once the repository is known to be valid, as if the rows had been mapped then.
        taken.append(history_lead_ids(root / "history", rel_to=root))
        try:
            table = read_table(data, name=name, encoding=encoding)
            outcome.append(_map_table(table, settings, day, choice=choice, mapping=mapping, source=source,
                                      owner=owner, date_format=date_format))
        except Exception as exc:
            outcome.append(exc)

    loaded = load(root, today=today, meanwhile=meanwhile, history=False)
    _require_valid(loaded)
    if isinstance(outcome[0], Exception):
        raise outcome[0]
    fmt, mapped = outcome[0]
    edited = apply_incoming(root, loaded, mapped.incoming, history_ids=taken[0], dry_run=dry_run,
                            notes=mapped.notes)
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
    loaded = load(root, today=today, history=False)
    _require_valid(loaded)
    incoming = capture(loaded.model.settings, loaded.today, **fields)
    return apply_incoming(root, loaded, [incoming], history_ids=history_lead_ids(root / "history", rel_to=root),
                          dry_run=dry_run, where=lambda row: "the new lead")


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
