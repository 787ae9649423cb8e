"""The one scan of a leads file's text (relead.read.leadlines): where each lead starts, for
locating problems, for cutting the file between workers and for editing one lead in place."""

from __future__ import annotations

import re
import textwrap

import pytest
from hypothesis import given
from hypothesis import strategies as st

from relead.intake.leads_text import item_text, parse_items
from relead.read.leadlines import LayoutError, LeadLines, scan, split_leads
from relead.read.yamlparse import locate, parse
from tests.paths import EXAMPLE

FILE = """\
# header comment
leads:

  # --- group one ---

  - id: a   # first
    name: A
    email: a@x.example
    notes: |
      # inside the block
      - not an item

  - id: b
    company: B
    reached:
      new: 2026-01-01
    touches: 2

  # --- group two ---

  - id: c
    name: C
    email:
"""


def test_scan_finds_each_lead():
    lay = scan(FILE)
    assert len(lay.starts) == 3 and lay.item_indent == 2 and lay.key_indent == 4 and lay.blank_between
    assert [parse_items(item_text(lay, i))[0]["id"] for i in range(3)] == ["a", "b", "c"]


@pytest.mark.parametrize("text", ["leads: [{id: a}]\n", "other: 1\nleads:\n", "leads:\n  - id: a\n...\n",
                                  "leads:\n  - id: a\nextra: 1\n"])
def test_layouts_that_cannot_be_edited_in_place(text):
    with pytest.raises(LayoutError):
        scan(text)


@pytest.mark.parametrize("text, line", [("leads:\n  - id: a\n\n  # fine\n name: x\n", 5),
                                        ("leads:\n  - id: a\n  -x: 1\n", 3),
                                        ("leads:\n  - id: a\n\t- id: b\n", 3)])
def test_a_shallow_line_that_is_not_a_lead_is_named_by_its_line(text, line):
    with pytest.raises(LayoutError, match=f"^line {line}: something other than a lead"):
        scan(text)


def test_one_scan_for_locating_for_workers_and_for_edits():
    text = (EXAMPLE / "leads.yaml").read_text(encoding="utf-8")
    layout = scan(text)
    dashes = [at + layout.item_indent for at in layout.starts]
    count = len(parse(text)["leads"])
    assert len(dashes) == count
    assert LeadLines.scan(text, count).starts == dashes == split_leads(text, 3).starts
    assert LeadLines.scan(text, count + 1) is None          # not what the parser found: not trusted
    # A byte order mark moves every offset into the file by one, and no line.
    marked = split_leads("\ufeff" + text, 3)
    assert marked.starts == [at + 1 for at in dashes] and marked[0][0] == layout.starts[0] + 1


@pytest.mark.parametrize("block", [1 << 16, 100])
def test_scanned_lines_match_the_yaml_walk(block, monkeypatch):
    """Large leads files are located by scanning their text: the same lines as the YAML walk
    (with the newlines counted in one block, and in many)."""
    from relead.read import leadlines

    monkeypatch.setattr(leadlines, "_BLOCK", block)
    text = (EXAMPLE / "leads.yaml").read_text(encoding="utf-8")
    text += textwrap.indent("- id: cy-diaz-initech\n  notes: |\n    email: x\n    lost: y\n  email: a@b.example\n"
                            "  lost:\n    note: |\n      reason: z\n    reason: price\n", "  ")
    data = parse(text)["leads"]
    paths = []
    for i, lead in enumerate(data):
        paths += [("leads", i), ("leads", i, "missing"), ("leads", i, "lost", "missing")]
        for key, value in lead.items():
            paths.append(("leads", i, key))
            paths += [("leads", i, key, sub) for sub in (value if isinstance(value, dict) else ())]
    lines = LeadLines.scan(text, len(data))
    assert lines is not None
    assert {p: lines.line(p) for p in paths} == locate(text, paths)


@given(st.text(alphabet="a\n\r-", max_size=60), st.integers(1, 9))
def test_a_line_is_counted_in_blocks_as_it_is_from_the_start(text, block):
    """Newlines are counted a block at a time, not listed: the same line for every offset."""
    from relead.read import leadlines

    before = leadlines._BLOCK
    leadlines._BLOCK = block
    try:
        lines = LeadLines(text, [])
        assert [lines._line_at(at) for at in range(-2, len(text) + 3)] == \
            [text.count("\n", 0, max(at, 0)) + 1 for at in range(-2, len(text) + 3)]
    finally:
        leadlines._BLOCK = before


def test_split_leads_cuts_between_whole_leads():
    text = (EXAMPLE / "leads.yaml").read_text(encoding="utf-8")
    runs = split_leads(text, 3)
    assert len(runs) == 3
    assert runs[0][2] == 0 and runs[-1][1] == len(text)
    for (_s, end, first, count), (start, _e, nxt, _c) in zip(runs, runs[1:]):
        assert end == start and first + count == nxt
        assert re.match(r"[ \t]*- ", text[start:])
    assert sum(r[3] for r in runs) == text.count("\n  - id:")
    # Not of the usual form: something at the top level after the list, or before `leads:`.
    assert split_leads(text + "other: 1\n", 3) is None
    assert split_leads("x: 1\n" + text, 3) is None
    assert split_leads("leads: []\n", 3) is None
