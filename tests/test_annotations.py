"""`relead check --format github`: every problem as a GitHub workflow command, escaped as the runner
reads it, on real validation errors (relead/annotations.py)."""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import re

import pytest

from relead.annotations import annotation, escape_data, escape_property
from relead.check import check_repository
from relead.cli import main
from relead.problems import ERROR, WARNING, Problem

TODAY = dt.date(2026, 11, 22)
_COMMAND = re.compile(r"^::(error|warning) ([^:]*)::(.*)$")

# A lead with a key holding a newline, a colon and a comma, and an owner with a percent sign.
HOSTILE = """leads:
  - id: jane-doe-acme
    name: Jane Doe
    owner: "50%off"
    "bad\\nkey: x, y": 1
"""
DUPLICATES = """leads:
  - id: bo-brown
    name: Bo Brown
    email: bo@brown.example
  - id: bo-brown-2
    name: Bo Brown
    email: bo@brown.example
"""


def _unescape(text: str, *, prop: bool) -> str:
    """What the runner reads back (actions/runner, ActionCommand.cs): the reverse of the escaping."""
    pairs = [("%0D", "\r"), ("%0A", "\n")] + ([("%3A", ":"), ("%2C", ",")] if prop else []) + [("%25", "%")]
    for code, char in pairs:
        text = text.replace(code, char)
    return text


def _parse(line: str) -> tuple[str, dict[str, str], str]:
    m = _COMMAND.match(line)
    assert m, line
    props = {}
    for part in m.group(2).split(","):
        key, _, value = part.partition("=")
        props[key] = _unescape(value, prop=True)
    return m.group(1), props, _unescape(m.group(3), prop=False)


def _run(argv: list[str]) -> tuple[int, str]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(argv)
    return code, out.getvalue()


def test_escaping_follows_the_runner_rules():
    assert escape_data("a%b\r\nc: d, e") == "a%25b%0D%0Ac: d, e"
    assert escape_property("a%b\r\nc: d, e") == "a%25b%0D%0Ac%3A d%2C e"
    # percent first: an escape sequence already in the text is not read back as one
    assert escape_data("%0A") == "%250A"
    assert _unescape(escape_data("%0A literally"), prop=False) == "%0A literally"


def test_real_errors_with_a_comma_a_colon_and_a_newline(make_repo):
    root = make_repo(HOSTILE)
    checked = check_repository(root, today=TODAY)
    assert len(checked.errors) == 2
    lines = [annotation(p) for p in checked.problems]
    for line, problem in zip(lines, checked.problems):
        assert "\n" not in line and "\r" not in line
        command, props, message = _parse(line)
        assert command == "error"
        assert props["file"] == "leads.yaml"
        assert props["line"] == str(problem.line)
        assert props["title"] == "relead check: jane-doe-acme"
        assert message == f"{problem.message}; {problem.fix}"
    key_error = next(line for line in lines if "unknown key" in line)
    # the key's newline is escaped; the colon and comma stay as they are in a message...
    assert "`bad%0Akey: x, y` in a lead; allowed keys: id, name," in key_error
    # ...but not in a property: the title's colon is escaped
    assert ",title=relead check%3A jane-doe-acme::" in key_error
    owner_error = next(line for line in lines if "unknown owner" in line)
    assert "`50%25off`" in owner_error


def test_warnings_and_a_file_name_with_a_colon_and_a_comma(make_repo):
    root = make_repo(files={"leads/east:coast,2.yaml": DUPLICATES})
    checked = check_repository(root, today=TODAY)
    assert not checked.errors and checked.warnings
    lines = [annotation(p) for p in checked.warnings]
    assert all(line.startswith("::warning file=leads/east%3Acoast%2C2.yaml,line=") for line in lines)
    command, props, message = _parse(lines[0])
    assert (command, props["file"]) == ("warning", "leads/east:coast,2.yaml")
    assert props["title"] == "relead check: bo-brown-2"
    assert message.startswith("looks like a duplicate of `bo-brown` (the same email); ")


def test_a_problem_without_a_line_or_a_lead():
    line = annotation(Problem("content/settings.yaml", "there is no settings file", "create it", severity=ERROR))
    assert line == "::error file=content/settings.yaml,title=relead check::there is no settings file; create it"
    warn = annotation(Problem("history/2026/11", "odd", "fix", severity=WARNING, line=1))
    assert warn.startswith("::warning file=history/2026/11,line=1,")


def test_cli_github_format_one_line_per_problem(make_repo):
    root = make_repo(HOSTILE)
    code, out = _run(["check", "--root", str(root), "--today", TODAY.isoformat(), "--format", "github"])
    assert code == 1
    lines = out.splitlines()
    assert len(lines) == 3                       # two annotations, then the verdict
    assert all(_COMMAND.match(line) for line in lines[:2])
    assert lines[2] == "failed: 2 errors"


def test_cli_text_stays_the_default(make_repo):
    root = make_repo(HOSTILE)
    code, out = _run(["check", "--root", str(root), "--today", TODAY.isoformat()])
    assert code == 1
    assert out.startswith("leads.yaml:2: jane-doe-acme: unknown key `bad\nkey: x, y` in a lead; ")
    assert "::error" not in out


def test_cli_strict_warnings_fail_as_annotations(make_repo):
    root = make_repo(DUPLICATES)
    code, out = _run(["check", "--root", str(root), "--today", TODAY.isoformat(), "--strict", "--format", "github"])
    assert code == 1
    assert out.splitlines()[0].startswith("::warning file=leads.yaml,line=")
    assert out.splitlines()[-1] == "failed: 0 errors, 1 warning (fatal with --strict)"


def test_cli_rejects_an_unknown_format(make_repo, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["check", "--root", str(make_repo()), "--format", "json"])
    assert exc.value.code == 2
