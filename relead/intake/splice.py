"""The edit of the leads files: incoming leads planned, spliced into the files' text, checked, written.

:func:`apply_incoming` runs steps 2 to 5 of the commands of :mod:`.editing`:
decide what is new, what fills in an existing lead and what repeats
(:func:`relead.intake.dedupe.plan`); edit the text, never re-dump it (new leads
appended, keys for an existing lead spliced into its lines,
:mod:`relead.intake.leads_text`); check that the edited lines parse back to
exactly the intended leads and that those pass the lead checks of ``make check``
(many new leads in runs, over several processes: :mod:`relead.jobs`); and write
each changed file atomically (:func:`write_atomically`), unless ``dry_run``, and
only if the file did not change meanwhile. This is the one place that writes
leads files.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Collection, Sequence

from ..jobs import Mapped, jobs_for
from ..problems import Problem, Problems
from ..read.leadlines import Layout, LayoutError, scan
from ..read.leads import leads_from
from ..read.load import LEADS_FILE, Loaded
from ..read.yamlparse import YamlSyntaxError, parse
from .capture import FOLLOW_UP_BUSINESS_DAYS, business_days_after
from .csv_table import ImportFailed
from .dedupe import Incoming, Plan, counts, plan
from .leads_text import add_keys, append_head, emit_appended, emit_lead, item_text, parse_items

__all__ = ["Edited", "apply_incoming", "write_atomically"]


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
    # The repository as loaded before the edit, handed back as check_repository hands back its
    # model: freeing 100,000 leads object by object takes a seventh of a second, which the
    # caller may spend later or never (a command ends without freeing, relead.cli.finish).
    before: Loaded | None = field(default=None, repr=False, compare=False)

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
        kept = loaded.lead_lines.get(rel)        # the file's layout as load found it, when it cut the file
        files[rel] = _File(rel, path, hashlib.sha256(data).digest(), mine,
                           kept.layout if kept is not None and mine == text else None)
        del data, mine
    for lead in loaded.model.leads:
        files[lead.file].ids.append(lead.id)
    return files


def _lf(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


# ---------------------------------------------------------------------------
# The edit
# ---------------------------------------------------------------------------

def apply_incoming(root: Path | str, loaded: Loaded, incoming: Sequence[Incoming], *, history_ids: Collection[str],
                   dry_run: bool, where: Callable[[int], str] = lambda row: f"row {row}",
                   notes: Sequence[str] = ()) -> Edited:
    """Plan, edit, check and (unless ``dry_run``) write; :class:`ImportFailed` when the result would not be valid.
    ``history_ids``: the leads history/ names (:func:`relead.history.history_lead_ids`), whose ids
    no new lead may take."""
    root = Path(root)
    _require_valid(loaded)
    model = loaded.model
    files = _read_files(root, loaded)
    position = {lead.id: (lead.file, lead.index) for lead in model.leads}

    def present(lead_id: str) -> set[str]:
        rel, index = position[lead_id]
        raw = files[rel].raw(index)
        return {k for k, v in raw.items() if v is not None and v != "" and v != [] and v != {}}

    taken = set(position) | set(history_ids)
    follow_up = business_days_after(loaded.today, FOLLOW_UP_BUSINESS_DAYS, model.settings.sending)
    p = plan(incoming, model.leads, present=present, taken=taken, follow_up=follow_up)
    if not p.new and not p.updates:
        return Edited(p, {}, False, tuple(notes), before=loaded)

    target = LEADS_FILE if LEADS_FILE in files else sorted(files)[-1]
    texts: dict[str, str] = {}
    rewritten: list[str] = []
    checks: list[tuple[str, dict, str]] = []        # (file, the lead as parsed from its new lines, label)
    checked: dict[str, tuple[int, list[Problem]]] = {}   # file -> (its first check already made, problems)
    rules = _Rules(model.settings, set(model.campaigns), loaded.today,
                   {lead.id: (lead.file, lead.index) for lead in model.leads if lead.id not in p.updates})
    by_file: dict[str, list[str]] = {}
    for lead_id in p.updates:
        by_file.setdefault(position[lead_id][0], []).append(lead_id)
    started = None
    if p.new:       # the workers write and check the new leads while this process edits the others
        first_new = len(by_file.get(target, ()))
        started = _start_append(files[target].lay(), p.new, target, rules, first_new)
    try:
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
                body, parsed_new, found = _append_checked(started, lay, edited, p.new, rel, last_start, expected_last)
                new_text = ("\ufeff" if lay.bom else "") + body
                if found is not None:
                    checked[rel] = (first_new, found)
                for lead, parsed in zip(p.new, parsed_new):
                    checks.append((rel, parsed, f"{where(p.new_rows.get(lead['id'], 0))} ({lead['id']})"))
            else:
                new_text = ("\ufeff" if lay.bom else "") + edited
            texts[rel] = new_text
    finally:
        if started is not None:
            started.close()

    _check_leads(checks, rules, checked)
    if not dry_run:
        for rel, text in texts.items():
            f = files[rel]
            if hashlib.sha256(f.path.read_bytes()).digest() != f.digest:
                raise ImportFailed([f"{rel} changed while the import ran; nothing was written, run it again"],
                                   "changed")
        for rel, text in texts.items():
            write_atomically(files[rel].path, text.encode("utf-8"))
    return Edited(p, texts, not dry_run, tuple(notes), tuple(rewritten), target, before=loaded)


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


@dataclass(frozen=True)
class _Rules:
    """What checking an edited or new lead needs besides the lead: what ``make check`` checks it against."""

    settings: object
    campaign_ids: set[str]
    today: object
    seen: dict[str, tuple[str, int]]      # every other lead's id -> (file, index)


def _start_append(lay: Layout, new: Sequence[dict], rel: str, rules: _Rules, first: int) -> _Started:
    """The new leads' runs (:func:`_append_run`), started before the leads being updated are
    edited, so that the workers write and check them meanwhile. ``first``: the checks of
    this file before them (one per lead updated in it)."""
    return _Started(_append_run, *_runs(len(new)), (lay, new, rel, rules, first))


def _append_checked(started: _Started, lay: Layout, edited: str, new: Sequence[dict], rel: str,
                    tail_from: int | None, expected_last: dict | None) -> tuple[str, list[dict], list[Problem] | None]:
    """``edited`` (no BOM) with ``new`` appended, the new leads as parsed from the result, and
    their problems (indexes on from the file's updated leads, as :func:`_check_leads` counts
    this file's checks), or None when they were not checked.

    The new leads are written, read back and checked in runs (``started``: in several
    processes when there are many, :mod:`relead.jobs`), the file's last lead with the first
    new one. Should any of that not read back as intended, the whole tail is read as one,
    for the report to be the one :func:`_check_append` gives, and nothing is checked here.
    """
    head = append_head(lay, edited)
    results = started.results()
    body = head + "".join(text for text, _ in results)
    if any(found is None for _, found in results) or not _reads_back(
            head + emit_appended(lay, new[:1], more=len(new) > 1), tail_from, expected_last, new[:1], rel):
        return body, _check_append(body, tail_from, expected_last, new, rel), None
    # Each run parsed back to exactly its leads: those are the leads the file now holds.
    return body, list(new), [p for _, found in results for p in found]


def _append_run(span: tuple[int, int]) -> tuple[str, list[Problem] | None]:
    """(the lines of a run of new leads, the problems ``make check`` finds in them), the
    problems None if the lines do not parse back to exactly those leads. Only problems come
    back, not the parsed leads: equal to the ones given, they would cost their pickling both
    ways for nothing."""
    lay, new, rel, rules, first = _SHARED
    a, b = span
    text = emit_appended(lay, new[a:b], more=b < len(new))
    expected = list(new[a:b])
    try:
        # Read back the quick way; a text on which yaml-rs reads otherwise (a quoted time) the sure way.
        items = parse_items(text, written=True)
        if items != expected:
            items = parse_items(text)
    except LayoutError:
        return text, None
    if items != expected:
        return text, None
    return text, _problems(new[a:b], rel, rules, first + a)


def _reads_back(text: str, tail_from: int | None, expected_last: dict | None, new: Sequence[dict],
                rel: str) -> bool:
    try:
        _check_append(text, tail_from, expected_last, new, rel)
    except ImportFailed:
        return False
    return True


def _check_leads(checks: list[tuple[str, dict, str]], rules: _Rules,
                 checked: dict[str, tuple[int, list[Problem]]]) -> None:
    """The edited and new leads pass the lead checks of ``make check``, against everything
    else. ``checked``: a file's checks from an index on, made already, and their problems."""
    problems: list[Problem] = []
    labels: list[str] = []
    by_file: dict[str, list[tuple[dict, str]]] = {}
    for rel, lead, label in checks:
        by_file.setdefault(rel, []).append((lead, label))
    for rel, items in by_file.items():
        upto, found = checked.get(rel, (len(items), []))
        # Runs checked in other processes do not see each other's ids. No id is checked twice:
        # dedupe.plan gives each new lead an id no lead, history record or other new lead has.
        shared = ([lead for lead, _ in items[:upto]], rel, rules)
        found = [p for run in _mapped(_check_run, *_runs(upto), shared) for p in run] + found if upto else found
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
    leads, rel, rules = _SHARED
    a, b = span
    return _problems(leads[a:b], rel, rules, a)


def _problems(leads: Sequence[dict], rel: str, rules: _Rules, start: int) -> list[Problem]:
    """What ``make check`` finds in ``leads``, the first of them the file's check ``start``. Its
    own copy of the other ids: one run never sees another's, in this process as in a worker."""
    problems = Problems()
    leads_from({"leads": list(leads)}, rel, problems, settings=rules.settings, campaign_ids=rules.campaign_ids,
               today=rules.today, seen=dict(rules.seen), start=start)
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


class _Started:
    """``fn`` over ``spans`` (:class:`relead.jobs.Mapped`, this process one of the ``jobs``), with
    ``shared`` where ``fn`` finds it: the workers start now, :meth:`results` waits for them."""

    def __init__(self, fn: Callable, spans: list[tuple[int, int]], jobs: int, shared: tuple):
        global _SHARED
        _SHARED = shared
        try:
            self._mapped = Mapped(fn, spans, jobs=jobs, workers=jobs - 1)
        except BaseException:
            _SHARED = None
            raise

    def results(self) -> list:
        try:
            return list(self._mapped.results())
        finally:
            self.close()

    def close(self) -> None:
        global _SHARED
        self._mapped.close()
        _SHARED = None


def _mapped(fn: Callable, spans: list[tuple[int, int]], jobs: int, shared: tuple) -> list:
    return _Started(fn, spans, jobs, shared).results()


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
