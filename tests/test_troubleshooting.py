"""docs/guide.md's troubleshooting section explains every message the checker can print.

The messages are read from relead/ itself: the message argument of every
``problems.error(...)`` / ``problems.warning(...)`` and of every ``Invalid(...)``
and ``YamlSyntaxError(...)``. A message built with an f-string becomes a
pattern: its literal text in order, anything in between (the guide writes
``KEY``, ``VALUE``... there). A new message without a line in the guide fails here.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
GUIDE = ROOT / "docs" / "guide.md"
_HOLE = "\x00"


def _pieces(node: ast.AST) -> list[str] | None:
    """The literal text of a message expression, with _HOLE where a value goes; None if not a literal."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.JoinedStr):
        out = []
        for value in node.values:
            if isinstance(value, ast.Constant):
                out.append(value.value)
            else:
                out.append(_HOLE)
        return out
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = _pieces(node.left), _pieces(node.right)
        return None if left is None or right is None else left + right
    return None


def checker_messages() -> list[tuple[str, int, str]]:
    """(file, line, message with _HOLE for each value) for every message in relead/."""
    found = []
    for path in sorted((ROOT / "relead").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
            if name in ("error", "warning") and isinstance(func, ast.Attribute) and len(node.args) >= 4:
                arg = node.args[2]            # problems.error(file, path, message, fix, ...)
            elif name in ("Invalid", "YamlSyntaxError") and node.args:
                arg = node.args[0]
            else:
                continue
            pieces = _pieces(arg)
            if pieces is not None:            # `exc.message`: an Invalid's, found where it is raised
                found.append((path.name, node.lineno, "".join(pieces)))
    return found


def _pattern(message: str) -> re.Pattern:
    parts = [re.escape(p) for p in message.split(_HOLE)]
    while parts and not parts[0].strip():
        parts.pop(0)
    while parts and not parts[-1].strip():
        parts.pop()
    return re.compile(r"[^\n]+?".join(parts))


def troubleshooting() -> str:
    text = GUIDE.read_text(encoding="utf-8")
    start = text.index("\n## 8. Troubleshooting")
    end = text.find("\n## ", start + 1)
    return text[start:end if end != -1 else len(text)]


MESSAGES = checker_messages()


def test_the_messages_are_found():
    assert len(MESSAGES) > 80
    texts = {m for _, _, m in MESSAGES}
    assert "there is no settings file" in texts
    assert f"unknown owner `{_HOLE}`" in texts
    assert f"YAML syntax error: {_HOLE}" in texts
    assert f"given up after {_HOLE} touch{_HOLE} (fewer than {_HOLE})" in texts


@pytest.mark.parametrize("where, line, message", MESSAGES,
                         ids=[f"{f}:{n}" for f, n, _ in MESSAGES])
def test_every_checker_message_is_in_the_troubleshooting_section(where, line, message):
    assert _pattern(message).search(troubleshooting()), \
        f"{where}:{line}: {message.replace(_HOLE, '…')!r} is not explained in docs/guide.md, Troubleshooting"


def test_the_pattern_is_not_a_blank_cheque():
    assert not _pattern(f"`{_HOLE}` must be a date, not {_HOLE}").search("`KEY` must be a number, not VALUE")
    assert _pattern(f"`{_HOLE}` must be a date, not {_HOLE}").search("- `` `KEY` must be a date, not VALUE ``")
