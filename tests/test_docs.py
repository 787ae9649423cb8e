"""docs/formats.md is held to relead.schema.SCHEMAS: every accepted key is documented.

Each SCHEMAS section name appears in exactly one heading of docs/formats.md.
Under it (up to the next heading of the same or higher level) the first
`| key | type | required | default | meaning |` table lists exactly the keys of
that schema, one `` `name` `` per row, and says "yes" under `required` exactly
for the required ones. A key added to the schema without docs fails here, and
so does a documented key the schema no longer has.

The example blocks must be real: every ```yaml block parses, and the blocks
marked ``file=<path>`` put together make a repository that validates with no
errors and no warnings.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from relead.check import check_repository
from relead.schema import SCHEMAS

DOC = Path(__file__).resolve().parents[1] / "docs" / "formats.md"
TABLE_HEADER = ["key", "type", "required", "default", "meaning"]
EXAMPLE_TODAY = dt.date(2026, 11, 22)

_HEADING = re.compile(r"^(#{1,6})[ \t]+(.+?)[ \t#]*$")
_FENCE = re.compile(r"^(`{3,}|~{3,})(.*)$")
_KEY_CELL = re.compile(r"^`([^`]+)`$")


@dataclass(frozen=True)
class Heading:
    level: int
    title: str
    line: int      # index into the document's lines


@dataclass(frozen=True)
class Block:
    info: str      # the fence's info string, e.g. "yaml file=leads.yaml"
    text: str
    line: int      # 1-based line of the opening fence

    @property
    def lang(self) -> str:
        return self.info.split()[0] if self.info.split() else ""

    @property
    def file(self) -> str | None:
        m = re.search(r"(?:^|\s)file=(\S+)", self.info)
        return m.group(1) if m else None


def _scan(lines: list[str]) -> tuple[list[Heading], list[Block], list[bool]]:
    """Headings and fenced blocks; ``in_code[i]`` says whether line i is inside a fence."""
    headings: list[Heading] = []
    blocks: list[Block] = []
    in_code = [False] * len(lines)
    fence: str | None = None
    start, info, body = 0, "", []
    for i, line in enumerate(lines):
        m = _FENCE.match(line)
        if fence is None:
            if m:
                fence, start, info, body = m.group(1), i, m.group(2).strip(), []
                in_code[i] = True
                continue
            h = _HEADING.match(line)
            if h:
                headings.append(Heading(len(h.group(1)), h.group(2).strip(), i))
        else:
            in_code[i] = True
            if m and m.group(1)[0] == fence[0] and len(m.group(1)) >= len(fence) and not m.group(2).strip():
                blocks.append(Block(info, "".join(x + "\n" for x in body), start + 1))
                fence = None
            else:
                body.append(line)
    assert fence is None, f"docs/formats.md:{start + 1}: a code block is never closed"
    return headings, blocks, in_code


LINES = DOC.read_text(encoding="utf-8").splitlines() if DOC.is_file() else []
HEADINGS, BLOCKS, IN_CODE = _scan(LINES)


def _section_of(heading: Heading) -> str | None:
    """The SCHEMAS section a heading documents: the longest section name it contains."""
    names = [name for name in SCHEMAS if name in heading.title]
    return max(names, key=len) if names else None


def _span(heading: Heading) -> tuple[int, int]:
    """Line range under ``heading``: up to the next heading of the same or a higher level."""
    end = len(LINES)
    for other in HEADINGS:
        if other.line > heading.line and other.level <= heading.level:
            end = other.line
            break
    return heading.line + 1, end


def _heading_for(section: str) -> Heading:
    found = [h for h in HEADINGS if _section_of(h) == section]
    assert found, f"docs/formats.md has no heading for `{section}` (e.g. `### {section}`)"
    assert len(found) == 1, (f"docs/formats.md has {len(found)} headings for `{section}`: "
                             + ", ".join(repr(h.title) for h in found))
    return found[0]


def _cells(line: str) -> list[str]:
    text = line.strip()
    if text.startswith("|"):
        text = text[1:]
    if text.endswith("|") and not text.endswith("\\|"):
        text = text[:-1]
    return [c.strip() for c in re.split(r"(?<!\\)\|", text)]


def _key_table(section: str) -> list[tuple[int, list[str]]]:
    """(line, cells) of each row of the first key table under the section's heading."""
    heading = _heading_for(section)
    first, end = _span(heading)
    i = first
    while i < end:
        line = LINES[i]
        if not IN_CODE[i] and line.lstrip().startswith("|") and _cells(line)[:1] == ["key"]:
            assert _cells(line) == TABLE_HEADER, (
                f"docs/formats.md:{i + 1}: the key table of `{section}` must have the columns "
                f"| {' | '.join(TABLE_HEADER)} |")
            assert i + 1 < end and set(LINES[i + 1].replace("|", "").strip()) <= set("-: "), (
                f"docs/formats.md:{i + 2}: expected the table's |---| line")
            rows = []
            i += 2
            while i < end and LINES[i].lstrip().startswith("|") and not IN_CODE[i]:
                rows.append((i + 1, _cells(LINES[i])))
                i += 1
            return rows
        i += 1
    pytest.fail(f"docs/formats.md:{heading.line + 1}: no `| key | type | required | default | meaning |` "
                f"table under the heading {heading.title!r}")


def test_the_document_exists():
    assert DOC.is_file(), "docs/formats.md is missing"
    assert HEADINGS, "docs/formats.md has no headings"


def test_every_heading_documents_at_most_one_section():
    # A section name inside another heading (say "settings.yaml" in a heading about
    # scoring) would make the lookup ambiguous; _heading_for reports it.
    for section in SCHEMAS:
        _heading_for(section)


@pytest.mark.parametrize("section", list(SCHEMAS))
def test_every_key_is_documented(section):
    rows = _key_table(section)
    documented: dict[str, int] = {}
    for line, cells in rows:
        m = _KEY_CELL.match(cells[0]) if cells else None
        assert m, f"docs/formats.md:{line}: write the key as `name` in the first column"
        assert len(cells) == len(TABLE_HEADER), (
            f"docs/formats.md:{line}: expected {len(TABLE_HEADER)} columns, found {len(cells)} "
            "(escape a | inside a cell as \\|)")
        assert m.group(1) not in documented, f"docs/formats.md:{line}: `{m.group(1)}` is listed twice"
        documented[m.group(1)] = line
    keys = [k.name for k in SCHEMAS[section]]
    missing = [k for k in keys if k not in documented]
    extra = [k for k in documented if k not in keys]
    assert not missing, (f"docs/formats.md: `{section}` does not document "
                         f"{', '.join(f'`{k}`' for k in missing)}: add a row per key to its table")
    assert not extra, (f"docs/formats.md: `{section}` documents {', '.join(f'`{k}`' for k in extra)}, "
                       "which relead/schema.py does not accept")


@pytest.mark.parametrize("section", list(SCHEMAS))
def test_required_column_matches_the_schema(section):
    cells_by_key = {_KEY_CELL.match(cells[0]).group(1): (line, cells) for line, cells in _key_table(section)}
    for key in SCHEMAS[section]:
        line, cells = cells_by_key[key.name]
        says_yes = cells[2].lower().startswith("yes")
        assert says_yes == key.required, (
            f"docs/formats.md:{line}: `{key.name}` is {'required' if key.required else 'optional'} "
            f"in relead/schema.py, but the required column says {cells[2]!r}")


def _blocks_under(word: str) -> list[Block]:
    spans = [_span(h) for h in HEADINGS if word in h.title]
    return [b for b in BLOCKS if any(first <= b.line - 1 < end for first, end in spans)]


@pytest.mark.parametrize("word", ["leads.yaml", "settings.yaml", "campaigns"])
def test_example_yaml_parses(word):
    blocks = [b for b in _blocks_under(word) if b.lang == "yaml"]
    assert blocks, f"docs/formats.md has no ```yaml example under a `{word}` heading"
    for b in blocks:
        try:
            value = yaml.safe_load(b.text)
        except yaml.YAMLError as exc:
            pytest.fail(f"docs/formats.md:{b.line}: the example does not parse: {exc}")
        assert isinstance(value, dict), f"docs/formats.md:{b.line}: the example is not a mapping"


def test_every_yaml_block_parses():
    for b in BLOCKS:
        if b.lang == "yaml":
            try:
                yaml.safe_load(b.text)
            except yaml.YAMLError as exc:
                pytest.fail(f"docs/formats.md:{b.line}: the example does not parse: {exc}")


def test_the_file_examples_make_a_valid_repository(tmp_path):
    files = [b for b in BLOCKS if b.file]
    paths = [b.file for b in files]
    assert len(paths) == len(set(paths)), f"an example file is given twice: {sorted(paths)}"
    for needed in ("leads.yaml", "content/settings.yaml"):
        assert needed in paths, f"docs/formats.md has no complete example of {needed} (```yaml file={needed})"
    for prefix in ("content/campaigns/", "content/messages/", "content/pages/", "history/"):
        assert any(p.startswith(prefix) for p in paths), f"docs/formats.md has no example file under {prefix}"
    for b in files:
        target = tmp_path / b.file
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(b.text, encoding="utf-8", newline="\n")
    result = check_repository(tmp_path, today=EXAMPLE_TODAY, strict=True)
    assert not result.problems, "the examples in docs/formats.md do not validate:\n" + "\n".join(
        p.format() for p in result.problems)
    model = result.loaded.model
    # Every key of a lead is shown in the first example lead.
    first = yaml.safe_load(next(b.text for b in files if b.file == "leads.yaml"))["leads"][0]
    assert [k.name for k in SCHEMAS["leads.yaml: a lead"] if k.name not in first] == []
    assert model is not None and len(model.history.records) > 0
