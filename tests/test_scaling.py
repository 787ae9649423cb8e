"""Several processes give what one gives: the same site, byte for byte, and the same problems.

The example repository is far below the sizes at which relead starts a pool, so
these tests lower the thresholds to nothing and force one (relead.jobs).
"""

from __future__ import annotations

import datetime as dt
import filecmp
import os
import subprocess
import sys
from pathlib import Path

import phonenumbers
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import relead.derive.derived
import relead.jobs
import relead.read.load
import site_builder.writer
from relead.check import check_repository
from relead.read.values import normalise_phone
from relead.jobs import ENV, available_cores, jobs_for
from site_builder.build import build
from tests.paths import EXAMPLE, ROOT

TODAY = dt.date(2026, 11, 22)

pytestmark = pytest.mark.skipif(not relead.jobs.can_fork(), reason="worker processes are forked")


@pytest.fixture
def forced_pool(monkeypatch):
    """Pools for any size; the list of whether each pool that was asked for forked."""
    forked: list[bool] = []

    class Spy(relead.jobs.Mapped):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            forked.append(self.forked)

    monkeypatch.setattr(relead.read.load, "MIN_LEADS_BYTES", 0)
    monkeypatch.setattr(relead.derive.derived, "MIN_LEADS_APART", 0)
    monkeypatch.setattr(site_builder.writer, "MIN_PAGES", 0)
    for module in (relead.read.load, relead.derive.derived, site_builder.writer):
        monkeypatch.setattr(module, "Mapped", Spy)
    return forked


def _tree(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


def test_the_example_builds_to_the_same_bytes_in_one_process_and_in_several(tmp_path, forced_pool):
    one = build(EXAMPLE, tmp_path / "one", today=TODAY, jobs=1)
    assert one.files and not any(forced_pool)       # one process: nothing forked
    two = build(EXAMPLE, tmp_path / "two", today=TODAY, jobs=2)
    assert sum(forced_pool) >= 3                    # the leads, derive, then the pages
    # the campaign statistics and the periods, made by a worker while the rest was derived
    assert two.checked.derived.ahead is not None and one.checked.derived.ahead is None
    assert two.checked.derived.counted == one.checked.derived.counted is not None   # the channels, likewise
    three = build(EXAMPLE, tmp_path / "three", today=TODAY, jobs=3)

    files = _tree(tmp_path / "one")
    assert len(files) == one.files == two.files == three.files
    assert (one.pages, one.lead_pages) == (two.pages, two.lead_pages) == (three.pages, three.lead_pages)
    for other in ("two", "three"):
        assert _tree(tmp_path / other) == files
        match, mismatch, errors = filecmp.cmpfiles(tmp_path / "one", tmp_path / other, files, shallow=False)
        assert (mismatch, errors) == ([], []), other
    assert [p.format() for p in one.checked.problems] == [p.format() for p in two.checked.problems]


def _lead(i: int, **extra: str) -> str:
    fields = {"id": f"lead-{i:03d}", "name": f"Person {i}", "company": f"Company {i}",
              "email": f"p{i}@company{i}.example", "source": "website", "owner": "sam",
              "reached": "{new: 2026-01-05}"}
    fields.update(extra)
    return "  - " + "\n    ".join(f"{k}: {v}" for k, v in fields.items()) + "\n"


def _leads(n: int, special: dict[int, dict[str, str]]) -> str:
    return "# leads for the test\n\nleads:\n" + "\n".join(_lead(i, **special.get(i, {})) for i in range(n))


CASES = {
    # An id reused across the runs the file is cut into, three times, and once by a lead that
    # has another error as well; an invalid phone and an unknown owner; a lead in another file
    # reusing an id.
    "errors": ({2: {}, 40: {"id": "lead-002"}, 55: {"id": "lead-002", "phone": '"12"'},
                70: {"owner": "nobody"}, 71: {"phone": '"+1 415 555 01"'}, 5: {"id": "lead-009"}},
               {"leads/more.yaml": _leads(3, {1: {"id": "lead-040"}})}),
    # A key given twice in one lead: the run with it is parsed again as its whole file.
    "duplicate key": ({30: {"name": "A\n    name: B"}}, {}),
    # A quoted text that goes on at the items' column: cut there, a run holds one lead too many.
    "quoted": ({20: {"notes": '"first line\n  - id: not-a-lead"'}}, {}),
    # Something after the leads (a key the file may not have): the run that holds it does not
    # parse, and the file is read whole.
    "after the leads": ({}, {"leads/more.yaml": _leads(30, {}) + "\nextra: 1\n"}),
    # No errors at all, and a second file of leads.
    "valid": ({}, {"leads/more.yaml": _leads(5, {i: {"id": f"more-{i}"} for i in range(5)})}),
    # A file that is not YAML beside one that is.
    "syntax": ({}, {"leads/broken.yaml": "leads:\n  - id: x\n   name: [unclosed\n"}),
}


@pytest.mark.parametrize("run_chars", [None, 400], ids=["runs-by-count", "runs-of-two-leads"])
@pytest.mark.parametrize("case", sorted(CASES))
def test_problems_are_the_same_in_one_process_and_in_several(case, run_chars, tmp_path, write_repo, forced_pool,
                                                             monkeypatch):
    if run_chars is not None:       # a large file is cut into runs of a size, many of them
        monkeypatch.setattr(relead.read.load, "_RUN_CHARS", run_chars)
    special, files = CASES[case]
    root = write_repo(tmp_path / "repo", _leads(80, special), files=files)
    one = check_repository(root, today=TODAY, jobs=1)
    assert not any(forced_pool)
    alone = len(forced_pool)
    for jobs in (2, 3):
        several = check_repository(root, today=TODAY, jobs=jobs)
        assert [p.format() for p in several.problems] == [p.format() for p in one.problems]
        assert (several.loaded.model is None) == (one.loaded.model is None)
        if one.loaded.model is not None:
            assert several.loaded.model.leads == one.loaded.model.leads
            assert several.loaded.model.history == one.loaded.model.history
    assert forced_pool[alone:] and all(forced_pool[alone:])
    if case == "errors":
        text = "\n".join(p.format() for p in one.problems)
        # Always the first lead with the id, whichever run or file it was in.
        assert text.count("is already used by lead 3 of leads.yaml") == 3
        assert "leads.yaml:76: lead-009: the id `lead-009` is already used by lead 6 of leads.yaml" in text
        assert "leads/more.yaml:4: lead-000: the id `lead-000` is already used by lead 1 of leads.yaml" in text


def _pid_after_work(i: int) -> tuple[int, int]:
    sum(range(200_000))     # some work (milliseconds), so that the items outlast the pool's start
    return i, os.getpid()


def test_a_pool_whose_parent_counts_as_a_worker_runs_what_no_worker_has_started():
    with relead.jobs.Mapped(_pid_after_work, range(100), jobs=2, workers=1) as mapped:
        assert mapped.forked
        results = list(mapped.results())
    assert [i for i, _ in results] == list(range(100))       # in order, each once
    pids = [pid for _, pid in results]
    assert pids[-1] == os.getpid()          # the last item is the parent's: the worker starts at the front
    assert pids[0] != os.getpid()


def test_while_pools_are_open_this_process_hands_the_interpreter_lock_round_sooner():
    """A pool's results come through a pipe a thread of this process reads: it gets its turns
    more often while any pool is open (relead.jobs), and the interval is as before after."""
    before = sys.getswitchinterval()
    outer = relead.jobs.Mapped(_pid_after_work, range(2), jobs=2)
    with relead.jobs.Mapped(_pid_after_work, range(2), jobs=2) as inner:
        assert sys.getswitchinterval() == min(before, 0.0005)
        assert len(list(inner.results())) == 2
    assert sys.getswitchinterval() == min(before, 0.0005)      # the outer one is still open
    assert len(list(outer.results())) == 2
    assert sys.getswitchinterval() == before


def test_jobs_come_from_the_option_then_the_environment_then_the_cores(monkeypatch):
    monkeypatch.delenv(ENV, raising=False)
    assert jobs_for(None) == available_cores() == jobs_for(0)
    assert jobs_for(3) == 3
    monkeypatch.setenv(ENV, "1")
    assert jobs_for(None) == 1 and jobs_for(2) == 2
    monkeypatch.setenv(ENV, "many")
    assert jobs_for(None) == available_cores()


def test_the_jobs_option_on_the_command_line():
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    ok = subprocess.run([sys.executable, "-m", "relead", "check", "--jobs", "2", "--today", "2026-11-22"],
                        cwd=EXAMPLE, env=env, capture_output=True, text=True)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    bad = subprocess.run([sys.executable, "-m", "relead", "check", "--jobs", "two"], cwd=EXAMPLE, env=env,
                         capture_output=True, text=True)
    assert bad.returncode == 2 and "not a number of processes" in bad.stderr


def test_the_commands_end_without_freeing_the_model_yet_say_everything(tmp_path):
    """`python -m relead check` and `python -m site_builder build` end the process as soon as they
    have said their last word (relead.cli.finish): every line still reaches a pipe, the exit code
    is the command's, and the site is whole."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    build_ = subprocess.run([sys.executable, "-m", "site_builder", "build", "--today", "2026-11-22",
                             "--out", str(tmp_path / "site")], cwd=EXAMPLE, env=env, capture_output=True, text=True)
    assert build_.returncode == 0, build_.stdout + build_.stderr
    assert any(line.startswith(f"built {tmp_path / 'site'}/: ") for line in build_.stdout.splitlines())
    assert (tmp_path / "site/index.html").read_text(encoding="utf-8").rstrip().endswith("</html>")
    check = subprocess.run([sys.executable, "-m", "relead", "check", "--today", "2026-11-22"], cwd=EXAMPLE,
                           env=env, capture_output=True, text=True)
    assert check.returncode == 0 and check.stdout.splitlines()[-1].startswith("ok: no errors"), check.stdout
    strict = subprocess.run([sys.executable, "-m", "relead", "check", "--strict", "--today", "2026-11-22"],
                            cwd=EXAMPLE, env=env, capture_output=True, text=True)
    warnings = [line for line in check.stdout.splitlines() if ": warning: " in line]
    assert strict.returncode == (1 if warnings else 0), strict.stdout


# --------------------------------------------------------------------------- phone numbers

def _slow_phone(text: str, region: str) -> str | None:
    """What normalise_phone gave before its shortcut for North American numbers."""
    try:
        num = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None
    if not (phonenumbers.is_valid_number_for_region(num, region) or phonenumbers.is_valid_number(num)):
        return None
    return phonenumbers.format_number(num, phonenumbers.PhoneNumberFormat.E164)


_FORMS = ("({a}) {b}-{c}", "{a}-{b}-{c}", "{a}.{b}.{c}", "{a} {b} {c}", "+1 {a} {b} {c}", "+1-{a}-{b}-{c}",
          "+1 ({a}) {b}-{c}", "+1{a}{b}{c}", "{a}{b}{c}", "({a}){b}-{c}", "+1.{a}.{b}.{c}", "{a} {b}{c}",
          "1-{a}-{b}-{c}", "+44 {a} {b} {c}", "{a}-{b}-{c} x12", "+1 {a}-{b}.{c}")


@settings(max_examples=1500, deadline=None)
@given(a=st.integers(0, 999), b=st.integers(0, 999), c=st.integers(0, 9999), form=st.sampled_from(_FORMS),
       region=st.sampled_from(("US", "CA", "JM", "GB", "DE", "FR")))
def test_the_phone_shortcut_gives_what_phonenumbers_gives(a, b, c, form, region):
    text = form.format(a=f"{a:03d}", b=f"{b:03d}", c=f"{c:04d}")
    normalise_phone.cache_clear()
    assert normalise_phone(text, region) == _slow_phone(text, region)
