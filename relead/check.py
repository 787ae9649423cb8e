"""The one entry point both `check` and `build` use: load, derive, lint, locate."""

from __future__ import annotations

import datetime as dt
import gc
from dataclasses import dataclass
from pathlib import Path

from .derive import Derived, derive
from .lint import lint
from .load import Loaded, load
from .problems import ERROR, Problem, Problems

__all__ = ["Checked", "check_repository"]


@dataclass(frozen=True)
class Checked:
    loaded: Loaded
    derived: Derived | None          # None when there are errors
    problems: tuple[Problem, ...]    # located and sorted
    strict: bool

    @property
    def errors(self) -> tuple[Problem, ...]:
        return tuple(p for p in self.problems if p.severity == ERROR)

    @property
    def warnings(self) -> tuple[Problem, ...]:
        return tuple(p for p in self.problems if p.severity != ERROR)

    @property
    def ok(self) -> bool:
        return not self.errors and not (self.strict and self.warnings)

    @property
    def today(self) -> dt.date:
        return self.loaded.today


def check_repository(root: Path | str, *, today: dt.date | None = None, strict: bool = False) -> Checked:
    """Validate everything under ``root``; never raises for bad input."""
    loaded = load(root, today=today)
    derived = None
    extra = Problems()
    if loaded.model is not None:
        derived = derive(loaded.model, loaded.today)
        # Like the model (see load), the derivations live as long as the command:
        # out of the cyclic collector's sight, later work (plan, render) is not slowed by them.
        gc.freeze()
        lint(derived, extra)
    problems = loaded.located(extra)
    return Checked(loaded, derived if not any(p.severity == ERROR for p in problems) else None,
                   problems, strict)
