"""Message copy as the recipient reads it: first names, sentence ends, the example campaigns'
messages rendered for leads with and without each field, and `make check`'s SMS warnings."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re

import pytest

import relead.names
from outreach.render import Renderer, html_value
from outreach.sync.sms import START_WORDS, STOP_WORDS
from relead.check import check_repository
from relead.read.load import load
from relead.messages import CopySandbox, OPT_OUT_SMS, sentence_end, sms_segments
from relead.model import Lead, Loss
from relead.names import first_name
from relead.derive.plan import Touch
from tests.paths import EXAMPLE

# -- first names -----------------------------------------------------------------------------------

FIRST_NAMES = [
    # the common case, and what it is written like
    ("Jane Doe", "Jane"),
    ("Margaret Hale", "Margaret"),
    ("Cher", "Cher"),
    ("  Jane   Doe ", "Jane"),
    ("Jane\u00a0Doe", "Jane"),
    ("Jane Mary Doe", "Jane"),
    # "Last, First"
    ("Doe, Jane", "Jane"),
    ("Doe, Jane Mary", "Jane"),
    ("DOE, JANE", "Jane"),
    ("Lima, Dr. Ana", "Ana"),
    ("John Smith, Jr.", "John"),
    ("Jane Doe, PhD", "Jane"),
    # all capitals, all lower case
    ("JOHN SMITH", "John"),
    ("jane doe", "Jane"),
    ("JEAN-LUC PICARD", "Jean-Luc"),
    ("O'NEIL BROWN", "O'Neil"),
    ("ÅSA BERG", "Åsa"),
    # mixed case kept as written
    ("McDonald", "McDonald"),
    ("DeShawn Jones", "DeShawn"),
    ("O'Neil Brown", "O'Neil"),
    ("Jean-Luc Picard", "Jean-Luc"),
    ("Kelly-Ann Morris", "Kelly-Ann"),
    # titles and honorifics first
    ("Dr. Ana Lima", "Ana"),
    ("Dr Ana Lima", "Ana"),
    ("DR. ANA LIMA", "Ana"),
    ("Mr. John Smith", "John"),
    ("Mrs. Jane Doe", "Jane"),
    ("Ms. Jane Doe", "Jane"),
    ("Ms Jane Doe", "Jane"),
    ("Prof. Ana Lima", "Ana"),
    ("Prof. Dr. Hans Meier", "Hans"),
    ("Herr Hans Meier", "Hans"),
    ("Frau Anna Meier", "Anna"),
    ("M. Jean Dupont", "Jean"),
    ("Mme Claire Dubois", "Claire"),
    ("Sr. José Núñez", "José"),
    ("Sra. Beatriz Santos", "Beatriz"),
    # non-ASCII
    ("Zoë Åkesson", "Zoë"),
    ("Siobhán O'Brien", "Siobhán"),
    ("Françoise Lefèvre", "Françoise"),
    ("Ivan Petrović", "Ivan"),
    # no first name to give: the copy's fallback ("Hi there") reads better than a surname or an initial
    ("", ""),
    ("   ", ""),
    ("Dr.", ""),
    ("Mrs", ""),
    ("Dr. Smith", ""),
    ("Herr Müller", ""),
    ("J. Hoover", ""),
    ("J. Edgar Hoover", "Edgar"),
    # names that look like titles are names
    ("Ira Glass", "Ira"),
    ("Don Draper", "Don"),
    ('"Bob" Smith', "Bob"),
]


@pytest.mark.parametrize("name, expected", FIRST_NAMES)
def test_first_name(name, expected):
    assert first_name(name) == expected
    assert Lead("x", "leads.yaml", 0, name=name).first_name == expected


@pytest.mark.parametrize("name", ["Jane Doe", "Margaret Hale", "Zoë Åkesson", "Cher", "Siobhán O'Brien"])
def test_first_last_takes_the_fast_path(name, monkeypatch):
    def slow(_name):
        raise AssertionError("the common case took the slow path")
    monkeypatch.setattr(relead.names, "_first_name", slow)
    assert first_name(name) == name.split()[0]


# -- sentence_end ----------------------------------------------------------------------------------

@pytest.mark.parametrize("value, expected", [
    ("Acme Corp", "Acme Corp."),
    ("Acme, Inc.", "Acme, Inc."),
    ("Yahoo!", "Yahoo!"),
    ("Why Not?", "Why Not?"),
    ("Acme Corp  ", "Acme Corp."),
    ("", ""),
    (None, ""),
])
def test_sentence_end(value, expected):
    assert sentence_end(value) == expected


def test_sentence_end_is_a_filter_of_the_copy_sandbox():
    env = CopySandbox(autoescape=False)
    t = env.from_string("We never got to a decision for {{ company | sentence_end }} Rather than ask...")
    assert t.render(company="Acme, Inc.") == "We never got to a decision for Acme, Inc. Rather than ask..."
    assert t.render(company="Acme Corp") == "We never got to a decision for Acme Corp. Rather than ask..."
    # the HTML part escapes what the filter gives like any value
    html = CopySandbox(autoescape=False, finalize=html_value).from_string("{{ company | sentence_end }}")
    assert html.render(company="<b>Acme</b> Corp") == "&lt;b&gt;Acme&lt;/b&gt; Corp\\."


def test_make_check_knows_sentence_end(make_repo):
    files = {"content/messages/hot/remind.md":
             "---\nsubject: Hi\n---\nFor {{ lead.company | sentence_end }} {{ campaign.hook }}\n"
             "{{ lead.company | no_such_filter }}\n"}
    root = make_repo(_lead(), files=files)
    errors = [p.format() for p in check_repository(root, today=dt.date(2026, 11, 23)).errors]
    assert errors == ["content/messages/hot/remind.md:5: template error: No filter named 'no_such_filter'.; "
                      "copy has Jinja's filters and tests, and `sentence_end`"], errors


def _lead() -> str:
    return ("leads:\n  - id: pat-example\n    name: Pat Example\n    company: Acme, Inc.\n"
            "    email: pat@acme.example\n    owner: sam\n"
            "    lost: {date: 2025-03-01, reason: not_ready, temperature: hot, stage: proposal}\n"
            "    reached: {new: 2025-01-10, contacted: 2025-01-12, appointment: 2025-02-01, proposal: 2025-02-10}\n")


# -- the example copy, read as the lead reads it ---------------------------------------------------

_LOSS = Loss(dt.date(2025, 3, 2), "proposal", "not_ready", "hot")
_JANE = Lead("full", "leads.yaml", 0, name="Jane Doe", company="Acme Corp", title="Head of Operations",
             email="jane@acme.example", phone="+14155550134", owner="sam", interest="warehouse scanners",
             lost=_LOSS, consent_sms=True)
READERS = {
    "every field": _JANE,
    "no name": dataclasses.replace(_JANE, id="noname", name="", company="Acme, Inc."),
    "no interest": dataclasses.replace(_JANE, id="nointerest", interest=""),
    "no owner": dataclasses.replace(_JANE, id="noowner", owner=""),
    "an Inc. company": dataclasses.replace(_JANE, id="inc", company="Acme, Inc."),
    "a long name and owner": dataclasses.replace(_JANE, id="long", name="Margaret Hale", owner="priya"),
}
FIRST_TOUCHES = {"cold/fresh-look", "hot/remind", "warm/offer"}


def _rendered():
    model = load(EXAMPLE, today=dt.date(2026, 11, 23)).model
    model = dataclasses.replace(model, leads=tuple(READERS.values()), by_id={v.id: v for v in READERS.values()})
    renderer = Renderer(model)
    out = []
    for cid in sorted(model.campaigns):
        campaign = model.campaigns[cid]
        first_sms = next((i for i, s in enumerate(campaign.steps) if s.channel == "sms"), -1)
        for i, step in enumerate(campaign.steps):
            for variant in [v.key for v in campaign.variants] or [""]:
                key = campaign.message_for(step, variant)
                for who, lead in READERS.items():
                    t = Touch("0" * 20, lead.id, cid, "2026-11-23", i, step.channel, key, variant, lead.owner,
                              "why", first_sms=i == first_sms)
                    if step.channel == "email":
                        r = renderer.email(t)
                        out.append((key, step.channel, who, lead, r.subject + "\n" + r.text, model.messages[key]))
                    elif step.channel == "sms":
                        out.append((key, step.channel, who, lead, renderer.sms(t).text, model.messages[key]))
                    else:
                        out.append((key, step.channel, who, lead, renderer.task(t), model.messages[key]))
    return model, out


MODEL, RENDERED = _rendered()
SENDER = MODEL.settings.sender.name


@pytest.mark.parametrize("key, channel, who, lead, text, msg", RENDERED,
                         ids=[f"{k}-{w}-{i}" for i, (k, _c, w, *_rest) in enumerate(RENDERED)])
def test_example_copy_reads_right(key, channel, who, lead, text, msg):
    # punctuation: no doubled full stop ("for Acme, Inc.."), no blank line doubled by a missing field
    assert not re.search(r"(?<!\.)\.\.(?!\.)", text), text
    assert "\n\n\n" not in text, text
    # no time reference that a step's real timing (business days, pauses) can make wrong
    for stale in ("last week", "yesterday", "earlier this week", "second edition of the year"):
        assert stale not in text.lower(), text
    # one name where the sender stands in for an owner
    for joined in (", ", " at ", " from "):
        assert f"{SENDER}{joined}{SENDER}" not in text, text
    # the interest, in the lead's words, as a topic ("about warehouse scanners")
    if lead.interest:
        assert text.count(lead.interest) == text.count(f"about {lead.interest}"), text
    if channel == "email":
        signature = text.rstrip().splitlines()[-1]
        owner = MODEL.settings.team.get(MODEL.settings.owner_of(lead.owner))     # the default owner too
        if owner is not None:
            assert signature.startswith(f"{owner.name}, Northwind Scanning"), signature
        else:
            assert signature == SENDER
        if key in FIRST_TOUCHES:
            assert msg.format == "text" and "**" not in text       # no Markdown shown as asterisks
    if channel == "sms":
        segments, encoding = sms_segments(text)
        assert (segments, encoding) == (1, "GSM-7"), (len(text), text)
        # YES is Twilio's (and sync's) word for opting in again, STOP for out: never ask for them
        words = set(re.findall(r"\b[A-Z]{2,}\b", text.replace(OPT_OUT_SMS, "")))
        assert not words & {w.upper() for w in START_WORDS | STOP_WORDS}, text


def test_company_names_end_their_sentence_once():
    remind = {who: text for key, _c, who, _l, text, _m in RENDERED if key == "hot/remind"}
    assert "we never got to a decision for Acme Corp. Rather" in remind["every field"]
    assert "we never got to a decision for Acme, Inc. Rather" in remind["an Inc. company"]


def test_example_messages_have_no_copy_warnings():
    checked = check_repository(EXAMPLE, today=dt.date(2026, 11, 22))
    assert not [p.format() for p in checked.warnings if p.file.startswith("content/")]


# -- make check: SMS that take more than one segment -----------------------------------------------

SMS_CAMPAIGN = """\
name: Texts
hook: A free scanner audit
audience: {status: [lost]}
steps:
  - {day: 0, channel: sms, message: custom}
  - {day: 2, channel: sms, message: later}
"""


def _sms_warnings(make_repo, body: str, later: str = "{{ campaign.hook }} again") -> list[str]:
    files = {"content/campaigns/texts.yaml": SMS_CAMPAIGN, "content/messages/custom.md": body + "\n",
             "content/messages/later.md": later + "\n"}
    root = make_repo(_lead(), files=files)
    checked = check_repository(root, today=dt.date(2026, 11, 23))
    assert not checked.errors, [p.format() for p in checked.errors]
    return [p.format() for p in checked.warnings if p.file.startswith("content/messages/")]


def test_a_short_sms_has_no_warning_even_for_a_non_ascii_name(make_repo):
    # The made-up leads include "Zoë Łukasiewicz-Ångström": her letters make her own text UCS-2,
    # which is hers, not the copy's.
    assert _sms_warnings(make_repo, "Hi {{ lead.first_name or 'there' }}, {{ owner.name }} here. "
                         "{{ campaign.hook }}: which week suits you? " + "x" * 40) == []


def test_a_long_sms_is_a_warning_of_its_file(make_repo):
    warnings = _sms_warnings(make_repo, "Hi {{ lead.first_name or 'there' }}, {{ campaign.hook }}. " + "word " * 30)
    assert len(warnings) == 1, warnings
    w = warnings[0]
    assert w.startswith("content/messages/custom.md:1: warning: this SMS takes 2 segments: ")
    assert "one segment holds 160" in w and "campaign texts" in w and OPT_OUT_SMS in w


def test_a_character_outside_gsm7_in_the_copy_is_named(make_repo):
    warnings = _sms_warnings(make_repo, "Hi {{ lead.first_name or 'there' }},\n{{ campaign.hook }}: I\u2019ll book "
                             "it for the week that suits you best, just reply with one.")
    assert len(warnings) == 1, warnings
    assert warnings[0].startswith("content/messages/custom.md:2: warning: '\u2019' in I\u2019ll is not in the "
                                  "GSM-7 alphabet: the text goes as UCS-2, 2 segments instead of 1")


def test_the_opt_out_line_counts_only_on_the_first_sms(make_repo):
    # 150 characters: one segment alone, two with "Reply STOP to opt out" after it.
    body = "{{ campaign.hook }}. " + "y" * (150 - len("A free scanner audit. "))
    assert _sms_warnings(make_repo, "{{ campaign.hook }}", later=body) == []
    warnings = _sms_warnings(make_repo, body)
    assert len(warnings) == 1 and "this SMS takes 2 segments" in warnings[0]
