"""The one entry point both `check` and `build` use: load, derive, lint, locate."""

from __future__ import annotations

import datetime as dt
import gc
from dataclasses import dataclass, replace
from pathlib import Path

from .derive.derived import Derived, derive
from .lint import lint
from .messages import check_messages
from .problems import ERROR, WARNING, Problem, Problems
from .read.load import Loaded, is_copy_fault, load
from .read.safepath import OUTSIDE_FIX, outside as outside_of

__all__ = ["Checked", "check_repository"]


@dataclass(frozen=True)
class Checked:
    loaded: Loaded
    derived: Derived | None          # None when there are errors
    problems: tuple[Problem, ...]    # located and sorted
    strict: bool
    copy_faults: tuple[Problem, ...] = ()   # with lenient_copy: errors of message copy, let through

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


def check_repository(root: Path | str, *, today: dt.date | None = None, strict: bool = False,
                     lenient_copy: bool = False, jobs: int | None = None, site: bool = False) -> Checked:
    """Validate everything under ``root``; never raises for bad input.

    ``site``: the dashboard is built next; what only its pages read is worked out meanwhile
    (:func:`relead.derive.derived.derive`).

    ``lenient_copy`` (what a send uses): an error in a message's copy does not stop the rest.
    It is listed in ``copy_faults`` (and among the warnings); the touches of that message fail
    when they are rendered, and every other touch goes out. ``make check`` stays strict, so
    the pull request that broke the copy is what fails.
    """
    # Loaded leniently either way, so the copy is also rendered when another message has an error:
    # every problem is reported at once. Strict, a copy error is an error like any other.
    loaded = load(root, today=today, lenient_copy=True, jobs=jobs)
    outside = Problems()
    _templates_inside(Path(root), outside)
    if outside.items:       # an error like load's: no model, so nothing is built or sent
        loaded = replace(loaded, model=None, problems=loaded.problems + tuple(outside.items))
    derived = None
    extra = Problems()
    if loaded.model is not None:
        check_messages(loaded.model, extra)
        derived = derive(loaded.model, loaded.today, as_of=loaded.as_of, jobs=jobs, site=site)
        # Like the model (see load), the derivations live as long as the command:
        # out of the cyclic collector's sight, later work (plan, render) is not slowed by them.
        gc.freeze()
        lint(derived, extra)
    problems = loaded.located(extra)
    faults = tuple(p for p in problems if p.severity == ERROR and is_copy_fault(p)) if lenient_copy else ()
    if faults:
        problems = tuple(replace(p, severity=WARNING) if p.severity == ERROR and is_copy_fault(p) else p
                         for p in problems)
    return Checked(loaded, derived if not any(p.severity == ERROR for p in problems) else None,
                   problems, strict, faults)


def _templates_inside(root: Path, problems: Problems) -> None:
    """The repository's own templates (site and email) are read by the build and the send, not by
    load: a symlink among them that leads out of the repository is refused here, before either."""
    folder = root / "templates"
    if not folder.is_dir():
        return
    pending = [folder]
    while pending:
        for path in sorted(pending.pop().iterdir()):
            target = outside_of(path, root)
            if target is None:
                if path.is_dir():
                    pending.append(path)
                continue
            rel = path.relative_to(root).as_posix()
            if path.is_dir():
                # a problem names a file: the linked folder's first one, once for the whole folder
                first = next((f for f in sorted(path.rglob("*")) if f.is_file()), None)
                shown = f"{rel}/{first.relative_to(path).as_posix()}" if first is not None else rel
                problems.error(shown, (), f"{rel}/ is a symlink to {target}, outside the repository",
                               OUTSIDE_FIX, line=1)
            else:
                problems.error(rel, (), f"this file is a symlink to {target}, outside the repository",
                               OUTSIDE_FIX, line=1)
