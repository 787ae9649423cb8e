"""Lines of problems in a large leads file, found by scanning its text.

PyYAML's event walk (:func:`relead.yamlparse.locate`) is exact but takes
seconds on a 100,000-lead file, and a big import can produce thousands of
warnings. A leads file written as people and relead write it (a block list
under ``leads:``, each lead starting with ``- `` at one indentation) can be
read line by line instead. The scan is trusted only when it finds exactly as
many leads as the parser did; otherwise the caller falls back to the walk.
"""

from __future__ import annotations

import re
from bisect import bisect_right

__all__ = ["LeadLines"]


class LeadLines:
    """Item and key lines of ``leads:`` in one file's text."""

    def __init__(self, text: str, starts: list[int]):
        self.text = text
        self.starts = starts      # offset of each lead's `- `
        self._newlines: list[int] | None = None

    @classmethod
    def scan(cls, text: str, count: int) -> "LeadLines | None":
        top = re.search(r"(?m)^leads[ \t]*:[ \t]*(?:#.*)?$", text)
        if top is None:
            return None
        first = re.compile(r"\n([ \t]*)- ").search(text, top.end())
        if first is None:
            return None
        indent = first.group(1)
        if re.search(r"\n(?!#)[^\s]", text[top.end():first.start() + 1]):
            return None
        item = re.compile("\n" + re.escape(indent) + "- ")
        starts = [m.start() + 1 + len(indent) for m in item.finditer(text, top.end())]
        # A line at the top level after the list would end it: don't guess past that.
        if len(starts) != count or re.search(r"\n[^\s#]", text[top.end():]):
            return None
        return cls(text, starts)

    def _line_at(self, offset: int) -> int:
        if self._newlines is None:
            self._newlines = [m.start() for m in re.finditer("\n", self.text)]
        return bisect_right(self._newlines, offset - 1) + 1

    def line(self, path: tuple) -> int | None:
        """The line of ``("leads", index, key, subkey, ...)``; None if the path is not of that form."""
        if len(path) < 2 or path[0] != "leads" or not isinstance(path[1], int):
            return None
        index = path[1]
        if not 0 <= index < len(self.starts):
            return None
        start = self.starts[index]
        end = self.starts[index + 1] if index + 1 < len(self.starts) else len(self.text)
        pos = start
        for key in path[2:]:
            if isinstance(key, int):
                break  # a list item inside the lead: its key's line is close enough
            m = re.compile(r"(?:^|[\s{,])" + re.escape(str(key)) + r"[ \t]*:(?:\s|$)", re.M).search(
                self.text, pos, end)
            if m is None:
                break
            pos = m.start() + (1 if m.group(0)[0] in " \t\n{," else 0)
        return self._line_at(pos)
