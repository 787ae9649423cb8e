"""Every `make <target>` the README and docs/ show exists in the Makefile, with the options it is shown with."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from makefile_helpers import make_invocations, make_targets

ROOT = Path(__file__).resolve().parent.parent
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
_FENCE = re.compile(r"(?ms)^(`{3,}|~{3,})[^\n]*\n(.*?)^\1[ \t]*$")
_SPAN = re.compile(r"(`+)(.+?)\1", re.S)


def code_in(text: str) -> list[str]:
    """The code a Markdown document shows: fenced blocks, then inline code spans of the prose."""
    blocks = [m.group(2) for m in _FENCE.finditer(text)]
    prose = _FENCE.sub("", text)
    return blocks + [m.group(2) for m in _SPAN.finditer(prose)]


def _shown(path: Path) -> list[tuple[str, str]]:
    """(target, the line it is on) for every make command in the document's code."""
    out = []
    for code in code_in(path.read_text(encoding="utf-8")):
        for line in code.splitlines():
            out += [(t, line.strip()) for t in make_invocations(line)]
    return out


@pytest.mark.parametrize("path", DOCS, ids=lambda p: p.name)
def test_every_make_target_in_the_docs_exists(path):
    targets = make_targets()
    missing = [(t, line) for t, line in _shown(path) if t not in targets]
    assert not missing, f"{path.name} shows make targets the Makefile does not have: {missing}"


@pytest.mark.parametrize("path", DOCS, ids=lambda p: p.name)
def test_every_make_option_in_the_docs_exists(path):
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    missing = []
    for code in code_in(path.read_text(encoding="utf-8")):
        for line in code.splitlines():
            for m in re.finditer(r"(?:^|[\s;&|(])make((?:[ \t]+[^\s;&|)]+)*)", line):
                for var in re.findall(r"(?:^|\s)([A-Z][A-Z0-9_]*)=", m.group(1)):
                    if not re.search(rf"\b{var}\b", makefile):
                        missing.append((var, line.strip()))
    assert not missing, f"{path.name} shows make options the Makefile does not read: {missing}"


def test_the_docs_show_the_team_workflow():
    shown = {t for path in DOCS for t, _ in _shown(path)}
    assert {"install", "check", "build", "diff", "plan", "outreach", "record", "serve", "add", "import"} <= shown
    guide = (ROOT / "docs" / "guide.md").read_text(encoding="utf-8")
    for words in ("make check STRICT=1 FORMAT=github", "make build REDACT=1", "make record LEAD=",
                  "make diff BASE=origin/main", "make serve"):
        assert words in guide
    assert "[docs/guide.md](docs/guide.md)" in (ROOT / "README.md").read_text(encoding="utf-8")


def test_the_code_finder():
    text = "Run `make check STRICT=1` or ``make build``.\n\n```sh\nmake plan   # then\nmake outreach\n```\nmake it yours\n"
    assert [t for code in code_in(text) for t in make_invocations(code)] == ["plan", "outreach", "check", "build"]
