"""Where each lead is in a leads file's text: the one scan of it.

A leads file written as people and relead write it (a block list under
``leads:``, each lead starting with ``-`` at one indentation) can be read line
by line, far faster than a parser's event walk. :func:`scan` finds the ``leads:``
key and where each lead's lines start (:class:`Layout`); what it finds is
trusted only when it holds as many leads as the parser found. It serves three
callers:

* locating problems: :class:`LeadLines` gives the line of a key of a lead
  (PyYAML's walk, :func:`relead.read.yamlparse.locate`, is exact but takes seconds
  on a 100,000-lead file, and a big import can produce thousands of warnings);
* parsing in several processes: :func:`split_leads` cuts the file into runs of
  whole leads;
* editing in place (:mod:`relead.intake.leads_text`): one lead's lines, the end
  of the list, the file's indentation and spacing.

A file laid out otherwise (flow style, tabs, something after the list) raises
:class:`LayoutError`: locating falls back to the walk, parsing to one process,
and an edit is refused with the reason.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass

__all__ = ["LayoutError", "Layout", "scan", "check_rest", "LEAD_DASH", "LeadLines", "Runs", "split_leads"]


class LayoutError(ValueError):
    """The text is laid out in a way an in-place edit cannot handle (or the edit did not check out)."""


@dataclass(frozen=True)
class Layout:
    """Where things are in a leads file, as character offsets into ``text`` (the file without a BOM)."""

    text: str
    key_start: int                # the `leads:` line
    key_end: int                  # ... and the end of that line (after its newline)
    flow_empty: bool              # written `leads: []`
    starts: tuple[int, ...]       # where each lead's `-` line starts
    item_indent: int              # column of each lead's `-`
    key_indent: int               # column of the first lead's keys
    blank_between: bool           # leads are separated by blank lines
    newline: str
    bom: bool

    def block(self, index: int) -> tuple[int, int]:
        """Offsets of lead ``index``: from its `-` line to the next lead's (or the end of the file)."""
        end = self.starts[index + 1] if index + 1 < len(self.starts) else len(self.text)
        return self.starts[index], end


_LEADS_KEY = re.compile(r"leads[ \t]*:(?P<rest>[^\n]*?)\r?(?:\n|$)")
LEAD_DASH = re.compile(r"(?P<ind> *)-(?P<gap>[ ]+)(?P<first>[^\s#])|(?P<ind2> *)-[ \t]*(?:#.*)?\r?\n?$")
_FIRST_CONTENT = re.compile(r"^(?P<ind>[ \t]*)(?=[^ \t\r\n#])", re.MULTILINE)


def scan(text: str, *, whole: bool = True) -> Layout:
    """Find the ``leads:`` list and where each lead starts; :class:`LayoutError` if it is not a block list.

    Comments and blank lines aside, only lines indented no deeper than the leads' ``-``
    matter; a document start (``---``) or a directive (``%``) may come before ``leads:``.
    Not ``whole``: that no line after the first lead is something else is left to
    :func:`check_rest` (a tenth of a second at 100,000 leads, which parsing can go without).
    """
    bom = text.startswith("\ufeff")
    if bom:
        text = text[1:]
    first_nl = text.find("\n")
    newline = "\r\n" if first_nl > 0 and text[first_nl - 1] == "\r" else "\n"
    key = None
    for m in _FIRST_CONTENT.finditer(text):
        line_end = text.find("\n", m.start())
        line = text[m.start(): len(text) if line_end < 0 else line_end + 1]
        if line.startswith("---") and not line[3:].strip() or line.startswith("%"):
            continue
        if m.group("ind"):
            raise LayoutError(f"line {text.count(chr(10), 0, m.start()) + 1}: expected `leads:` as the first key")
        key = _LEADS_KEY.match(text, m.start())
        if not key:
            raise LayoutError(f"line {text.count(chr(10), 0, m.start()) + 1}: expected `leads:` as the first key")
        break
    if key is None:
        raise LayoutError("the file has no `leads:` key")
    rest = re.sub(r"(^|[ \t])#.*$", "", key.group("rest")).strip()
    if rest not in ("", "[]", "~", "null", "Null", "NULL"):
        raise LayoutError(f"line {text.count(chr(10), 0, key.start()) + 1}: the leads are written in flow style "
                          "(`leads: [...]`); write one `- id:` block per lead")
    pos = key.end()
    # The first content line after `leads:` says how deep the leads are.
    m = _FIRST_CONTENT.search(text, pos)
    starts: list[int] = []
    item_indent, key_indent = 2, None
    if m is not None:
        if rest:
            raise LayoutError(f"line {text.count(chr(10), 0, m.start()) + 1}: more content after `leads: {rest}`")
        if "\t" in m.group("ind"):
            raise LayoutError(f"line {text.count(chr(10), 0, m.start()) + 1}: indented with a tab")
        item_indent = len(m.group("ind"))
        item = _item(item_indent)
        if not re.compile(item).match(text, m.start()):
            raise LayoutError(f"line {text.count(chr(10), 0, m.start()) + 1}: something other than a lead "
                              "follows the leads")
        # Two searches for a line start, in C, not a look at every line in Python: the first line
        # as shallow as the leads' `-` that is not one of them (check_rest), then those lines.
        starts = [hit.start() + 1 for hit in re.compile(r"\n(?=%s)" % item).finditer(text, m.start() - 1)]
        d = LEAD_DASH.match(text, starts[0])
        if d and d.group("first"):
            key_indent = d.end("gap") - starts[0]
    if key_indent is None:
        key_indent = item_indent + 2
    blank_between = True
    if len(starts) > 1:
        blank_between = any(_blank_before(text, s) for s in starts[1:50])
    layout = Layout(text, key.start(), key.end(), rest == "[]", tuple(starts), item_indent, key_indent,
                    blank_between, newline, bom)
    if whole and starts:
        check_rest(layout)
    return layout


def _item(indent: int) -> str:
    return "[ ]{%d}-(?:[ \t]|\r?\n|\r?$)" % indent


def check_rest(layout: Layout) -> None:
    """:class:`LayoutError` if a line after the first lead, as shallow as the leads' ``-``, is not one."""
    text, indent = layout.text, layout.item_indent
    other = re.compile(r"\n(?=[ \t]{0,%d}[^ \t\r\n#])(?!%s)" % (indent, _item(indent))).search(
        text, layout.starts[0] - 1)
    if other is not None:
        line = text.count("\n", 0, other.start() + 1) + 1
        raise LayoutError(f"line {line}: something other than a lead follows the leads")


def _blank_before(text: str, start: int) -> bool:
    """Is there a blank line between the previous lead's last line and ``start`` (comments aside)?"""
    pos = start
    while pos > 0:
        prev = text.rfind("\n", 0, pos - 1)
        line = text[prev + 1:pos]
        if not line.strip():
            return True
        if not line.lstrip().startswith("#"):
            return False
        pos = prev + 1
    return False


class LeadLines:
    """Item and key lines of ``leads:`` in one file's text."""

    def __init__(self, text: str, starts: list[int], layout: Layout | None = None):
        self.text = text
        self.starts = starts      # offset of each lead's `- `
        self.layout = layout      # what scan() found, when it was kept: an edit of the file starts from it
        self._lines_before: list[int] | None = None     # newlines before each block of _BLOCK characters

    @classmethod
    def scan(cls, text: str, count: int) -> "LeadLines | None":
        """The leads' lines, if :func:`scan` finds exactly ``count`` leads (as the parser did)."""
        try:
            layout = scan(text)
        except LayoutError:
            return None
        if len(layout.starts) != count:
            return None
        return cls(layout.text, [at + layout.item_indent for at in layout.starts])

    def _line_at(self, offset: int) -> int:
        # Newlines counted in blocks, not listed: a list of every newline's offset would be two
        # million numbers (80 MB) for a 100,000-lead file, kept as long as the command runs.
        text, before = self.text, self._lines_before
        if before is None:
            before, count = [], 0
            for start in range(0, len(text) + 1, _BLOCK):
                before.append(count)
                count += text.count("\n", start, start + _BLOCK)
            self._lines_before = before
        offset = max(offset, 0)
        block = min(offset // _BLOCK, len(before) - 1)
        return before[block] + text.count("\n", block * _BLOCK, offset) + 1

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


_BLOCK = 1 << 16


class Runs(list):
    """:func:`split_leads`'s runs, the offset of every lead's ``- `` (``starts``) and the file's layout."""

    starts: list[int]
    layout: Layout


def split_leads(text: str, pieces: int, *, whole: bool = True) -> Runs | None:
    """Cut a leads file written the usual way into about ``pieces`` runs of whole leads.

    Each run is ``(start, end, first lead's index, leads in it)``: ``text[start:end]`` is
    whole lines, from the line of a lead's ``-`` to the line before the next run's.
    Parsed after a ``leads:`` line, a run gives the same leads as the whole file, and
    the caller checks that it holds as many leads as it should (a ``-`` at the item
    column inside a quoted text would break that, and the caller then parses whole).
    None when :func:`scan` cannot read the file, or it has no leads. ``whole``: as :func:`scan`'s
    (without it, a line after the leads is found by the runs that hold it: they do not parse).
    """
    try:
        layout = scan(text, whole=whole)
    except LayoutError:
        return None
    shift = 1 if layout.bom else 0          # the layout's offsets are into the text without it
    lines = [at + shift for at in layout.starts]
    if not lines:
        return None
    runs = Runs()
    # What LeadLines.scan would find, once the parser has confirmed the count.
    runs.starts = [at + layout.item_indent for at in lines]
    runs.layout = layout
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
