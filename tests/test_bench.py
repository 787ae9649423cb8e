"""The benchmark's generator stays honest: a small generated repository is valid and complete."""

from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # `bench` is not an installed package
    sys.path.insert(0, str(ROOT))

from bench.generate import TODAY, generate  # noqa: E402
from relead.check import check_repository  # noqa: E402
from relead.read.yamlparse import _is_risky  # noqa: E402

N, M = 50, 200


def test_generated_repository_is_valid_and_complete(tmp_path):
    meta = generate(tmp_path / "repo", leads=N, history=M)
    checked = check_repository(tmp_path / "repo", today=TODAY)

    assert [p.format() for p in checked.errors] == []
    model = checked.loaded.model
    assert len(model.leads) == N == meta["leads"]
    assert len(model.history.records) == M == meta["history_records"]
    assert checked.derived is not None
    # History only names generated leads; phones, emails and people are all distinct.
    assert set(model.history.by_lead) <= set(model.by_id)
    assert checked.derived.hygiene.duplicates == ()
    assert all(lead.phone.startswith("+1") for lead in model.leads if lead.phone)
    # Every date is on or before the bench's today.
    for lead in model.leads:
        dates = list(lead.reached.values()) + [lead.follow_up, lead.recycle_on,
                                               lead.lost.date if lead.lost else None]
        assert all(d <= TODAY for d in dates if d is not None), lead.id
    assert max(r.day for r in model.history.records) <= TODAY.isoformat()
    # The bench measures relead's fast path: nothing in the file sends it to PyYAML.
    assert not _is_risky((tmp_path / "repo" / "leads.yaml").read_text(encoding="utf-8"))


def test_generator_is_deterministic(tmp_path):
    generate(tmp_path / "a", leads=20, history=80)
    generate(tmp_path / "b", leads=20, history=80)
    for rel in ["leads.yaml"] + sorted(p.relative_to(tmp_path / "a").as_posix()
                                       for p in (tmp_path / "a" / "history").rglob("*.tsv")):
        assert (tmp_path / "a" / rel).read_bytes() == (tmp_path / "b" / rel).read_bytes(), rel


def test_outreach_bench_runs_every_contender_and_reports_every_bar(tmp_path):
    """A tiny run of `python -m bench.outreach`: every contender sends, every figure is printed."""
    from bench.outreach import format_results, run
    res = run(tmp_path, emails=12, sms=12, rounds=1, plan_leads=0, say=lambda *_: None)
    email, sms = res["email"], res["sms"]
    # Each round of each contender delivered everything (outreach, bare loop, two smtplib loops),
    # on loopback and through the sink a round trip away.
    assert email["received"] == email["relay"]["received"] == 12 * 4
    assert sms["received"] == 12 * 4        # outreach, two bare loops, the sequential client
    for key in ("vs_aiosmtplib", "vs_smtplib_reuse", "vs_smtplib_new_connection"):
        assert email[key] > 0
    for key in ("vs_create_async", "vs_create_async_relead_http", "vs_sequential_create"):
        assert sms[key] > 0
    assert email["relay"]["messages"] == 12 and email["relay"]["vs_smtplib_reuse"] > 0
    text = format_results(res)
    assert text.count("(bar >= 0.8)") == 2 and text.count("(bar >= 5)") == 1
    assert "2 ms a round trip away" in text


def test_a_small_bench_computes_and_prints_every_ratio(tmp_path, capsys):
    """`python -m bench` at 10,000 leads, once: every task runs and every ratio is computed and
    printed. Only that: the values depend on the machine (no timed assertions)."""
    import json

    from bench.run import run
    code = run(leads=10_000, history=5_000, out=tmp_path, repeat=1)
    printed = capsys.readouterr().out
    assert code == 0, printed
    results = json.loads((tmp_path / "results.json").read_text())
    tasks = {t["task"]: t for t in results["tasks"]}
    assert set(tasks) == {"baseline", "relead check", "site build"}
    for name, t in tasks.items():
        assert "skipped" not in t, (name, t.get("skipped"))
        assert t["seconds"] > 0 and t["ratio"] > 0 and t["peak_mb"] > 0, name
    bars = {b["bar"]: b for b in results["bars"]}
    assert all(b["value"] is not None and b["result"] in ("PASS", "FAIL") for b in bars.values())
    for bar in bars:
        assert bar in printed
    assert re.search(r"relead check +[\d.]+ +\d+ +[\d.]+ ", printed)
    assert re.search(r"site build +[\d.]+ +\d+ +[\d.]+ ", printed)
    assert "where relead's time goes" in printed
    assert ("SP" + "EC") not in printed and "\u00a7" not in printed
