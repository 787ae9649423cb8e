"""The repository stands on its own: nothing in it points at a document that is not in it.

The product's contract was once written in a separate specification; code, templates and docs
say what they mean in their own words, or point into docs/.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Built from parts, so this file does not hold what it looks for.
CITATION = re.compile(r"\b" + "SP" + r"EC\b(?!IAL)|" + "\u00a7" + r"\s*\d")
SKIP_DIRS = {".git", ".venv", "_site", "outbox", "node_modules", "__pycache__", ".pytest_cache", ".hypothesis"}
SKIP = {Path("bench/out")}
TEXT = {".py", ".md", ".html", ".js", ".css", ".yaml", ".yml", ".toml", ".txt", ".cfg", ".json", ".svg", ""}


def _files():
    for path in ROOT.rglob("*"):
        rel = path.relative_to(ROOT)
        if set(rel.parts) & SKIP_DIRS or any(rel.is_relative_to(s) for s in SKIP) or rel.parts[0].startswith("._"):
            continue
        if path.is_file() and not path.is_symlink() and (path.suffix in TEXT or path.name in ("Makefile",)):
            yield rel, path


def test_no_file_cites_a_document_outside_the_repository():
    found = []
    for rel, path in _files():
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        for n, line in enumerate(text.splitlines(), 1):
            if CITATION.search(line):
                found.append(f"{rel}:{n}: {line.strip()[:100]}")
    assert found == [], "say it in docs/ instead:\n" + "\n".join(found)


def test_the_guard_finds_a_citation():
    assert CITATION.search("see " + "SP" + "EC \u00a77")
    assert CITATION.search("the bars (\u00a7 7)")
    assert not CITATION.search("_MD_" + "SP" + "ECIAL = re.compile(...)")
    assert not CITATION.search('"\u00c4\u00d6\u00d1\u00dc\u00a7\u00bfabc"')      # a GSM-7 alphabet, not a citation
