"""One fault never stops everybody's day: broken copy fails only its touches, a refused account
stops only its channel (at once, deferring the rest), and no password goes out in clear text."""

from __future__ import annotations

import re
import subprocess

import pytest

from outreach.cli import main
from outreach.config import config_from_env
from outreach.errors import ConfigError
from relead.check import check_repository
from tests.outreach_helpers import (BLAST, DAY, NOW, SMS_FIRST, history_events, leads_text, outreach_repo,
                                    touch_states)
from tests.smtp_server import SmtpServer
from tests.twilio_server import TwilioServer

SEND = ["send", "--today", DAY, "--now", NOW, "--no-commit"]

# Each construct that used to pass `make check` and then kill the send with a traceback.
BROKEN = {
    "include": "{% include 'other.md' %}",
    "import": "{% import 'macros.md' as m %}",
    "extends": "{% extends 'base.md' %}",
    "divide": "{{ 1 / 0 }}",
    "range": "{{ range(10 ** 9) | list | length }}",
    "escape": "{{ ''.__class__.__mro__ }}",
    "repeat": "{{ 'spam ' * 10 ** 9 }}",
    "power": "{{ 7 ** 1000000000 }}",
}


def broken_repo(make_repo, n: int = 60):
    """One campaign whose variants each send a different broken message, and one a good one."""
    files = {"content/messages/good.md": "---\nsubject: \"A scanner audit\"\n---\nHi {{ lead.first_name }}, "
                                         "{{ campaign.hook }}.\n"}
    variants = ["  good: {hook: A free scanner audit, messages: {hot/remind: good}}"]
    for name, construct in BROKEN.items():
        files[f"content/messages/{name}.md"] = (f"---\nsubject: \"About {name}\"\n---\nHi {{{{ lead.first_name }}}},"
                                                f"\n\n{{{{ campaign.hook }}}}\n{construct}\n")
        variants.append(f"  {name}: {{hook: A free scanner audit, messages: {{hot/remind: {name}}}}}")
    campaign = BLAST + "variants:\n" + "\n".join(variants) + "\n"
    return outreach_repo(make_repo, leads_text(n), campaign=campaign, files=files)


def test_check_finds_every_broken_construct_with_its_file_and_line(make_repo, capsys):
    root = broken_repo(make_repo)
    checked = check_repository(root)
    where = {p.file: p for p in checked.errors}
    assert set(where) == {f"content/messages/{name}.md" for name in BROKEN}
    for name in BROKEN:
        assert where[f"content/messages/{name}.md"].line == 7, where[f"content/messages/{name}.md"].format()
    assert "`{% include %}` is not allowed" in where["content/messages/include.md"].message
    assert "division by zero" in where["content/messages/divide.md"].message
    assert "sandbox" in where["content/messages/escape.md"].message
    from relead.cli import main as relead_main
    assert relead_main(["check", "--root", str(root)]) == 1
    out = capsys.readouterr().out
    assert "content/messages/divide.md:7: division by zero (ZeroDivisionError) (rendering it for a made-up lead" \
        in out
    assert "Traceback" not in out


def test_a_run_sends_every_other_message_and_fails_only_the_broken_ones(make_repo, capsys):
    root = broken_repo(make_repo)
    assert main(["send", "--dry-run", "--root", str(root), "--today", DAY, "--now", NOW]) == 0
    preview = capsys.readouterr().out
    assert "content/messages/divide.md:7: division by zero" in preview and "Traceback" not in preview
    assert not (root / "history").exists()
    assert main(["plan", "--root", str(root), "--today", DAY]) == 0
    assert main(SEND + ["--root", str(root)]) == 0
    out = capsys.readouterr().out
    assert "Traceback" not in out
    rows = [r for r in history_events(root) if r[1] in ("sent", "failed")]
    variants = {r[2]: r[7] for r in history_events(root) if r[1] == "enrolled"}
    sent = [r for r in rows if r[1] == "sent"]
    failed = [r for r in rows if r[1] == "failed"]
    assert sent and {variants[r[2]] for r in sent} == {"good"}
    assert {variants[r[2]] for r in failed} == set(BROKEN)
    assert all(r[9] == "render" and re.search(r"content/messages/\w+\.md:7: ", r[10]) for r in failed)
    emls = list((root / "outbox" / DAY / "email").glob("*.eml"))
    assert len(emls) == len(sent)
    assert "email render x" in out and "touches with this message fail; the others go out" in out


def test_a_refused_login_is_tried_once_defers_everything_and_the_fixed_password_sends_it(make_repo, monkeypatch,
                                                                                         capsys):
    root = outreach_repo(make_repo, leads_text(30), git=True)
    with SmtpServer(login=("relead", "right")) as server:
        for key, value in dict(SMTP_HOST="127.0.0.1", SMTP_PORT=str(server.port), SMTP_SECURITY="none",
                               SMTP_USERNAME="relead", SMTP_PASSWORD="wrong", SMTP_CONNECTIONS="4",
                               ALLOW_PLAINTEXT_AUTH="1", EMAIL_PER_SECOND="0", OUTREACH_BACKOFF="0.001").items():
            monkeypatch.setenv(key, value)
        assert main(["send", "--root", str(root), "--today", DAY, "--now", NOW]) == 8
        assert server.auth_attempts == 1 and server.count() == 0
        captured = capsys.readouterr()
        assert "error: email stopped: SMTP login refused by 127.0.0.1 (535" in captured.err
        assert sorted(touch_states(root).values()) == [["attempting", "deferred"]] * 30
        assert "email account x30" in captured.out
        monkeypatch.setenv("SMTP_PASSWORD", "right")
        assert main(["send", "--root", str(root), "--today", DAY, "--now", NOW]) == 0
        assert server.count() == 30 and len(server.message_ids()) == 30
    assert sorted(touch_states(root).values()) == [["attempting", "deferred", "attempting", "sent"]] * 30
    assert subprocess.run(["git", "log", "-1", "--format=%B"], cwd=root, capture_output=True,
                          text=True).stdout.startswith("outreach 2026-11-23: 30 email")


@pytest.mark.parametrize("status", [401, 403])
def test_a_refused_twilio_account_stops_sms_at_once_and_a_later_run_sends(make_repo, monkeypatch, capsys, status):
    root = outreach_repo(make_repo, leads_text(12), campaign=SMS_FIRST)
    refusing = [status]         # a wrong token: every request refused until it is fixed
    with TwilioServer(faults=lambda form: refusing[0]) as server:
        for key, value in {**server.env(), "SMS_PER_SECOND": "0", "OUTREACH_BACKOFF": "0.001",
                           "TWILIO_CONNECTIONS": "4"}.items():
            monkeypatch.setenv(key, value)
        monkeypatch.delenv("SMTP_HOST", raising=False)
        assert main(SEND + ["--root", str(root)]) == 8
        assert server.requests == 1 and not server.messages
        assert "error: sms stopped: Twilio refused this account" in capsys.readouterr().err
        assert sorted(touch_states(root).values()) == [["attempting", "deferred"]] * 12
        refusing[0] = None
        assert main(SEND + ["--root", str(root)]) == 0
        assert len(server.messages) == 12
    assert all(evs[-1] == "sent" for evs in touch_states(root).values())


def test_a_password_is_never_sent_in_clear_text_unless_allowed(tmp_path):
    smtp = {"SMTP_HOST": "mail.example.com", "SMTP_SECURITY": "none", "SMTP_USERNAME": "u", "SMTP_PASSWORD": "p"}
    with pytest.raises(ConfigError, match="SMTP_SECURITY=none would send SMTP_PASSWORD in clear text"):
        config_from_env(smtp, root=tmp_path)
    assert config_from_env({**smtp, "ALLOW_PLAINTEXT_AUTH": "1"}, root=tmp_path).smtp.username == "u"
    assert config_from_env({**smtp, "SMTP_USERNAME": "", "SMTP_PASSWORD": ""}, root=tmp_path).smtp.username == ""
    twilio = {"TWILIO_ACCOUNT_SID": "AC" + "a1" * 16, "TWILIO_AUTH_TOKEN": "t", "TWILIO_FROM": "+13125550100",
              "TWILIO_API_BASE": "http://edge.example.com"}
    with pytest.raises(ConfigError, match="TWILIO_API_BASE is http://"):
        config_from_env(twilio, root=tmp_path)
    assert config_from_env({**twilio, "ALLOW_PLAINTEXT_AUTH": "1"}, root=tmp_path).twilio is not None
    assert config_from_env({**twilio, "TWILIO_API_BASE": "https://edge.example.com"}, root=tmp_path).twilio
