"""Validation problems: what is wrong, where, and how to fix it."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

__all__ = ["Problem", "Problems", "ERROR", "WARNING"]

ERROR = "error"
WARNING = "warning"


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong in one file.

    ``path`` is where in the document (keys and list indexes), used to find
    ``line`` once, after validation, only when there is something to report.
    """

    file: str
    message: str
    fix: str
    path: tuple = ()
    lead: str | None = None
    severity: str = ERROR
    line: int | None = None

    def format(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        who = f" {self.lead}:" if self.lead else ""
        tag = " warning:" if self.severity == WARNING else ""
        return f"{where}:{tag}{who} {self.message}; {self.fix}"

    def located(self, line: int) -> "Problem":
        return replace(self, line=line)


@dataclass
class Problems:
    """Collects problems while a file is checked, so every one is reported at once."""

    items: list[Problem] = field(default_factory=list)

    def error(self, file: str, path: tuple, message: str, fix: str, lead: str | None = None,
              line: int | None = None) -> None:
        self.items.append(Problem(file, message, fix, tuple(path), lead, ERROR, line))

    def warning(self, file: str, path: tuple, message: str, fix: str, lead: str | None = None,
                line: int | None = None) -> None:
        self.items.append(Problem(file, message, fix, tuple(path), lead, WARNING, line))

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.items if p.severity == ERROR]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.items if p.severity == WARNING]

    def __len__(self) -> int:
        return len(self.items)
