"""The benchmark's generator stays honest: a small generated repository is valid and complete."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # `bench` is not an installed package
    sys.path.insert(0, str(ROOT))

from bench.generate import TODAY, generate  # noqa: E402
from relead.check import check_repository  # noqa: E402
from relead.yamlparse import _is_risky  # noqa: E402

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
