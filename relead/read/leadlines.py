"""Lines of problems in a large leads file, found by scanning its text.

PyYAML's event walk (:func:`relead.read.yamlparse.locate`) is exact but takes
seconds on a 100,000-lead file, and a big import can produce thousands of
warnings. A leads file written as people and relead write it (a block list
under ``leads:``, each lead starting with ``- `` at one indentation) can be
read line by line instead. The scan is trusted only when it finds exactly as
many leads as the parser did; otherwise the caller falls back to the walk.
"""

from __future__ import annotations

import re
from bisect import bisect_right

__all__ = ["LeadLines", "Runs", "split_leads"]


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
        pos, after, col = start, start + 1, start - self.text.rfind("\n", 0, start) - 1
        for key in path[2:]:
            if isinstance(key, int):
                break  # a list item inside the lead: its key's line is close enough
            found = self._key(str(key), after, end, col)
            if found is None:
                break
            pos, end, col = found
            after = pos + len(str(key))
        return self._line_at(pos)

    def _key(self, key: str, after: int, end: int, parent_col: int) -> tuple[int, int, int] | None:
        """Where ``key:`` is in the mapping that starts at ``after`` (after `- ` or `parent:`):
        (its offset, the end of its value, its column). Only on that line (`- id: x`,
        `lost: {date: ...}`) or at the start of a line in the column of the mapping's keys,
        so never inside a block of text (`notes: |` that mentions `email:`)."""
        text = self.text
        name = re.escape(key) + r"[ \t]*:(?:\s|$)"
        line_end = text.find("\n", after, end)
        line_end = end if line_end < 0 else line_end
        m = re.compile(r"[\s{,]" + name).search(text, after - 1, line_end)
        if m is not None:
            return m.start() + 1, line_end, m.start() + 1 - text.rfind("\n", 0, m.start()) - 1
        first = re.compile(r"\n( *)(?=[^ \r\n#])").search(text, line_end, end)
        col = len(first.group(1)) if first else -1
        if col <= parent_col:
            return None
        m = re.compile(r"^ {%d}%s" % (col, name), re.M).search(text, line_end, end)
        if m is None:
            return None
        at = m.start() + col
        # Its value ends before the next line indented no deeper than the key.
        nxt = re.compile(r"\n(?! {%d})(?= *[^ \r\n#])" % (col + 1)).search(text, at, end)
        return at, (nxt.start() if nxt else end), col


class Runs(list):
    """:func:`split_leads`'s runs, and the offset of every lead's ``- `` (``starts``)."""

    starts: list[int]


def split_leads(text: str, pieces: int) -> Runs | None:
    """Cut a leads file written the usual way into about ``pieces`` runs of whole leads.

    Each run is ``(start, end, first lead's index, leads in it)``: ``text[start:end]`` is
    whole lines, from the line of a lead's ``- `` to the line before the next run's.
    Parsed after a ``leads:`` line, a run gives the same leads as the whole file, and
    the caller checks that it holds as many leads as it should (a ``- `` at the item
    column inside a quoted text would break that, and the caller then parses whole).
    None when the file is not of the form :meth:`LeadLines.scan` reads: only comments
    before ``leads:``, a block list under it, nothing at the top level after it.
    """
    top = re.search(r"(?m)^leads[ \t]*:[ \t]*(?:#.*)?$", text)
    if top is None or re.search(r"(?m)^(?!#)[^\s]", text[:top.start()]):
        return None
    first = re.compile(r"\n([ \t]*)- ").search(text, top.end())
    if first is None or re.search(r"\n(?!#)[^\s]", text[top.end():first.start() + 1]):
        return None
    if re.compile(r"\n[^\s#]").search(text, top.end()):
        return None
    indent = first.group(1)
    lines = [m.start() + 1 for m in re.compile("\n" + re.escape(indent) + "- ").finditer(text, top.end())]
    if not lines:
        return None
    runs = Runs()
    # What LeadLines.scan would find, once the parser has confirmed the count.
    runs.starts = [at + len(indent) for at in lines]
    if len(lines) < pieces or pieces < 2:
        runs.append((lines[0], len(text), 0, len(lines)))
        return runs
    size = (len(text) - lines[0]) / pieces
    at = 0
    for k in range(1, pieces + 1):
        if k == pieces:
            nxt = len(lines)
        else:
            nxt = bisect_right(lines, lines[0] + k * size, at + 1)
            if nxt >= len(lines):
                nxt = len(lines)
        if nxt <= at:
            continue
        end = lines[nxt] if nxt < len(lines) else len(text)
        runs.append((lines[at], end, at, nxt - at))
        at = nxt
        if at >= len(lines):
            break
    return runs
