"""The Monday digest (`make digest`): its numbers are the model's, both parts arrive at a real SMTP
server (aiosmtpd on 127.0.0.1) readable and safe, and each recipient gets one a week."""

from __future__ import annotations

import datetime as dt
import re
import shutil
from email import message_from_bytes, policy
from pathlib import Path

import pytest

from outreach.cli import main
from outreach.digest import already_sent, digest_id, ledger_path
from relead.check import check_repository
from relead.derive.digest_numbers import digest_numbers, digest_week
from relead.history import read_history
from relead.problems import Problems
from tests.paths import EXAMPLE, ROOT
from tests.smtp_server import SmtpServer

TODAY = "2026-11-23"                            # a Monday: the digest is for 16-22 November
NOW = "2026-11-23T08:30:00-06:00"
SITE = "https://dash.northwind.example/relead/"
TEAM = {"sam@northwind.example": "Sam Carter", "priya@northwind.example": "Priya Natarajan",
        "lee@northwind.example": "Lee Okafor"}
HOSTILE = '<script>alert("x")</script> Marcus & <b>Bell</b>'


def example_copy(dest: Path, *, site_url: str | None = SITE, hostile: bool = False) -> Path:
    """The example repository (leads, content, history, templates), as a clone holds it."""
    dest.mkdir()
    for name in ("content", "history"):
        shutil.copytree(EXAMPLE / name, dest / name)
    shutil.copytree(ROOT / "templates", dest / "templates")
    shutil.copy2(ROOT / ".gitignore", dest / ".gitignore")
    leads = (EXAMPLE / "leads.yaml").read_text(encoding="utf-8")
    if hostile:
        assert leads.count("    name: Marcus Bell\n") == 1
        leads = leads.replace("    name: Marcus Bell\n", f"    name: '{HOSTILE}'\n")
    (dest / "leads.yaml").write_text(leads, encoding="utf-8")
    if site_url:
        settings = dest / "content" / "settings.yaml"
        text = settings.read_text(encoding="utf-8")
        settings.write_text(text.replace("# site_url: https://northwind.example/relead/", f"site_url: {site_url}"),
                            encoding="utf-8")
    return dest


@pytest.fixture
def smtp_env(monkeypatch):
    for key in ("SMTP_HOST", "SMTP_PORT", "SMTP_USERNAME", "SMTP_PASSWORD", "SMTP_SECURITY", "EMAIL_TRANSPORT",
                "SMTP_CONNECTIONS", "SMTP_TIMEOUT", "SMTP_EHLO", "TWILIO_ACCOUNT_SID"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("OUTREACH_BACKOFF", "0.001")

    def point(server: SmtpServer) -> None:
        monkeypatch.setenv("SMTP_HOST", "127.0.0.1")
        monkeypatch.setenv("SMTP_PORT", str(server.port))
        monkeypatch.setenv("SMTP_SECURITY", "none")
    return point


def parts(msg) -> tuple[str, str]:
    text = msg.get_body(preferencelist=("plain",)).get_content()
    html = msg.get_body(preferencelist=("html",)).get_content()
    return text, html


def row(text: str, label: str) -> list[str]:
    """The cells after ``label`` on its line of the plain-text table."""
    line = next(ln for ln in text.splitlines() if ln.startswith(label + "  "))
    return re.split(r"\s{2,}", line[len(label):].strip())


# ------------------------------------------------------------------------------------ numbers

def test_the_week_is_the_last_whole_week_before_today():
    for day in ("2026-11-23", "2026-11-25", "2026-11-29"):
        assert digest_week(dt.date.fromisoformat(day)) == (dt.date(2026, 11, 16), dt.date(2026, 11, 22))
    assert digest_week(dt.date(2026, 11, 22)) == (dt.date(2026, 11, 9), dt.date(2026, 11, 15))


def test_the_numbers_are_the_models(example_root):
    checked = check_repository(example_root, today=dt.date.fromisoformat(TODAY))
    d = checked.derived
    n = digest_numbers(d.model, d.today, states=d.states, priorities=d.priorities)
    monday, sunday = dt.date(2026, 11, 16), dt.date(2026, 11, 22)
    assert (n.start, n.end) == (monday, sunday)
    # counted again here straight from leads and history, the plain way
    in_week = lambda day: monday <= day <= sunday
    came_in = [st for st in d.states.values() if st.reached.get("new") and in_week(st.reached["new"])]
    assert n.week.numbers.new_leads == len(came_in) == 3
    history = read_history(example_root / "history", Problems())
    sent = [r for r in history.records if r.event == "sent" and not r.step.startswith("-")
            and in_week(dt.date.fromisoformat(r.day))]
    assert n.week.numbers.touches == len(sent) == 11
    assert n.leads_contacted == len({r.lead for r in sent})
    for stage in d.model.settings.funnel:
        assert n.reached[stage] == sum(1 for st in d.states.values()
                                       if stage in st.reached and in_week(st.reached[stage]))
    assert n.reached["appointment"] == 1
    by_source: dict[str, int] = {}
    for st in came_in:
        by_source[st.lead.source or "(none)"] = by_source.get(st.lead.source or "(none)", 0) + 1
    assert {s: now for s, now, _ in n.sources} == by_source
    assert [w.lead for w in n.won_back] == []
    assert [r.lead for r in n.replies_waiting] == list(d.hygiene.replies_waiting)
    assert [c.lead for c in n.to_call] == [p.lead.id for p in d.priorities[:10]]
    assert all(c.why for c in n.to_call)
    # the week before: one lead won back, by the campaign its `won` record names
    before = digest_numbers(d.model, dt.date(2026, 11, 16), states=d.states, priorities=d.priorities)
    assert [(w.lead, w.campaign, w.value) for w in before.won_back] == \
        [("steve-harmon-harmon-tool-supply", "warm-lead-magnet", 11000)]
    assert before.week.numbers.recovered == 1 and before.week.numbers.value_recovered == 11000


# ------------------------------------------------------------------------------------ sending

def test_the_digest_arrives_with_both_parts_safe_and_complete(tmp_path, smtp_env, capsys):
    root = example_copy(tmp_path / "repo", hostile=True)
    with SmtpServer() as server:
        smtp_env(server)
        assert main(["digest", "--root", str(root), "--today", TODAY, "--now", NOW, "--no-commit"]) == 0
        arrived = list(server.messages)
    out = capsys.readouterr().out
    assert "digest for the week of 2026-11-16 to 2026-11-22 (SMTP 127.0.0.1" in out
    assert {rcpt for _f, (rcpt,), _d in arrived} == set(TEAM)
    assert all(mail_from == "hello@northwind.example" for mail_from, _r, _d in arrived)

    checked = check_repository(root, today=dt.date.fromisoformat(TODAY))
    d = checked.derived
    n = digest_numbers(d.model, d.today, states=d.states, priorities=d.priorities)
    for _f, (rcpt,), data in arrived:
        msg = message_from_bytes(data, policy=policy.default)
        assert msg["Auto-Submitted"] == "auto-generated"
        assert msg["To"].addresses[0].addr_spec == rcpt
        assert msg["From"].addresses[0].addr_spec == "hello@northwind.example"
        assert msg["Message-ID"] == f"<{digest_id(dt.date(2026, 11, 16), rcpt)}.relead@northwind.example>"
        assert "List-Unsubscribe" not in msg and "Bcc" not in msg
        assert "16-22 Nov 2026" in msg["Subject"] and "3 new" in msg["Subject"]
        text, html = parts(msg)
        first = TEAM[rcpt].split()[0]
        assert text.startswith(f"Hi {first},") and f"Hi {first}," in html

        # the plain part: the numbers with the week before and the change
        w, b = n.week.numbers, n.week.before
        assert row(text, "New leads in") == [str(w.new_leads), str(b.new_leads), f"+{w.new_leads - b.new_leads}"]
        assert row(text, "Leads a touch went out to")[:2] == [str(n.leads_contacted), str(n.leads_contacted_before)]
        assert row(text, "Touches (email, SMS, tasks)")[:2] == [str(w.touches), str(b.touches)]
        assert row(text, "Reached the appointment stage") == ["1", "2", "-1"]
        assert row(text, "Deals won") == ["0", "1", "-1"]
        assert row(text, "Value won back") == ["0 USD", "11,000 USD", "-11,000 USD"]
        assert "website: 2 / 0" in text and "reseller-midwest: 1 / 0" in text
        assert f"Replies waiting for an answer: {len(n.replies_waiting)}" in text
        assert f"Follow-ups past their date: {len(n.follow_ups_overdue)}" in text
        # the top ten, in order, with why, in both parts
        for c in n.to_call:
            assert re.search(rf"^\s*{c.rank}\. ", text, re.M)
            assert f"why: {c.why}" in text
        calls = text[text.index("to call first this week"):]
        assert [int(m) for m in re.findall(r"^\s*(\d+)\. ", calls, re.M)] == list(range(1, 11))
        assert calls.index("Joanna Pike") < calls.index("Raj Patel (Greenleaf Grocers)")
        assert html.count("why: ") == len(n.to_call) == 10
        # the dashboard's link, and the lead pages'
        assert f"The dashboard: {SITE}" in text
        assert f'href="{SITE}"' in html and f'href="{SITE}leads/joanna-pike-pike-pet-supply.html"' in html

        # email-safe HTML: tables and inline styles, nothing external, nothing that runs
        low = html.lower()
        for banned in ("<svg", "<script", "<img", "<link", "<style", "<iframe", "javascript:", "@import",
                       "class="):
            assert banned not in low, banned
        assert "max-width:600px" in html and 'role="presentation"' in html
        assert all("style=" in tag for tag in re.findall(r"<(?:td|th|table|h1|h2|p)\b[^>]*>", html))
        # hostile lead data: escaped in the HTML, as written in the text
        assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; Marcus &amp; &lt;b&gt;Bell&lt;/b&gt;" in html
        assert HOSTILE in text


def test_not_sent_twice_for_the_same_week(tmp_path, smtp_env, capsys):
    root = example_copy(tmp_path / "repo")
    args = ["digest", "--root", str(root), "--today", TODAY, "--now", NOW, "--no-commit"]
    with SmtpServer() as server:
        smtp_env(server)
        assert main(args) == 0
        assert server.count() == 3
        assert main(args) == 0                                           # the same Monday, again
        assert main(args[:3] + ["--today", "2026-11-26", "--now", "2026-11-26T09:00:00-06:00",
                                "--no-commit"]) == 0                     # later that week
        assert server.count() == 3
        out = capsys.readouterr().out
        assert out.count("already sent for the week of 2026-11-16") == 6
        assert already_sent(ledger_path(root, dt.date(2026, 11, 16))) == set(TEAM)
        assert main(["digest", "--root", str(root), "--today", "2026-11-30", "--no-commit"]) == 0
        assert server.count() == 6                                       # the next week's
    ledger = ledger_path(root, dt.date(2026, 11, 16)).read_text(encoding="utf-8").splitlines()
    assert ledger[0].startswith("#relead-digest v1") and len(ledger) == 4


def test_dry_run_sends_nothing_and_records_nothing(tmp_path, smtp_env, capsys):
    root = example_copy(tmp_path / "repo")
    with SmtpServer() as server:
        smtp_env(server)
        assert main(["digest", "--root", str(root), "--today", TODAY, "--dry-run"]) == 0
        assert server.count() == 0
    out = capsys.readouterr().out
    assert "dry run: the digest for the week of 2026-11-16 to 2026-11-22" in out
    assert "sam@northwind.example: would send" in out and "New leads in" in out
    assert not (root / "outbox").exists()


def test_to_overrides_the_team_and_a_bad_address_is_refused(tmp_path, smtp_env, capsys):
    root = example_copy(tmp_path / "repo")
    with SmtpServer() as server:
        smtp_env(server)
        assert main(["digest", "--root", str(root), "--today", TODAY, "--no-commit",
                     "--to", "boss@example.com, sam@northwind.example"]) == 0
        got = sorted(rcpt for _f, (rcpt,), _d in server.messages)
        assert got == ["boss@example.com", "sam@northwind.example"]
        boss = next(m for m in server.parsed() if m["To"].addresses[0].addr_spec == "boss@example.com")
        assert parts(boss)[0].startswith("Hello,")
        code = main(["digest", "--root", str(root), "--today", TODAY, "--to", "x@y.example\r\nBcc: evil@z.example"])
        assert code == 2 and server.count() == 2
    assert "is not an email address" in capsys.readouterr().err


def test_scheduled_it_waits_for_monday_morning_in_the_team_zone(tmp_path, smtp_env, capsys):
    root = example_copy(tmp_path / "repo")
    scheduled = ["digest", "--root", str(root), "--no-commit", "--monday-from", "08:00"]
    with SmtpServer() as server:
        smtp_env(server)
        # 13:30 UTC on Monday is 07:30 in Chicago; Sunday evening there is Monday in UTC
        assert main(scheduled + ["--now", "2026-11-23T13:30:00+00:00"]) == 0
        assert main(scheduled + ["--now", "2026-11-23T02:00:00+00:00"]) == 0
        assert server.count() == 0
        assert "not yet: it is Monday 07:30 in America/Chicago" in capsys.readouterr().out
        assert main(scheduled + ["--now", "2026-11-23T14:07:00+00:00"]) == 0     # 08:07 in Chicago
        assert main(scheduled + ["--now", "2026-11-23T15:07:00+00:00"]) == 0     # the next hourly run
        assert server.count() == 3


def test_without_smtp_it_writes_files_and_commits_the_ledger(tmp_path, smtp_env, capsys):
    import subprocess

    root = example_copy(tmp_path / "repo", site_url=None)
    run = lambda *a: subprocess.run(["git", *a], cwd=root, check=True, capture_output=True, text=True).stdout
    run("init", "-q")
    run("-c", "user.name=t", "-c", "user.email=t@example.com", "add", "-A")
    run("-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", "example")
    assert main(["digest", "--root", str(root), "--today", TODAY, "--now", NOW]) == 0
    out = capsys.readouterr().out
    assert "(files in outbox/)" in out and "committed" in out
    files = sorted((root / "outbox" / TODAY / "email").glob("week-2026-11-16-*.eml"))
    assert len(files) == 3
    text, _html = parts(message_from_bytes(files[0].read_bytes(), policy=policy.default))
    assert "The dashboard is not published (no `site_url` in content/settings.yaml)" in text
    assert "outbox/digests/2026-11-16.tsv" in run("show", "--name-only", "--format=", "HEAD")
    assert run("status", "--porcelain") == ""       # the .eml files are ignored, the ledger committed


def test_two_runners_through_the_remote_send_each_digest_once(tmp_path, smtp_env, capsys):
    """The scheduled workflow's way (PUSH=1): the runner that sends pushes the week's ledger; a
    later run in another checkout pulls it first and sends nothing twice."""
    from tests.outreach_helpers import git, git_init, remote_and_clones

    origin = example_copy(tmp_path / "origin")
    git_init(origin)
    bare, runners = remote_and_clones(origin, tmp_path, ("a", "b"))
    with SmtpServer() as server:
        smtp_env(server)
        for clone in runners:
            assert main(["digest", "--root", str(clone), "--now", "2026-11-23T14:17:00+00:00",
                         "--monday-from", "08:00", "--push"]) == 0
        assert server.count() == 3
    out = capsys.readouterr().out
    assert out.count("already sent for the week of 2026-11-16") == 3
    assert "outbox/digests/2026-11-16.tsv" in git(bare, "show", "--name-only", "--format=", "main")


def test_make_digest_passes_its_options():
    import subprocess

    def dry(*args: str) -> str:
        return subprocess.run(["make", "-n", "digest", *args], cwd=ROOT, capture_output=True, text=True,
                              check=True).stdout
    assert "-m outreach digest" in dry() and "--today" not in dry() and "--now" not in dry()   # as_of, or the clock
    line = dry("TO=a@example.com,b@example.com", "DRY_RUN=1", "TODAY=2026-11-30", "COMMIT=0", "PUSH=1")
    for part in ("--to 'a@example.com,b@example.com'", "--dry-run", "--today 2026-11-30", "--no-commit", "--push"):
        assert part in line, part


def test_a_week_with_no_new_lead_says_so_in_both_parts(example_root):
    """The week of 9 to 15 November brought no new lead: the digest says where they came from anyway."""
    from outreach.digest_render import Recipient, render_digest
    d = check_repository(example_root, today=dt.date(2026, 11, 20)).derived
    n = digest_numbers(d.model, d.today, states=d.states, priorities=d.priorities)
    assert (n.start, n.week.numbers.new_leads, n.week.before.new_leads) == (dt.date(2026, 11, 9), 0, 0)
    _subject, text, html = render_digest(n, d.model.settings, Recipient("Lee Okafor", "lee@northwind.example"))
    for part in (text, html):
        assert "Where new leads came from: no new lead came in either week." in part
    assert row(text, "Reached the contacted stage") == ["0", "0", "same"]
