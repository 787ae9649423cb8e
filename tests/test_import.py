"""`python -m relead import`: CRM exports into leads.yaml, de-duplicated, formatting kept, bad input refused.

The sample exports in tests/data/ follow each CRM's documented export columns
(written by hand, small); they hold duplicates inside the file and against the
example leads, lost deals with a reason and a date, unicode names and phones
in national format. Each import runs on a copy of the example repository.
"""

from __future__ import annotations

import datetime as dt
import difflib
from pathlib import Path

import pytest

from relead.check import check_repository
from relead.cli import main
from relead.editing import import_file
from relead.importing import parse_amount, read_table
from relead.leads_text import item_text, parse_items, scan
from relead.yamlparse import parse

DATA = Path(__file__).resolve().parent / "data"
ROOT = Path(__file__).resolve().parent.parent
TODAY = dt.date(2026, 11, 22)
D = dt.date.fromisoformat


@pytest.fixture
def repo(make_repo):
    """A copy of the example repository (its leads.yaml and content/)."""
    return make_repo((ROOT / "leads.yaml").read_text(encoding="utf-8"))


def _leads(root: Path) -> dict[str, dict]:
    return {lead["id"]: lead for lead in parse((root / "leads.yaml").read_text(encoding="utf-8"))["leads"]}


def _blocks(text: str) -> dict[str, str]:
    lay = scan(text)
    return {parse_items(item_text(lay, i))[0]["id"]: item_text(lay, i) for i in range(len(lay.starts))}


def _import(root, name, **kw):
    edited = import_file(root, DATA / name, today=TODAY, **kw)
    return edited


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
    # Two deals of one person: one lead, the second deal's loss added to the first's.
    lin = leads["lin-wei-brightline-foods"]
    assert lin["reached"] == {"new": D("2026-10-01"), "appointment": D("2026-10-01")}
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
    _import(repo, "pipedrive-deals.csv")
    text = (repo / "leads.yaml").read_bytes()
    edited = _import(repo, "pipedrive-deals.csv")
    assert edited.counts["added"] == 0 and edited.counts["updated"] == 0
    assert not edited.texts and (repo / "leads.yaml").read_bytes() == text


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
    root = make_repo("leads: []\n", history={"2026/11/2026-11-20.outreach.tsv": HEADER + rec.line()})
    (root / "two.csv").write_text("name,company,email,lost_date,status\n"
                                  "Lin Wei,Brightline Foods,a@lin.example,,open\n"
                                  "Lin Wei,Brightline Foods Inc.,b@lin.example,,open\n", encoding="utf-8")
    edited = import_file(root, root / "two.csv", today=TODAY)
    assert [lead["id"] for lead in edited.plan.new] == ["lin-wei-brightline-foods-2", "lin-wei-brightline-foods-3"]


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
    assert "  = lin-wei-brightline-foods (row 5): into row 4: same email; added lost" in out
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


def test_a_lost_row_without_a_date(repo, capsys):
    data = b"Deal - Title,Deal - Stage,Deal - Status,Deal - Lost reason,Person - Email,Deal - Contact person\n" \
           b"A,Lead In,Lost,Budget,a@x.example,Ann A\n"
    out = _refused(repo, data, capsys, "--from", "pipedrive")
    assert "in.csv: row 2: lost, but no date says when: fill in `Deal - Lost time` or `Deal - Update time`" in out


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
    settings = (ROOT / "content" / "settings.yaml").read_text(encoding="utf-8")
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
    from relead.crm_formats import FORMATS, detect, norm
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
    from relead.crm_formats import FIELDS, FORMATS
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
    import relead.editing as editing
    real = editing._check_leads

    def meanwhile(*args, **kw):
        real(*args, **kw)
        with (repo / "leads.yaml").open("a", encoding="utf-8") as fh:
            fh.write("  # someone else's edit\n")

    monkeypatch.setattr(editing, "_check_leads", meanwhile)
    with pytest.raises(editing.ImportFailed, match="changed while the import ran"):
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
