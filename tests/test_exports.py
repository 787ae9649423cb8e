"""data/leads.csv and data/priorities.csv: phones as they are (extension included), formulas neutralised."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest

from relead.check import check_repository
from relead.intake.editing import import_file
from site_builder.exports import _cell, leads_csv, priorities_csv
from site_builder.redact import redact

TODAY = dt.date(2026, 11, 22)

LEADS = """leads:
  - id: ext
    name: Eve Xu
    company: Xu Freight
    phone: "+1 415 555 0134 ext 9"
    reached: {new: 2026-01-05}
    lost: {date: 2026-02-01, reason: price, temperature: warm}
  - id: plain
    name: Pat Lane
    company: Lane Co
    phone: "+1 415 555 0135"
    reached: {new: 2026-01-05}
    lost: {date: 2026-02-01, reason: price, temperature: hot}
  - id: national
    name: Nat Ore
    company: Ore Inc
    phone: "(415) 555-0136 x 12"
    email: nat@ore.example
    reached: {new: 2026-01-05}
  - id: formula
    name: '=HYPERLINK("http://evil.example","click")'
    company: "+1+cmd|' /C calc'!A0"
    title: "-2+3"
    email: f@x.example
    reached: {new: 2026-01-05}
    lost: {date: 2026-02-01, reason: price, temperature: cold}
"""


def _rows(text: str) -> dict[str, dict[str, str]]:
    return {r["id"]: r for r in csv.DictReader(io.StringIO(text))}


@pytest.fixture
def derived(make_repo):
    checked = check_repository(make_repo(LEADS), today=TODAY)
    assert not checked.errors, [p.format() for p in checked.errors]
    return checked.derived


def test_a_phone_keeps_its_extension_and_gets_no_quote(derived):
    rows = _rows(leads_csv(derived))
    assert rows["ext"]["phone"] == "+14155550134 ext. 9"
    assert rows["plain"]["phone"] == "+14155550135"
    assert rows["national"]["phone"] == "+14155550136 ext. 12"


def test_a_formula_is_still_neutralised(derived):
    rows = _rows(leads_csv(derived))
    assert rows["formula"]["name"] == '\'=HYPERLINK("http://evil.example","click")'
    assert rows["formula"]["company"] == "'+1+cmd|' /C calc'!A0"
    assert rows["formula"]["title"] == "'-2+3"
    prio = {r["id"]: r for r in csv.DictReader(io.StringIO(priorities_csv(derived)))}
    assert prio["formula"]["company"] == "'+1+cmd|' /C calc'!A0"


def test_a_masked_phone_is_not_taken_for_a_formula(derived):
    rows = _rows(leads_csv(redact(derived)))
    assert rows["ext"]["phone"] == "+1 ••• ••34" and rows["plain"]["phone"] == "+1 ••• ••35"


@pytest.mark.parametrize("value, cell", [
    ("+14155550134", "+14155550134"),
    ("+1 415 555 0134 ext. 9", "+1 415 555 0134 ext. 9"),
    ("+1 (415) 555-0134", "+1 (415) 555-0134"),
    ("+44 20 7946 0958 x12", "+44 20 7946 0958 x12"),
    ("+1-2", "'+1-2"),                                    # arithmetic, too few digits for a phone
    ("+123", "'+123"),
    ("+1234567890123456789", "'+1234567890123456789"),    # more digits than any phone number
    ("+1 415 555 0134 ext. 9+cmd|' /C calc'!A0", "'+1 415 555 0134 ext. 9+cmd|' /C calc'!A0"),
    ("+14155550134\n=1+1", "'+14155550134\n=1+1"),
    ("=1+1", "'=1+1"), ("@SUM(A1)", "'@SUM(A1)"), ("-5", "'-5"), ("\t=1", "'\t=1"),
])
def test_only_a_phone_number_goes_unguarded(value, cell):
    assert _cell(value) == cell


def test_an_imported_extension_reaches_the_export(make_repo):
    root = make_repo("leads: []\n")
    (root / "in.csv").write_text("name,company,phone\nEve Xu,Xu Freight,+1 415 555 0134 ext 9\n", encoding="utf-8")
    edited = import_file(root, root / "in.csv", today=TODAY)
    assert edited.plan.new[0]["phone"] == "+1 415 555 0134 ext. 9"
    checked = check_repository(root, today=TODAY)
    assert not checked.errors
    [row] = _rows(leads_csv(checked.derived)).values()
    assert row["phone"] == "+14155550134 ext. 9"
