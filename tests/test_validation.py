"""Validation: every kind of mistake is reported with its file, its line and its lead.

Each test writes a small repository (the example content/ and a few leads) with
one mistake and checks the one problem it gives: ``problem.file``,
``problem.line``, ``problem.lead`` and the formatted text
(``file:line: lead-id: what is wrong; how to fix it``).
"""

from __future__ import annotations

import datetime as dt
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from relead.check import check_repository
from relead.cli import main

TODAY = dt.date(2026, 11, 22)
ROOT = Path(__file__).resolve().parent.parent

# Two valid, open, contactable leads to put mistakes after (so lines are not all 2 and 3).
GOOD = """\
leads:
  - id: ann-lee-acme
    name: Ann Lee
    company: Acme Corp
    email: ann.lee@acme.example
    phone: "+1 415 555 0134"
    owner: sam
    value: 12000
    reached: {new: 2026-01-10, contacted: 2026-01-12}
  - id: bo-chen-globex
    name: Bo Chen
    company: Globex
    email: bo@globex.example
    owner: priya
    reached:
      new: 2026-02-01
"""


def leads(extra: str = "") -> str:
    """GOOD followed by ``extra`` (lead items written at the left margin, indented here)."""
    return GOOD + textwrap.indent(textwrap.dedent(extra), "  ")


def line_of(text: str, snippet: str, nth: int = 1) -> int:
    """1-based line of the ``nth`` line containing ``snippet``."""
    hits = [i for i, line in enumerate(text.splitlines(), 1) if snippet in line]
    assert len(hits) >= nth, f"{snippet!r} not in the text"
    return hits[nth - 1]


def check(root, strict=False):
    return check_repository(root, today=TODAY, strict=strict)


def the_problem(result, contains: str, *, file: str, line: int, lead: str | None,
                warning: bool = False, only: bool = True):
    """The one problem whose message contains ``contains``, checked in every part."""
    kind = result.warnings if warning else result.errors
    found = [p for p in kind if contains in p.message]
    assert len(found) == 1, [p.format() for p in result.problems]
    p = found[0]
    assert (p.file, p.line, p.lead) == (file, line, lead), p.format()
    tag = " warning:" if warning else ""
    who = f" {lead}:" if lead else ""
    assert p.format().startswith(f"{file}:{line}:{tag}{who} "), p.format()
    assert "; " in p.format() and p.fix, "every problem says how to fix it"
    if only:
        assert [q.format() for q in result.errors] == ([] if warning else [p.format()])
    return p


def test_the_good_leads_are_clean(make_repo):
    result = check(make_repo(GOOD))
    assert result.problems == ()
    assert result.ok and result.loaded.model is not None and len(result.loaded.model.leads) == 2


# ---------------------------------------------------------------------------
# leads.yaml: syntax and keys
# ---------------------------------------------------------------------------

def test_yaml_syntax_error(make_repo):
    text = leads("""\
        - id: cy-diaz-initech
          name: Cy Diaz
          title: Head: of Operations
        """)
    result = check(make_repo(text))
    p = the_problem(result, "YAML syntax error", file="leads.yaml",
                    line=line_of(text, "title: Head: of"), lead=None)
    assert "mapping values" in p.message
    assert result.loaded.model is None


def test_unknown_key_with_did_you_mean(make_repo):
    text = leads("""\
        - id: cy-diaz-initech
          name: Cy Diaz
          emial: cy@initech.example
        """)
    p = the_problem(check(make_repo(text)), "unknown key `emial`", file="leads.yaml",
                    line=line_of(text, "emial:"), lead="cy-diaz-initech")
    assert "did you mean `email`?" in p.format()


@pytest.mark.parametrize("mistake,expect", [
    ("value: lots", "`value` must be a number, not `lots`"),                 # str for a number
    ("value: 2026-01-05", "`value` must be a number, not a date"),           # date for a number
    ("touches: 2.5", "`touches` must be a whole number"),
    ("decision_maker: maybe", "`decision_maker` must be true or false"),
    ("name: [Cy, Diaz]", "`name` must be text, not a list"),                 # list for a scalar
    ("tags: vip", "`tags` must be a list"),                                  # scalar for a list
    ("consent: [email]", "`consent` must be a mapping"),                     # list for a mapping
    ("reached: 2026-01-05", "`reached` must map funnel stages"),
    ("lost: lost", "`lost` must be a mapping"),
    ("do_not_contact: 1", "`do_not_contact` must be true or false"),
])
def test_wrong_type(make_repo, mistake, expect):
    text = leads(f"""\
        - id: cy-diaz-initech
          company: Initech
          {mistake}
        """)
    the_problem(check(make_repo(text)), expect, file="leads.yaml", line=line_of(text, mistake),
                lead="cy-diaz-initech")


@pytest.mark.parametrize("mistake,expect", [
    ("follow_up: next week", "`follow_up` must be a date, not `next week`"),
    ("follow_up: 2026/12/01", "`follow_up` must be a date"),
    ("recycle_on: 12-01-2026", "`recycle_on` must be a date"),
    ("follow_up: 2026-12-01 10:00:00", "`follow_up` is a date and time"),
    ("follow_up: 20261201", "`follow_up` must be a date, not a number"),
])
def test_bad_date(make_repo, mistake, expect):
    text = leads(f"""\
        - id: cy-diaz-initech
          company: Initech
          {mistake}
        """)
    the_problem(check(make_repo(text)), expect, file="leads.yaml", line=line_of(text, mistake),
                lead="cy-diaz-initech")


@pytest.mark.parametrize("written", ["2026-02-30", "'2026-02-30'", '"2026-02-30"'])
@pytest.mark.parametrize("where", ["follow_up", "reached", "lost"])
def test_impossible_date(make_repo, written, where):
    body = {
        "follow_up": f"follow_up: {written}",
        "reached": f"reached:\n  new: {written}",
        "lost": f"reached: {{new: 2026-01-05}}\nlost:\n  date: {written}\n  reason: not_ready\n  temperature: warm",
    }[where]
    text = leads("- id: cy-diaz-initech\n  company: Initech\n" + textwrap.indent(body, "  ") + "\n")
    key = {"follow_up": "follow_up", "reached": "new", "lost": "date"}[where]
    the_problem(check(make_repo(text)), f"`{key}` 2026-02-30 is not a real date", file="leads.yaml",
                line=line_of(text, "2026-02-30"), lead="cy-diaz-initech")


def test_duplicate_ids_in_one_file(make_repo):
    text = leads("""\
        - id: ann-lee-acme
          name: Ann Lee
          company: Acme Inc
        """)
    p = the_problem(check(make_repo(text)), "already used", file="leads.yaml",
                    line=line_of(text, "id: ann-lee-acme", nth=2), lead="ann-lee-acme")
    assert "lead 1 of leads.yaml" in p.message


def test_duplicate_ids_across_leads_files(make_repo):
    more = "# more leads\nleads:\n  - id: dee-fox-umbrella\n    company: Umbrella\n  - id: bo-chen-globex\n    name: Bo Chen II\n"
    root = make_repo(GOOD, files={"leads/more.yaml": more})
    p = the_problem(check(root), "already used", file="leads/more.yaml", line=5, lead="bo-chen-globex")
    assert "lead 2 of leads.yaml" in p.message


def test_duplicate_ids_in_leads_dir_only(make_repo):
    one = "leads:\n  - id: a-1\n    name: A\n"
    two = "leads:\n  - id: b-2\n    name: B\n  - id: a-1\n    name: A again\n"
    root = make_repo(None, files={"leads/one.yaml": one, "leads/two.yaml": two})
    the_problem(check(root), "already used", file="leads/two.yaml", line=4, lead="a-1")


@pytest.mark.parametrize("bad", ["Jane_Doe", "jane doe", "jané-doe", "JANE", "jane.doe", "''"])
def test_id_not_matching_the_pattern(make_repo, bad):
    text = leads(f"""\
        - id: {bad}
          name: Jane Doe
        """)
    result = check(make_repo(text))
    shown = bad.strip("'")
    p = the_problem(result, "is not a valid id", file="leads.yaml", line=line_of(text, f"id: {bad}"),
                    lead=shown or None)
    assert "lowercase letters, digits and hyphens" in p.fix


def test_missing_id(make_repo):
    text = leads("""\
        - name: Jane Doe
          company: Acme
        """)
    the_problem(check(make_repo(text)), "has no `id`", file="leads.yaml", line=line_of(text, "- name: Jane"),
                lead=None)


def test_neither_name_nor_company(make_repo):
    text = leads("""\
        - id: cy-diaz-initech
          email: cy@initech.example
        """)
    the_problem(check(make_repo(text)), "neither `name` nor `company`", file="leads.yaml",
                line=line_of(text, "- id: cy-diaz"), lead="cy-diaz-initech")


@pytest.mark.parametrize("phone", ["555-01", "+1 000 000 0000", "12345", "call me", "(312) 555-01888"])
def test_invalid_phone(make_repo, phone):
    text = leads(f"""\
        - id: cy-diaz-initech
          name: Cy Diaz
          phone: "{phone}"
        """)
    the_problem(check(make_repo(text)), "is not a valid phone number", file="leads.yaml",
                line=line_of(text, "phone: \"" + phone), lead="cy-diaz-initech")


@pytest.mark.parametrize("written,e164", [
    ("(312) 555-0188", "+13125550188"),
    ("312.555.0188", "+13125550188"),
    ("+1 312 555 0188", "+13125550188"),
    ("+44 20 7946 0958", "+442079460958"),
])
def test_valid_phone_is_normalised_to_e164(make_repo, written, e164):
    text = leads(f"""\
        - id: cy-diaz-initech
          name: Cy Diaz
          phone: "{written}"
        """)
    result = check(make_repo(text))
    assert result.errors == ()
    lead = result.loaded.model.by_id["cy-diaz-initech"]
    assert lead.phone == e164
    assert lead.phone_written == written       # stored as written


def test_unquoted_phone_number_is_read_as_text(make_repo):
    text = leads("""\
        - id: cy-diaz-initech
          name: Cy Diaz
          phone: 3125550188
        """)
    result = check(make_repo(text))
    assert result.errors == ()
    assert result.loaded.model.by_id["cy-diaz-initech"].phone == "+13125550188"


@pytest.mark.parametrize("email", ["cy at initech.example", "cy@", "<cy@initech.example>", "cy@initech",
                                   "cy@@initech.example", "cy diaz@initech.example", "@initech.example"])
def test_malformed_email(make_repo, email):
    text = leads(f"""\
        - id: cy-diaz-initech
          name: Cy Diaz
          email: "{email}"
        """)
    p = the_problem(check(make_repo(text)), "is not an email address", file="leads.yaml",
                    line=line_of(text, "email: \"" + email), lead="cy-diaz-initech")
    assert "name@example.com" in p.fix


# ---------------------------------------------------------------------------
# References: owners, stages, lost reasons, campaigns, messages, channels
# ---------------------------------------------------------------------------

LOST_OK = "lost: {date: 2026-03-01, reason: not_ready, temperature: warm}"


@pytest.mark.parametrize("body,marker,expect,hint", [
    ("owner: sammy", "owner: sammy", "unknown owner `sammy`", "did you mean `sam`?"),
    ("reached:\n    new: 2026-01-05\n    contactd: 2026-01-06", "contactd:", "unknown funnel stage `contactd`",
     "did you mean `contacted`?"),
    ("reached: {new: 2026-01-05}\nlost: {date: 2026-03-01, stage: proposl, reason: not_ready, temperature: warm}",
     "stage: proposl", "unknown funnel stage `proposl`", "did you mean `proposal`?"),
    ("reached: {new: 2026-01-05}\nlost: {date: 2026-03-01, stage: won, reason: not_ready, temperature: warm}",
     "stage: won", "cannot be lost at `won`", "before the last"),
    ("reached: {new: 2026-01-05}\nlost:\n    date: 2026-03-01\n    reason: budget\n    temperature: warm",
     "reason: budget", "unknown lost reason `budget`", "budget_freeze"),
    ("reached: {new: 2026-01-05}\nlost:\n    date: 2026-03-01\n    reason: not_ready\n    temperature: tepid",
     "temperature: tepid", "`temperature` `tepid` is not one of hot, warm, cold", "hot"),
    ("campaign: hot-reactivaton", "campaign: hot-reactivaton", "unknown campaign `hot-reactivaton`",
     "did you mean `hot-reactivation`?"),
])
def test_unknown_reference_in_a_lead(make_repo, body, marker, expect, hint):
    text = leads("- id: cy-diaz-initech\n  name: Cy Diaz\n" + textwrap.indent(body, "  ") + "\n")
    p = the_problem(check(make_repo(text)), expect, file="leads.yaml", line=line_of(text, marker),
                    lead="cy-diaz-initech")
    assert hint in p.fix


CAMPAIGN = """\
# A test campaign: no audience, so it enrols only leads that name it.
name: Test campaign
hook: A free audit
steps:
  - {day: 0, channel: email, message: breakup}
  - day: 3
    channel: email
    message: breakup
"""


@pytest.mark.parametrize("old,new,expect,hint", [
    ("    message: breakup\n", "    message: brekup\n", "unknown message `brekup`", "did you mean `breakup`?"),
    ("channel: email, message", "channel: emial, message", "`channel` `emial` is not one of", "did you mean `email`?"),
    ("channel: email, message", "channel: fax, message", "`channel` `fax` is not one of", "email, sms, call, mail"),
    ("hook: A free audit\n", "hook: A free audit\npriorty: 3\n", "unknown key `priorty`", "did you mean `priority`?"),
    ("  - day: 3\n", "  - day: three\n", "`day` must be a whole number", "digits"),
])
def test_errors_in_a_campaign_file(make_repo, old, new, expect, hint):
    text = CAMPAIGN.replace(old, new, 1)
    assert text != CAMPAIGN
    root = make_repo(GOOD, files={"content/campaigns/zz-test.yaml": text})
    marker = {"brekup": "message: brekup", "emial": "channel: emial", "fax": "channel: fax",
              "priorty": "priorty:", "three": "day: three"}[re.search(r"brekup|emial|fax|priorty|three", new)[0]]
    p = the_problem(check(root), expect, file="content/campaigns/zz-test.yaml",
                    line=line_of(text, marker), lead=None)
    assert hint in p.fix


def test_lead_naming_a_campaign_that_has_errors_is_still_a_known_campaign(make_repo):
    text = leads("- id: cy-diaz-initech\n  name: Cy Diaz\n  campaign: zz-test\n")
    root = make_repo(text, files={"content/campaigns/zz-test.yaml": CAMPAIGN.replace("hook: A free audit\n", "")})
    result = check(root)
    assert [p.file for p in result.errors] == ["content/campaigns/zz-test.yaml"]
    assert "no `hook`" in result.errors[0].message


# ---------------------------------------------------------------------------
# Tags, control characters, duplicate keys
# ---------------------------------------------------------------------------

def test_incomplete_without_follow_up(make_repo):
    text = leads("""\
        - id: cy-diaz-initech
          company: Initech
          tags: [trade-show, incomplete]
        """)
    p = the_problem(check(make_repo(text)), "tagged `incomplete` but has no `follow_up`", file="leads.yaml",
                    line=line_of(text, "tags: [trade-show"), lead="cy-diaz-initech")
    assert "follow_up: YYYY-MM-DD" in p.fix
    ok = text.replace("tags: [trade-show, incomplete]", "tags: [trade-show, incomplete]\n    follow_up: 2026-12-01")
    assert check(make_repo(ok)).errors == ()


@pytest.mark.parametrize("field,value,what", [
    ("name", r'"Jane\r\nDoe"', "a carriage return (CR)"),
    ("name", r'"Jane\nDoe"', "a line break (LF)"),
    ("company", r'"Acme\0 Corp"', "a NUL character"),
    ("title", r'"Head\x1bof Ops"', "U+001B"),
    ("email", r'"jane@acme.example\r\nBcc: all@acme.example"', "a carriage return (CR)"),
    ("source", "|\n    expo\n    2026", "a line break (LF)"),
])
def test_control_characters_in_single_line_fields(make_repo, field, value, what):
    text = leads(f"- id: jane-doe-acme\n  name: Jane\n  {field}: {value}\n".replace(
        "  name: Jane\n  name:", "  name:"))
    p = the_problem(check(make_repo(text)), f"`{field}` contains", file="leads.yaml",
                    line=line_of(text, f"  {field}: {value.splitlines()[0]}"), lead="jane-doe-acme")
    assert what in p.message or (what.startswith("U+") and what[2:] in p.message.upper())


@pytest.mark.parametrize("escape", ["\\u2028", "\\u2029", "\\x85"])
def test_unicode_line_breaks_in_single_line_fields(make_repo, escape):
    text = leads(f'- id: jane-doe-acme\n  name: "Jane{escape}Doe"\n')
    the_problem(check(make_repo(text)), "`name` contains", file="leads.yaml",
                line=line_of(text, '  name: "Jane'), lead="jane-doe-acme")


def test_notes_may_span_lines_but_hold_no_nul(make_repo):
    text = leads('- id: jane-doe-acme\n  name: Jane\n  notes: |\n    Two\n    lines\n')
    assert check(make_repo(text)).errors == ()
    text = leads('- id: jane-doe-acme\n  name: Jane\n  notes: "Two\\0lines"\n')
    the_problem(check(make_repo(text)), "`notes` contains the control character U+0000", file="leads.yaml",
                line=line_of(text, "notes:"), lead="jane-doe-acme")


def test_duplicate_yaml_key(make_repo):
    text = leads("""\
        - id: cy-diaz-initech
          name: Cy Diaz
          email: cy@initech.example
          name: Cyrus Diaz
        """)
    p = the_problem(check(make_repo(text)), "`name` appears twice", file="leads.yaml",
                    line=line_of(text, "name: Cyrus"), lead="cy-diaz-initech")
    assert f"also on line {line_of(text, 'name: Cy Diaz')}" in p.message


def test_duplicate_key_at_the_top_of_the_file(make_repo):
    text = GOOD + "leads:\n  - id: zed\n    name: Zed\n"
    the_problem(check(make_repo(text)), "`leads` appears twice", file="leads.yaml",
                line=line_of(text, "leads:", nth=2), lead=None)


# ---------------------------------------------------------------------------
# Dates along the funnel, and dates in the future
# ---------------------------------------------------------------------------

def test_stage_dates_going_backwards(make_repo):
    text = leads("""\
        - id: cy-diaz-initech
          name: Cy Diaz
          reached:
            new: 2026-01-05
            contacted: 2026-01-09
            appointment: 2026-01-07
        """)
    p = the_problem(check(make_repo(text)), "is dated before `contacted`", file="leads.yaml",
                    line=line_of(text, "appointment: 2026-01-07"), lead="cy-diaz-initech")
    assert p.message.startswith("`appointment` (2026-01-07)")


def test_stage_reached_again_after_the_loss_may_be_dated_later(make_repo):
    # contacted was reached again on 2026-06-10, after the loss: it is later than appointment.
    text = leads("""\
        - id: cy-diaz-initech
          name: Cy Diaz
          email: cy@initech.example
          reached:
            new: 2026-01-05
            contacted: 2026-06-10
            appointment: 2026-02-01
          lost: {date: 2026-03-01, reason: not_ready, temperature: warm}
        """)
    result = check(make_repo(text))
    assert result.errors == ()
    assert result.derived.states["cy-diaz-initech"].status == "back_in_funnel"
    # Without the loss, the same dates go backwards.
    broken = re.sub(r".*lost: {date: 2026-03-01.*\n", "", text)
    assert broken != text
    the_problem(check(make_repo(broken)), "is dated before `contacted`", file="leads.yaml",
                line=line_of(broken, "appointment: 2026-02-01"), lead="cy-diaz-initech")


@pytest.mark.parametrize("body,marker,expect", [
    ("reached:\n    new: 2026-01-05\n    contacted: 2026-12-01", "contacted: 2026-12-01",
     "`contacted` 2026-12-01 is after today (2026-11-22)"),
    ("reached: {new: 2026-01-05}\nlost:\n    date: 2027-01-05\n    reason: not_ready\n    temperature: hot",
     "date: 2027-01-05", "the loss date 2027-01-05 is after today"),
])
def test_future_dates(make_repo, body, marker, expect):
    text = leads("- id: cy-diaz-initech\n  name: Cy Diaz\n" + textwrap.indent(body, "  ") + "\n")
    the_problem(check(make_repo(text)), expect, file="leads.yaml", line=line_of(text, marker),
                lead="cy-diaz-initech")


def test_future_follow_up_and_recycle_dates_are_fine(make_repo):
    text = leads("- id: cy-diaz-initech\n  name: Cy Diaz\n  follow_up: 2027-01-05\n  recycle_on: 2027-06-01\n")
    assert check(make_repo(text)).errors == ()


# ---------------------------------------------------------------------------
# content/: settings, message front matter and copy
# ---------------------------------------------------------------------------

def _settings(example_root) -> str:
    return (example_root / "content" / "settings.yaml").read_text(encoding="utf-8")


def test_unknown_key_in_settings(make_repo, example_root):
    text = _settings(example_root) + "curency: EUR\n"
    root = make_repo(GOOD, files={"content/settings.yaml": text})
    p = the_problem(check(root), "unknown key `curency` in settings.yaml", file="content/settings.yaml",
                    line=line_of(text, "curency: EUR"), lead=None)
    assert "did you mean `currency`?" in p.fix


def test_wrong_value_in_settings(make_repo, example_root):
    text, n = re.subn(r"(?m)^timezone: .*$", "timezone: America/Chicgo", _settings(example_root))
    assert n == 1
    root = make_repo(GOOD, files={"content/settings.yaml": text})
    the_problem(check(root), "is not a time zone", file="content/settings.yaml",
                line=line_of(text, "timezone: America/Chicgo"), lead=None)


def test_nested_error_in_settings(make_repo, example_root):
    text = _settings(example_root) + "scoring:\n  temperature: {hot: 30, tepid: 5}\n"
    text = re.sub(r"(?ms)^scoring:\n.*?(?=^\S)", "", text, count=1)  # drop the example's own scoring
    root = make_repo(GOOD, files={"content/settings.yaml": text})
    the_problem(check(root), "unknown key `tepid` in `temperature`", file="content/settings.yaml",
                line=line_of(text, "tepid: 5"), lead=None)


def test_error_in_message_front_matter_has_the_file_line(make_repo):
    text = "---\nsubject: A free audit\nsubjct: typo\n---\nHi {{ lead.first_name }}, {{ campaign.hook }}.\n"
    root = make_repo(GOOD, files={"content/messages/zz/front.md": text})
    p = the_problem(check(root), "unknown key `subjct` in the front matter", file="content/messages/zz/front.md",
                    line=3, lead=None)
    assert "did you mean `subject`?" in p.fix


def test_syntax_error_in_message_front_matter(make_repo):
    text = "---\nsubject: A free audit\ntags: [a, b\nx: 1\n---\nHi {{ campaign.hook }}.\n"
    root = make_repo(GOOD, files={"content/messages/zz/front.md": text})
    p = the_problem(check(root), "YAML syntax error", file="content/messages/zz/front.md", line=4, lead=None)
    assert p.line > 1


def test_jinja_syntax_error_has_the_file_line(make_repo):
    text = "---\nsubject: Hi\n---\nHello {{ lead.first_name }},\n\n{{ campaign.hook }} is {{ lead.name }.\n\nBye\n"
    root = make_repo(GOOD, files={"content/messages/zz/broken.md": text})
    p = the_problem(check(root), "template error", file="content/messages/zz/broken.md", line=6, lead=None)
    assert "{{ }}" in p.fix


def test_jinja_syntax_error_without_front_matter(make_repo):
    text = "Hi {{ campaign.hook }}\n{% if lead.name %}\nno end\n"
    root = make_repo(GOOD, files={"content/messages/zz/sms.md": text})
    # Jinja names the line of the block left open.
    the_problem(check(root), "template error", file="content/messages/zz/sms.md", line=2, lead=None)


def test_unknown_template_variable(make_repo):
    # `leed` also appears as a word before the line that uses it as a variable.
    text = "---\nsubject: Hi\n---\nHello leed,\n\n{{ campaign.hook }}, from {{ leed.owner }}.\n"
    root = make_repo(GOOD, files={"content/messages/zz/var.md": text})
    p = the_problem(check(root), "unknown template variable `leed`", file="content/messages/zz/var.md",
                    line=6, lead=None)
    assert "did you mean `lead`?" in p.fix


# ---------------------------------------------------------------------------
# Warnings, and --strict
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("first,second,why", [
    ("email: Jane.Doe@Acme.example", "email: jane.doe@acme.example", "the same email"),
    ('phone: "(312) 555-0188"', 'phone: "+1 312.555.0188"', "the same phone"),
    ("name: José Núñez\n  company: Acme Corp", "name: jose nunez\n  company: ACME  corp", "the same name and company"),
])
def test_likely_duplicates_are_warnings(make_repo, first, second, why):
    text = leads(f"- id: lead-one\n  company: One\n  {first}\n- id: lead-two\n  company: Two\n  {second}\n"
                 .replace("  company: One\n  name", "  name").replace("  company: Two\n  name", "  name"))
    result = check(make_repo(text))
    p = the_problem(result, "looks like a duplicate of `lead-one`", file="leads.yaml",
                    line=line_of(text, "- id: lead-two"), lead="lead-two", warning=True)
    assert f"({why})" in p.message
    assert result.errors == () and result.ok


def test_copy_without_a_hook_is_a_warning(make_repo):
    text = "---\nsubject: Hello again\n---\nHi {{ lead.first_name }},\n\nShall we talk?\n"
    root = make_repo(GOOD, files={"content/messages/zz/nohook.md": text})
    result = check(root)
    p = the_problem(result, "never uses {{ campaign.hook }}", file="content/messages/zz/nohook.md",
                    line=4, lead=None, warning=True)
    assert "hook" in p.fix
    assert result.ok and not check(root, strict=True).ok


@pytest.mark.parametrize("phrase", ["just checking in", "Just Following Up", "just touching base"])
def test_stale_phrase_is_a_warning(make_repo, phrase):
    text = f"---\nsubject: Hi\n---\nHi {{{{ lead.first_name }}}},\n\n{{{{ campaign.hook }}}}.\n{phrase} on this.\n"
    root = make_repo(GOOD, files={"content/messages/zz/stale.md": text})
    the_problem(check(root), f'says "{phrase.lower()}"', file="content/messages/zz/stale.md",
                line=7, lead=None, warning=True)


GIVEN_UP = """\
- id: cy-diaz-initech
  company: Initech
  reached: {new: 2025-01-05, contacted: 2025-01-09}
  lost: {date: 2025-03-01, reason: not_ready, temperature: warm}
  touches: 3
"""


def test_lead_given_up_after_fewer_than_seven_touches(make_repo):
    # Lost, no recycle_on, no campaign, and in no campaign's audience (it cannot be contacted).
    text = leads(GIVEN_UP)
    result = check(make_repo(text))
    p = the_problem(result, "given up after 3 touches (fewer than 7)", file="leads.yaml",
                    line=line_of(text, "lost: {date: 2025-03-01"), lead="cy-diaz-initech", warning=True)
    assert "recycle_on" in p.fix
    assert result.ok


@pytest.mark.parametrize("change", ["  touches: 7\n", "  recycle_on: 2027-01-05\n", "  campaign: nurture\n",
                                    "  email: cy@initech.example\n"])
def test_lead_not_given_up(make_repo, change):
    # Enough touches, a recycle date, a campaign, or a campaign audience (nurture) it is in.
    text = leads(GIVEN_UP.replace("  touches: 3\n", change if "touches" in change else "  touches: 3\n" + change))
    assert not [p for p in check(make_repo(text)).warnings if "given up" in p.message]


def test_strict_makes_warnings_fatal(make_repo, capsys):
    root = make_repo(leads(GIVEN_UP))
    assert main(["check", "--root", str(root), "--today", "2026-11-22"]) == 0
    out = capsys.readouterr().out
    assert "warning: cy-diaz-initech: given up" in out and "ok: no errors, 1 warning" in out
    assert main(["check", "--root", str(root), "--today", "2026-11-22", "--strict"]) == 1
    out = capsys.readouterr().out
    assert "warning: cy-diaz-initech: given up" in out and "failed: 0 errors, 1 warning (fatal with --strict)" in out
    assert check(root, strict=True).ok is False and check(root).ok is True


# ---------------------------------------------------------------------------
# history/
# ---------------------------------------------------------------------------

HEADER = "#relead-history v1\tat\tevent\tlead\tcampaign\tenrolment\tstep\tchannel\tvariant\ttouch\tref\tnote\n"


def test_malformed_history_record(make_repo):
    good = "2026-11-20T15:00:00Z\tsent\tann-lee-acme\tnurture\t2026-11-20\t0\temail\t\tabc\t\t\n"
    root = make_repo(GOOD, history={"2026/11/2026-11-20.outreach.tsv": HEADER + good + "2026-11-20T15:01:00Z\tsent\n",
                                    "2026/11/2026-11-21.outreach.tsv": HEADER + good.replace("\tsent\t", "\tsnet\t")})
    result = check(root)
    the_problem(result, "found 2", file="history/2026/11/2026-11-20.outreach.tsv", line=3, lead=None, only=False)
    the_problem(result, "unknown event 'snet'", file="history/2026/11/2026-11-21.outreach.tsv", line=2,
                lead=None, only=False)
    assert len(result.errors) == 2


def test_badly_named_history_file(make_repo):
    root = make_repo(GOOD, history={"2026/11/notes.tsv": HEADER})
    the_problem(check(root), "YYYY-MM-DD.<writer>.tsv", file="history/2026/11/notes.tsv", line=1, lead=None)


# ---------------------------------------------------------------------------
# Whole files that are not what they should be
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("text,expect,line", [
    ("- id: a\n  name: A\n", "must start with `leads:`", 1),
    ("leads: 3\n", "`leads` must be a list", 1),
    ("leads:\n  - just text\n", "a lead must be a mapping", 2),
    ("leads:\n  - [1, 2]\n", "a lead must be a mapping", 2),
    ("leads: []\nlead:\n  - id: x\n", "unknown top-level key `lead`", 2),
    ("leads:\n  - id: a\n    name: A\n\tbad: tab\n", "YAML syntax error", 4),
    ("leads:\n  - id: 'a\n", "YAML syntax error", 3),
])
def test_broken_leads_files(make_repo, text, expect, line):
    p = the_problem(check(make_repo(text)), expect, file="leads.yaml", line=line, lead=None)
    assert p.line == line


def test_empty_leads_file_is_no_leads(make_repo):
    for text in ("", "leads:\n", "# nothing yet\nleads: []\n"):
        result = check(make_repo(text))
        assert result.errors == () and result.loaded.model.leads == ()


def test_leads_file_that_is_not_utf8(make_repo):
    root = make_repo(None, files={"leads.yaml": "leads:\n  - id: a\n    name: Jos\xe9\n".encode("latin-1")})
    the_problem(check(root), "not UTF-8", file="leads.yaml", line=3, lead=None)   # José's line


def test_bom_at_the_start_of_leads_file(make_repo):
    # Windows editors save UTF-8 with a byte-order mark: still a leads file.
    result = check(make_repo("\ufeff" + GOOD))
    assert result.errors == () and len(result.loaded.model.leads) == 2


def test_crlf_line_endings(make_repo):
    text = leads("- id: cy-diaz-initech\n  name: Cy Diaz\n  value: lots\n").replace("\n", "\r\n")
    the_problem(check(make_repo(text)), "`value` must be a number", file="leads.yaml",
                line=line_of(text, "value: lots"), lead="cy-diaz-initech")
    ok = GOOD.replace("\n", "\r\n") + "  - id: yes-lead\r\n    name: Yves\r\n    decision_maker: yes\r\n"
    result = check(make_repo(ok))
    assert result.errors == ()
    assert result.loaded.model.by_id["yes-lead"].decision_maker is True


def test_line_is_right_when_notes_mention_a_key(make_repo):
    # The key appears inside an earlier block of text: the line is still the key's own.
    text = leads("""\
        - id: cy-diaz-initech
          name: Cy Diaz
          notes: |
            Asked us to use this
            email: cy.diaz@home.example
            from now on.
          email: "cy diaz@initech.example"
        """)
    the_problem(check(make_repo(text)), "is not an email address", file="leads.yaml",
                line=line_of(text, 'email: "cy diaz'), lead="cy-diaz-initech")


# ---------------------------------------------------------------------------
# Five mistakes at once, through `python -m relead check`
# ---------------------------------------------------------------------------

FIVE = """\
leads:
  - id: one-typo
    name: One
    emial: one@example.com
  - id: two-email
    name: Two
    email: two(at)example.com
  - id: three-date
    name: Three
    follow_up: 2026-02-30
  - id: four-owner
    name: Four
    owner: samm
  - id: five-value
    name: Five
    value: "$12,000"
"""


def _python() -> str:
    venv = ROOT / ".venv" / "bin" / "python"
    return str(venv) if venv.exists() else sys.executable


def test_five_mistakes_are_all_listed_by_the_command(make_repo):
    root = make_repo(FIVE)
    proc = subprocess.run([_python(), "-m", "relead", "check", "--root", str(root), "--today", "2026-11-22"],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    lines = proc.stdout.splitlines()
    expected = [("leads.yaml:4: one-typo:", "unknown key `emial`"),
                ("leads.yaml:7: two-email:", "is not an email address"),
                ("leads.yaml:10: three-date:", "2026-02-30 is not a real date"),
                ("leads.yaml:13: four-owner:", "unknown owner `samm`"),
                ("leads.yaml:16: five-value:", "`value` must be a number")]
    for prefix, what in expected:
        assert any(line.startswith(prefix + " ") and what in line for line in lines), (prefix, proc.stdout)
    assert lines[-1] == "failed: 5 errors"
    assert len(lines) == 6
    assert "Traceback" not in proc.stdout + proc.stderr


# ---------------------------------------------------------------------------
# The command line: exit codes, and never a traceback
# ---------------------------------------------------------------------------

def run_cli(argv) -> int:
    try:
        return main(argv)
    except SystemExit as exc:  # argparse exits for usage errors
        return exc.code


def test_cli_exit_0_on_the_example(example_root, capsys):
    assert run_cli(["check", "--root", str(example_root), "--today", "2026-11-22"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[-1].startswith("ok: no errors")


def test_cli_exit_0_clean_and_1_on_errors(make_repo, capsys):
    assert run_cli(["check", "--root", str(make_repo(GOOD)), "--today", "2026-11-22"]) == 0
    assert capsys.readouterr().out == "ok: no errors in 2 leads (as of 2026-11-22)\n"
    text = leads("- id: x\n  name: X\n  value: lots\n")
    assert run_cli(["check", "--root", str(make_repo(text)), "--today", "2026-11-22"]) == 1
    out = capsys.readouterr().out
    assert out.splitlines() == [f"leads.yaml:{line_of(text, 'value: lots')}: x: `value` must be a number, "
                                "not `lots`; write digits only, without currency signs or separators, e.g. 12000",
                                "failed: 1 error"]


@pytest.mark.parametrize("argv", [
    ["check", "--today", "2026-13-01"],
    ["check", "--today", "tomorrow"],
    ["check", "--today", "22/11/2026"],
    ["chek"],
    ["frobnicate", "--root", "."],
    [],
    ["check", "--root", "/nonexistent/relead-repo"],
    ["check", "--bogus"],
])
def test_cli_usage_errors_exit_2(argv, capsys):
    assert run_cli(argv) == 2
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    assert err.strip()


def test_cli_root_that_is_a_file_exits_2(make_repo, capsys):
    root = make_repo(GOOD)
    assert run_cli(["check", "--root", str(root / "leads.yaml")]) == 2
    assert "is not a directory" in capsys.readouterr().err


def test_cli_help_exits_0(capsys):
    assert run_cli(["check", "--help"]) == 0
    assert "--today" in capsys.readouterr().out


BAD_INPUTS = {
    "binary": b"\x00\x01\x02\xff\xfe leads",
    "not utf-8": "leads:\n  - id: a\n    name: Andr\xe9\n".encode("latin-1"),
    "nul": b"leads:\n  - id: a\n    name: A\x00B\n",
    "bare scalar": b"hello\n",
    "a list": b"- 1\n- 2\n",
    "deep nesting": b"leads: " + b"[" * 500 + b"]" * 500 + b"\n",
    "bad tag": b"leads:\n  - id: a\n    value: !!int lots\n",
    "bad hex": b"leads:\n  - id: a\n    value: 0x_\n    decision_maker: yes\n",
    "python tag": b"leads: !!python/object/apply:os.system ['true']\n",
    "anchor loop": b"leads: &a [*a]\n",
    "merge": b"leads:\n  - <<: {id: a, name: A}\n    id: b\n",
    "binary tag": b"leads:\n  - id: !!binary aGVsbG8=\n",
    "unicode ids": "leads:\n  - id: 🚀\n    name: ☃\n".encode(),
    "huge int": b"leads:\n  - id: a\n    name: A\n    value: 1" + b"0" * 400 + b"\n",
    "nan value": b"leads:\n  - id: a\n    name: A\n    value: .nan\n",
    "inf value": b"leads:\n  - id: a\n    name: A\n    value: .inf\n",
    "key is a list": b"leads:\n  - ? [a]\n    : 1\n",
    "null key": b"leads:\n  - ~: 1\n    id: a\n",
    "int key": b"leads:\n  - 1: x\n    id: a\n",
    "date key": b"leads:\n  - id: a\n    name: A\n    reached: {2026-01-05: new}\n",
    "datetime": b"leads:\n  - id: a\n    name: A\n    follow_up: 2026-01-05T10:00:00+02:00\n",
    "lost empty": b"leads:\n  - id: a\n    name: A\n    lost:\n",
    "lost partial": b"leads:\n  - id: a\n    name: A\n    lost: {date: 2026-01-05}\n",
    "reached nulls": b"leads:\n  - id: a\n    name: A\n    reached: {new: , contacted: ~}\n",
    "two documents": b"leads: []\n---\nleads: []\n",
}


@pytest.mark.parametrize("name", sorted(BAD_INPUTS))
def test_cli_never_shows_a_traceback(make_repo, capsys, name):
    root = make_repo(None, files={"leads.yaml": BAD_INPUTS[name]})
    code = run_cli(["check", "--root", str(root), "--today", "2026-11-22"])
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    assert code in (0, 1)
    if code == 1:
        problems = [line for line in out.splitlines()[:-1]]
        assert problems and all(re.match(r"[^:]+:\d+: ", line) for line in problems), out


def test_cli_missing_settings_and_leads(tmp_path, capsys):
    (tmp_path / "content").mkdir()
    assert run_cli(["check", "--root", str(tmp_path), "--today", "2026-11-22"]) == 1
    out, err = capsys.readouterr()
    assert "content/settings.yaml: there is no settings file" in out
    assert "leads.yaml: there is no leads file" in out
    assert "Traceback" not in out + err
