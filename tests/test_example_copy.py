"""The tests stand on their own data: tests/example is their copy of the bundled example
(Northwind Scanning: leads.yaml, content/, history/), and the golden files are built from it.
The example at the repository's root is the team's to replace or delete: a test that reads it
would fail the day the team's own leads arrive."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
import sys

import pytest

from relead.check import check_repository
from relead.cli import main as relead
from tests.paths import EXAMPLE, ROOT

ONE_LEAD = "leads:\n  - id: ann-lee-acme\n    name: Ann Lee\n    company: Acme\n    email: ann@acme.example\n"


def test_the_copy_is_a_valid_repository_at_its_own_date(capsys):
    """`relead check` with no date: the copy runs as of its settings' `as_of`, with no error."""
    assert relead(["check", "--root", str(EXAMPLE)]) == 0
    out = capsys.readouterr().out
    assert "ok: no errors" in out and "in 91 leads (as of 2026-11-20)" in out
    checked = check_repository(EXAMPLE)
    assert checked.today == dt.date(2026, 11, 20) and not checked.errors
    assert checked.derived is not None and checked.loaded.model.history.records
    assert not [p.format() for p in checked.warnings if not p.file.startswith("leads")]


def _tracked(root):
    """The repository's files as a clone holds them (committed, or new and not ignored)."""
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                            cwd=root, capture_output=True, check=True).stdout.decode("utf-8")
    return [name for name in listed.split("\0") if name and (root / name).is_file()]


def test_the_suite_passes_with_the_root_example_replaced(tmp_path):
    """A copy of the repository whose root example gave way to one lead of a team's own, its
    history deleted and `as_of` removed (as README.md says a team does): the tests that build,
    check and compare the example, and the benchmarks' smoke tests, still pass there. Then
    the same with the example's content/ deleted outright."""
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("needs the repository's git checkout to list its files")
    clone = tmp_path / "clone"
    for name in _tracked(ROOT):
        (clone / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, clone / name)
    shutil.rmtree(clone / "history", ignore_errors=True)
    (clone / "leads.yaml").write_text(ONE_LEAD, encoding="utf-8")
    settings = clone / "content" / "settings.yaml"
    if settings.is_file():
        lines = settings.read_text(encoding="utf-8").splitlines(keepends=True)
        settings.write_text("".join(line for line in lines if not line.startswith("as_of:")), encoding="utf-8")
    playbook = clone / "content" / "pages" / "playbook.md"
    playbook.parent.mkdir(parents=True, exist_ok=True)
    playbook.write_text("---\ntitle: Our playbook\n---\n# Ours\n", encoding="utf-8")
    _passes(clone)
    shutil.rmtree(clone / "content")
    _passes(clone)


def _passes(clone):
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-x",
                           "tests/test_golden.py", "tests/test_example_copy.py::"
                           "test_the_copy_is_a_valid_repository_at_its_own_date",
                           "tests/test_as_of.py::test_check_and_build_run_as_of_the_example_date_and_say_so",
                           "tests/test_bench.py::test_generator_is_deterministic",
                           "tests/test_import.py::test_the_import_benchmark_runs_small"],
                          cwd=clone, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    assert " passed" in proc.stdout and "failed" not in proc.stdout
