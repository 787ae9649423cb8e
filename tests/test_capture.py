"""`python -m relead add`: quick capture, at once, from whatever is known; the file's other bytes untouched."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from relead.intake.capture import business_days_after
from relead.check import check_repository
from relead.cli import main
from relead.intake.editing import add_lead
from relead.model import Sending
from relead.read.yamlparse import parse
from tests.paths import EXAMPLE, ROOT

D = dt.date.fromisoformat


@pytest.fixture
def repo(make_repo):
    return make_repo((EXAMPLE / "leads.yaml").read_text(encoding="utf-8"))


def _leads(root: Path) -> dict[str, dict]:
    return {lead["id"]: lead for lead in parse((root / "leads.yaml").read_text(encoding="utf-8"))["leads"]}


def _add(root: Path, capsys, *args: str, today: str = "2026-11-20") -> tuple[int, str, str]:
    code = main(["add", "--root", str(root), "--today", today, *args])
    cap = capsys.readouterr()
    return code, cap.out, cap.err


def test_a_name_and_a_company_are_enough(repo, capsys):
    before = (repo / "leads.yaml").read_text(encoding="utf-8")
    code, out, err = _add(repo, capsys, "--name", "Zoë Ångström", "--company", "Nordic Ice AB")
    assert code == 0 and out == "zoe-angstrom-nordic-ice\n"
    assert "tagged incomplete" in err and "2026-11-24" in err
    after = (repo / "leads.yaml").read_text(encoding="utf-8")
    assert after == before + ("\n  - id: zoe-angstrom-nordic-ice\n"
                              "    name: Zoë Ångström\n"
                              "    company: Nordic Ice AB\n"
                              "    tags: [incomplete]\n"
                              "    follow_up: 2026-11-24\n"          # Friday + two business days
                              "    reached:\n"
                              "      new: 2026-11-20\n")
    assert not check_repository(repo, today=D("2026-11-22")).errors


def test_contact_details_make_it_complete(repo, capsys):
    code, out, _ = _add(repo, capsys, "--name", "Jane Roe", "--company", "Roe & Daughters", "--email",
                        "<Jane.Roe@ROE.example>", "--phone", "(312) 555-0177", "--source", "expo-2026-fall",
                        "--owner", "lee")
    assert code == 0 and out == "jane-roe-roe-and-daughters\n"
    lead = _leads(repo)["jane-roe-roe-and-daughters"]
    assert lead == {"id": "jane-roe-roe-and-daughters", "name": "Jane Roe", "company": "Roe & Daughters",
                    "email": "Jane.Roe@roe.example", "phone": "+1 312 555 0177", "source": "expo-2026-fall",
                    "owner": "lee", "reached": {"new": D("2026-11-20")}}


def test_someone_already_in_the_leads_gets_their_empty_keys_filled(repo, capsys):
    before = (repo / "leads.yaml").read_text(encoding="utf-8")
    code, out, err = _add(repo, capsys, "--name", "Tom Reed", "--company", "Reed Freight",
                          "--phone", "+1 312 555 0199", "--owner", "sam")
    assert code == 0 and out == "tom-reed-reed-freight\n"
    assert "already in the leads" in err and "filled in phone" in err and "kept its" not in err
    after = (repo / "leads.yaml").read_text(encoding="utf-8")
    added = [line for line in after.splitlines() if line not in before.splitlines()]
    assert added == ['    phone: "+1 312 555 0199"']            # owner: lee stays, nothing else moves
    assert len(after.splitlines()) == len(before.splitlines()) + 1
    code, out, err = _add(repo, capsys, "--name", "TOM  REED", "--company", "reed freight")
    assert code == 0 and out == "tom-reed-reed-freight\n" and "nothing new" in err
    assert (repo / "leads.yaml").read_text(encoding="utf-8") == after


def test_bad_values_are_refused_and_nothing_is_written(repo, capsys):
    before = (repo / "leads.yaml").read_bytes()
    code, out, err = _add(repo, capsys, "--name", "X", "--email", "x@", "--phone", "12", "--owner", "samm")
    assert code == 1 and out == ""
    assert "--email `x@` is not an email address" in err
    assert "--phone `12` is not a valid phone number" in err
    assert "--owner `samm` is not in the team; did you mean `sam`?" in err
    assert (repo / "leads.yaml").read_bytes() == before


def test_neither_name_nor_company_is_bad_usage(repo, capsys):
    code, _out, err = _add(repo, capsys, "--email", "x@y.example")
    assert code == 2 and "--name or --company" in err


def test_dry_run(repo, capsys):
    before = (repo / "leads.yaml").read_bytes()
    code, out, err = _add(repo, capsys, "--company", "Solo Works", "--dry-run")
    assert code == 0 and out == "solo-works\n" and "nothing was written" in err
    assert (repo / "leads.yaml").read_bytes() == before


def test_into_an_empty_leads_file(make_repo, capsys):
    root = make_repo("leads: []\n")
    code, out, _ = _add(root, capsys, "--company", "First Co")
    assert code == 0 and out == "first-co\n"
    text = (root / "leads.yaml").read_text(encoding="utf-8")
    assert text.startswith("leads:\n\n  - id: first-co\n")
    assert not check_repository(root, today=D("2026-11-22")).errors


def test_ids_stay_unique(repo, capsys):
    assert _add(repo, capsys, "--name", "Sam Example", "--company", "Acme", "--email", "a@sam.example")[1] \
        == "sam-example-acme\n"
    assert _add(repo, capsys, "--name", "Sam Example", "--company", "ACME Corp.", "--email", "b@sam.example")[1] \
        == "sam-example-acme-2\n"


def test_hostile_text_goes_in_quoted_and_validates(repo):
    edited = add_lead(repo, today=D("2026-11-20"), name="- yes: no #1", company="@Acme: \"Inc\" 12:30",
                      notes="line one\n  indented: yes\n# not a comment")
    lead = _leads(repo)[edited.plan.new[0]["id"]]
    assert lead["name"] == "- yes: no #1" and lead["company"] == '@Acme: "Inc" 12:30'
    assert lead["notes"] == "line one\n  indented: yes\n# not a comment\n"
    assert not check_repository(repo, today=D("2026-11-22")).errors


def test_business_days_skip_weekends_and_holidays():
    sending = Sending(holidays=frozenset({D("2026-11-26")}))
    assert business_days_after(D("2026-11-20"), 2, sending) == D("2026-11-24")     # Fri -> Tue
    assert business_days_after(D("2026-11-25"), 2, sending) == D("2026-11-30")     # Thanksgiving skipped
    assert business_days_after(D("2026-11-21"), 2, sending) == D("2026-11-24")     # from a Saturday


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_make_add_passes_its_variables_through(repo):
    env_name = {"NAME": "From The Environment"}
    proc = subprocess.run(["make", "-s", "-f", str(ROOT / "Makefile"), "add", "COMPANY=Quote's \"Co\"",
                           "TODAY=2026-11-20", "DRY_RUN=1", f"PY={sys.executable}"],
                          capture_output=True, text=True, env={**env_name, "PATH": "/usr/bin:/bin", "HOME": str(repo)}, cwd=repo)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "quote-s-co"           # NAME from the environment is not picked up


@pytest.mark.parametrize("text", ["", "# nothing here yet\n", "leads:\n"])
def test_into_a_leads_file_with_nothing_in_it(make_repo, capsys, text):
    root = make_repo(text)
    code, out, _ = _add(root, capsys, "--name", "Ann Example", "--email", "ann@example.com")
    assert code == 0 and out == "ann-example\n"
    new = (root / "leads.yaml").read_text(encoding="utf-8")
    assert new.startswith(text) and parse(new)["leads"][0]["id"] == "ann-example"
    assert not check_repository(root, today=D("2026-11-22")).errors


def test_a_lead_written_in_flow_style_is_written_anew_and_the_rest_kept(make_repo):
    text = ("leads:\n"
            "  - {id: ann-acme, name: Ann, company: Acme}   # written by hand\n"
            "\n"
            "  # the next group\n"
            "  - id: bob-beta\n"
            "    name: Bob\n"
            "    company: Beta\n")
    root = make_repo(text)
    edited = add_lead(root, today=D("2026-11-20"), name="Ann", company="ACME", email="ann@acme.example")
    assert edited.rewritten == ("ann-acme",) and edited.plan.outcomes[0].kind == "updated"
    assert (root / "leads.yaml").read_text(encoding="utf-8") == (
        "leads:\n"
        "  - id: ann-acme\n"
        "    name: Ann\n"
        "    company: Acme\n"
        "    email: ann@acme.example\n"             # not `reached`: she did not enter the funnel today
        "\n"
        "  # the next group\n"
        "  - id: bob-beta\n"
        "    name: Bob\n"
        "    company: Beta\n")
