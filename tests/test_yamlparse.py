"""relead.read.yamlparse: the fast parser gives PyYAML's values, and lines are found right.

The differential property builds YAML documents from every construct the formats
use (and the plain scalars on which YAML 1.1 and 1.2 disagree) and holds
``parse`` to ``yaml.load(text, Loader=yaml.CSafeLoader)``: same values, same
types, recursively.
"""

from __future__ import annotations

import datetime as dt
import math
import os

import pytest
import yaml
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st

from relead.read import yamlparse
from relead.read.yamlparse import YamlSyntaxError, duplicate_keys, locate, parse

EXAMPLES = int(os.environ.get("YAMLPARSE_EXAMPLES", "500"))


# ---------------------------------------------------------------------------
# Comparing values: same types and values, recursively; NaN equals NaN.
# ---------------------------------------------------------------------------

def same(a, b) -> bool:
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return len(a) == len(b) and all(same(ka, kb) and same(va, vb)
                                        for (ka, va), (kb, vb) in zip(a.items(), b.items()))
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, float):
        if math.isnan(a) or math.isnan(b):
            return math.isnan(a) and math.isnan(b)
        return a == b and math.copysign(1, a) == math.copysign(1, b)
    if isinstance(a, dt.datetime):
        return a == b and a.utcoffset() == b.utcoffset() and a.replace(tzinfo=None) == b.replace(tzinfo=None)
    return a == b


def test_same_is_strict():
    assert same({"a": [1, 2.0, float("nan")]}, {"a": [1, 2.0, float("nan")]})
    assert not same(1, 1.0)
    assert not same(True, 1)
    assert not same(dt.date(2026, 1, 5), dt.datetime(2026, 1, 5))
    assert not same(0.0, -0.0)
    utc = dt.datetime(2026, 1, 5, 8, tzinfo=dt.timezone.utc)
    plus2 = dt.datetime(2026, 1, 5, 10, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    assert utc == plus2 and not same(utc, plus2)
    assert not same({"a": 1, "b": 2}, {"b": 2, "a": 1})


def pyyaml(text):
    return yaml.load(text, Loader=yaml.CSafeLoader)


class _DocumentedLoader(yaml.CSafeLoader):
    """CSafeLoader with relead's one documented difference: a plain timestamp PyYAML
    cannot build (2026-02-30, 25:00:00, an offset of +24:00) stays text instead of
    raising a bare ValueError."""


def _timestamp_or_text(loader, node):
    try:
        return yaml.constructor.SafeConstructor.construct_yaml_timestamp(loader, node)
    except ValueError:
        return loader.construct_scalar(node)


_DocumentedLoader.add_constructor("tag:yaml.org,2002:timestamp", _timestamp_or_text)


def assert_same_as_pyyaml(text):
    """parse(text) == CSafeLoader's value; where PyYAML fails, parse raises YamlSyntaxError."""
    try:
        expected = yaml.load(text, Loader=_DocumentedLoader)
    except Exception as exc:  # noqa: BLE001 - PyYAML's failures are the reference too
        with pytest.raises(YamlSyntaxError) as info:
            parse(text)
        assert info.value.line >= 1, (text, exc)
        return
    got = parse(text)
    assert same(got, expected), f"\n{text}\nparse:  {got!r}\npyyaml: {expected!r}"


# ---------------------------------------------------------------------------
# Scalars. Each is (text, flow_ok): flow_ok when it may stand inside [ ] and { }.
# ---------------------------------------------------------------------------

TRICKY = [
    "012", "0o17", "0O17", "1:30", "190:20:30", "-1:30", "1e5", "1E5", "1e+5", "1.0e+5", "1.0e5", "1.5E-3",
    "12e03", ".inf", "-.inf", "+.inf", ".Inf", ".INF", ".nan", ".NaN", ".NAN", "-.nan", "0x1F", "0X1F",
    "0x_1F", "0b101", "0B101", "-0b11", "0x_", "0b_", "0o", "2026-1-5", "2026-01-5", "2026-1-5T1:02:03",
    "=", "<<", "1_000", "1__0", "_1", "-_2", "+_3", "1_", "0_", "00", "09", "08.5", "01.5", "000.", "0.",
    "1.", ".5", "+.5", "-.5", "._5", "_.5", "+0", "-0", "+12", "-12", "0.1_0", "1,000", "$5,000.",
    "1.2.3", "3.14e", "inf", "nan", "NaN", "y", "n", "Y", "N", "+", "0o8", "1:60", "1:3a",
    "12:30:45", "2026-01-05 10:00", "20260105", "-", "--", "---x", "...x", "a:b", "a#b", "@x", "`x",
]
TRICKY_KEYS = ["on", "off", "yes", "no", "Yes", "NO", "1", "012", "0x1F", "1:30", "1e5", "~", "null",
               "true", "False", "2026-01-05", "1.5", "-3", "_1"]

WORD_CHARS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789éàüñçøßÉÅłŽ😀🚀✓€中文字日本語한국"
words = st.text(alphabet=WORD_CHARS, min_size=1, max_size=8)
phrases = st.lists(words, min_size=1, max_size=4).map(" ".join)
# Bits that force quoting in plain scalars, or that plain scalars read differently.
AWKWARD = [": ", " #", "#", "- ", "-", "@", "`", "'", '"', "[", "]", "{", "}", ",", "&", "*", "!", "|",
           ">", "%", "?", ":", "\\", "  ", " ", "yes", "1:30", "012", "~", "null", "\u00a0", "\u3000"]
awkward_text = st.lists(st.one_of(words, st.sampled_from(AWKWARD)), min_size=0, max_size=6).map("".join)

# Characters a YAML stream may hold raw in a quoted scalar (no line breaks, tabs or BOM).
_RAW_OK = lambda c: (c == " " or "\x21" <= c <= "\x7e" or "\xa0" <= c <= "\ud7ff"  # noqa: E731
                     or ("\ue000" <= c <= "\ufffd" and c not in "\u2028\u2029\ufeff")
                     or c >= "\U00010000")


def single_quoted(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def double_quoted(text: str) -> str:
    out = []
    for c in text:
        if c == "\\":
            out.append("\\\\")
        elif c == '"':
            out.append('\\"')
        elif c == "\n":
            out.append("\\n")
        elif c == "\t":
            out.append("\\t")
        elif _RAW_OK(c):
            out.append(c)
        elif ord(c) <= 0xFF:
            out.append(f"\\x{ord(c):02x}")
        elif ord(c) <= 0xFFFF:
            out.append(f"\\u{ord(c):04x}")
        else:
            out.append(f"\\U{ord(c):08x}")
    return '"' + "".join(out) + '"'


any_text = st.text(st.characters(exclude_categories=("Cs",)), max_size=15)
raw_text = st.text(st.characters(exclude_categories=("Cs",)).filter(_RAW_OK), max_size=15)


@st.composite
def quoted(draw, text=None):
    if text is None:
        text = draw(st.one_of(phrases, awkward_text, raw_text))
    if draw(st.booleans()) and all(_RAW_OK(c) for c in text):
        return single_quoted(text), True
    return double_quoted(text), True


def _date_text(d: dt.date) -> str:
    return f"{d.year:04d}-{d.month:02d}-{d.day:02d}"


dates = st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2200, 12, 31))
OFFSETS = [None, "Z", "+00:00", "+02:00", "-05:00", "+05:30", "-03:30", "+14:00", "+2", "-7"]


@st.composite
def datetimes(draw):
    d = draw(dates)
    h, m, s = draw(st.integers(0, 23)), draw(st.integers(0, 59)), draw(st.integers(0, 59))
    frac = draw(st.sampled_from(["", ".5", ".25", ".123456", ".0"]))
    sep = draw(st.sampled_from(["T", "t", " "]))
    off = draw(st.sampled_from(OFFSETS))
    text = f"{_date_text(d)}{sep}{h:02d}:{m:02d}:{s:02d}{frac}"
    if off is not None:
        text += (" " if sep == " " and draw(st.booleans()) else "") + off
    return text


@st.composite
def times(draw):
    """Times of day as settings write them ("09:00"), with seconds and fractions too."""
    h, m, sec = draw(st.integers(0, 29)), draw(st.integers(0, 61)), draw(st.integers(0, 61))
    text = draw(st.sampled_from(["{h:02d}:{m:02d}", "{h}:{m:02d}", "{h:02d}:{m:02d}:{s:02d}",
                                 "{h:02d}:{m:02d}:{s:02d}.5", "{h}:{m:02d}:{s:02d}"]))
    return text.format(h=h, m=m, s=sec)


@st.composite
def int_text(draw):
    n = draw(st.one_of(st.integers(-10**6, 10**6), st.integers(-2**63, 2**63), st.integers()))
    form = draw(st.sampled_from(["plain", "plus", "underscore"]))
    if form == "plus" and n >= 0:
        return f"+{n}"
    if form == "underscore":
        return f"{n:_}"
    return str(n)


@st.composite
def float_text(draw):
    x = draw(st.floats(allow_nan=False, allow_infinity=False, width=64))
    form = draw(st.sampled_from(["repr", "fixed", "exp", "special"]))
    if form == "special":
        return draw(st.sampled_from([".inf", "-.inf", "+.inf", ".Inf", "-.INF", ".nan", ".NaN", ".NAN"]))
    if form == "fixed":
        return f"{x:.4f}"
    if form == "exp":
        return f"{x:.3e}"
    return repr(x)


def plain(strategy):
    return strategy.map(lambda t: (t, True))


def _plain_block_ok(text: str) -> bool:
    # A plain scalar outside flow context: not empty, no leading or trailing blanks,
    # no ': ' or ' #', not starting with an indicator.
    return (text.strip() == text and text != "" and ": " not in text and " #" not in text
            and not text.endswith(":") and text[0] not in "-?:,[]{}#&*!|>'\"%@`")


_scalars = st.one_of(
    plain(st.builds(_date_text, dates)),                                   # 2026-01-05
    dates.flatmap(lambda d: quoted(_date_text(d))),                        # '2026-01-05', "2026-01-05"
    plain(datetimes()),
    plain(times()),
    times().flatmap(quoted),                                               # "09:00", '12:30:45'
    plain(int_text()),
    plain(float_text()),
    plain(st.sampled_from(["~", "null", "Null", "NULL"])),
    st.just(("", False)),                                                  # empty: null
    plain(st.sampled_from(["true", "false", "True", "False", "TRUE", "FALSE",
                           "yes", "no", "Yes", "No", "YES", "NO", "on", "off", "On", "Off", "ON", "OFF"])),
    plain(phrases),                                                        # unicode words
    quoted(),
    awkward_text.flatmap(quoted),
    plain(st.sampled_from(TRICKY).filter(lambda t: t not in ("-", "--"))),
    st.sampled_from(TRICKY).flatmap(quoted),
    awkward_text.filter(_plain_block_ok).map(lambda t: (t, False)),       # plain, block context only
)
def _named(strategy, name):
    """The same strategy with a short repr (nested reprs grow past Hypothesis' warning size)."""
    @st.composite
    def draw_it(draw):
        return draw(strategy)
    draw_it.__name__ = draw_it.__qualname__ = name
    return draw_it()


scalars = _named(_scalars, "scalars")
flow_scalars = _named(_scalars.filter(lambda s: s[1] and not any(c in s[0] for c in ",[]{}")
                                     or s[0][:1] in "'\""), "flow_scalars")


# ---------------------------------------------------------------------------
# Documents: nested block maps and lists, flow lists and maps, block scalars.
# ---------------------------------------------------------------------------

keys = st.one_of(st.from_regex(r"[a-z][a-z0-9_]{0,9}", fullmatch=True), st.sampled_from(TRICKY_KEYS),
                 phrases.filter(_plain_block_ok), quoted())
keys = keys.map(lambda k: k if isinstance(k, str) else k[0])
keys = _named(keys, "keys")

flow_nodes = st.recursive(
    flow_scalars.map(lambda s: ("scalar", s[0])),
    lambda inner: st.one_of(
        st.lists(inner, max_size=4).map(lambda xs: ("flowseq", xs)),
        st.lists(st.tuples(st.from_regex(r"[a-z][a-z0-9_]{0,6}", fullmatch=True), inner), max_size=4,
                 unique_by=lambda kv: kv[0]).map(lambda kvs: ("flowmap", kvs)),
    ),
    max_leaves=8,
).filter(lambda n: n[0] != "scalar")
flow_nodes = _named(flow_nodes, "flow_nodes")

block_line = st.text(st.characters(exclude_categories=("Cs",)).filter(_RAW_OK), min_size=1, max_size=20)


@st.composite
def block_scalars(draw):
    indicator = draw(st.sampled_from(["|", "|-", "|+", ">", ">-", ">+"]))
    first = draw(block_line.filter(lambda t: not t.startswith(" ")))
    rest = draw(st.lists(st.one_of(block_line, st.just("")), max_size=4))
    trailing = draw(st.lists(st.just(""), max_size=2))
    return ("block", indicator, [first] + rest + trailing)


multi_line_plain = st.lists(phrases, min_size=2, max_size=3).map(lambda ws: ("plainml", ws))

leaves = st.one_of(scalars.map(lambda s: ("scalar", s[0])), flow_nodes, block_scalars(), multi_line_plain)


def _unique(kvs):
    return list({k: (k, v) for k, v in kvs}.values())


nodes = st.recursive(
    leaves,
    lambda inner: st.one_of(
        st.lists(st.tuples(keys, inner), min_size=1, max_size=5).map(_unique).map(lambda kvs: ("map", kvs)),
        st.tuples(st.lists(inner, min_size=1, max_size=4), st.booleans()).map(lambda x: ("seq",) + x),
    ),
    max_leaves=25,
)
documents = _named(st.lists(st.tuples(keys, nodes), min_size=1, max_size=6).map(_unique)
                   .map(lambda kvs: ("map", kvs)), "documents")


def inline(node) -> str:
    kind = node[0]
    if kind == "scalar":
        return node[1]
    if kind == "flowseq":
        return "[" + ", ".join(inline(n) for n in node[1]) + "]"
    return "{" + ", ".join(f"{k}: {inline(v)}" for k, v in node[1]) + "}"


def after_indicator(node, indent: int) -> str:
    """What follows `key:` or `-` for ``node`` whose parent is at ``indent``."""
    kind = node[0]
    if kind == "scalar":
        return (" " + node[1] if node[1] else "") + "\n"
    if kind in ("flowseq", "flowmap"):
        return " " + inline(node) + "\n"
    if kind == "plainml":
        pad = " " * (indent + 2)
        return " " + node[1][0] + "\n" + "".join(pad + w + "\n" for w in node[1][1:])
    if kind == "block":
        pad = " " * (indent + 2)
        return " " + node[1] + "\n" + "".join((pad + line if line else "") + "\n" for line in node[2])
    if kind == "map":
        return "\n" + render_map(node[1], indent + 2)
    items, same_indent = node[1], node[2]
    return "\n" + render_seq(items, indent if same_indent else indent + 2)


def render_map(kvs, indent: int) -> str:
    pad = " " * indent
    return "".join(f"{pad}{k}:{after_indicator(v, indent)}" for k, v in kvs)


def render_seq(items, indent: int) -> str:
    pad = " " * indent
    out = []
    for item in items:
        if item[0] == "map":   # compact: `- key: value` then the other keys under it
            out.append(pad + "- " + render_map(item[1], indent + 2)[indent + 2:])
        else:
            out.append(pad + "-" + after_indicator(item, indent))
    return "".join(out)


def render(doc, start: str = "") -> str:
    return start + render_map(doc[1], 0)


# ---------------------------------------------------------------------------
# The differential property
# ---------------------------------------------------------------------------

@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(doc=documents, start=st.sampled_from(["", "---\n", "# a comment\n"]))
@example(doc=("map", [("a", ("scalar", "2026-01-05"))]), start="")
@example(doc=("map", [("a", ("scalar", "'2026-01-05'")), ("b", ("scalar", '"2026-01-05"'))]), start="")
@example(doc=("map", [("on", ("scalar", "yes")), ("b", ("scalar", "012"))]), start="")
def test_parse_matches_pyyaml(doc, start):
    text = render(doc, start)
    event("fast path" if yamlparse.fast_parser_available() and not yamlparse._is_risky(text) else "PyYAML")
    assert_same_as_pyyaml(text)


@settings(max_examples=EXAMPLES, deadline=None)
@given(token=st.sampled_from(TRICKY) | st.text(st.sampled_from("0123456789_+-.:eExXoObB"), min_size=1, max_size=7),
       where=st.sampled_from(["a: {}\n", "- {}\n", "a: [{}]\n", "a: [x, {}, y]\n", "{{a: {}}}\n",
                              "{}: a\n", "a:\n  - {}\n  - b\n", "a: {} # note\n"]),
       clean=st.booleans())
def test_plain_scalars_match_pyyaml(token, where, clean):
    """Every plain token, in every position our formats put a scalar, reads as PyYAML reads it."""
    text = where.format(token)
    if not clean:  # the same, in a document that PyYAML parses anyway
        text += "z: yes\n" if not text.startswith(("-", "{")) else ""
    assert_same_as_pyyaml(text)


@pytest.mark.parametrize("text", [
    "a: café\nb: 😀 ok\nc: 中文字\n",
    "a: |+\n  keep\n\n\nb: 1\n",
    "a: >-\n  one\n  two\n\n  three\n    more\n  back\n",
    "a: [1, '2', \"3\", {x: 2026-01-05, y: ~}]\n",
    "a:\n- 1\n- - 2\n  - 3\n- k: v\n  j: w\n",
    "a: x\u2028y\n",             # a Unicode line break in a plain scalar (PyYAML refuses it)
    "a: [x\u2028]\n",
    "\ufeffleads: []\n",         # a byte-order mark, as Windows editors save UTF-8
    'a: "\\ud83d\\ude00"\n',      # a surrogate pair as escapes (PyYAML refuses it)
    "a: 0x_\n", "a: 0b_\n",      # PyYAML's int constructor raises a bare ValueError
    "a: !!int nope\n", "a: !!float nope\n", "a: !!bool nope\n", "a: !!timestamp nope\n",
    "a: x\x07y\n", "a: 'x\x00'\n", "a: x\x85y\n", "a: \ufffe\n", "a: 'x\x1b'\n",   # raw control characters
    "a: yes\r\nb: 012\r\n",                                                  # Windows line endings
    "a: 2026-01-05T10:00\n", "a: [2026-1-5 1:02:03]\n", "a: [x:]\n", "- :\n", "a: [:x]\n",
])
def test_known_differences_between_the_parsers(text):
    assert_same_as_pyyaml(text)


# ---------------------------------------------------------------------------
# Impossible dates: PyYAML raises a bare ValueError; relead keeps the text (documented)
# ---------------------------------------------------------------------------

@settings(max_examples=100, deadline=None)
@given(year=st.integers(1900, 2200),
       month_day=st.sampled_from([(2, 30), (2, 31), (4, 31), (6, 31), (9, 31), (11, 31), (13, 1),
                                  (0, 10), (12, 32), (5, 0), (99, 99)]),
       risky=st.booleans())
def test_impossible_plain_date_stays_text(year, month_day, risky):
    token = f"{year:04d}-{month_day[0]:02d}-{month_day[1]:02d}"
    text = f"a: {token}\nb: [{token}]\n" + ("c: yes\n" if risky else "")
    with pytest.raises(ValueError):
        pyyaml(text)
    value = parse(text)
    assert value["a"] == token and value["b"] == [token]
    assert type(value["a"]) is str


def test_raw_control_character_names_its_line():
    with pytest.raises(YamlSyntaxError) as info:
        parse("a: 1\nb: 2\nc: x\x00y\n")
    assert info.value.line == 3 and "U+0000" in info.value.message


def test_impossible_date_example():
    with pytest.raises(ValueError):
        pyyaml("d: 2026-02-30\n")
    assert parse("d: 2026-02-30\n") == {"d": "2026-02-30"}
    assert parse("d: 2026-02-30\ne: yes\n") == {"d": "2026-02-30", "e": True}   # the PyYAML path
    assert parse("d: 2026-02-28\n") == {"d": dt.date(2026, 2, 28)}


# ---------------------------------------------------------------------------
# locate, duplicate_keys, syntax errors, the fast path
# ---------------------------------------------------------------------------

LOCATE_DOC = """\
# comment
leads:
  - id: a
    name: Ann
    reached:
      new: 2026-01-05
      contacted: 2026-01-07
  - id: b
    tags: [x, y]
    lost: {date: 2026-02-01, reason: price}
    notes: |
      two
      lines
    after: 1
settings:
  team:
    sam: {name: Sam}
"""


def test_locate_keys_nested_keys_and_items():
    paths = [("leads",), ("leads", 0), ("leads", 0, "id"), ("leads", 0, "name"),
             ("leads", 0, "reached"), ("leads", 0, "reached", "contacted"), ("leads", 1),
             ("leads", 1, "tags"), ("leads", 1, "tags", 1), ("leads", 1, "lost", "reason"),
             ("leads", 1, "notes"), ("leads", 1, "after"), ("settings", "team", "sam", "name")]
    got = locate(LOCATE_DOC, paths)
    assert got == {("leads",): 2, ("leads", 0): 3, ("leads", 0, "id"): 3, ("leads", 0, "name"): 4,
                   ("leads", 0, "reached"): 5, ("leads", 0, "reached", "contacted"): 7,
                   ("leads", 1): 8, ("leads", 1, "tags"): 9, ("leads", 1, "tags", 1): 9,
                   ("leads", 1, "lost", "reason"): 10, ("leads", 1, "notes"): 11,
                   ("leads", 1, "after"): 14, ("settings", "team", "sam", "name"): 17}


def test_locate_missing_paths_give_the_nearest_ancestor():
    got = locate(LOCATE_DOC, [("leads", 0, "email"), ("leads", 1, "lost", "temperature"),
                              ("leads", 7, "id"), ("nothing", "here"), ()])
    assert got == {("leads", 0, "email"): 3, ("leads", 1, "lost", "temperature"): 10,
                   ("leads", 7, "id"): 2, ("nothing", "here"): 2, (): 2}   # the document starts on line 2


def test_locate_matches_integer_keys_by_text_and_survives_broken_yaml():
    # A mapping key that YAML reads as a number is named by its text; ints in paths are list indexes.
    assert locate("1: a\n2:\n  x: b\n", [("2", "x"), ("1",)]) == {("2", "x"): 3, ("1",): 1}
    # Broken after line 2: what was walked before the error still counts.
    assert locate("a: 1\nb: 2\nc: [\n", [("b",), ("c", 0)]) == {("b",): 2, ("c", 0): 3}


def test_duplicate_keys_gives_both_lines():
    text = "leads:\n  - id: a\n    name: A\n    email: a@x.example\n    name: B\n  - id: b\n    name: C\ntop: 1\ntop: 2\n"
    assert duplicate_keys(text) == [(("leads", 0, "name"), 3, 5), (("top",), 8, 9)]
    assert duplicate_keys("a: 1\nb: {x: 1, x: 2}\n") == [(("b", "x"), 2, 2)]
    assert duplicate_keys("a: 1\nb: 2\n") == []
    # parse_checked reports them whichever parser ran, and keeps PyYAML's value (the last).
    value, dups = yamlparse.parse_checked("a: 1\na: 2\n")
    assert value == {"a": 2} and dups == [(("a",), 1, 2)]


@pytest.mark.parametrize("text,line", [
    ("a: 1\nb: [1, 2\n", 3),                     # unclosed flow list: found at the end
    ("a: 1\nb: x: y\n", 2),                      # an unquoted ': ' in a value
    ("a: 1\n  b: 2\nc: 3\n", 2),                 # bad indentation
    ("a: 'open\nb: 2\n", 3),                     # unclosed quote
    ("leads:\n  - id: a\n  name: x\n", 3),       # a key out of the list item
    ("a: 1\n\tb: 2\n", 2),                       # a tab as indentation
    ("a: *nothing\n", 1),                        # an alias with no anchor
])
def test_syntax_errors_name_the_line(text, line):
    with pytest.raises(YamlSyntaxError) as info:
        parse(text)
    assert info.value.line == line, info.value.message
    assert info.value.message.startswith("YAML syntax error")


def test_the_example_leads_take_the_fast_path(example_root):
    text = (example_root / "leads.yaml").read_text(encoding="utf-8")
    assert len(text) > 10_000
    assert not yamlparse._is_risky(text), [r.search(text) for r in yamlparse._RISKY]
    assert same(parse(text), pyyaml(text))


def test_company_names_and_amounts_are_not_risky():
    assert not yamlparse._is_risky("company: Watson Print & Mail\nnote: cannot sign over $5,000.\n")
    assert yamlparse._is_risky("a: &anchor x\nb: *anchor\n")
    assert yamlparse._is_risky("a: [1, 012]\n")
    assert yamlparse._is_risky("a: yes\n")


def test_duplicate_keys_under_a_repeated_key_are_not_repeats():
    text = "a:\n  x: 1\n  y: 2\na:\n  x: 3\n  x: 4\n"
    assert duplicate_keys(text) == [(("a",), 1, 4), (("a", "x"), 5, 6)]
