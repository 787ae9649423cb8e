"""`build`: validate, derive, render, write. The Python API under `python -m site_builder build`."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from relead.check import Checked, check_repository

from .exports import leads_csv, priorities_csv, summary_json
from .render import render_site
from .writer import write_site

__all__ = ["Built", "build"]


@dataclass(frozen=True)
class Built:
    checked: Checked
    files: int          # 0 when validation failed and nothing was written


def build(root: Path | str, out: Path | str, *, today: dt.date | None = None,
          strict: bool = False) -> Built:
    """Build the site from ``root`` into ``out``; writes nothing when the data is invalid."""
    checked = check_repository(root, today=today, strict=strict)
    if not checked.ok or checked.derived is None:
        return Built(checked, 0)
    derived = checked.derived
    files = render_site(derived, Path(root))
    files["data/summary.json"] = summary_json(derived)
    files["data/leads.csv"] = leads_csv(derived)
    files["data/priorities.csv"] = priorities_csv(derived)
    return Built(checked, write_site(Path(out), files))
