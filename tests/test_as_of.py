"""Alive on any date: a clone of the example made on any later day runs as of the example's own
date (settings `as_of`) when no TODAY or NOW is given, says so, and plans and sends; without
`as_of` the commands run on the real clock in the team's time zone.

The system clock cannot be moved here; these tests run the commands without --today and --now,
on whatever day it really is, which is "a later day" for the example (its history ends on
2026-11-20)."""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
from email import message_from_bytes, policy
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from outreach.cli import main as outreach
from outreach.queue import queue_path, read_queue
from relead.check import check_repository
from relead.cli import main as relead
from relead.clock import as_of_from, default_now, default_today
from relead.read.values import Invalid
from site_builder.cli import main as site_builder
from tests.paths import EXAMPLE, ROOT

AS_OF = "as_of: 2026-11-20T14:00:00-06:00"
NOTE = "the example's date (content/settings.yaml `as_of`), not today"


def clone(dest: Path, *, as_of: str | None = AS_OF) -> Path:
    dest.mkdir()
    for name in ("content", "history"):
        shutil.copytree(EXAMPLE / name, dest / name)
    shutil.copytree(ROOT / "templates", dest / "templates")
    shutil.copy2(EXAMPLE / "leads.yaml", dest / "leads.yaml")
    settings = dest / "content" / "settings.yaml"
    text = settings.read_text(encoding="utf-8")
    assert AS_OF in text, "the example pins its date"
    settings.write_text(text.replace(AS_OF, as_of or ""), encoding="utf-8")
    return dest


@pytest.fixture
def no_transports(monkeypatch):
    for key in ("SMTP_HOST", "EMAIL_TRANSPORT", "SMS_TRANSPORT", "TWILIO_ACCOUNT_SID", "IMAP_HOST"):
        monkeypatch.delenv(key, raising=False)


def real_today() -> set[dt.date]:
    now = dt.datetime.now(ZoneInfo("America/Chicago"))
    return {now.date(), (now + dt.timedelta(seconds=5)).date()}    # a run that crosses midnight


def test_check_and_build_run_as_of_the_example_date_and_say_so(tmp_path, capsys):
    root = clone(tmp_path / "clone")
    assert relead(["check", "--root", str(root)]) == 0
    out = capsys.readouterr().out
    assert "(as of 2026-11-20)" in out and "as of 2026-11-20 14:00 America/Chicago" in out and NOTE in out
    out_dir = tmp_path / "site"
    assert site_builder(["build", "--root", str(root), "--out", str(out_dir)]) == 0
    assert NOTE in capsys.readouterr().out
    assert json.loads((out_dir / "data" / "summary.json").read_text(encoding="utf-8"))["as_of"] == "2026-11-20"
    week = json.loads((out_dir / "data" / "summary.json").read_text(encoding="utf-8"))["periods"]["week"]
    assert week["new_leads"] > 0 and week["touches"] > 0, "this week is alive, not 0 against 0"
    index = (out_dir / "index.html").read_text(encoding="utf-8")
    assert "As of 2026-11-20. That is the example&#39;s own date (as_of in content/settings.yaml), not today" in index
    # a date given on the command line wins, and is not called the example's
    assert site_builder(["build", "--root", str(root), "--out", str(out_dir), "--today", "2026-11-20"]) == 0
    assert NOTE not in capsys.readouterr().out
    assert "example&#39;s own date" not in (out_dir / "index.html").read_text(encoding="utf-8")


def test_a_later_clone_plans_touches_and_its_send_sends(tmp_path, capsys, no_transports):
    root = clone(tmp_path / "clone")
    assert outreach(["plan", "--root", str(root)]) == 0
    out = capsys.readouterr().out
    assert NOTE in out and "planned 2026-11-20:" in out
    queue = read_queue(queue_path(root, "2026-11-20"))
    channels = [t.channel for t in queue.touches]
    assert queue.sending_day and "sms" in channels and "call" in channels
    assert outreach(["send", "--root", str(root), "--dry-run"]) == 0
    assert "dry run for 2026-11-20" in capsys.readouterr().out
    # the real send (to files): inside the SMS hours at the recipient's clock, as of 14:00 in Chicago
    assert outreach(["send", "--root", str(root), "--no-commit"]) == 0
    out = capsys.readouterr().out
    counts = {m.group(1): m.groups()[1:] for m in re.finditer(r"^\s+(email|sms|call)\s+(\d+)\s+(\d+)\s+(\d+)", out, re.M)}
    assert counts["sms"][0] == str(channels.count("sms")) and counts["sms"][2] == "0", out   # sent, none deferred
    texts = list((root / "outbox" / "2026-11-20").rglob("*sms*"))
    assert texts, "the SMS went out to a file"
    history = (root / "history" / "2026" / "11").glob("2026-11-20.outreach*.tsv")
    assert any("\tsent\t" in p.read_text(encoding="utf-8") for p in history)


def test_the_digest_defaults_to_the_example_week(tmp_path, capsys, no_transports):
    root = clone(tmp_path / "clone")
    assert outreach(["digest", "--root", str(root), "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert NOTE in out and "the digest for the week of 2026-11-09 to 2026-11-15" in out


def test_without_as_of_the_commands_run_on_the_real_clock(tmp_path, capsys):
    root = clone(tmp_path / "clone", as_of=None)
    checked = check_repository(root)
    assert checked.today in real_today() and checked.loaded.as_of is None
    assert relead(["check", "--root", str(root)]) == 0
    out = capsys.readouterr().out
    assert NOTE not in out
    assert any(f"(as of {day})" in out for day in real_today())


def test_as_of_is_validated(make_repo):
    settings = (EXAMPLE / "content" / "settings.yaml").read_text(encoding="utf-8")
    cases = {
        "as_of: 2026-11-23": "`as_of` is a date without a time: the send window and the SMS hours need the time of day",
        "as_of: next monday": "`as_of` must be a date and time, not next monday",
        'as_of: "2026-02-30 10:00"': "`as_of` 2026-02-30 10:00 is not a real date and time",
    }
    for line, message in cases.items():
        root = make_repo(files={"content/settings.yaml": settings.replace(AS_OF, line)})
        checked = check_repository(root)
        assert [p.message for p in checked.errors] == [message], line
        assert checked.errors[0].file == "content/settings.yaml" and checked.errors[0].line == settings.splitlines().index(AS_OF) + 1
    # without an offset it is the team's clock; with one it is taken as written
    root = make_repo(files={"content/settings.yaml": settings.replace(AS_OF, 'as_of: "2026-11-23 07:30"')})
    s = check_repository(root).loaded.model.settings
    assert default_now(s).isoformat() == "2026-11-23T07:30:00-06:00" and default_today(s) == dt.date(2026, 11, 23)
    root = make_repo(files={"content/settings.yaml": settings.replace(AS_OF, "as_of: 2026-11-24T03:00:00Z")})
    s = check_repository(root).loaded.model.settings
    assert default_today(s) == dt.date(2026, 11, 23)        # 21:00 the day before, in Chicago
    with pytest.raises(Invalid):
        as_of_from(dt.date(2026, 11, 23))
