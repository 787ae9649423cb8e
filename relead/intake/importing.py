"""CRM exports into leads: map each row of a read export (:mod:`.csv_table`) to a lead. Pure: a table and settings in, leads out.

:func:`map_rows` turns each row into an :class:`~relead.intake.dedupe.Incoming` lead:
names joined, emails and phones normalised (:mod:`.values`), the CRM's stage and
status mapped onto the funnel, a "closed lost" with its reason and date made a
``lost`` record. Every problem in the file is collected and reported at once
(:class:`~relead.intake.csv_table.ImportFailed`); nothing is written unless there are none.

A column the CRM's default export may leave out never refuses the file: a lost
row without a loss date takes the latest date it has, and says so
(:class:`~relead.intake.dedupe.Estimate`).
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from ..model import Settings
from ..read.values import valid_email
from .crm_formats import Format, Resolver, norm
from .csv_table import ImportFailed, Table, _cap
from .dedupe import Estimate, Incoming, ahead
from .values import DateReader, clean_email, format_phone, parse_amount

__all__ = ["map_rows", "Mapped"]


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


_TRUE = frozenset(("true", "yes", "y", "1", "x", "checked", "on"))
_FALSE = frozenset(("false", "no", "n", "0", "unchecked", "off", ""))

_CONTACT = re.compile(r"^(?P<name>.*?)\s*\((?P<email>[^()]*@[^()]*)\)\s*$")
_EMAIL_SEPARATORS = re.compile(r"[;,\s]+(?![^<]*>)")      # between addresses, not inside <...>


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
        for i in cols.get(fld, ()):
            text = row_cells[i].strip()
            if text:
                return text
        return ""

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
        contacts = [c.strip() for c in first(rc, "contact").split(";") if c.strip()]
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
            for part in _EMAIL_SEPARATORS.split(cell):
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
        # its keys and id worked out here, while the repository loads, not in dedupe.plan
        incoming.append(Incoming(row=row, lead=lead, phone164=phone164, new_only=frozenset(defaults),
                                 warnings=tuple(f"row {row}: {w}" for w in warnings),
                                 estimates=tuple(estimates), **ahead(lead, phone164)))

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
