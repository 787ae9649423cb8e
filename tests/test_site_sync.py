"""The dashboard shows what `make sync` brought back: replies waiting for the owner (Today), closed
channels and blocks (Hygiene), out of office and the new events on a lead's page, automatic replies
counted apart from answers (campaigns), and the `sync` part of summary.json."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import pytest

from relead.derive.campaign_stats import campaign_stats
from relead.check import check_repository
from relead.history import HEADER, Record, touch_id
from relead.derive.plan import INTERESTED_STEP, REPLY_STEP
from site_builder.build import build
from tests.outreach_helpers import lead_yaml

TODAY = dt.date(2026, 12, 2)        # a Wednesday: a sending day
CAMPAIGN = "hot-reactivation"
ENROLLED = "2026-11-23"
HOSTILE = "<script>alert(1)</script> Call me <b>next</b> week & bring the quote"

# lead -> owner; every lead was enrolled on ENROLLED and sent step 1 (an email) that day
LEADS = {
    "ann-reply": "sam", "bob-colleague": "priya", "mo-answered": "sam", "cat-away": "lee", "gus-start": "lee",
    "dan-bounce": "sam", "eve-soft": "sam", "fay-stop": "priya", "hal-spam": "priya", "ivy-block": "lee",
    "jo-unsub": "lee", "kim-wrong": "sam", "liz-interested": "priya",
}


def rec(day: str, event: str, lead: str, *, step: str = "", channel: str = "email", ref: str = "",
        note: str = "", time: str = "16:00:00") -> Record:
    touch = touch_id(lead, CAMPAIGN, ENROLLED, int(step)) if step else ""
    return Record(day, f"{day}T{time}+00:00", event, lead, CAMPAIGN, ENROLLED, step, channel, "", touch, ref, note)


def synced(day: str, event: str, lead: str, note: str, *, channel: str = "email", n: int = 1) -> Record:
    """As sync records an inbound message: tied to the touch it answers, ref = its Message-ID or sid."""
    ref = f"<in{n}.{lead}@mx.example>" if channel == "email" else f"SM{n:04d}{lead}"
    return rec(day, event, lead, step="0", channel=channel, ref=ref, note=note, time="15:00:00")


BASE = [r for lead in LEADS for r in (
    rec(ENROLLED, "enrolled", lead, channel="", note="matches its audience"),
    rec(ENROLLED, "sent", lead, step="0", ref=f"<out.{lead}@northwind.example>"))]

SYNC = [
    synced("2026-11-30", "replied", "ann-reply", HOSTILE),
    synced("2026-11-27", "replied", "bob-colleague", "colleague it@bobco.example: Bob left; I look after scanners now"),
    synced("2026-11-25", "replied", "mo-answered", "Yes, send the dates"),
    synced("2026-11-24", "auto_reply", "cat-away", "until 2026-12-09, back 2026-12-08"),
    synced("2026-11-24", "auto_reply", "gus-start", "until 2026-11-30, no return date given"),
    synced("2026-11-24", "opted_out", "gus-start", "STOP by SMS", channel="sms", n=1),
    synced("2026-11-25", "opted_in", "gus-start", "START by SMS", channel="sms", n=2),
    synced("2026-11-25", "sms_help", "gus-start", "HELP by SMS", channel="sms", n=3),
    synced("2026-11-25", "bounced", "dan-bounce", "dan@danco.example: 5.1.1 user unknown"),
    synced("2026-11-24", "soft_bounce", "eve-soft", "eve@eveco.example: 4.2.2 mailbox full", n=1),
    synced("2026-11-25", "soft_bounce", "eve-soft", "eve@eveco.example: 4.2.2 mailbox full", n=2),
    synced("2026-11-27", "soft_bounce", "eve-soft", "eve@eveco.example: 4.2.2 mailbox full", n=3),
    synced("2026-11-26", "opted_out", "fay-stop", "STOP by SMS", channel="sms"),
    synced("2026-11-27", "complained", "hal-spam", "hal@halco.example: spam complaint (abuse report)"),
    synced("2026-11-28", "policy_block", "ivy-block",
           "ivy@ivyco.example: 5.7.1 <b>client host blocked</b> using Spamhaus"),
    synced("2026-11-29", "opted_out", "jo-unsub", "unsubscribe by email"),
]
PEOPLE = [
    rec("2026-11-26", "sent", "mo-answered", step=str(REPLY_STEP), channel="call", ref="task", note="handed to sam"),
    rec("2026-11-24", "wrong_number", "kim-wrong", channel="sms", note="not their phone"),
    rec("2026-12-01", "interested", "liz-interested", note="wants a visit"),
]


def leads_text() -> str:
    return "leads:\n" + "".join(
        lead_yaml(i, id=lead, name=lead.split("-")[0].capitalize() + " Lead", company=f"{lead.split('-')[0]} Co",
                  email=f"{lead.split('-')[0]}@{lead.split('-')[0]}co.example", owner=owner)
        for i, (lead, owner) in enumerate(LEADS.items(), 1))


def history(records) -> dict[str, str]:
    files: dict[str, list[Record]] = {}
    for r in records:
        writer = "sync" if r.ref.startswith(("<in", "SM")) else "record-sam" if r.event in (
            "wrong_number", "interested") else "outreach"
        files.setdefault(f"{r.day[:4]}/{r.day[5:7]}/{r.day}.{writer}.tsv", []).append(r)
    return {path: HEADER + "".join(r.line() for r in sorted(recs, key=lambda r: r.at)) for path, recs in files.items()}


def repo(make_repo, records=None) -> Path:
    return make_repo(leads_text(), history=history(BASE + SYNC + PEOPLE if records is None else records))


@pytest.fixture
def built(make_repo) -> Path:
    root = repo(make_repo)
    result = build(root, root / "_site", today=TODAY)
    assert result.files, [p.format() for p in result.checked.errors]
    return root / "_site"


def page(site: Path, rel: str) -> str:
    return (site / rel).read_text(encoding="utf-8")


def section(html: str, anchor: str) -> str:
    """The <section id=anchor> ... </section> of a page."""
    start = html.index(f'id="{anchor}"')
    return html[start:html.index("</section>", start)]


def text(html: str) -> str:
    """The words of some HTML, tags dropped (entities left as they are)."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


# --------------------------------------------------------------------------- today

def test_today_lists_replies_waiting_newest_first_with_the_record_command(built):
    html = page(built, "today.html")
    replies = section(html, "replies")
    words = text(replies)
    assert "Replies waiting for the owner" in words and "3 answered" in words
    order = [replies.index(f"leads/{lead}.html") for lead in ("ann-reply", "bob-colleague", "mo-answered")]
    assert order == sorted(order), "newest reply first"
    for lead in ("cat-away", "liz-interested", "gus-start"):
        assert lead not in replies, "an automatic reply, an interested answer or a START is not a reply waiting"
    assert "record the outcome: make record LEAD=ann-reply OUTCOME=..." in words
    assert "Sam Carter" in words and "Priya Natarajan" in words and "2026-11-30" in words and "2 days ago" in words
    # the colleague who wrote, and what they said
    assert "a colleague wrote: it@bobco.example" in words and "Bob left; I look after scanners now" in words
    assert '<div class="k">Replies waiting</div><div class="v">3</div>' in html


def test_a_hostile_snippet_stays_text(built):
    for rel in ("today.html", "leads/ann-reply.html"):
        html = page(built, rel)
        assert "<script>alert(1)" not in html and "<b>next</b>" not in html, rel
        assert "&lt;script&gt;alert(1)&lt;/script&gt; Call me &lt;b&gt;next&lt;/b&gt; week &amp; bring" in html, rel
    hygiene = page(built, "hygiene.html")
    assert "<b>client host blocked</b>" not in hygiene and "&lt;b&gt;client host blocked&lt;/b&gt;" in hygiene


def test_owner_tasks_say_answer_for_a_reply_and_call_back_after_interest(built):
    html = page(built, "today.html")
    tasks = section(html, "tasks-h")
    sam = tasks[tasks.index("<h3>Sam Carter"):]
    sam = sam[:sam.index("</ul>")]
    assert '<span class="tag">answer</span> <a href="leads/ann-reply.html">' in sam
    assert "1 to answer" in sam and "ann@annco.example" in sam, "answered by email: the address to write to"
    assert "mo-answered" not in tasks, "the task to answer mo was handed out already"
    priya = tasks[tasks.index("<h3>Priya Natarajan"):]
    priya = priya[:priya.index("</ul>")]
    assert '<span class="tag">answer</span> <a href="leads/bob-colleague.html">' in priya
    assert '<span class="tag">call back</span> <a href="leads/liz-interested.html">' in priya
    assert "said they are interested on 2026-12-01" in priya
    for lead in ("ann-reply", "bob-colleague", "liz-interested"):
        assert not re.search(rf'<span class="tag">call</span> <a href="leads/{lead}.html">', tasks), lead
    assert "follow-up" not in tasks


# --------------------------------------------------------------------------- hygiene

def test_hygiene_lists_closed_channels_with_address_why_and_day(built):
    closed = section(page(built, "hygiene.html"), "closed")
    row = r'<tr><td class="lead"><a href="leads/([^.]+)\.html">.*?</tr>'
    rows = {m.group(1): text(m.group(0)) for m in re.finditer(row, closed, re.S)}
    assert set(rows) == {"dan-bounce", "eve-soft", "fay-stop", "hal-spam", "jo-unsub", "kim-wrong"}, \
        "gus texted START after STOP: SMS is open again"
    assert "dan@danco.example" in rows["dan-bounce"] and "bounced: 5.1.1 user unknown" in rows["dan-bounce"]
    assert "correct the address in leads.yaml" in rows["dan-bounce"] and "2026-11-25" in rows["dan-bounce"]
    assert "three soft bounces within 14 days (the last: 4.2.2 mailbox full)" in rows["eve-soft"]
    assert "2026-11-27" in rows["eve-soft"]
    assert "texted STOP" in rows["fay-stop"] and "+1 312 555 0008" in rows["fay-stop"]
    assert "spam complaint" in rows["hal-spam"] and "hal@halco.example" in rows["hal-spam"]
    assert "unsubscribed" in rows["jo-unsub"] and "2026-11-29" in rows["jo-unsub"]
    assert "wrong number" in rows["kim-wrong"] and "sms" in rows["kim-wrong"]
    order = [closed.index(f"leads/{lead}.html") for lead in ("jo-unsub", "eve-soft", "hal-spam", "fay-stop")]
    assert order == sorted(order), "latest first (then by id)"
    assert 'href="#closed">Email or SMS closed</a>: <strong>6</strong>' in page(built, "hygiene.html")


def test_hygiene_lists_blocks_by_receiving_servers(built):
    html = page(built, "hygiene.html")
    blocked = text(section(html, "blocked"))
    assert "Blocked by a receiving server" in blocked and "not because of the lead" in blocked
    assert "Ivy Lead" in blocked and "2026-11-28" in blocked and "5.7.1" in blocked and "Spamhaus" in blocked
    assert 'href="#blocked">Blocked by a receiving server</a>: <strong>1</strong>' in html
    assert "ivy-block" not in section(html, "closed"), "a block against us does not close the lead's email"


def test_a_redacted_build_masks_the_addresses_sync_brought_back(make_repo):
    root = repo(make_repo)
    assert build(root, root / "_site", today=TODAY, redact=True).files
    for rel in ("hygiene.html", "today.html", "leads/bob-colleague.html", "leads/dan-bounce.html"):
        html = page(root / "_site", rel)
        for address in ("dan@danco.example", "ivy@ivyco.example", "it@bobco.example", "+1 312 555 0008"):
            assert address not in html, (rel, address)
    assert "d•••@danco.example" in page(root / "_site", "hygiene.html")
    assert "i•••@bobco.example" in page(root / "_site", "today.html")


# --------------------------------------------------------------------------- lead pages

def test_lead_pages_show_the_new_events_in_words(built):
    cat = page(built, "leads/cat-away.html")
    assert "Out of office: no touch before 2026-12-09" in cat
    assert "Automatic reply: out of office" in cat and "no touch before 2026-12-09 (back 2026-12-08)" in cat
    gus = page(built, "leads/gus-start.html")
    assert "Out of office: no touch before" not in gus, "that pause is over"
    assert "no touch before 2026-11-30 (no return date given)" in gus
    assert "Texted START: SMS allowed again" in gus and "Texted HELP" in gus
    assert "Soft bounce (a temporary failure)" in page(built, "leads/eve-soft.html")
    assert "Blocked by the receiving server (not the lead&#39;s doing)" in page(built, "leads/ivy-block.html")
    assert "Marked our email as spam: no more email" in page(built, "leads/hal-spam.html")
    bob = page(built, "leads/bob-colleague.html")
    assert "Replied: a colleague wrote (it@bobco.example)" in bob
    assert '<span class="note">Bob left; I look after scanners now</span>' in bob
    ann = page(built, "leads/ann-reply.html")
    assert '<span class="what">Replied</span>' in ann and "Call me &lt;b&gt;next&lt;/b&gt; week" in ann
    assert "answer their reply of 2026-11-30, then record what came of it" in ann, "the next action"


def test_a_handed_out_task_is_not_a_call_on_the_timeline(built):
    mo = page(built, "leads/mo-answered.html")
    assert "Task for the owner: answer the reply" in mo
    assert "follow-up call" not in mo
    assert not re.search(r'<span class="what">Sent</span> <span class="tag">call</span>', mo)


def test_the_out_of_office_line_is_relative_to_the_as_of_date(make_repo):
    root = repo(make_repo)
    assert build(root, root / "_site", today=dt.date(2026, 12, 9)).files
    assert "Out of office" not in page(root / "_site", "leads/cat-away.html"), "the pause ends on 2026-12-09"


# --------------------------------------------------------------------------- campaigns

def _tally(make_repo, records):
    root = repo(make_repo, records)
    checked = check_repository(root, today=TODAY)
    assert not checked.errors, [p.format() for p in checked.errors]
    return campaign_stats(checked.derived.model, checked.derived.states).campaigns[CAMPAIGN].tally


ONE = [r for r in BASE if r.lead == "cat-away"]


@pytest.mark.parametrize("event, note", [
    ("auto_reply", "until 2026-12-09, back 2026-12-08"), ("complained", "cat@catco.example: spam complaint"),
    ("policy_block", "cat@catco.example: 5.7.1 blocked"), ("soft_bounce", "cat@catco.example: 4.2.2 full"),
    ("opted_in", "START by SMS"), ("sms_help", "HELP by SMS"),
])
def test_what_only_sync_records_is_not_an_answer(make_repo, event, note):
    tally = _tally(make_repo, ONE + [synced("2026-11-24", event, "cat-away", note)])
    assert tally.sent == 1 and tally.replied == 0 and tally.interested == 0
    assert tally.auto_replied == (1 if event == "auto_reply" else 0)
    answered = _tally(make_repo, ONE + [synced("2026-11-24", event, "cat-away", note),
                                        synced("2026-11-25", "replied", "cat-away", "Back now: call me", n=2)])
    assert answered.replied == 1


def test_an_automatic_reply_is_counted_once_per_touch(make_repo):
    auto = synced("2026-11-24", "auto_reply", "cat-away", "until 2026-12-09, back 2026-12-08")
    again = synced("2026-11-25", "auto_reply", "cat-away", "until 2026-12-09", n=2)
    twice = _tally(make_repo, ONE + [auto, auto, again])
    assert twice.auto_replied == 1 and twice.replied == 0


def test_campaign_pages_show_auto_replies_beside_answers(built, make_repo):
    html = page(built, f"campaigns/{CAMPAIGN}.html")
    head = re.search(r"<thead><tr><th scope=\"col\">Step</th>.*?</thead>", html, re.S).group(0)
    assert re.search(r">Answered</th><th [^>]*>Auto-replies</th>", head)
    foot = re.search(r"<tfoot><tr><th scope=\"row\" colspan=\"4\">Every step</th>(.*?)</tr></tfoot>", html).group(1)
    cells = re.findall(r'<td class="n">([^<]*)', foot)
    tally = _tally(make_repo, None)
    assert tally.auto_replied == 2 and cells[:3] == [str(tally.sent), f"{tally.replied} ", "2"]
    without = _tally(make_repo, [r for r in BASE + SYNC + PEOPLE if r.event != "auto_reply"])
    assert without.replied == tally.replied, "an automatic reply does not raise the answers"
    assert "1 reply handed to an owner to answer" in html
    index = page(built, "campaigns.html")
    assert "2 automatic replies (out of office), not counted as answers" in index
    assert re.search(r">Answered</th><th [^>]*>Auto-replies</th>", index)


# --------------------------------------------------------------------------- summary.json

def test_summary_json_has_the_sync_lists_sorted(built):
    s = json.loads(page(built, "data/summary.json"))
    assert s["sync"] == {
        "replies_waiting": ["ann-reply", "bob-colleague", "mo-answered"],
        "paused": {"cat-away": "2026-12-09"},
        "closed": {"email": ["dan-bounce", "eve-soft", "hal-spam", "jo-unsub"], "sms": ["fay-stop", "kim-wrong"]},
    }


def test_channel_stats_do_not_count_sync_only_events_or_a_message_twice(make_repo):
    def stats(records):
        checked = check_repository(repo(make_repo, records), today=TODAY)
        return checked.derived.channels

    sync_only = {"auto_reply", "soft_bounce", "policy_block", "complained", "opted_in", "sms_help"}
    full = stats(BASE + SYNC + PEOPLE)
    assert full == stats([r for r in BASE + SYNC + PEOPLE if r.event not in sync_only])
    # one reply recorded by two runners (the same ref): one response
    twice = stats(BASE + SYNC + PEOPLE + [SYNC[0]._replace(day="2026-12-01")])
    assert twice == full


def test_the_build_is_deterministic(make_repo):
    root = repo(make_repo)
    build(root, root / "a", today=TODAY)
    build(root, root / "b", today=TODAY)
    for rel in ("data/summary.json", "today.html", "hygiene.html", "campaigns.html", "leads/cat-away.html"):
        assert (root / "a" / rel).read_bytes() == (root / "b" / rel).read_bytes(), rel


def test_task_labels_cover_both_owner_tasks():
    from site_builder.views import TASK_LABELS
    assert TASK_LABELS == {REPLY_STEP: "answer", INTERESTED_STEP: "call back"}
