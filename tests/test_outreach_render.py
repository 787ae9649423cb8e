"""Rendering and MIME: sandboxed copy, hostile lead data, headers, SMS segments."""

from __future__ import annotations

import dataclasses
import datetime as dt
from email import message_from_bytes, policy

import pytest

from outreach.errors import RenderError, UnsafeHeader
from outreach.mime import EmailParts, Layout, build_email, encode_header, format_address
from outreach.queue import build_queue, read_queue, write_queue
from outreach.render import OPT_OUT_SMS, Renderer, check_header, html_value, sms_segments
from relead.derive.derived import derive
from relead.read.load import load
from relead.messages import TEMPLATE_VARIABLES
from relead.derive.plan import plan_day
from relead.model import Sender
from tests.outreach_helpers import BLAST, DAY, ROOT, SMS_FIRST, lead_yaml, outreach_repo, plan

NOW = dt.datetime.fromisoformat("2026-11-23T10:00:00-06:00")
SENDER = Sender("Northwind Scanning", "hello@northwind.example", "400 N Lake Shore Dr, Chicago",
                reply_to="sales@northwind.example", unsubscribe_email="unsubscribe@northwind.example",
                unsubscribe_url="https://northwind.example/unsubscribe")


def parse(data: bytes):
    return message_from_bytes(data, policy=policy.default)


def custom_message(make_repo, body: str, *, subject: str = "Hello {{ lead.first_name }}", **lead):
    files = {"content/messages/custom.md": f"---\nsubject: \"{subject}\"\n---\n{body}\n"}
    campaign = BLAST.replace("hot/remind", "custom")
    root = outreach_repo(make_repo, "leads:\n" + lead_yaml(1, **lead), campaign=campaign, files=files)
    d, p = plan(root)
    return root, d, p


def test_context_is_exactly_the_documented_variables(make_repo):
    root, d, p = custom_message(make_repo, "Hi {{ campaign.hook }}")
    ctx = Renderer(d.model).context(p.touches[0])
    assert tuple(ctx) == TEMPLATE_VARIABLES
    assert ctx["lead"]["first_name"] == "Pat" and ctx["lead"]["title"] == ""       # present, empty
    assert ctx["owner"]["name"] == "Sam Carter"
    assert ctx["campaign"]["hook"] == "A free scanner audit"
    assert ctx["unsubscribe_url"].startswith("https://northwind.example/unsubscribe?t=")


def test_a_lead_without_owner_gets_the_default_owner_else_the_sender(make_repo):
    root, d, p = custom_message(make_repo, "From {{ owner.name }} <{{ owner.email }}> {{ campaign.hook }}",
                                owner=None)
    r = Renderer(d.model).email(p.touches[0])
    assert "From Priya Natarajan <priya@northwind.example>" in r.text      # the example's default_owner
    assert p.touches[0].owner == "priya"                                     # and her task, were it one
    nobody = dataclasses.replace(d.model, settings=dataclasses.replace(d.model.settings, default_owner=""))
    assert "From Northwind Scanning <hello@northwind.example>" in Renderer(nobody).email(p.touches[0]).text


def test_template_syntax_in_notes_is_printed_not_evaluated(make_repo):
    notes = '"{{ 7 * 7 }} {% for x in range(3) %}loop{% endfor %} {{ lead.__class__ }}"'
    root, d, p = custom_message(make_repo, "Notes: {{ lead.notes }} {{ campaign.hook }}", notes=notes)
    r = Renderer(d.model).email(p.touches[0])
    assert "{{ 7 * 7 }} {% for x in range(3) %}loop{% endfor %} {{ lead.__class__ }}" in r.text
    assert "49" not in r.text and "looploop" not in r.text
    assert "{{ 7 * 7 }}" in r.html


def test_html_and_markdown_in_lead_data_stay_text(make_repo):
    name = '"<script>alert(1)</script> [click](http://evil.example) **bold**"'
    root, d, p = custom_message(make_repo, "Hi {{ lead.name }}, {{ campaign.hook }}", name=name)
    r = Renderer(d.model).email(p.touches[0])
    assert "<script>" not in r.html and "&lt;script&gt;" in r.html
    assert "<a " not in r.html and "<strong>bold" not in r.html
    assert "[click](http://evil.example) **bold**" in r.html    # shown literally
    assert "<script>alert(1)</script>" in r.text                # the plain part is plain text


def unchecked_plan(make_repo, body: str):
    """The day's plan from a model as loaded, before `check` renders its messages: what a run
    meets when the check was skipped."""
    files = {"content/messages/custom.md": f"---\nsubject: \"Hello\"\n---\n{body}\n"}
    root = outreach_repo(make_repo, "leads:\n" + lead_yaml(1), campaign=BLAST.replace("hot/remind", "custom"),
                         files=files)
    today = dt.date.fromisoformat(DAY)
    model = load(root, today=today).model
    d = derive(model, today)
    return d, plan_day(model, d.states, d.priorities, today)


def test_strict_undefined_and_sandbox_refuse(make_repo):
    d, p = unchecked_plan(make_repo, "{{ lead.nickname }} {{ campaign.hook }}")
    with pytest.raises(RenderError, match=r"content/messages/custom.md:4: .*nickname"):
        Renderer(d.model).email(p.touches[0])
    d, p = unchecked_plan(make_repo, "{{ campaign.hook }}\n{{ lead.__class__.__mro__ }}")
    with pytest.raises(RenderError, match=r"custom.md:5: refused by the sandbox"):
        Renderer(d.model).email(p.touches[0])


def test_a_line_break_in_a_header_is_refused_for_that_touch(make_repo):
    root, d, p = custom_message(make_repo, "{{ campaign.hook }}", subject="About {{ lead.notes }}",
                                notes='"line one\\nBcc: victim@example.com"')
    queue = build_queue(p, d.model)
    assert queue.touches[0].error and "line break" in queue.touches[0].error
    assert not queue.touches[0].text
    with pytest.raises(UnsafeHeader):
        check_header("Subject", "a\r\nBcc: x@y")
    with pytest.raises(UnsafeHeader):
        format_address("Jane\r\nBcc: x@evil.example", "jane@acme.example")


def test_acme_inc_stays_one_recipient_and_headers_parse():
    parts = EmailParts("abc123", "Acme, Inc.", "buyer@acme.example", "Ein Angebot für Sie — 20% off",
                       "Hello\n.line starting with a dot\n", "<p>Hello</p>")
    msg = parse(build_email(parts, sender=SENDER, now=NOW))
    assert len(msg["To"].addresses) == 1
    assert msg["To"].addresses[0].display_name == "Acme, Inc."
    assert msg["To"].addresses[0].addr_spec == "buyer@acme.example"
    assert msg["Subject"] == "Ein Angebot für Sie — 20% off"
    assert msg["Message-ID"] == "<abc123.relead@northwind.example>"
    assert msg["List-Unsubscribe"] == ("<mailto:unsubscribe+abc123@northwind.example?subject=unsubscribe%20abc123>, "
                                       "<https://northwind.example/unsubscribe?t=abc123>")
    assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert msg["Reply-To"].addresses[0].addr_spec == "sales+r-abc123@northwind.example"   # the touch rides along
    assert msg.get_content_type() == "multipart/alternative"
    assert msg.get_body(("plain",)).get_content().replace("\r\n", "\n") == "Hello\n.line starting with a dot\n"
    assert msg.get_body(("html",)).get_content().strip() == "<p>Hello</p>"
    assert not msg.defects


def test_no_one_click_without_an_https_url_and_no_tokens_without_plus_addressing():
    sender = Sender("Co", "a@co.example", "1 Main St", unsubscribe_email="u@co.example", plus_addressing=False)
    msg = parse(build_email(EmailParts("t1", "Zoë Åkesson", "z@x.example", "Hi", "x", "<p>x</p>"),
                            sender=sender, now=NOW))
    assert msg["List-Unsubscribe"] == "<mailto:u@co.example?subject=unsubscribe%20t1>"
    assert msg["List-Unsubscribe-Post"] is None and msg["Reply-To"] is None
    assert msg["To"].addresses[0].display_name == "Zoë Åkesson"


def test_layout_adds_postal_address_and_a_visible_opt_out():
    text, html = Layout(ROOT / "templates" / "email").wrap(subject="S", text="Body\n", html="<p>Body</p>",
                                                           sender=SENDER, touch_id="t9")
    for part in (text, html):
        assert "400 N Lake Shore Dr, Chicago" in part
        assert "Unsubscribe" in part and "https://northwind.example/unsubscribe?t=t9" in part


def test_long_headers_fold_and_unfold_to_the_same_value():
    line = encode_header("X-Long", ", ".join(f"<mailto:x{i}@example.com>" for i in range(6)))
    assert all(len(ln) <= 78 for ln in line.split("\r\n"))
    assert parse(line.encode() + b"\r\nx")["X-Long"].count("mailto") == 6


@pytest.mark.parametrize("text, segments, encoding", [
    ("a" * 160, 1, "GSM-7"),
    ("a" * 161, 2, "GSM-7"),
    ("a" * 306, 2, "GSM-7"),
    ("a" * 307, 3, "GSM-7"),
    ("€" * 80, 1, "GSM-7"),          # extension characters count twice
    ("€" * 81, 2, "GSM-7"),
    ("ü" * 160, 1, "GSM-7"),         # in the GSM basic set
    ("ç" * 70, 1, "UCS-2"),          # lower-case ç is not
    ("ç" * 71, 2, "UCS-2"),
    ("🙂" * 35, 1, "UCS-2"),          # two UTF-16 units each
    ("🙂" * 36, 2, "UCS-2"),
])
def test_sms_segments(text, segments, encoding):
    assert sms_segments(text) == (segments, encoding)


def test_first_sms_of_a_campaign_says_how_to_opt_out(make_repo):
    root = outreach_repo(make_repo, "leads:\n" + lead_yaml(1), campaign=SMS_FIRST)
    d, p = plan(root)
    t = p.touches[0]
    assert t.channel == "sms" and t.first_sms
    r = Renderer(d.model).sms(t)
    assert r.text.endswith(OPT_OUT_SMS) and r.segments == 1 and r.encoding == "GSM-7"


def test_html_value_escapes_markdown_and_html():
    assert html_value("<b>&") == "&lt;b&gt;&amp;"
    assert html_value("[x](y) *z* 1. #") == r"\[x\]\(y\) \*z\* 1\. \#"


def test_queue_round_trips_and_is_deterministic(make_repo, tmp_path):
    root = outreach_repo(make_repo, "leads:\n" + "".join(lead_yaml(i) for i in range(1, 6)) +
                         lead_yaml(6, name='"Zoë \\"Z\\" Åkesson"', notes='"{{ x }}\\nline"'))
    d, p = plan(root)
    q = build_queue(p, d.model)
    a, b = tmp_path / "a.yaml", tmp_path / "b.yaml"
    write_queue(q, a)
    write_queue(build_queue(p, d.model), b)
    assert a.read_bytes() == b.read_bytes()
    back = read_queue(a)
    assert back.touches == q.touches and back.enrolments == q.enrolments and back.day == DAY


def test_a_broken_queue_is_a_clear_error(tmp_path):
    from outreach.errors import QueueError
    path = tmp_path / "queue.yaml"
    path.write_text("version: 1\nday: 2026-11-23\ntouches:\n  - {touch: x, lead: y}\n", encoding="utf-8")
    with pytest.raises(QueueError, match="touch 1: `channel` is missing"):
        read_queue(path)
    path.write_text("version: 1\nday: [\n", encoding="utf-8")
    with pytest.raises(QueueError, match="not valid YAML"):
        read_queue(path)


# -- plain-text-only messages, a light layout, long headers, SMS encoding -------------------------

def test_a_text_format_message_has_no_html_part(make_repo):
    files = {"content/messages/custom.md": "---\nsubject: Hello {{ lead.first_name }}\nformat: text\n---\n"
                                           "Hi {{ lead.first_name }},\n\n{{ campaign.hook | sentence_end }}\n"}
    root = outreach_repo(make_repo, "leads:\n" + lead_yaml(1), campaign=BLAST.replace("hot/remind", "custom"),
                         files=files)
    d, p = plan(root)
    assert d.model.messages["custom"].format == "text"
    r = Renderer(d.model).email(p.touches[0])
    assert r.html == "" and r.text == "Hi Pat,\n\nA free scanner audit.\n"
    queue = build_queue(p, d.model)
    email = next(t for t in queue.touches if t.channel == "email")
    assert email.html == "" and email.text == r.text
    text, html = Layout(ROOT / "templates" / "email").wrap(subject=r.subject, text=r.text, html=r.html,
                                                           sender=SENDER, touch_id=email.touch)
    assert html == "" and "400 N Lake Shore Dr" in text and "unsubscribe?t=" in text
    msg = parse(build_email(EmailParts(email.touch, "Pat Example1", "pat1@company1.example", r.subject, text, html),
                            sender=SENDER, now=NOW))
    assert msg.get_content_type() == "text/plain" and not msg.is_multipart()
    assert msg.get_content().startswith("Hi Pat,") and msg["List-Unsubscribe"]


def test_a_text_format_message_goes_out_as_one_plain_part(make_repo):
    from outreach.cli import main
    root = outreach_repo(make_repo, "leads:\n" + lead_yaml(1))          # BLAST: hot/remind, `format: text`
    assert main(["send", "--root", str(root), "--today", DAY, "--now", NOW.isoformat(), "--no-commit"]) == 0
    queue = read_queue(root / "outbox" / DAY / "queue.yaml")
    assert [t.html for t in queue.touches if t.channel == "email"] == [""]
    assert "html:" not in (root / "outbox" / DAY / "queue.yaml").read_text(encoding="utf-8")
    msg = parse(next((root / "outbox" / DAY / "email").glob("*.eml")).read_bytes())
    assert msg.get_content_type() == "text/plain"
    body = msg.get_content()
    assert body.startswith("Hi Pat,") and "A free scanner audit." in body and "**" not in body
    assert "400 N Lake Shore Dr" in body and "Unsubscribe: https://northwind.example/unsubscribe?t=" in body


def test_format_must_be_text_or_html(make_repo):
    from relead.check import check_repository
    files = {"content/messages/custom.md": "---\nsubject: Hi\nformat: plain\n---\n{{ campaign.hook }}\n"}
    root = outreach_repo(make_repo, "leads:\n" + lead_yaml(1), campaign=BLAST.replace("hot/remind", "custom"),
                         files=files)
    errors = [p.format() for p in check_repository(root, today=dt.date.fromisoformat(DAY)).errors]
    assert any("custom.md" in e and "`format`" in e and "html, text" in e for e in errors), errors


def test_the_html_layout_reads_like_one_persons_mail():
    layout = (ROOT / "templates" / "email" / "layout.html").read_text(encoding="utf-8")
    for heavy in ("background", "max-width", "600px", "font-family"):
        assert heavy not in layout
    text, html = Layout(ROOT / "templates" / "email").wrap(subject="S", text="Body\n", html="<p>Body</p>\n",
                                                           sender=SENDER, touch_id="t9")
    body = html.split("<body>", 1)[1]
    assert body.lstrip().startswith("<p>Body</p>")                      # the body first, then the footer
    assert body.index("<p>Body</p>") < body.index("400 N Lake Shore Dr") < body.index(">Unsubscribe</a>")
    assert 'href="https://northwind.example/unsubscribe?t=t9"' in html


def test_a_1100_character_subject_folds_at_spaces_into_lines_of_78():
    subject = " ".join(f"word{i}" for i in range(200))[:1100].rstrip()
    assert len(subject) >= 1090
    data = build_email(EmailParts("t1", "Pat", "pat@x.example", subject, "x\n", "<p>x</p>"), sender=SENDER, now=NOW)
    lines = data.split(b"\r\n\r\n", 1)[0].split(b"\r\n")
    assert max(len(ln) for ln in lines) <= 998
    start = next(i for i, ln in enumerate(lines) if ln.startswith(b"Subject:"))
    end = next(i for i in range(start + 1, len(lines)) if not lines[i].startswith(b" "))
    assert end - start >= 14 and max(len(ln) for ln in lines[start:end]) <= 78
    assert all(ln.startswith(b" word") for ln in lines[start + 1:end])   # folded before a space, kept
    msg = parse(data)
    assert msg["Subject"] == subject and not msg.defects


def test_a_word_longer_than_a_line_is_still_under_998_octets():
    subject = "Re: " + "x" * 1100
    data = build_email(EmailParts("t1", "Pat", "pat@x.example", subject, "x\n"), sender=SENDER, now=NOW)
    assert max(len(ln) for ln in data.split(b"\r\n\r\n", 1)[0].split(b"\r\n")) <= 998
    assert parse(data)["Subject"] == subject
    short = encode_header("Subject", "A free ROI audit of your picking floor, on us")
    assert short == "Subject: A free ROI audit of your picking floor, on us\r\n"


def test_the_queue_says_each_sms_encoding(make_repo, tmp_path):
    leads = "leads:\n" + lead_yaml(1) + lead_yaml(2, name='"Zoë Åkesson"')
    root = outreach_repo(make_repo, leads, campaign=SMS_FIRST)
    d, p = plan(root)
    q = build_queue(p, d.model)
    by_lead = {t.lead: t for t in q.touches}
    assert (by_lead["lead-0001"].segments, by_lead["lead-0001"].encoding) == (1, "GSM-7")
    assert (by_lead["lead-0002"].segments, by_lead["lead-0002"].encoding) == (2, "UCS-2")   # "ë" is not GSM-7
    path = write_queue(q, tmp_path / "queue.yaml")
    text = path.read_text(encoding="utf-8")
    assert "encoding: GSM-7" in text and "encoding: UCS-2" in text
    assert read_queue(path).touches == q.touches


def test_the_plan_summary_counts_sms_longer_than_one_segment(make_repo, tmp_path):
    from outreach.summary import format_plan
    leads = "leads:\n" + lead_yaml(1) + lead_yaml(2, name='"Zoë Åkesson"') + lead_yaml(3, name='"Åsa Berg"')
    root = outreach_repo(make_repo, leads, campaign=SMS_FIRST)
    d, p = plan(root)
    out = format_plan(build_queue(p, d.model), tmp_path / "queue.yaml")
    assert "planned 2026-11-23: 3 sms;" in out
    assert ("1 of 3 SMS touches is more than one segment (each segment is billed as one SMS): "
            "lead-0002 (2, UCS-2 because of 'ë')") in out
    root = outreach_repo(make_repo, "leads:\n" + lead_yaml(1), campaign=SMS_FIRST)
    d, p = plan(root)
    assert "segment" not in format_plan(build_queue(p, d.model), tmp_path / "queue.yaml")


def test_an_unknown_filter_fails_the_touch_at_its_line(make_repo):
    files = {"content/messages/custom.md": "---\nsubject: \"Hello\"\n---\n{{ campaign.hook }}\n"
                                           "{{ lead.company | sentence_ends }}\n"}
    root = outreach_repo(make_repo, "leads:\n" + lead_yaml(1), campaign=BLAST.replace("hot/remind", "custom"),
                         files=files)
    today = dt.date.fromisoformat(DAY)
    model = load(root, today=today, lenient_copy=True).model     # as `make outreach` loads: copy faults
    d = derive(model, today)                                      # fail their touches, not the run
    p = plan_day(model, d.states, d.priorities, today)
    with pytest.raises(RenderError, match=r"custom.md:5: template error: No filter named 'sentence_ends'"):
        Renderer(d.model).email(p.touches[0])


def test_the_plain_text_part_reads_without_markdown_marks(make_repo):
    body = ("Teams picked **22% more lines an hour**.\n\nThe [benchmark report](https://northwind.example/r) "
            "is free.\n\n{{ lead.company }} and {{ 2 ** 3 }}")
    root, d, p = custom_message(make_repo, body, company="'**Star** Foods'")
    r = Renderer(d.model).email(p.touches[0])
    assert "Teams picked 22% more lines an hour." in r.text
    assert "The benchmark report (https://northwind.example/r) is free." in r.text
    assert "**Star** Foods and 8" in r.text                 # what a placeholder puts in stays as it is
    assert "<strong>22% more lines an hour</strong>" in r.html
    assert '<a href="https://northwind.example/r">benchmark report</a>' in r.html


def test_plain_markdown_keeps_every_line_where_it_was():
    from outreach.render import plain_markdown
    src = "**Hello**\n\n[a](https://x.example)\n{{ '**' ~ lead.name }}\n__b__"
    assert plain_markdown(src) == "Hello\n\na (https://x.example)\n{{ '**' ~ lead.name }}\nb"


def test_bold_around_a_placeholder_loses_its_stars_in_the_plain_text():
    """The example's follow-ups and break-up put the hook in bold: **{{ campaign.hook | sentence_end }}**."""
    from outreach.render import plain_markdown
    src = "**{{ campaign.hook | sentence_end }}**\n[{{ lead.company }}](https://x.example/{{ lead.id }})\n{{ 2 ** 3 }}"
    assert plain_markdown(src) == ("{{ campaign.hook | sentence_end }}\n"
                                   "{{ lead.company }} (https://x.example/{{ lead.id }})\n{{ 2 ** 3 }}")
    assert plain_markdown("\ue000 **{{ x }}** **y**") == "\ue000 **{{ x }}** y"     # the old reading
