"""`python -m relead import`: CRM exports into leads.yaml, de-duplicated, formatting kept, bad input refused.

The sample exports in tests/data/ follow each CRM's documented export columns
(written by hand, small); they hold duplicates inside the file and against the
example leads, lost deals with a reason and a date, unicode names and phones
in national format. Each import runs on a copy of the example repository.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from relead.check import check_repository
from relead.cli import main
from relead.history import history_lead_ids, read_history
from relead.intake.editing import import_file
from relead.intake.csv_table import ImportFailed, read_table
from relead.intake.values import parse_amount
from relead.problems import Problems
from relead.intake.leads_text import item_text, parse_items
from relead.read.leadlines import scan
from relead.read.yamlparse import parse
from tests.paths import EXAMPLE, ROOT

DATA = Path(__file__).resolve().parent / "data"
TODAY = dt.date(2026, 11, 22)
D = dt.date.fromisoformat


@pytest.fixture
def repo(make_repo):
    """A copy of the example repository (its leads.yaml and content/)."""
    return make_repo((EXAMPLE / "leads.yaml").read_text(encoding="utf-8"))


def _leads(root: Path) -> dict[str, dict]:
    return {lead["id"]: lead for lead in parse((root / "leads.yaml").read_text(encoding="utf-8"))["leads"]}


def _blocks(text: str) -> dict[str, str]:
    lay = scan(text)
    return {parse_items(item_text(lay, i))[0]["id"]: item_text(lay, i) for i in range(len(lay.starts))}


def _import(root, name, **kw):
    edited = import_file(root, DATA / name, today=TODAY, **kw)
    return edited


def _line_of(root: Path, lead_id: str, needle: str) -> int:
    """The number of the first line of ``lead_id``'s block in leads.yaml that holds ``needle``."""
    lines = (root / "leads.yaml").read_text(encoding="utf-8").splitlines()
    start = lines.index(f"  - id: {lead_id}")
    return next(i for i in range(start, len(lines)) if needle in lines[i]) + 1


def _assert_valid(root: Path) -> None:
    checked = check_repository(root, today=TODAY)
    assert not checked.errors, "\n".join(p.format() for p in checked.errors)


def _assert_only_changes(before: str, after: str, changed: set[str]) -> None:
    """Every lead not in ``changed`` keeps its bytes; nothing anywhere is removed or rewritten."""
    diff = list(difflib.ndiff(before.splitlines(keepends=True), after.splitlines(keepends=True)))
    assert not [d for d in diff if d.startswith("- ")], "".join(d for d in diff if d[0] in "+-")
    old, new = _blocks(before), _blocks(after)
    for lead_id, text in old.items():
        if lead_id not in changed:
            # (the last lead's lines run on to the blank line before the leads appended after it)
            assert new[lead_id] == text or (new[lead_id].startswith(text) and not new[lead_id][len(text):].strip()), \
                lead_id
    assert after.startswith(before[: scan(before).starts[0]])        # the header comments


# ---------------------------------------------------------------------------
# The sample exports
# ---------------------------------------------------------------------------

def test_hubspot_deals(repo):
    before = (repo / "leads.yaml").read_text(encoding="utf-8")
    edited = _import(repo, "hubspot-deals.csv")
    assert edited.counts == {"added": 4, "updated": 1, "merged": 1, "skipped": 1}
    after = (repo / "leads.yaml").read_text(encoding="utf-8")
    _assert_only_changes(before, after, {"margaret-hale-hale-distribution"})
    _assert_valid(repo)
    leads = _leads(repo)
    asa = leads["asa-lindqvist-lindqvist-logistik"]            # unicode name, ASCII id, legal suffix dropped
    assert asa["name"] == "Åsa Lindqvist" and asa["company"] == "Lindqvist Logistik AB"
    assert asa["email"] == "asa.lindqvist@lindqvist-logistik.example"
    assert asa["value"] == 24500 and asa["owner"] == "priya"
    assert asa["lost"] == {"date": D("2026-09-15"), "reason": "chose_competitor", "temperature": "cold"}
    assert asa["reached"] == {"new": D("2026-05-04")}
    # Two deals of one person: one lead, the second deal's loss added to the first's, and the lead
    # reached from the earlier deal's creation (so the loss is not before the lead began).
    lin = leads["lin-wei-brightline-foods"]
    assert lin["reached"] == {"new": D("2026-03-02"), "appointment": D("2026-10-01")}
    assert lin["lost"]["reason"] == "not_ready" and lin["lost"]["date"] == D("2026-08-20")
    assert leads["marisol-ortiz-ortiz-cold-storage"]["owner"] == "sam"          # "Sam C." via import.owners
    assert leads["marisol-ortiz-ortiz-cold-storage"]["lost"]["reason"] == "price"  # the label "Too expensive"
    harbor = leads["harbor-point-marine"]                                   # no email, no phone
    assert harbor["tags"] == ["incomplete"] and harbor["follow_up"] == D("2026-11-24")
    # An existing lead gets only its empty keys.
    margaret = leads["margaret-hale-hale-distribution"]
    assert margaret["notes"] == "Deal: Hale Distribution - second DC scanners"
    assert margaret["lost"]["reason"] == "budget_freeze" and margaret["owner"] == "sam"
    outcomes = {o.row: o for o in edited.plan.outcomes}
    assert outcomes[5].kind == "merged" and outcomes[5].lead == "lin-wei-brightline-foods"
    assert outcomes[6].kind == "skipped" and "mei-lin-wu-goldengate-electronics" in outcomes[6].detail


def test_hubspot_contacts(repo):
    before = (repo / "leads.yaml").read_text(encoding="utf-8")
    edited = _import(repo, "hubspot-contacts.csv")
    assert edited.counts == {"added": 3, "updated": 2, "merged": 1, "skipped": 1}
    _assert_only_changes(before, (repo / "leads.yaml").read_text(encoding="utf-8"),
                         {"ingrid-larsen-nordic-cold-chain", "harbor-view-packaging"})
    _assert_valid(repo)
    leads = _leads(repo)
    jose = leads["jose-nunez-andes-imports"]
    assert jose["phone"] == "+1 312 555 0148"                     # national format, read as settings phone_region
    assert jose["reached"] == {"new": D("2026-10-12"), "contacted": D("2026-10-12")}
    assert leads["ingrid-larsen-nordic-cold-chain"]["phone"] == "+47 22 55 01 34"
    assert leads["harbor-view-packaging"]["email"] == "info@harborview-packaging.example"
    chiara = leads["chiara-ferri-ferri-logistica"]                     # "Bad Timing" says why it was lost
    assert chiara["lost"] == {"date": D("2026-02-14"), "stage": "contacted", "reason": "not_ready",
                              "temperature": "warm"}
    thao = leads["nguyen-thao-saigon-trade"]
    assert "owner" not in thao and "not given" in thao["notes"]
    assert any("Dana Former" in n for n in edited.notes)
    assert any("not given" in w for w in edited.plan.warnings)


def test_pipedrive_deals(repo):
    before = (repo / "leads.yaml").read_text(encoding="utf-8")
    edited = _import(repo, "pipedrive-deals.csv", choice="pipedrive")
    assert edited.counts == {"added": 3, "updated": 1, "merged": 1, "skipped": 1}
    _assert_only_changes(before, (repo / "leads.yaml").read_text(encoding="utf-8"), {"tom-reed-reed-freight"})
    _assert_valid(repo)
    leads = _leads(repo)
    kessler = leads["jurgen-kessler-kessler-lager"]
    assert kessler["lost"] == {"date": D("2026-06-11"), "stage": "proposal", "reason": "budget_freeze",
                               "temperature": "hot"}
    assert kessler["reached"] == {"new": D("2026-03-02"), "proposal": D("2026-04-20")}
    assert kessler["phone"] == "+49 30 55501234" and kessler["value"] == 14500
    chidi = leads["chidi-okonkwo-okonkwo-distribution"]
    assert chidi["reached"] == {"new": D("2026-01-15"), "won": D("2026-03-30")} and "lost" not in chidi
    tom = leads["tom-reed-reed-freight"]
    assert tom["email"] == "Tom.Reed@Reed-Freight.example"           # what the team wrote stays
    assert tom["phone"] == "+1 312 555 0161"                        # what was empty is filled in
    assert tom["lost"] == {"date": D("2024-03-28"), "reason": "went_dark", "temperature": "warm"}
    assert [o.detail for o in edited.plan.outcomes if o.kind == "skipped"] == ["`Deleted` maps to skip"]


def test_salesforce_leads(repo):
    before = (repo / "leads.yaml").read_text(encoding="utf-8")
    edited = _import(repo, "salesforce-leads.csv", choice="salesforce")
    assert edited.counts == {"added": 2, "updated": 0, "merged": 1, "skipped": 2}
    _assert_only_changes(before, (repo / "leads.yaml").read_text(encoding="utf-8"), set())
    _assert_valid(repo)
    leads = _leads(repo)
    hiroshi = leads["hiroshi-tanaka-sakura-trading"]
    assert hiroshi["lost"] == {"date": D("2025-11-14"), "reason": "went_dark", "temperature": "warm"}
    assert hiroshi["reached"] == {"new": D("2025-09-03")}                      # 9/3/2025: month first
    assert hiroshi["notes"].startswith("Asked for pricing on 30 devices")
    amara = leads["amara-nwosu-lagos-cold-chain"]
    assert amara["consent"] == {"email": False} and amara["phone"] == "+234 802 555 0134"
    assert amara["notes"] == 'Filled in the web form: "need 20 scanners"'


def test_generic_csv_with_a_mapping_file(repo):
    edited = _import(repo, "generic.csv", choice="csv", mapping=DATA / "generic-map.yaml")
    assert edited.counts == {"added": 2, "updated": 0, "merged": 0, "skipped": 0}
    _assert_valid(repo)
    leads = _leads(repo)
    elodie = leads["elodie-marchand-marchand-freres"]
    assert elodie["lost"] == {"date": D("2026-03-14"), "stage": "proposal", "reason": "price", "temperature": "hot"}
    assert elodie["source"] == "salon-paris-2026" and elodie["owner"] == "priya"
    assert elodie["phone"] == "+33 1 55 50 12 34" and elodie["notes"] == "Met at SITL Paris"
    karl = leads["karl-berg-berg-spedition"]
    assert karl["tags"] == ["incomplete"] and karl["reached"]["contacted"] == TODAY


def test_importing_the_same_file_again_changes_nothing(repo):
    first = _import(repo, "pipedrive-deals.csv")
    text = (repo / "leads.yaml").read_bytes()
    edited = _import(repo, "pipedrive-deals.csv")
    assert edited.counts["added"] == 0 and edited.counts["updated"] == 0
    assert not edited.texts and (repo / "leads.yaml").read_bytes() == text
    # each hands back the repository as it loaded it, before its edit
    before = {lead.id for lead in first.before.model.leads}
    assert {lead.id for lead in edited.before.model.leads} == before | set(first.plan.new_rows)


def test_dry_run_reports_and_writes_nothing(repo):
    text = (repo / "leads.yaml").read_bytes()
    edited = _import(repo, "hubspot-deals.csv", dry_run=True)
    assert edited.counts == {"added": 4, "updated": 1, "merged": 1, "skipped": 1}
    assert not edited.written and (repo / "leads.yaml").read_bytes() == text
    assert "asa-lindqvist-lindqvist-logistik" in edited.texts["leads.yaml"]


def test_ids_are_never_reused(make_repo):
    """An id in history (a lead deleted since) is taken; so are ids earlier in the same file."""
    from relead.history import HEADER, Record
    rec = Record("2026-11-20", "2026-11-20T15:00:00Z", "enrolled", "lin-wei-brightline-foods", "nurture",
                 "2026-11-20", "", "", "")
    # (a lead of its own: an empty leads file beside history is refused as an emptied file)
    root = make_repo("leads:\n  - id: ann-a\n    name: Ann A\n    reached: {new: 2026-01-05}\n",
                     history={"2026/11/2026-11-20.outreach.tsv": HEADER + rec.line()})
    (root / "two.csv").write_text("name,company,email,lost_date,status\n"
                                  "Lin Wei,Brightline Foods,a@lin.example,,open\n"
                                  "Lin Wei,Brightline Foods Inc.,b@lin.example,,open\n", encoding="utf-8")
    edited = import_file(root, root / "two.csv", today=TODAY)
    assert [lead["id"] for lead in edited.plan.new] == ["lin-wei-brightline-foods-2", "lin-wei-brightline-foods-3"]


def test_history_lead_ids_are_the_leads_read_history_finds():
    """The import reads only the lead column of history/: the same ids as reading every record."""
    history = read_history(EXAMPLE / "history", Problems(), rel_to=EXAMPLE)
    ids = history_lead_ids(EXAMPLE / "history", rel_to=EXAMPLE)
    assert len(ids) >= 50 and ids == frozenset(history.by_lead)


def test_a_broken_history_line_is_make_checks_to_report_and_its_lead_id_stays_taken(make_repo):
    from relead.history import HEADER, Record
    rec = Record("2026-11-20", "2026-11-20T15:00:00Z", "enrolled", "lin-wei-brightline-foods", "nurture",
                 "2026-11-20", "", "", "")
    broken = "2026-11-20T16:00:00Z\tenrolled\tmei-tan-tanco\tnurture\n"       # 4 columns, not 12
    root = make_repo("leads:\n  - id: ann-a\n    name: Ann A\n    reached: {new: 2026-01-05}\n",
                     history={"2026/11/2026-11-20.outreach.tsv": HEADER + rec.line() + broken})
    assert any("malformed history record" in p.message for p in check_repository(root, today=TODAY).errors)
    (root / "two.csv").write_text("name,company,email,lost_date,status\n"
                                  "Lin Wei,Brightline Foods,a@lin.example,,open\n"
                                  "Mei Tan,TanCo,mei@tanco.example,,open\n", encoding="utf-8")
    edited = import_file(root, root / "two.csv", today=TODAY)
    assert [lead["id"] for lead in edited.plan.new] == ["lin-wei-brightline-foods-2", "mei-tan-tanco-2"]


def test_crlf_and_compact_files_keep_their_style(make_repo):
    text = "leads:\r\n  - id: a\r\n    name: A\r\n  - id: b\r\n    name: B\r\n"
    root = make_repo(text)
    edited = _import(root, "generic.csv", mapping=DATA / "generic-map.yaml")
    out = (root / "leads.yaml").read_bytes().decode("utf-8")
    assert edited.counts["added"] == 2 and out.startswith(text)
    assert "\n" not in out.replace("\r\n", "") and "\r\n\r\n" not in out        # CRLF, no blank lines added
    _assert_valid(root)


def test_the_command_line(repo, capsys):
    assert main(["import", str(DATA / "hubspot-deals.csv"), "--root", str(repo), "--today", "2026-11-22",
                 "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "import hubspot-deals.csv as HubSpot deals: 7 rows" in out
    assert "  + asa-lindqvist-lindqvist-logistik (row 3)" in out
    assert "  = lin-wei-brightline-foods (row 5): into row 4: same email; added lost; reached.new 2026-03-02, this row's" in out
    assert "4 added, 1 updated, 1 merged, 1 skipped" in out
    assert "dry run: would change leads.yaml; nothing was written" in out
    assert main(["import", str(DATA / "pipedrive-deals.csv"), "--from", "pipedrive", "--root", str(repo),
                 "--today", "2026-11-22"]) == 0
    assert "wrote leads.yaml" in capsys.readouterr().out


def test_an_unknown_crm_is_bad_usage(repo, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["import", str(DATA / "hubspot-deals.csv"), "--from", "zoho", "--root", str(repo)])
    assert exc.value.code == 2
    assert "invalid choice: 'zoho'" in capsys.readouterr().err


# ---------------------------------------------------------------------------
# Bad input: a clear message with the row, nothing written
# ---------------------------------------------------------------------------

def _refused(root: Path, csv_bytes: bytes, capsys, *extra: str) -> str:
    before = (root / "leads.yaml").read_bytes()
    (root / "in.csv").write_bytes(csv_bytes)
    code = main(["import", str(root / "in.csv"), "--root", str(root), "--today", "2026-11-22", *extra])
    out = capsys.readouterr().out
    assert code == 1, out
    assert (root / "leads.yaml").read_bytes() == before
    assert sorted(p.name for p in root.iterdir() if p.name.startswith(".leads.yaml")) == []
    assert "nothing was written" in out
    return out


def test_wrong_encoding(repo, capsys):
    data = "Name,Company,Email\nJane Doe,Acme,j@acme.example\nRenée Blanc,Café Noir,r@cafe.example\n"
    out = _refused(repo, data.encode("cp1252"), capsys)
    assert "in.csv: line 3: byte 0xE9 is not UTF-8 text" in out and "--encoding cp1252" in out
    # ...and with the encoding named, it goes in.
    assert main(["import", str(repo / "in.csv"), "--root", str(repo), "--today", "2026-11-22",
                 "--encoding", "cp1252"]) == 0
    assert _leads(repo)["renee-blanc-cafe-noir"]["company"] == "Café Noir"


def test_missing_header(repo, capsys):
    out = _refused(repo, b"Jane Doe,Acme,jane@acme.example\nJohn Roe,Beta,john@beta.example\n", capsys)
    assert "in.csv: row 1 is not a header" in out and "`Jane Doe`" in out


def test_ragged_rows(repo, capsys):
    data = b"Name,Company,Email\nJane Doe,Acme,jane@acme.example\nJohn Roe,Beta\nAl Poe,Gamma,al@g.example,extra\n"
    out = _refused(repo, data, capsys)
    assert "in.csv: row 3 has 2 cells but the header has 3" in out
    assert "in.csv: row 4 has 4 cells but the header has 3" in out


def test_a_quote_left_open(repo, capsys):
    out = _refused(repo, b'Name,Company\nJane Doe,"Acme\nJohn Roe,Beta\n', capsys)
    assert "in.csv: row 2" in out and "malformed" in out


def test_empty_file(repo, capsys):
    assert "the file is empty" in _refused(repo, b"", capsys)


def test_unmapped_stages_are_listed_with_their_rows(repo, capsys):
    data = (b"Deal - Title,Deal - Stage,Deal - Status,Deal - Deal created,Person - Email,Deal - Contact person\n"
            b"A,Site Visit,Open,2026-01-01,a@x.example,Ann A\n"
            b"B,Site Visit,Open,2026-01-01,b@x.example,Bob B\n"
            b"C,Contract Review,Open,2026-01-01,c@x.example,Cy C\n")
    out = _refused(repo, data, capsys, "--from", "pipedrive")
    assert "stages or statuses with no funnel stage: `Site Visit` (rows 2, 3); `Contract Review` (row 4)" in out
    assert "import: stages:" in out


def test_unmapped_reasons_without_a_default(repo, capsys):
    data = (b"Deal - Title,Deal - Stage,Deal - Status,Deal - Lost time,Deal - Lost reason,Person - Email,"
            b"Deal - Contact person\n"
            b"A,Lead In,Lost,2026-01-01,Moon phase,a@x.example,Ann A\n")
    out = _refused(repo, data, capsys, "--from", "pipedrive")
    assert "lost reasons with no key of lost_reasons: `Moon phase` (row 2)" in out and "default_reason" in out


def test_a_default_reason_keeps_the_crms_words(repo, tmp_path):
    mapping = tmp_path / "map.yaml"
    mapping.write_text("default_reason: went_dark\n", encoding="utf-8")
    (repo / "in.csv").write_text("Deal - Title,Deal - Stage,Deal - Status,Deal - Lost time,Deal - Lost reason,"
                                 "Person - Email,Deal - Contact person\n"
                                 "A,Lead In,Lost,2026-01-01,Moon phase,a@x.example,Ann A\n", encoding="utf-8")
    edited = import_file(repo, repo / "in.csv", choice="pipedrive", mapping=mapping, today=TODAY)
    assert edited.plan.new[0]["lost"] == {"date": D("2026-01-01"), "reason": "went_dark", "temperature": "cold",
                                          "note": "Moon phase"}


def test_a_lost_row_without_any_date_takes_the_import_day(repo, capsys):
    """Nothing in the row says when: the import day, said per row, rather than refusing the file."""
    data = b"Deal - Title,Deal - Stage,Deal - Status,Deal - Lost reason,Person - Email,Deal - Contact person\n" \
           b"A,Lead In,Lost,Budget,a@x.example,Ann A\n"
    (repo / "in.csv").write_bytes(data)
    assert main(["import", str(repo / "in.csv"), "--root", str(repo), "--today", "2026-11-22",
                 "--from", "pipedrive"]) == 0
    out = capsys.readouterr().out
    line = _line_of(repo, "ann-a", "date:")
    assert (f"  ! row 2 (ann-a): lost.date set to the import day 2026-11-22: the row gives no date at all (the file "
            f"has no `Deal - Lost time` or `Deal - Update time` column); correct it in leads.yaml line {line} if you "
            "know the real date") in out
    assert _leads(repo)["ann-a"]["lost"]["date"] == TODAY
    _assert_valid(repo)


def test_a_result_that_would_fail_make_check_is_not_written(repo, capsys):
    data = b"name,company,email,created\nJane Doe,Acme,jane@acme.example,2027-01-05\n"      # after today
    out = _refused(repo, data, capsys)
    assert "row 2 (jane-doe-acme): reached.new: `new` 2027-01-05 is after today (2026-11-22)" in out


def test_an_invalid_repository_is_not_imported_into(make_repo, capsys):
    root = make_repo("leads:\n  - id: a\n    name: A\n    emial: a@x.example\n")
    out = _refused(root, b"name,email\nB,b@x.example\n", capsys)
    assert "unknown key `emial`" in out and "fix them first" in out


def test_a_bad_mapping_file(repo, tmp_path, capsys):
    mapping = tmp_path / "map.yaml"
    mapping.write_text("columns:\n  emial: E-mail\nstages:\n  Won it: victory\n", encoding="utf-8")
    out = _refused(repo, b"name,email\nB,b@x.example\n", capsys, "--map", str(mapping))
    assert "map.yaml:2: `emial` is not an import field; did you mean `email`?" in out
    assert "map.yaml:4: `stages` maps `Won it` to `victory`" in out


def test_settings_import_is_validated(make_repo):
    settings = (EXAMPLE / "content" / "settings.yaml").read_text(encoding="utf-8")
    settings = settings.replace("    Budget: budget_freeze", "    Budget: budget_frozen") \
        .replace("    Negotiation: proposal", "    Negotiation: proposals")
    root = make_repo("leads: []\n", files={"content/settings.yaml": settings})
    messages = [p.format() for p in check_repository(root, today=TODAY).errors]
    assert any("`reasons` maps `Budget` to `budget_frozen`, which is not a key of `lost_reasons`; "
               "did you mean `budget_freeze`?" in m for m in messages), messages
    assert any("`stages` maps `Negotiation` to `proposals`" in m and "did you mean `proposal`?" in m
               for m in messages), messages


# ---------------------------------------------------------------------------
# Pieces
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("text, value", [("12000", 12000), ("$12,000.00", 12000), ("12.500,50 €", 12500.5),
                                         ("1,5", 1.5), ("EUR 3 000", 3000), ("n/a", None), ("-", None),
                                         ("1.234.567", 1234567)])
def test_amounts(text, value):
    assert parse_amount(text) == value


def test_semicolons_tabs_and_a_bom_are_read():
    table = read_table("\ufeffName;Company\nJane;Acme\n".encode("utf-8"), name="x.csv")
    assert table.headers == ("Name", "Company") and table.rows[0][2] == ("Jane", "Acme")
    table = read_table("Name\tCompany\nJane\tAcme\n".encode("utf-16"), name="x.csv")
    assert table.headers == ("Name", "Company") and table.encoding == "utf-16"


def test_the_sample_files_follow_their_crms_columns():
    """The built-in formats know every column the sample exports use for leads."""
    from relead.intake.crm_formats import FORMATS, detect, norm
    expect = {"hubspot-deals.csv": "hubspot-deals", "hubspot-contacts.csv": "hubspot-contacts",
              "pipedrive-deals.csv": "pipedrive", "salesforce-leads.csv": "salesforce"}
    for name, key in expect.items():
        table = read_table((DATA / name).read_bytes(), name=name)
        assert detect(list(table.headers), None).key == key
        known = {norm(c) for cols in FORMATS[key].columns.values() for c in cols}
        unused = [h for h in table.headers if norm(h) not in known]
        assert set(unused) <= {"Record ID", "Pipeline", "Deal - ID", "Deal - Currency", "Deal - Pipeline",
                               "Lead ID"}, (name, unused)



def test_docs_import_md_lists_every_column_field_and_key():
    from relead.intake.crm_formats import FIELDS, FORMATS
    from relead.schema import IMPORT_MAPPING
    doc = (ROOT / "docs" / "import.md").read_text(encoding="utf-8")
    for key, fmt in FORMATS.items():
        if key != "csv":
            for cols in fmt.columns.values():
                for col in cols:
                    assert f"`{col}`" in doc, (key, col)
            for word in fmt.stages:
                assert word in doc, (key, word)
    for name in list(FIELDS) + [k.name for k in IMPORT_MAPPING]:
        assert f"| `{name}`" in doc or f", `{name}`" in doc, name


def test_a_missing_file_is_bad_usage(repo, capsys):
    assert main(["import", str(repo / "nope.csv"), "--root", str(repo)]) == 2
    assert "nope.csv is not a file" in capsys.readouterr().err


def test_a_file_changed_during_the_import_is_not_overwritten(repo, monkeypatch):
    import relead.intake.splice as splice
    real = splice._check_leads

    def meanwhile(*args, **kw):
        real(*args, **kw)
        with (repo / "leads.yaml").open("a", encoding="utf-8") as fh:
            fh.write("  # someone else's edit\n")

    monkeypatch.setattr(splice, "_check_leads", meanwhile)
    with pytest.raises(splice.ImportFailed, match="changed while the import ran"):
        _import(repo, "hubspot-deals.csv")
    assert (repo / "leads.yaml").read_text(encoding="utf-8").endswith("  # someone else's edit\n")


def test_the_import_benchmark_runs_small(tmp_path):
    """`python -m bench.importing` end to end on a tiny repository (a smoke test: nothing is timed here)."""
    import sys
    if str(ROOT) not in sys.path:      # `bench` is not an installed package
        sys.path.insert(0, str(ROOT))
    from bench.importing import run
    result = run(tmp_path, leads=60, history=200, rows=40, say=lambda *a: None)
    imp = result["import"]
    assert imp["added"] + imp["updated"] + imp["merged"] + imp["skipped"] == 40
    assert result["check_result"]["errors"] == 0 and result["ratio"] > 0


# ---------------------------------------------------------------------------
# A column the CRM's default export leaves out: imported, said per row
# ---------------------------------------------------------------------------

SALESFORCE_CREATED_ONLY = ("First Name,Last Name,Company,Email,Phone,Lead Status,Rating,Lead Owner,Created Date\n"
                           "Ann,Arbor,Arbor Tools,ann@arbor.example,(646) 555-0190,Closed - Not Converted,Warm,"
                           "Sam Carter,3/2/2026\n"
                           "Bo,Birch,Birch Foods,bo@birch.example,,Open - Not Contacted,,Sam Carter,3/14/2026\n")


def test_a_salesforce_export_with_only_created_date(repo, capsys):
    """Salesforce's lead export has no loss date and, by default, no Last Activity: the created date stands in."""
    (repo / "in.csv").write_text(SALESFORCE_CREATED_ONLY, encoding="utf-8")
    assert main(["import", str(repo / "in.csv"), "--root", str(repo), "--today", "2026-11-22",
                 "--from", "salesforce"]) == 0
    out = capsys.readouterr().out
    ann = _leads(repo)["ann-arbor-arbor-tools"]
    assert ann["lost"] == {"date": D("2026-03-02"), "reason": "went_dark", "temperature": "warm"}
    assert ann["reached"] == {"new": D("2026-03-02")}
    line = _line_of(repo, "ann-arbor-arbor-tools", "date: 2026-03-02")
    assert (f"  ! row 2 (ann-arbor-arbor-tools): lost.date taken from `Created Date` 2026-03-02: the file has no "
            "`Last Activity` or `Last Modified Date` column; correct it in leads.yaml line "
            f"{line} if you know the real date") in out
    assert not [line for line in out.splitlines() if line.startswith("  ! row 3 ")]    # an open row needs none
    _assert_valid(repo)


def test_a_dry_run_names_the_line_the_file_would_have(repo, capsys):
    (repo / "in.csv").write_text(SALESFORCE_CREATED_ONLY, encoding="utf-8")
    edited = import_file(repo, repo / "in.csv", choice="salesforce", today=TODAY, dry_run=True)
    [estimated] = edited.plan.estimates
    text = edited.texts["leads.yaml"].splitlines()
    n = int(estimated.where.removeprefix("leads.yaml line "))
    assert text[n - 1] == "      date: 2026-03-02" and text[n - 2] == "    lost:"


@pytest.mark.parametrize("header, row, column, lost_on, why", [
    # the column is there but empty in this row; the latest of the row's other dates wins
    ("Deal - Title,Deal - Status,Deal - Stage,Deal - Deal created,Deal - Last stage change,Deal - Lost time,"
     "Deal - Lost reason,Person - Email,Person - Name",
     "A,Lost,Proposal Made,2026-01-05,2026-02-20,,Budget,a@x.example,Ann A", "Deal - Last stage change", "2026-02-20",
     "`Deal - Lost time` is empty in this row"),
    # HubSpot contacts: Unqualified, and no Last Activity Date column
    ("First Name,Last Name,Email,Lead Status,Create Date", "Ann,A,a@x.example,Unqualified,2026-04-01",
     "Create Date", "2026-04-01", "the file has no `Last Activity Date` or `Last Modified Date` column"),
    # any CSV: a `lost` status and a created date
    ("name,company,email,status,lost_reason,created", "Ann A,Acme,a@x.example,lost,price,2026-05-06",
     "created", "2026-05-06", "the file has no `lost_date` or `updated` column"),
])
def test_other_formats_without_a_loss_date(repo, header, row, column, lost_on, why):
    (repo / "in.csv").write_text(f"{header}\n{row}\n", encoding="utf-8")
    edited = import_file(repo, repo / "in.csv", today=TODAY,
                         mapping=None if "Unqualified" not in row else _map(repo, "reasons: {Unqualified: price}"))
    [lead] = edited.plan.new
    assert lead["lost"]["date"] == D(lost_on)
    [estimated] = edited.plan.estimates
    assert estimated.estimate.field == "lost.date" and estimated.lead == lead["id"]
    assert estimated.estimate.why == f"taken from `{column}` {lost_on}: {why}"
    assert estimated.where == f"leads.yaml line {_line_of(repo, lead['id'], f'date: {lost_on}')}"
    _assert_valid(repo)


def _map(root: Path, text: str) -> Path:
    path = root / "map.yaml"
    path.write_text(text + "\n", encoding="utf-8")
    return path


def test_a_won_row_without_a_won_date(repo):
    (repo / "in.csv").write_text("Deal - Title,Deal - Status,Deal - Deal created,Person - Email,Person - Name\n"
                                 "A,Won,2026-06-01,a@x.example,Ann A\n", encoding="utf-8")
    edited = import_file(repo, repo / "in.csv", today=TODAY)
    assert edited.plan.new[0]["reached"] == {"new": D("2026-06-01"), "won": D("2026-06-01")}
    [estimated] = edited.plan.estimates
    assert estimated.estimate.field == "reached.won"
    assert estimated.estimate.why.startswith("taken from `Deal - Deal created` 2026-06-01: the file has no "
                                             "`Deal - Won time` or `Deal - Update time` column")


def test_a_loss_filled_into_a_lead_you_have_names_its_line(repo):
    """The loss goes into an existing lead's lines: the report points there, not at the end of the file."""
    leads = _leads(repo)
    lead_id, lead = next((i, x) for i, x in leads.items()
                         if "lost" not in x and x.get("email") and "won" not in x.get("reached", {}))
    (repo / "in.csv").write_text("Email,Lead Status,Created Date,Lead Source\n"
                                 f"{lead['email'].upper()},Closed - Not Converted,11/20/2026,Web\n",
                                 encoding="utf-8")
    edited = import_file(repo, repo / "in.csv", choice="salesforce", today=TODAY)
    assert edited.counts["updated"] == 1
    [estimated] = edited.plan.estimates
    assert estimated.lead == lead_id
    assert estimated.where == f"leads.yaml line {_line_of(repo, lead_id, 'date: 2026-11-20')}"


def test_an_estimate_for_a_row_that_adds_nothing_is_not_reported(repo):
    """Two rows of one person, the first with its loss: the second's guessed date is not used, so not named."""
    (repo / "in.csv").write_text("name,company,email,status,lost_reason,lost_date,created\n"
                                 "Ann A,Acme,a@x.example,lost,price,2026-05-06,2026-01-01\n"
                                 "Ann A,Acme,a@x.example,lost,price,,2026-03-03\n", encoding="utf-8")
    edited = import_file(repo, repo / "in.csv", today=TODAY)
    assert edited.counts["merged"] == 1 and edited.plan.estimates == ()
    assert edited.plan.new[0]["lost"]["date"] == D("2026-05-06")


# ---------------------------------------------------------------------------
# The 40-row Salesforce export: only Created Date, duplicates inside it
# ---------------------------------------------------------------------------

def test_a_forty_row_salesforce_export_with_only_created_date(repo, capsys):
    """tests/data/salesforce-created-only.csv: 34 people in 40 rows; duplicates by email (case, spaces) and by
    phone (formats); 14 lost without a loss date. All 34 go in, the 6 repeats merge, `check` passes."""
    path = DATA / "salesforce-created-only.csv"
    assert len(read_table(path.read_bytes(), name=path.name).rows) == 40
    before = (repo / "leads.yaml").read_text(encoding="utf-8")
    assert main(["import", str(path), "--root", str(repo), "--today", "2026-11-22", "--from", "salesforce"]) == 0
    out = capsys.readouterr().out
    assert "34 added, 0 updated, 6 merged, 0 skipped" in out and "wrote leads.yaml" in out
    _assert_only_changes(before, (repo / "leads.yaml").read_text(encoding="utf-8"), set())
    leads = _leads(repo)
    new = {k: v for k, v in leads.items() if k not in _leads_of(before)}
    assert len(new) == 34
    merged = {line.split(" (row ")[0].strip(" ="): line.split("): ", 1)[1]
              for line in out.splitlines() if line.startswith("  = ")}
    assert merged == {"marta-silva-porto-freight": "into row 2: same email",
                      "rafael-duarte-duarte-logistica": "into row 6: same phone; kept the first row's name",
                      "mei-chen-chen-electronics": "into row 22: same email; added phone; reached.new 2026-09-29, this row's",
                      "jose-nunez-nunez-hermanos": "into row 36: same phone",
                      "ben-walker-walker-feed": "into row 39: same phone; added email"}
    assert out.count("  = rafael-duarte-duarte-logistica") == 2
    # What the duplicates gave: the email without its spaces, the phone in one form.
    assert leads["mei-chen-chen-electronics"]["email"] == "Mei.Chen@chen-electronics.example"
    assert leads["mei-chen-chen-electronics"]["phone"] == "+1 646 555 0119"
    assert leads["ben-walker-walker-feed"]["email"] == "ben@walker-feed.example"
    assert leads["jose-nunez-nunez-hermanos"]["name"] == "José Núñez"
    # Every lost lead is dated by its Created Date, and the report names each, with its line.
    lost = {k: v for k, v in new.items() if "lost" in v}
    assert len(lost) == 14
    for lead_id, lead in lost.items():
        assert lead["lost"]["reason"] == "went_dark"
        day = lead["lost"]["date"]
        line = _line_of(repo, lead_id, f"date: {day}")
        assert re.search(rf"  ! row \d+ \({lead_id}\): lost.date taken from `Created Date` {day}: the file has no "
                         rf"`Last Activity` or `Last Modified Date` column; correct it in leads.yaml line {line} "
                         "if you know the real date", out), lead_id
    assert leads["marta-silva-porto-freight"]["lost"]["date"] == D("2026-03-02")      # the first row's
    _assert_valid(repo)
    assert main(["check", "--root", str(repo), "--today", "2026-11-22"]) == 0
    assert "ok: no errors" in capsys.readouterr().out


def _leads_of(text: str) -> set[str]:
    return {lead["id"] for lead in parse(text)["leads"]}


# ---------------------------------------------------------------------------
# Encodings: a byte order mark wins, mojibake is refused, Excel's `sep=` line
# ---------------------------------------------------------------------------

CAFE = "Name,Company,Email\nJosé Peña,Café Olé SA,jose@cafe-ole.example\n"


@pytest.mark.parametrize("bom, codec, label", [(b"\xef\xbb\xbf", "utf-8", "UTF-8"),
                                               (b"\xff\xfe", "utf-16-le", "UTF-16"),
                                               (b"\xfe\xff", "utf-16-be", "UTF-16"),
                                               (b"\xff\xfe\x00\x00", "utf-32-le", "UTF-32"),
                                               (b"\x00\x00\xfe\xff", "utf-32-be", "UTF-32")])
def test_a_byte_order_mark_wins_over_the_encoding_asked_for(repo, capsys, bom, codec, label):
    (repo / "in.csv").write_bytes(bom + CAFE.encode(codec))
    assert main(["import", str(repo / "in.csv"), "--root", str(repo), "--today", "2026-11-22",
                 "--encoding", "cp1252"]) == 0
    out = capsys.readouterr().out
    lead = _leads(repo)["jose-pena-cafe-ole"]
    assert lead["name"] == "José Peña" and lead["company"] == "Café Olé SA"     # the first column too
    assert (f"  ! in.csv: the file starts with a {label} byte order mark, so it was read as {label}, not cp1252 "
            "as ENCODING= said") in out


def test_a_byte_order_mark_and_the_same_encoding_need_no_note():
    table = read_table(b"\xef\xbb\xbf" + CAFE.encode("utf-8"), name="x.csv", encoding="utf-8")
    assert table.headers[0] == "Name" and table.notes == ()


def test_utf8_read_as_cp1252_is_refused(repo, capsys):
    out = _refused(repo, CAFE.encode("utf-8"), capsys, "--encoding", "cp1252")
    assert ("in.csv: line 2: `JosÃ© PeÃ±a` has `Ã©` where `é` was meant: UTF-8 text read as cp1252; the "
            "file is UTF-8: run it again with ENCODING=utf-8 (--encoding utf-8)") in out


def test_a_file_that_holds_mojibake_is_refused(repo, capsys):
    garbled = CAFE.encode("utf-8").decode("cp1252").replace("JosÃ© PeÃ±a", "Jose Pena")
    out = _refused(repo, ("Name,Company,Email\nAl Bo,Bo Ltd,al@bo.example\n" + garbled.split("\n", 1)[1])
                   .encode("utf-8"), capsys)
    assert "in.csv: line 3: `CafÃ© OlÃ© SA` has `Ã©` where `é` was meant: UTF-8 text read as Windows-1252 and " \
           "saved again, so the file itself is garbled; export it again from the CRM as UTF-8" in out


@pytest.mark.parametrize("meant, garbled", [("’", "â€™"), ("°", "Â°"), ("ł", "Å‚"), ("\u00a0", "Â\u00a0"),
                                             ("€", "â‚¬"), ("—", "â€”")])
def test_typical_mojibake_is_recognised(meant, garbled):
    text = f"Name,Company\nAl Bo,Bo{meant}s Ltd\n"
    assert text.encode("utf-8").decode("cp1252") == f"Name,Company\nAl Bo,Bo{garbled}s Ltd\n"
    with pytest.raises(ImportFailed) as exc:
        read_table(text.encode("utf-8"), name="x.csv", encoding="cp1252")
    assert exc.value.problems[0].startswith(f"x.csv: line 2: `Bo{garbled}s Ltd` has `{garbled}` where `{meant}` "
                                            "was meant")


@pytest.mark.parametrize("text", ["Name,Company\nJOSÉ’S CAFÉ,Ñ¿Qué? SA\n",    # É then ’ is not one character
                                  "Name,Company\nRenée Blanc,Les Éditions «Ô»\n"])
def test_real_accented_text_is_not_taken_for_mojibake(text):
    table = read_table(text.encode("cp1252"), name="x.csv", encoding="cp1252")
    assert table.rows[0][2] == tuple(text.split("\n")[1].split(","))
    assert read_table(text.encode("utf-8"), name="x.csv").rows[0][2] == table.rows[0][2]


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be"])
@pytest.mark.parametrize("asked", [None, "cp1252"])
def test_utf16_without_a_byte_order_mark_suggests_utf16(codec, asked):
    with pytest.raises(ImportFailed) as exc:
        read_table(CAFE.encode(codec), name="x.csv", encoding=asked)
    assert exc.value.problems == (f"x.csv: line 1: the file looks like UTF-16 text without a byte order mark (every "
                                  f"other byte is zero), not {asked or 'UTF-8'}; run it again with "
                                  f"ENCODING={codec} (--encoding {codec})",)
    assert read_table(CAFE.encode(codec), name="x.csv", encoding=codec).rows[0][2][1] == "Café Olé SA"
    # `utf-16` alone: the byte order is told from the zeros, not taken from this machine
    assert read_table(CAFE.encode(codec), name="x.csv", encoding="utf-16").rows[0][2][1] == "Café Olé SA"


@pytest.mark.parametrize("first, sep", [("sep=;", ";"), ('"sep=;"', ";"), ("sep=,", ","), ("sep=\t", "\t"),
                                        ("SEP=|", "|")])
def test_an_excel_sep_line_names_the_separator(first, sep):
    data = f'{first}\r\nName{sep}Company{sep}Notes\r\nJane{sep}Acme{sep}"a, b; c"\r\n'.encode("utf-8")
    table = read_table(b"\xef\xbb\xbf" + data, name="x.csv")
    assert table.delimiter == sep and table.headers == ("Name", "Company", "Notes")
    assert table.rows == ((2, 3, ("Jane", "Acme", "a, b; c")),)     # row 2 as a spreadsheet shows it, line 3


def test_rows_after_a_sep_line_are_reported_at_their_file_line(repo, capsys):
    out = _refused(repo, b"sep=;\nName;Company\nJane;Acme\nJohn\n", capsys)
    assert "in.csv: row 3 (line 4) has 1 cells but the header has 2" in out


def test_a_workbook_is_not_a_csv(repo, capsys):
    out = _refused(repo, b"PK\x03\x04\x14\x00\x06\x00" + bytes(range(256)), capsys)
    assert "in.csv: line 1: this is a spreadsheet workbook (.xlsx), not a CSV file; save it as \"CSV UTF-8\"" in out


@pytest.mark.parametrize("name", ["klingon", "rot13", "base64"])
def test_an_unknown_encoding_is_named(repo, capsys, name):
    out = _refused(repo, CAFE.encode("utf-8"), capsys, "--encoding", name)
    assert f"in.csv: `{name}` is not an encoding Python knows" in out


@settings(max_examples=200, deadline=None, database=None)
@given(prefix=st.sampled_from([b"", b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff", b"sep=;\n", b"\xef\xbb\xbfsep=\t\n",
                               b"PK\x03\x04"]),
       body=st.binary(max_size=200) | st.text(max_size=80).map(lambda t: t.encode("utf-8")),
       encoding=st.sampled_from([None, "utf-8", "cp1252", "latin-1", "utf-16", "utf-16-le"]))
def test_any_bytes_are_read_or_refused_with_a_message(prefix, body, encoding):
    """Hostile input is data: a table, or ImportFailed naming the file, never another exception."""
    try:
        table = read_table(prefix + body, name="x.csv", encoding=encoding)
    except ImportFailed as exc:
        assert exc.problems and all(p.startswith("x.csv") for p in exc.problems), exc.problems
    else:
        assert all(len(cells) == len(table.headers) for _, _, cells in table.rows)


@pytest.mark.parametrize("as_lead", [False, True], ids=["known", "lead"])
def test_a_crm_loss_older_than_the_known_lead_is_left_out_with_a_note(as_lead):
    """An older deal's loss for someone who came back later would make the lead invalid: not filled in.
    What matching reads of a lead, a Lead of the model gives as a Known does (an import passes the
    model's leads)."""
    from relead.intake.dedupe import Incoming, Known, plan
    from relead.model import Lead

    if as_lead:
        known = [Lead("ann-arbor-tools", "leads.yaml", 0, "Ann Arbor", "Arbor Tools", email="ann@arbor.example",
                      reached={"contacted": dt.date(2026, 11, 2), "new": dt.date(2026, 10, 27)})]
        assert known[0].first_reached == dt.date(2026, 10, 27)
    else:
        known = [Known("ann-arbor-tools", "Ann Arbor", "Arbor Tools", "ann@arbor.example", "",
                       dt.date(2026, 10, 27))]
    rows = [Incoming(2, {"email": "ann@arbor.example", "title": "Buyer",
                         "lost": {"date": dt.date(2025, 11, 17), "reason": "price"}}),
            Incoming(3, {"email": "ANN@arbor.example ", "lost": {"date": dt.date(2025, 11, 17), "reason": "price"}})]
    p = plan(rows, known, present=lambda _id: {"email", "name", "company"}, taken=set(),
             follow_up=dt.date(2026, 11, 24))

    assert p.updates == {"ann-arbor-tools": {"title": "Buyer"}}
    updated, skipped = p.outcomes
    assert updated.kind == "updated" and "left out the loss of 2025-11-17" in updated.detail
    assert "before the lead was first reached (2026-10-27)" in updated.detail
    assert skipped.kind == "skipped" and "left out the loss of 2025-11-17" in skipped.detail


@pytest.mark.parametrize("region", ["US", "CA", "GB"])
def test_format_phone_shortcut_gives_what_phonenumbers_gives(region):
    """North American numbers skip phonenumbers.parse in an import; the result is the same."""
    import phonenumbers

    from relead.intake.values import format_phone

    def slow(text):
        try:
            num = phonenumbers.parse(text, region)
        except phonenumbers.NumberParseException:
            return None
        if not phonenumbers.is_valid_number(num):
            return None
        written = phonenumbers.format_number(num, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
        return (re.sub(r"(?<=\d)-(?=\d)", " ", written),
                phonenumbers.format_number(num, phonenumbers.PhoneNumberFormat.E164))

    forms = ("({a}) {b}-{c}", "{a}-{b}-{c}", "{a}.{b}.{c}", "{a} {b} {c}", "+1 {a} {b} {c}", "+1-{a}-{b}-{c}",
             "{a}{b}{c}", "+1{a}{b}{c}", "+1 ({a}) {b}-{c}", "+1 {a} {b} {c} ext 9")
    numbers = (("415", "555", "0134"), ("212", "736", "4410"), ("604", "555", "0199"), ("800", "275", "2273"),
               ("999", "555", "0134"), ("415", "155", "0134"), ("876", "555", "0123"), ("416", "900", "1234"))
    for a, b, c in numbers:
        for form in forms:
            text = form.format(a=a, b=b, c=c)
            assert format_phone(text, region) == slow(text), text


# ---------------------------------------------------------------------------
# Many new leads: written, read back and checked in runs, in several processes
# ---------------------------------------------------------------------------

def _in_runs(monkeypatch, jobs: int) -> None:
    """Runs of one lead each, over ``jobs`` processes (one: all in this process, one after another);
    the repository's leads file cut into runs too, whatever its size, when there are several."""
    import relead.intake.splice as splice
    import relead.read.load
    monkeypatch.setattr(splice, "_RUN_LEADS", 1)
    monkeypatch.setattr(relead.read.load, "MIN_LEADS_BYTES", 0)
    monkeypatch.setenv("RELEAD_JOBS", str(jobs))


def test_a_leads_file_cut_by_load_keeps_the_layout_an_edit_starts_from(monkeypatch):
    from relead.read.load import load
    _in_runs(monkeypatch, 2)
    loaded = load(EXAMPLE, today=TODAY, history=False)
    text = (EXAMPLE / "leads.yaml").read_text(encoding="utf-8")
    assert loaded.lead_lines["leads.yaml"].layout == scan(text)


def test_runs_in_several_processes_write_and_report_what_one_process_does(make_repo, monkeypatch):
    results = []
    for jobs in (1, 2):
        _in_runs(monkeypatch, jobs)
        root = make_repo((EXAMPLE / "leads.yaml").read_text(encoding="utf-8"))
        edited = import_file(root, DATA / "salesforce-created-only.csv", choice="salesforce", today=TODAY)
        results.append(((root / "leads.yaml").read_bytes(), edited.plan))
    assert results[0] == results[1]
    assert results[0][1].new and len(results[0][1].new) > 4


def test_runs_in_several_processes_refuse_what_one_process_refuses(make_repo, monkeypatch):
    rows = "".join(f"P{i} Doe,Acme {i},p{i}@acme.example,2027-01-0{i}\n" for i in range(1, 6))     # after today
    refusals = []
    for jobs in (1, 2):
        _in_runs(monkeypatch, jobs)
        root = make_repo((EXAMPLE / "leads.yaml").read_text(encoding="utf-8"))
        (root / "in.csv").write_text("name,company,email,created\n" + rows, encoding="utf-8")
        with pytest.raises(ImportFailed) as failed:
            import_file(root, root / "in.csv", today=TODAY)
        refusals.append(failed.value.problems)
    assert refusals[0] == refusals[1]
    assert len(refusals[0]) == 5 and "row 6 (p5-doe-acme-5): reached.new: `new` 2027-01-05 is after today" in \
        refusals[0][-1]


def test_runs_read_back_as_the_whole_file_does(monkeypatch):
    """A `|+` text keeps the blank line after it: a lead that ends a run reads back as it does in the whole
    file only when the blank line before the next lead is read with it. Runs refuse what the whole refuses."""
    from relead.intake import splice
    from relead.intake.leads_text import append
    from relead.read.leadlines import scan
    text = "leads:\n  - id: x\n    name: X\n"
    new = [{"id": "a", "name": "A", "notes": "kept\n\n"}, {"id": "b", "name": "B"}]
    lay = scan(text)
    _in_runs(monkeypatch, 2)
    with pytest.raises(ImportFailed) as whole:
        splice._check_append(append(lay, new), lay.starts[-1], {"id": "x", "name": "X"}, new, "leads.yaml")
    model = check_repository(EXAMPLE, today=TODAY).loaded.model
    rules = splice._Rules(model.settings, set(model.campaigns), TODAY, {"x": ("leads.yaml", 0)})
    with pytest.raises(ImportFailed) as runs:
        splice._append_checked(splice._start_append(lay, new, "leads.yaml", rules, 1), lay, text, new, "leads.yaml",
                               lay.starts[-1], {"id": "x", "name": "X"})
    assert runs.value.problems == whole.value.problems
    fine = [{"id": "a", "name": "A", "notes": "one\ntwo\n"}, {"id": "b", "name": "B"},
            {"id": "x", "name": "C", "reached": {"new": D("2026-01-05")}}]
    body, parsed, found = splice._append_checked(splice._start_append(lay, fine, "leads.yaml", rules, 1), lay, text,
                                                 fine, "leads.yaml", lay.starts[-1], {"id": "x", "name": "X"})
    assert body == append(lay, fine) and parsed == fine
    # checked as make check checks them, numbered after the file's first check: the reused id is found
    assert [(p.path[1], p.message.split(";")[0]) for p in found if "already used" in p.message] == \
        [(3, "the id `x` is already used by lead 1 of leads.yaml")]
