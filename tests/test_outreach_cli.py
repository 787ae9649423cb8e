"""`python -m outreach` at the argv level: plan, dry run, review, git, record, compliance at send time."""

from __future__ import annotations

import datetime as dt
import subprocess

import pytest

from outreach.cli import main
from outreach.compliance import email_window, recipient_zones, sms_hours
from outreach.config import config_from_env
from outreach.errors import ConfigError
from outreach.queue import queue_path, read_queue
from relead.model import Lead
from tests.outreach_helpers import (BLAST, DAY, NOW, SMS_FIRST, TASKS_FIRST, derived, git,
                                    history_events, lead_yaml, leads_text, outreach_repo, touch_states)

SEND = ["send", "--today", DAY, "--now", NOW]


@pytest.fixture(autouse=True)
def files_only(monkeypatch):
    """Every test here uses the file transports (no credentials), whatever the machine has."""
    for key in ("SMTP_HOST", "TWILIO_ACCOUNT_SID", "EMAIL_TRANSPORT", "SMS_TRANSPORT"):
        monkeypatch.delenv(key, raising=False)


def test_help_and_usage_errors(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["send", "--help"])
    assert exc.value.code == 0 and "--dry-run" in capsys.readouterr().out
    assert main([]) == 2
    with pytest.raises(SystemExit) as exc:
        main(["send", "--now", "2026-11-23T10:00:00"])          # no offset
    assert exc.value.code == 2


def test_invalid_data_sends_nothing_and_exits_1(make_repo, capsys):
    root = outreach_repo(make_repo, "leads:\n" + lead_yaml(1, name='"Jane\\r\\nBcc: x@evil.example"'))
    assert main(SEND + ["--root", str(root)]) == 1
    out = capsys.readouterr().out
    assert "leads.yaml:" in out and "nothing sent" in out
    assert not (root / "history").exists() and not (root / "outbox").exists()


def test_plan_writes_the_queue_and_dry_run_records_nothing(make_repo, capsys):
    root = outreach_repo(make_repo, leads_text(3))
    assert main(["plan", "--root", str(root), "--today", DAY]) == 0
    assert "planned 2026-11-23: 3 email" in capsys.readouterr().out
    queue = read_queue(queue_path(root, DAY))
    assert [t.channel for t in queue.touches] == ["email"] * 3 and len(queue.enrolments) == 3
    assert main(SEND + ["--root", str(root), "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "dry run" in out and out.count("Subject: A free ROI audit") == 3 and "Hi Pat," in out
    assert not (root / "history").exists() and not (root / "outbox" / DAY / "email").exists()


def test_a_run_commits_once_and_a_second_run_makes_no_commit(make_repo, capsys):
    root = outreach_repo(make_repo, leads_text(4), git=True)
    assert main(SEND + ["--root", str(root)]) == 0
    assert git(root, "log", "--format=%s").splitlines() == [
        "outreach 2026-11-23: 4 email, 0 sms, 0 tasks, 0 failed, 0 unknown", "initial"]
    assert git(root, "show", "--name-only", "--format=", "HEAD").split() == [
        "history/2026/11/2026-11-23.outreach.tsv", "outbox/2026-11-23/queue.yaml"]
    assert len(list((root / "outbox" / DAY / "email").glob("*.eml"))) == 4
    assert main(SEND + ["--root", str(root)]) == 0
    assert "nothing new to commit" in capsys.readouterr().out
    assert len(git(root, "log", "--format=%s").splitlines()) == 2


def test_commit_0_leaves_everything_uncommitted_and_other_staged_work_alone(make_repo):
    root = outreach_repo(make_repo, leads_text(2), git=True)
    (root / "leads.yaml").write_text(leads_text(2) + "  # edited\n", encoding="utf-8")
    git(root, "add", "leads.yaml")
    assert main(SEND + ["--root", str(root)]) == 0
    assert "M  leads.yaml" in git(root, "status", "--porcelain")     # still staged, not committed
    assert "leads.yaml" not in git(root, "show", "--name-only", "--format=", "HEAD")
    root2 = outreach_repo(make_repo, leads_text(2), git=True)
    assert main(SEND + ["--root", str(root2), "--no-commit"]) == 0
    assert len(git(root2, "log", "--format=%s").splitlines()) == 1


def test_push_to_a_remote_that_moved_rebases_and_succeeds(make_repo, tmp_path):
    root = outreach_repo(make_repo, leads_text(2), git=True)
    bare = tmp_path / "remote.git"
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(bare)], check=True)
    git(root, "remote", "add", "origin", str(bare))
    git(root, "push", "-q", "-u", "origin", "main")
    other = tmp_path / "other"
    subprocess.run(["git", "clone", "-q", str(bare), str(other)], check=True)
    git(other, "config", "user.name", "Other")
    git(other, "config", "user.email", "other@example.invalid")
    (other / "leads.yaml").write_text(leads_text(2) + "  # a pull request edited the leads\n", encoding="utf-8")
    git(other, "commit", "-q", "-am", "edit leads")
    git(other, "push", "-q")
    assert main(SEND + ["--root", str(root), "--push"]) == 0
    log = git(bare, "log", "--format=%s", "main").splitlines()
    assert log == ["outreach 2026-11-23: 2 email, 0 sms, 0 tasks, 0 failed, 0 unknown",
                   "outreach 2026-11-23: claim 2 email", "edit leads", "initial"]


def test_require_review_refuses_an_uncommitted_queue(make_repo, capsys):
    root = outreach_repo(make_repo, leads_text(2), git=True)
    assert main(SEND + ["--root", str(root), "--require-review"]) == 4
    assert "REQUIRE_REVIEW" in capsys.readouterr().err
    assert not (root / "history").exists()
    git(root, "add", "outbox")
    git(root, "commit", "-q", "-m", "queue reviewed")
    path = queue_path(root, DAY)
    path.write_text(path.read_text(encoding="utf-8").replace("Hi Pat,", "Hi Patricia,"), encoding="utf-8")
    assert main(SEND + ["--root", str(root), "--require-review"]) == 4     # changed since review
    git(root, "checkout", "--", str(path))
    assert main(SEND + ["--root", str(root), "--require-review"]) == 0
    assert len(list((root / "outbox" / DAY / "email").glob("*.eml"))) == 2


def test_the_queue_text_is_what_goes_out(make_repo):
    root = outreach_repo(make_repo, leads_text(1))
    assert main(["plan", "--root", str(root), "--today", DAY]) == 0
    path = queue_path(root, DAY)
    path.write_text(path.read_text(encoding="utf-8").replace("Hi Pat,", "Dear Pat,"), encoding="utf-8")
    assert main(SEND + ["--root", str(root), "--no-commit"]) == 0
    eml = next((root / "outbox" / DAY / "email").glob("*.eml")).read_text(encoding="ascii")
    assert "Dear Pat," in eml


def test_tasks_are_handed_out_and_recorded(make_repo, capsys):
    root = outreach_repo(make_repo, leads_text(2) + lead_yaml(3, owner="priya"), campaign=TASKS_FIRST)
    assert main(SEND + ["--root", str(root), "--no-commit"]) == 0
    out = capsys.readouterr().out
    assert "tasks:    priya 1 (1 call), sam 2 (2 call)" in out
    digests = sorted((root / "outbox" / DAY / "email").glob("tasks-*.eml"))
    assert len(digests) == 2
    text = digests[0].read_bytes().decode("ascii")
    assert "Subject: Your relead tasks for 2026-11-23: " in text and "List-Unsubscribe" not in text
    sent = [r for r in history_events(root) if r[1] == "sent"]
    assert [r[9] for r in sent] == ["task"] * 3 and {r[6] for r in sent} == {"call"}


def test_do_not_contact_recorded_after_planning_is_checked_at_send_time(make_repo, capsys):
    root = outreach_repo(make_repo, leads_text(2))
    assert main(["plan", "--root", str(root), "--today", DAY]) == 0
    assert main(["record", "--root", str(root), "--today", DAY, "--now", NOW, "--lead", "lead-0001",
                 "--outcome", "unsubscribed", "--note", "asked by phone"]) == 0
    assert main(SEND + ["--root", str(root), "--no-commit"]) == 0
    rows = [r for r in history_events(root) if r[2] == "lead-0001"]
    touch_rows = [r for r in rows if r[8]]
    assert [r[1] for r in touch_rows] == ["skipped"] and touch_rows[0][9] == "unsubscribed"
    assert len(list((root / "outbox" / DAY / "email").glob("*.eml"))) == 1


def test_email_outside_the_send_window_is_deferred_then_sent_later(make_repo, capsys):
    root = outreach_repo(make_repo, leads_text(2))
    early = ["send", "--today", DAY, "--now", "2026-11-23T07:59:00-06:00", "--no-commit", "--root", str(root)]
    assert main(early) == 0
    assert "outside_send_window x2 (it is 07:59 at the recipient (America/Chicago)" in capsys.readouterr().out
    assert main(SEND + ["--root", str(root), "--no-commit"]) == 0
    assert sorted(touch_states(root).values()) == [["deferred", "attempting", "sent"]] * 2


@pytest.mark.parametrize("now, zone_or_phone, action", [
    ("2026-11-23T10:00:00-06:00", "America/Los_Angeles", "send"),      # 08:00 there
    ("2026-11-23T09:59:00-06:00", "America/Los_Angeles", "defer"),     # 07:59 there
    ("2026-11-23T19:59:00-06:00", "America/New_York", "send"),         # 20:59 there
    ("2026-11-23T20:00:00-06:00", "America/New_York", "defer"),        # 21:00 there
    ("2026-11-23T10:00:00-06:00", "Australia/Sydney", "defer"),        # 03:00 there
    ("2026-11-23T10:00:00-06:00", "+44 20 7946 0000", "send"),         # London by the number: 16:00
    ("2026-11-23T16:00:00-06:00", "+44 20 7946 0000", "defer"),        # 22:00 in London
    ("2026-11-23T10:00:00-06:00", "+1 800 555 0100", "skip"),          # toll-free: zone unknown
    ("2026-11-23T10:00:00-06:00", "+1 415 555 0134", "send"),          # San Francisco by the area code
])
def test_sms_quiet_hours_across_time_zones(now, zone_or_phone, action):
    import phonenumbers
    if zone_or_phone.startswith("+"):
        num = phonenumbers.parse(zone_or_phone, None)
        lead = Lead("x", "leads.yaml", 0, phone=phonenumbers.format_number(num, phonenumbers.PhoneNumberFormat.E164))
    else:
        lead = Lead("x", "leads.yaml", 0, phone="+13125550100", timezone=zone_or_phone)
    verdict = sms_hours(lead, dt.datetime.fromisoformat(now))
    assert verdict.action == action, verdict
    if action == "skip":
        assert verdict.reason == "timezone_unknown" and recipient_zones(lead)


def test_sms_at_send_time_argv_level(make_repo, capsys):
    leads = ("leads:\n" + lead_yaml(1, timezone="America/Los_Angeles") + lead_yaml(2, timezone="America/New_York")
             + lead_yaml(3, consent="{email: true, sms: false}") + lead_yaml(4, phone='"+1 800 555 0100"'))
    root = outreach_repo(make_repo, leads, campaign=SMS_FIRST)
    now = ["send", "--today", DAY, "--now", "2026-11-23T09:30:00-06:00", "--no-commit", "--root", str(root)]
    assert main(now) == 0
    rows = {r[2]: r for r in history_events(root) if r[8] and r[1] != "attempting"}
    assert rows["lead-0001"][1] == "deferred" and rows["lead-0001"][9] == "quiet_hours"    # 07:30 in LA
    assert rows["lead-0002"][1] == "sent"                                                  # 10:30 in NY
    assert rows["lead-0003"][1] == "skipped"                                               # no consent (plan)
    assert rows["lead-0004"][1] == "skipped" and rows["lead-0004"][9] == "timezone_unknown"
    sms = list((root / "outbox" / DAY / "sms").glob("*.txt"))
    assert len(sms) == 1 and sms[0].read_text(encoding="utf-8").rstrip().endswith("Reply STOP to opt out")


def test_email_window_is_the_recipients(make_repo):
    settings = derived(outreach_repo(make_repo, leads_text(1))).model.settings
    nowhere = Lead("x", "leads.yaml", 0, email="x@x.example")             # no zone, no phone: the team's
    at = dt.datetime.fromisoformat
    assert email_window(settings, nowhere, at("2026-11-23T16:59:00-06:00")).send
    assert not email_window(settings, nowhere, at("2026-11-23T23:00:00+00:00")).send   # 17:00 CST
    la = Lead("y", "leads.yaml", 0, email="y@y.example", timezone="America/Los_Angeles")
    verdict = email_window(settings, la, at("2026-11-23T10:30:00-06:00"))              # 08:30 there
    assert verdict.action == "defer" and "it is 08:30 at the recipient (America/Los_Angeles)" in verdict.note
    assert email_window(settings, la, at("2026-11-23T11:00:00-06:00")).send
    london = Lead("z", "leads.yaml", 0, email="z@z.example", phone="+442079460000")   # by the number
    assert not email_window(settings, london, at("2026-11-23T11:30:00-06:00")).send       # 17:30 there
    tollfree = Lead("t", "leads.yaml", 0, email="t@t.example", phone="+18005550100")   # spans zones: the team's
    assert email_window(settings, tollfree, at("2026-11-23T16:30:00-06:00")).send


def test_record_responses_stop_the_sequence(make_repo, capsys):
    root = outreach_repo(make_repo, leads_text(2), campaign=BLAST)
    assert main(SEND + ["--root", str(root), "--no-commit"]) == 0
    assert main(["record", "--root", str(root), "--today", "2026-11-24", "--now", "2026-11-24T09:00:00-06:00",
                 "--lead", "lead-0001", "--outcome", "interested", "--note", "wants the audit"]) == 0
    out = capsys.readouterr().out
    assert "recorded interested for lead-0001 in history/2026/11/2026-11-24.record-" in out
    rec = [r for r in history_events(root) if r[1] == "interested"][0]
    assert rec[3] == "blast" and rec[4] == DAY and rec[10] == "wants the audit"
    st = derived(root, "2026-11-25").states["lead-0001"]
    assert st.status == "back_in_funnel"
    assert main(["send", "--today", "2026-11-25", "--now", "2026-11-25T10:00:00-06:00", "--no-commit",
                 "--root", str(root)]) == 0
    queue = read_queue(queue_path(root, "2026-11-25"))
    assert {(t.lead, t.channel) for t in queue.touches} == {("lead-0001", "call"), ("lead-0002", "sms")}
    assert "call back" in next(t.why for t in queue.touches if t.lead == "lead-0001")


@pytest.mark.parametrize("argv, message", [
    (["--lead", "nobody", "--outcome", "replied"], "there is no lead `nobody`"),
    (["--lead", "lead-0001", "--outcome", "maybe"], "unknown outcome `maybe`"),
    (["--lead", "lead-0001", "--outcome", "sent"], "has no unknown touch to settle"),
    (["--lead", "lead-0001", "--outcome", "opted_out"], "opted_out needs CHANNEL"),
])
def test_record_refuses_what_it_cannot_record(make_repo, capsys, argv, message):
    root = outreach_repo(make_repo, leads_text(1))
    assert main(["record", "--root", str(root), "--today", DAY] + argv) == 2
    assert message in capsys.readouterr().err
    assert not (root / "history").exists()


def test_config_from_env_and_dotenv(tmp_path):
    (tmp_path / ".env").write_text("# secrets\nexport SMTP_HOST=mail.example.com\nSMTP_PASSWORD='p w'\n"
                                   "SMTP_USERNAME=u # the login\nTWILIO_ACCOUNT_SID=AC1\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN"):
        config_from_env({}, root=tmp_path)
    cfg = config_from_env({"TWILIO_AUTH_TOKEN": "tok", "TWILIO_FROM": "+13125550100", "SMTP_SECURITY": "tls"},
                          root=tmp_path)
    assert cfg.smtp.host == "mail.example.com" and cfg.smtp.port == 465 and cfg.smtp.password == "p w"
    assert cfg.smtp.username == "u" and cfg.twilio.auth_token == "tok"
    assert "p w" not in repr(cfg) and "tok" not in repr(cfg) and "p w" not in str(cfg.describe())
    assert config_from_env({"SMTP_SECURITY": "none", "SMTP_HOST": "h"}, root=tmp_path / "none").smtp.port == 25
    with pytest.raises(ConfigError, match="SMTP_SECURITY"):
        config_from_env({"SMTP_HOST": "h", "SMTP_SECURITY": "ssl"}, root=tmp_path / "none")
    plain = config_from_env({}, root=tmp_path / "none")
    assert plain.smtp is None and plain.twilio is None


def test_a_subject_with_a_line_break_is_refused_and_recorded(make_repo, capsys):
    files = {"content/messages/custom.md": "---\nsubject: \"About {{ lead.notes }}\"\n---\n{{ campaign.hook }}\n"}
    leads = "leads:\n" + lead_yaml(1, notes='"fine"') + lead_yaml(2, notes='"one\\nBcc: victim@example.com"')
    root = outreach_repo(make_repo, leads, campaign=BLAST.replace("hot/remind", "custom"), files=files)
    assert main(SEND + ["--root", str(root), "--no-commit"]) == 0
    rows = {r[2]: r for r in history_events(root) if r[1] in ("sent", "failed")}
    assert rows["lead-0001"][1] == "sent"
    assert rows["lead-0002"][1] == "failed" and rows["lead-0002"][9] == "unsafe_header"
    emls = list((root / "outbox" / DAY / "email").glob("*.eml"))
    assert len(emls) == 1 and b"victim" not in emls[0].read_bytes()
    assert "email unsafe_header x1" in capsys.readouterr().out


def test_progress_prints_plain_lines_when_not_a_terminal():
    import io

    from outreach.progress import Progress
    out = io.StringIO()
    p = Progress(out, tty=False)
    p.start({"email": 8, "sms": 0})
    for _ in range(8):
        p.advance("email")
    p.advance("sms")
    p.close()
    assert out.getvalue().splitlines() == ["email: 2/8", "email: 4/8", "email: 6/8", "email: 8/8"]
    tty = io.StringIO()
    p = Progress(tty, tty=True)
    p.start({"email": 2})
    p.advance("email")
    p.advance("email")
    p.close()
    assert "email [########################] 2/2" in tty.getvalue() and tty.getvalue().endswith("\n")


def test_a_day_that_is_not_a_sending_day_writes_and_commits_nothing(make_repo, capsys):
    root = outreach_repo(make_repo, leads_text(2), git=True)
    saturday = ["--today", "2026-11-28", "--now", "2026-11-28T10:00:00-06:00", "--root", str(root)]
    assert main(["plan"] + saturday[:2] + saturday[4:]) == 0
    assert main(["send"] + saturday) == 0
    out = capsys.readouterr().out
    assert "not a sending day" in out and "nothing new to commit" in out
    assert not (root / "outbox").exists() and not (root / "history").exists()
    assert git(root, "log", "--format=%s").splitlines() == ["initial"]
