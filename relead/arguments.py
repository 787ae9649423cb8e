"""Argument types the command lines share (relead's, site_builder's and outreach's)."""

from __future__ import annotations

import argparse
import datetime as dt

__all__ = ["date_arg"]


def date_arg(text: str) -> dt.date:
    """``--today``: a date, or a usage error (exit 2) that says how to write one."""
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date: use YYYY-MM-DD") from None
