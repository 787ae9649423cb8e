"""Argument types the command lines share (relead's, site_builder's and outreach's)."""

from __future__ import annotations

import argparse
import datetime as dt

__all__ = ["date_arg", "check_in_range", "FIRST_DAY", "LAST_DAY"]

# The days relead works as of. Dates are added to and subtracted from "today" (a week's plan, a
# recycle date, months since a loss): near year 1 or 9999 that leaves the calendar. A CRM's
# leads are of this century; a TODAY outside it is a typo.
FIRST_DAY = dt.date(2000, 1, 1)
LAST_DAY = dt.date(2099, 12, 31)


def check_in_range(day: dt.date, text: str) -> None:
    """A usage error (exit 2) for a day outside FIRST_DAY..LAST_DAY, saying the range."""
    if not FIRST_DAY <= day <= LAST_DAY:
        raise argparse.ArgumentTypeError(f"{text!r} is outside the days relead works as of: "
                                         f"use a day from {FIRST_DAY} to {LAST_DAY}")


def date_arg(text: str) -> dt.date:
    """``--today``: a date, or a usage error (exit 2) that says how to write one."""
    try:
        day = dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date: use YYYY-MM-DD") from None
    check_in_range(day, text)
    return day
