"""The example repository (the tests' copy, tests/example), built as a new user builds it, against
committed expected output.

Set UPDATE_GOLDEN=1 to rewrite the expected files after a deliberate change,
then read the diff before committing it.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import os
from pathlib import Path

import pytest

from site_builder.build import build
from tests.paths import EXAMPLE

GOLDEN = Path(__file__).resolve().parent / "golden"
TODAY = dt.date(2026, 11, 22)




GOLDEN_FILES = {
    "data/summary.json": "summary.json",
    # A few key pages: what the team sees every morning, byte for byte.
    "index.html": "site/index.html",
    "priorities.html": "site/priorities.html",
    "today.html": "site/today.html",
    "campaigns/warm-lead-magnet.html": "site/campaign-warm-lead-magnet.html",
    "hygiene.html": "site/hygiene.html",
    "leads/dale-simmons-heartland-tractor.html": "site/lead-dale-simmons-heartland-tractor.html",
}


@pytest.mark.parametrize("name", sorted(GOLDEN_FILES))
def test_matches_golden(site, name):
    got = (site / name).read_text(encoding="utf-8")
    expected = GOLDEN / GOLDEN_FILES[name]
    if os.environ.get("UPDATE_GOLDEN") == "1":
        expected.parent.mkdir(parents=True, exist_ok=True)
        expected.write_text(got, encoding="utf-8", newline="")
    assert got == expected.read_text(encoding="utf-8"), \
        f"{name} differs from {expected}; after a deliberate change: UPDATE_GOLDEN=1 pytest tests/test_golden.py"


def test_summary_holds_what_spec_5_names(site):
    s = json.loads((site / "data/summary.json").read_text(encoding="utf-8"))
    assert s["as_of"] == "2026-11-22"
    leads = s["leads"]
    assert leads["total"] == sum(v for k, v in leads.items() if k != "total")
    assert [f["stage"] for f in s["funnel"]] == ["new", "contacted", "appointment", "proposal", "won"]
    reached = [f["reached"] for f in s["funnel"]]
    assert reached == sorted(reached, reverse=True), "funnel counting is monotone"
    assert reached[0] == leads["total"]
    lost_records = sum(f["lost_here"] for f in s["funnel"])
    assert lost_records == sum(s["lost_by_reason"].values()) == sum(s["lost_by_temperature"].values())
    for source in s["by_source"].values():
        assert source["reached"]["new"] == source["leads"]
        assert source["reached"]["won"] == source["won"]
    for key in ("value_at_stake", "value_recovered", "gone_for_good"):
        assert key in s["recovery"]
    assert set(s["channels"]) >= {"email", "sms"}
    for key in ("no_next_action", "incomplete_overdue", "uncontactable"):
        assert isinstance(s["hygiene"][key], list)


def test_priorities_rank_only_contactable_lost_leads(site):
    s = json.loads((site / "data/summary.json").read_text(encoding="utf-8"))
    rows = {r["id"]: r for r in csv.DictReader(io.StringIO((site / "data/leads.csv").read_text(encoding="utf-8")))}
    ranked = s["priorities"]
    assert [p["rank"] for p in ranked] == list(range(1, len(ranked) + 1))
    assert [p["score"] for p in ranked] == sorted((p["score"] for p in ranked), reverse=True)
    for p in ranked:
        row = rows[p["id"]]
        assert row["status"] == "lost"
        assert row["email"] or row["phone"]
    lost = [r for r in rows.values() if r["status"] == "lost" and (r["email"] or r["phone"])]
    assert len(ranked) <= len(lost)
    assert s["leads"]["lost"] == sum(1 for r in rows.values() if r["status"] == "lost")


def test_hygiene_lists_match_the_data(site):
    s = json.loads((site / "data/summary.json").read_text(encoding="utf-8"))
    rows = list(csv.DictReader(io.StringIO((site / "data/leads.csv").read_text(encoding="utf-8"))))
    assert s["hygiene"]["uncontactable"] == sorted(r["id"] for r in rows if not r["email"] and not r["phone"])
    assert "valentina-cruz-cruz-home-goods" in s["hygiene"]["no_next_action"]
    assert set(s["hygiene"]["incomplete_overdue"]) == {"erin-walsh", "marco-bellini", "cedar-rapids-cold-storage"}


def test_index_shows_the_headline_numbers(site):
    s = json.loads((site / "data/summary.json").read_text(encoding="utf-8"))
    html = (site / "index.html").read_text(encoding="utf-8")
    rec = s["recovery"]
    for label, value in (("Lost leads", rec["still_lost"]), ("Recovered to date", rec["recovered"]),
                         ("Back in the funnel", rec["back_in_funnel"]), ("Gone for good", rec["gone_for_good"])):
        assert f'<div class="k">{label}</div><div class="v">{value:,}</div>' in html, label
    assert f"${rec['value_at_stake']:,}" in html
    assert 'href="data/summary.json"' in html


def test_build_is_deterministic(site, tmp_path):
    again = tmp_path / "again"
    build(EXAMPLE, again, today=TODAY)
    files = sorted(p.relative_to(site) for p in site.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(again) for p in again.rglob("*") if p.is_file())
    for rel in files:
        assert (site / rel).read_bytes() == (again / rel).read_bytes(), rel
