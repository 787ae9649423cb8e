"""`relead diff BASE HEAD`: two commits of a temporary git repository built from the example
(tests/example; relead/diff/revisions.py reads them, relead/diff/compare.py compares them)."""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from relead.check import check_repository
from relead.cli import main
from relead.diff.compare import Side, compare, render
from relead.diff.revisions import RevisionError, diff_revisions, export_revision, load_revision
from tests.paths import EXAMPLE

TODAY = dt.date(2026, 11, 22)

NEW_LEAD = """leads:
  - id: nina-new-big-co
    name: Nina New
    company: Big Co
    email: nina@bigco.example
    owner: sam
    value: 90000
    decision_maker: true
    reached: {new: 2026-01-05, contacted: 2026-01-06, appointment: 2026-01-20, proposal: 2026-02-01}
    lost: {date: 2026-03-01, reason: not_ready, temperature: hot}
    recycle_on: 2026-10-01
"""


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-c", "user.name=Test", "-c", "user.email=test@example.com",
                           "-c", "commit.gpgsign=false", "-c", "init.defaultBranch=main", *args],
                          cwd=repo, check=True, capture_output=True, text=True).stdout


def _block(text: str, lead_id: str) -> str:
    m = re.search(rf"(?ms)^  - id: {re.escape(lead_id)}\n.*?(?=^  - id: |\Z)", text)
    assert m, lead_id
    return m.group(0)


def _edit(leads: str) -> str:
    """The change under test: a lead won back, the top-ranked lead gone cold (and smaller), a lead deleted."""
    hale = _block(leads, "margaret-hale-hale-distribution")
    leads = leads.replace(hale, hale.replace("      proposal: 2023-02-20\n",
                                             "      proposal: 2023-02-20\n      won: 2026-11-02\n", 1))
    marcus = _block(leads, "marcus-bell-tristate-auto-parts")
    leads = leads.replace(marcus, marcus.replace("temperature: hot", "temperature: cold", 1)
                          .replace("value: 52000", "value: 5000", 1))
    return leads.replace(_block(leads, "bernard-kowalski-kowalski-hardware"), "")


@pytest.fixture(scope="module")
def repo(tmp_path_factory) -> Path:
    """The example as a git repository: commit 1 as it is, commit 2 with the change (and a new
    lead in leads/), commit 3 with an unknown owner (invalid)."""
    root = tmp_path_factory.mktemp("diffrepo")
    shutil.copy(EXAMPLE / "leads.yaml", root / "leads.yaml")
    shutil.copytree(EXAMPLE / "content", root / "content")
    shutil.copytree(EXAMPLE / "history", root / "history")
    _git(root, "init", "--quiet")
    _git(root, "add", "-A")
    _git(root, "commit", "--quiet", "-m", "base")
    leads = root / "leads.yaml"
    leads.write_text(_edit(leads.read_text(encoding="utf-8")), encoding="utf-8")
    (root / "leads").mkdir()
    (root / "leads" / "new.yaml").write_text(NEW_LEAD, encoding="utf-8")
    _git(root, "add", "-A")
    _git(root, "commit", "--quiet", "-m", "change")
    text = leads.read_text(encoding="utf-8")
    leads.write_text(text.replace("    owner: lee\n", "    owner: nobody\n", 1), encoding="utf-8")
    _git(root, "commit", "--quiet", "-am", "broken")
    return root


def _cli(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    return code, out.getvalue(), err.getvalue()


def test_export_writes_the_revision_as_committed(repo, tmp_path):
    export_revision(repo, "HEAD~2", tmp_path / "base")
    assert (tmp_path / "base" / "leads.yaml").read_bytes() == (EXAMPLE / "leads.yaml").read_bytes()
    assert not (tmp_path / "base" / "leads").exists()
    assert sorted(p.name for p in (tmp_path / "base" / "content" / "campaigns").iterdir()) == \
        sorted(p.name for p in (EXAMPLE / "content" / "campaigns").iterdir())
    export_revision(repo, "HEAD~1", tmp_path / "head")
    assert (tmp_path / "head" / "leads" / "new.yaml").read_text(encoding="utf-8") == NEW_LEAD


def test_the_comparison_names_every_change(repo):
    _, before = load_revision(repo, "HEAD~2", today=TODAY)
    _, after = load_revision(repo, "HEAD~1", today=TODAY)
    assert before.derived is not None and after.derived is not None
    cmp = compare(before.derived, after.derived)
    assert [r.id for r in cmp.added] == ["nina-new-big-co"]
    assert [r.id for r in cmp.removed] == ["bernard-kowalski-kowalski-hardware"]
    assert [(c.id, c.before, c.after) for c in cmp.status_changes] == \
        [("margaret-hale-hale-distribution", "lost", "recovered")]
    # the new hot lead enters the ranking, at the top; the recovered one leaves it
    assert [(m.id, m.after) for m in cmp.entered_ranking] == [("nina-new-big-co", 1)]
    assert [(m.id, m.why) for m in cmp.left_ranking] == [("margaret-hale-hale-distribution", "recovered")]
    # the lead gone cold falls out of the top 10 and moves down past others
    assert "nina-new-big-co" in {m.id for m in cmp.top_entered}
    assert "marcus-bell-tristate-auto-parts" in {m.id for m in cmp.top_left}
    marcus = next(m for m in cmp.moved if m.id == "marcus-bell-tristate-auto-parts")
    assert marcus.before == 1 and marcus.after > 10 and marcus.shift <= -cmp.min_move
    assert all(abs(m.shift) >= cmp.min_move for m in cmp.moved)
    counts = {c.label: c for c in cmp.statuses}
    assert counts["leads"].delta == 0                 # one added, one removed
    assert counts["recovered"].delta == 1
    funnel = {s.stage: s for s in cmp.funnel}
    assert funnel["won"].reached.delta == 1
    # the numbers are the ones each revision's own check derives
    for s in after.derived.funnel:
        assert funnel[s.stage].reached.after == s.reached and funnel[s.stage].lost_here.after == s.lost_here
    for s in before.derived.funnel:
        assert funnel[s.stage].reached.before == s.reached


def _lost_leads(values: list[int]) -> str:
    rows = ["leads:"]
    for n, value in enumerate(values):
        rows.append(f"""  - id: lead-{n}
    name: Lead {n}
    email: lead{n}@example.com
    owner: sam
    value: {value}
    reached: {{new: 2026-01-05, contacted: 2026-01-06}}
    lost: {{date: 2026-03-01, reason: not_ready, temperature: warm}}
    recycle_on: 2027-01-01
""")
    return "\n".join(rows)


def test_moves_do_not_count_leads_that_left_or_entered_above(make_repo):
    """A lead leaving the top moves every other one up a place: that is not a move worth listing."""
    values = [20000 - 1000 * n for n in range(8)]
    before = check_repository(make_repo(_lost_leads(values)), today=TODAY).derived
    after = check_repository(make_repo(_lost_leads(values).replace("value: 20000", "value: 0")
                                       .replace("lead0@example.com", "")
                                       .replace("    email: \n", "")), today=TODAY).derived
    cmp = compare(before, after, min_move=1)
    assert [m.id for m in cmp.left_ranking] == ["lead-0"]
    assert [(m.id, m.before, m.after) for m in cmp.top_entered] == []
    assert cmp.moved == ()
    assert {p.lead.id: p.rank for p in after.priorities}["lead-1"] == 1     # up one, all the same
    # the other way round: a new lead at the top is not a move of the others either
    assert compare(after, before, min_move=1).moved == ()


def test_text_report(repo):
    text, valid = diff_revisions(repo, "HEAD~2", "HEAD~1", today=TODAY)
    assert valid
    assert text.startswith("relead diff: HEAD~2 (")
    assert "(as of 2026-11-22)" in text.splitlines()[0]
    assert "1 lead added, 1 removed, 1 status change," in text
    assert "nina-new-big-co  Nina New (Big Co): lost, ranked #1" in text
    assert "margaret-hale-hale-distribution  Margaret Hale (Hale Distribution): lost → recovered" in text
    assert "bernard-kowalski-kowalski-hardware  Bernard Kowalski (Kowalski Hardware): was dead" in text
    assert "Top 10:" in text and "Funnel" in text


def test_markdown_report_for_the_job_summary(repo):
    code, out, err = _cli(["diff", "HEAD~2", "HEAD~1", "--root", str(repo), "--today", TODAY.isoformat(),
                           "--format", "markdown"])
    assert (code, err) == (0, "")
    assert out.startswith("### relead diff: HEAD\\~2 (")
    assert "#### Leads added (1)" in out
    assert "- `nina-new-big-co` Nina New (Big Co): lost, ranked \\#1" in out
    assert "#### Status changes (1)" in out
    assert "| Recovered |" in out and "| **+1** |" in out
    assert "| stage | reached | change | lost here | change |" in out
    # every table row has as many cells as its header
    for block in re.findall(r"(?m)(?:^\|.*\|\n)+", out):
        rows = block.splitlines()
        assert len({r.count(" | ") for r in rows if not r.startswith("|--")}) == 1, block


def test_markdown_escapes_what_the_data_says(make_repo):
    """A lead's name is data: Markdown and HTML in it are shown, not obeyed."""
    before = check_repository(make_repo(_lost_leads([1000])), today=TODAY).derived
    hostile = _lost_leads([1000, 2000]).replace("name: Lead 1", 'name: "<b>|x|</b> *y* [z](http://e.example) `c`"')
    after = check_repository(make_repo(hostile), today=TODAY).derived
    text = render(Side("main", before), Side("pr", after), fmt="markdown")
    assert "- `lead-1` \\<b\\>\\|x\\|\\</b\\> \\*y\\* \\[z\\](http://e.example) \\`c\\`: lost, ranked \\#1" in text
    assert "<b>" not in text
    same = render(Side("a", before), Side("b", before), fmt="markdown")
    assert same == "### relead diff: a → b (as of 2026-11-22)\n\nNo lead added or removed, and no change to statuses, the funnel or the priorities.\n"


def test_a_revision_with_errors_is_reported_not_raised(repo):
    code, out, err = _cli(["diff", "HEAD~1", "HEAD", "--root", str(repo), "--today", TODAY.isoformat()])
    assert code == 1 and err == ""
    assert re.search(r"HEAD has 1 error: the funnel cannot be compared", out) or \
        re.search(r"HEAD \(\w+\) has 1 error", out)
    assert "unknown owner `nobody`" in out
    code, md, _ = _cli(["diff", "HEAD~1", "HEAD", "--root", str(repo), "--today", TODAY.isoformat(),
                        "--format", "markdown"])
    assert code == 1
    assert "~~~~text\nleads.yaml:" in md


def test_an_unknown_revision_or_no_repository_is_a_usage_error(repo, tmp_path):
    code, out, err = _cli(["diff", "no-such-branch", "--root", str(repo)])
    assert (code, out) == (2, "")
    assert err == "error: 'no-such-branch' is not a commit in this repository\n"
    code, _, err = _cli(["diff", "--root", str(repo), "--", "--output=/tmp/x"])
    assert code == 2 and "is not a commit" in err
    code, _, err = _cli(["diff", "HEAD~1", "--root", str(tmp_path)])
    assert code == 2 and err.startswith("error: ")
    with pytest.raises(RevisionError):
        export_revision(tmp_path, "HEAD", tmp_path / "out")


def test_data_in_a_subdirectory_and_a_revision_without_it(tmp_path):
    root = tmp_path / "repo"
    desk = root / "desk"
    desk.mkdir(parents=True)
    (root / "README").write_text("a repository that is more than the desk\n", encoding="utf-8")
    _git(root, "init", "--quiet")
    _git(root, "add", "-A")
    _git(root, "commit", "--quiet", "-m", "no desk yet")
    shutil.copy(EXAMPLE / "leads.yaml", desk / "leads.yaml")
    shutil.copytree(EXAMPLE / "content", desk / "content")
    _git(root, "add", "-A")
    _git(root, "commit", "--quiet", "-m", "desk")
    code, out, _ = _cli(["diff", "HEAD~1", "HEAD", "--root", str(desk), "--today", TODAY.isoformat()])
    assert code == 1                                  # the first commit has no data at all
    assert "there is no settings file" in out
    code, out, _ = _cli(["diff", "HEAD", "HEAD", "--root", str(desk), "--today", TODAY.isoformat()])
    assert code == 0
    assert "No lead added or removed, and no change" in out
