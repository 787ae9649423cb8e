"""`make build REDACT=1`: no email address and no phone number from the data anywhere in the output
(every page, data/*.csv, data/summary.json), and the same site otherwise (site_builder/redact.py)."""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import re
import subprocess
from pathlib import Path

import phonenumbers
import pytest
import yaml

from relead.check import check_repository
from relead.history import HEADER, Record
from site_builder.build import build
from site_builder.cli import main as site_main
from site_builder.redact import MASK, mask_email, mask_phone, mask_text
from tests.paths import EXAMPLE, ROOT

TODAY = dt.date(2026, 11, 22)
_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")


def _files(site: Path) -> dict[str, bytes]:
    return {p.relative_to(site).as_posix(): p.read_bytes() for p in sorted(site.rglob("*")) if p.is_file()}


def _needles(root: Path) -> set[str]:
    """Every email address and phone number in the data: as written, in E.164, and as digits only."""
    checked = check_repository(root, today=TODAY)
    model = checked.loaded.model
    assert model is not None
    out: set[str] = set()
    texts = [(root / "leads.yaml").read_text(encoding="utf-8"),
             (root / "content" / "settings.yaml").read_text(encoding="utf-8")]
    texts += [p.read_text(encoding="utf-8") for p in sorted((root / "leads").glob("*.yaml"))]
    texts += [p.read_text(encoding="utf-8") for p in sorted((root / "history").rglob("*.tsv"))]
    texts += [p.read_text(encoding="utf-8") for p in sorted((root / "content" / "pages").glob("*.md"))]
    for text in texts:
        out.update(_EMAIL.findall(text))
    numbers: set[str] = set()
    for lead in model.leads:
        numbers.update(x for x in (lead.phone, lead.phone_written) if x)
    for member in model.settings.team.values():
        if member.phone:
            numbers.add(member.phone)
    for raw in yaml.safe_load(texts[0])["leads"]:
        if raw.get("phone"):
            numbers.add(str(raw["phone"]))
    for number in numbers:
        out.add(number)
        parsed = phonenumbers.parse(number, model.settings.phone_region)
        e164 = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
        out.update({e164, e164.lstrip("+"), str(parsed.national_number), re.sub(r"\D", "", number)})
    return out


def _leaks(site: Path, needles: set[str]) -> list[tuple[str, str]]:
    found = []
    for rel, data in _files(site).items():
        text = data.decode("utf-8")
        found += [(rel, n) for n in sorted(needles) if n in text]
    return found


@pytest.fixture(scope="module")
def sites(tmp_path_factory):
    out = tmp_path_factory.mktemp("redact")
    plain, redacted = out / "plain", out / "redacted"
    assert build(EXAMPLE, plain, today=TODAY).files
    assert build(EXAMPLE, redacted, today=TODAY, redact=True).files
    return plain, redacted


def test_the_example_has_what_the_test_looks_for(sites):
    needles = _needles(EXAMPLE)
    assert sum("@" in n for n in needles) > 50 and sum("@" not in n for n in needles) > 50
    plain, _ = sites
    assert len({n for _, n in _leaks(plain, needles)}) > 100      # the normal build shows them


def test_no_email_or_phone_anywhere_in_the_redacted_output(sites):
    _, redacted = sites
    files = _files(redacted)
    assert "data/leads.csv" in files and "data/priorities.csv" in files and "data/summary.json" in files
    assert _leaks(redacted, _needles(EXAMPLE)) == []


def test_the_redacted_site_is_the_same_site(sites, tmp_path):
    plain, redacted = sites
    a, b = _files(plain), _files(redacted)
    assert sorted(a) == sorted(b)                  # every page, every lead page
    assert sum(1 for rel in b if rel.startswith("leads/")) > 50
    assert a["data/summary.json"] == b["data/summary.json"]      # numbers, ids and ranks: unchanged
    assert a["data/priorities.csv"] == b["data/priorities.csv"]
    page = b["leads/dana-whitfield-acme.html"].decode("utf-8")
    assert "<dd>d•••@acme-inc.example</dd>" in page and "<dd>+1 ••• ••29</dd>" in page
    again = tmp_path / "again"
    build(EXAMPLE, again, today=TODAY, redact=True)
    assert _files(again) == b                      # deterministic


NOTE_LEADS = """leads:
  - id: pat-private
    name: Pat Private
    company: "Call 415-555-0101 Ltd"
    email: pat.private@secret.example
    phone: "+44 20 7946 0958"
    owner: sam
    value: 5000
    interest: "scanners (write to buyer@secret.example)"
    reached: {new: 2026-01-05, contacted: 2026-01-06}
    lost: {date: 2026-03-01, reason: not_ready, temperature: hot, note: "mobile (312) 555-0177 after 2026-04-01"}
    notes: "PA is ana@secret.example, +1 312 555 0188; met 2026-02-10 10:30 at booth 12"
"""
NOTE_PAGE = """---
title: Who to ask
---
Questions about pricing: ask desk@northwind.example or call +1 (312) 555-0100.
The 2024-2025 season ended on 2025-03-31.
"""


def test_free_text_is_masked_too(make_repo, tmp_path):
    rec = Record("2026-11-03", "2026-11-03T15:00:00Z", "replied", "pat-private",
                 note="call back on 0044 20 7946 0000 or pat@home.example")
    bounce = Record("2026-11-02", "2026-11-02T15:00:00Z", "failed", "pat-private", channel="email",
                    touch="0123456789abcdef0123", ref="550 5.1.1 <pat.old@secret.example>: no such user")
    root = make_repo(NOTE_LEADS, files={"content/pages/who.md": NOTE_PAGE},
                     history={"2026/11/2026-11-03.record-sam.tsv": HEADER + rec.line(),
                              "2026/11/2026-11-02.outreach.tsv": HEADER + bounce.line()})
    needles = _needles(root) | {"415-555-0101", "4155550101", "0044 20 7946 0000", "312) 555-0177",
                                "3125550177", "312 555 0188", "555-0100"}
    plain = tmp_path / "plain"
    assert build(root, plain, today=TODAY).files
    assert {"pat@home.example", "ana@secret.example", "desk@northwind.example", "buyer@secret.example",
            "pat.old@secret.example"} <= {n for _, n in _leaks(plain, needles)}
    site = tmp_path / "site"
    assert build(root, site, today=TODAY, redact=True).files
    assert _leaks(site, needles) == []
    page = (site / "leads" / "pat-private.html").read_text(encoding="utf-8")
    assert "met 2026-02-10 10:30 at booth 12" in page           # dates, times and small numbers stay
    assert "after 2026-04-01" in page and "a•••@secret.example, +1 ••• ••88" in page
    assert "550 5.1.1 &lt;p•••@secret.example&gt;: no such user" in page
    who = (site / "pages" / "who.html").read_text(encoding="utf-8")
    assert "The 2024-2025 season ended on 2025-03-31." in who and "d•••@northwind.example" in who


@pytest.mark.parametrize("text, masked", [
    ("jane@acme.example", "j•••@acme.example"),
    ("write to Jane.Doe+sales@mail.acme.example today", "write to J•••@mail.acme.example today"),
    ("(608) 555-0117", "••• ••17"),
    ("+1 415 555 0134", "+1 ••• ••34"),
    ("+14155550134", "+1 ••• ••34"),
    ("on 2026-03-02 call 555 0134", "on 2026-03-02 call ••• ••34"),
    ("2026-11-23T10:00:00 and 12/25/2026 and 2024-2025", "2026-11-23T10:00:00 and 12/25/2026 and 2024-2025"),
    ("12,000 USD, 1,250,000 units, 45 boxes, order 123456", "12,000 USD, 1,250,000 units, 45 boxes, order 123456"),
    ("SM0123456789abcdef0123456789abcdef", "SM0123456789abcdef0123456789abcdef"),
    ("", ""),
])
def test_mask_text(text, masked):
    assert mask_text(text) == masked


def test_masks_of_the_structured_fields():
    assert mask_email("x@y.example") == f"x{MASK}@y.example"
    assert mask_email("not an address") == MASK
    assert mask_phone("+44 20 7946 0958") == "+44 ••• ••58"
    assert mask_phone("12") == MASK


def test_cli_and_make(tmp_path):
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = site_main(["build", "--root", str(EXAMPLE), "--out", str(tmp_path / "s"), "--today",
                          TODAY.isoformat(), "--redact"])
    assert code == 0
    assert "(as of 2026-11-22, redacted)" in out.getvalue()
    dry = subprocess.run(["make", "-n", "build", "REDACT=1"], cwd=ROOT, capture_output=True, text=True, check=True)
    assert "-m site_builder build --out _site" in dry.stdout and "--redact" in dry.stdout
    dry = subprocess.run(["make", "-n", "build"], cwd=ROOT, capture_output=True, text=True, check=True)
    assert "--redact" not in dry.stdout
