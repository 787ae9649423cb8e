"""`build`: validate, derive, render, write. The Python API under `python -m site_builder build`."""

from __future__ import annotations

import datetime as dt
import functools
import gc
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from relead.check import Checked, check_repository

from .exports import leads_csv, priorities_csv, summary_json
from .redact import redact as redacted
from .render import SiteCounts, render_site
from .writer import write_site

__all__ = ["Built", "build"]


@dataclass(frozen=True)
class Built:
    checked: Checked
    files: int              # 0 when validation failed and nothing was written
    pages: int = 0          # HTML pages among them
    lead_pages: int = 0     # one per lead that has something to show (lost, or with history)


def build(root: Path | str, out: Path | str, *, today: dt.date | None = None,
          strict: bool = False, redact: bool = False, jobs: int | None = None) -> Built:
    """Build the site from ``root`` into ``out``; writes nothing when the data is invalid.

    ``redact``: mask every email address and phone number in every page and export
    (:mod:`site_builder.redact`), for a wider audience. ``jobs``: processes for loading
    and for rendering (:func:`relead.jobs.jobs_for`); the site is the same bytes with any number.
    """
    checked = check_repository(root, today=today, strict=strict, jobs=jobs, site=True)
    if not checked.ok or checked.derived is None:
        return Built(checked, 0)
    derived = redacted(checked.derived) if redact else checked.derived
    # The model (a million history records at scale) lives until the end: keep the cyclic
    # garbage collector from walking it again and again while pages are rendered.
    gc.freeze()
    counts = SiteCounts()

    def files() -> Iterator[tuple[str, object]]:
        # Exports and pages come as functions that make them: the writer calls them, in worker
        # processes on a large site (site_builder.writer). The CSV files first, with the lead
        # pages: they are the longest to make, and nothing waits for them at the end. The
        # summary last: by then the pages' contexts have worked out the campaign statistics and
        # the periods it shares with them (Derived.stats, Derived.periods).
        yield "data/leads.csv", functools.partial(leads_csv, derived)
        yield "data/priorities.csv", functools.partial(priorities_csv, derived)
        yield from render_site(derived, Path(root), counts)
        yield "data/summary.json", functools.partial(summary_json, derived)

    try:
        written = write_site(Path(out), files(), jobs=jobs)
    finally:
        gc.unfreeze()
    return Built(checked, written, counts.pages, counts.lead_pages)
