"""The Makefile's targets, and the targets a shell line or a document asks make for
(shared by tests/test_workflows.py and tests/test_docs_targets.py)."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

from paths import ROOT

_MAKE = re.compile(r"(?:^|[\s;&|(`])make((?:[ \t]+[^\s;&|)`]+)*)")


def make_targets(makefile: Path = ROOT / "Makefile") -> set[str]:
    text = makefile.read_text(encoding="utf-8")
    return {m.group(1) for m in re.finditer(r"(?m)^([A-Za-z0-9][\w-]*)[ \t]*:(?!=)", text)}


def make_invocations(script: str) -> list[str]:
    """The targets of every `make ...` in shell text: the words after `make` up to the first
    VAR=value (options skipped), as people write make commands."""
    targets = []
    for m in _MAKE.finditer(script):
        try:
            words = shlex.split(m.group(1), comments=True)
        except ValueError:        # a quote the pattern cut in half: plain words will do
            words = m.group(1).split()
        for word in words:
            if word.startswith("-"):
                continue
            if "=" in word or word.startswith(("$", "#", "[")) or ">" in word or "<" in word:
                break
            targets.append(word)
    return targets
