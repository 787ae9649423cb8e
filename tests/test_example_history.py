"""tools/example_history.py: the example's simulated past is valid, plausible and reproducible.

The tool runs on the tests' copy of the example's leads and content (tests/example), so these
tests hold whatever the root example has become; they compare two runs of the tool with each
other and check the result, not the bytes of a committed history/."""

from __future__ import annotations

import datetime as dt
import importlib.util
import shutil
from pathlib import Path

from relead.check import check_repository
from tests.paths import EXAMPLE, ROOT


def _tool():
    spec = importlib.util.spec_from_file_location("example_history", ROOT / "tools" / "example_history.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _repo(dest: Path) -> Path:
    dest.mkdir()
    shutil.copy2(EXAMPLE / "leads.yaml", dest / "leads.yaml")
    shutil.copytree(EXAMPLE / "content", dest / "content")
    return dest


def _files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted((root / "history").rglob("*.tsv"))}


def test_same_arguments_same_bytes_and_a_valid_repository(tmp_path):
    tool = _tool()
    a, b = _repo(tmp_path / "a"), _repo(tmp_path / "b")
    start, end = dt.date(2026, 9, 1), dt.date(2026, 9, 18)
    counts = tool.simulate(a, start, end, seed=4, new_per_day=2)
    tool.simulate(b, start, end, seed=4, new_per_day=2)
    assert _files(a) == _files(b) and _files(a)
    assert counts["enrolled"] >= 2 * 13 and counts["sent"] > counts["enrolled"]
    assert counts["attempting"] >= counts["sent"]
    checked = check_repository(a, today=dt.date(2026, 11, 22))
    assert checked.derived is not None, [p.format() for p in checked.errors]
    assert not [p for p in checked.warnings if "history" in p.file]


def test_it_never_rewrites_a_history(tmp_path):
    tool = _tool()
    repo = _repo(tmp_path / "r")
    tool.simulate(repo, dt.date(2026, 9, 1), dt.date(2026, 9, 2))
    try:
        tool.simulate(repo, dt.date(2026, 9, 1), dt.date(2026, 9, 2))
    except SystemExit as exc:
        assert "append-only" in str(exc)
    else:
        raise AssertionError("a second run over an existing history must refuse")
