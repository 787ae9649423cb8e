"""Small factories for the outreach tests: repositories whose touches are all due on one day."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from relead.check import check_repository
from relead.derive.plan import plan_day
from tests.paths import EXAMPLE, ROOT

DAY = "2026-11-23"                                  # a Monday
NOW = "2026-11-23T10:00:00-06:00"                   # 10:00 in Chicago, the team's time zone

# One campaign that enrols every lost lead today, with a large cap, one email first.
BLAST = """\
name: Blast
hook: A free scanner audit
audience: {status: [lost]}
priority: 100
max_new_per_day: 100000
steps:
  - {day: 0, channel: email, message: hot/remind}
  - {day: 2, channel: sms, message: hot/sms-nudge}
  - {day: 4, channel: call, message: hot/call-script}
"""
SMS_FIRST = """\
name: Texts
hook: A free scanner audit
audience: {status: [lost]}
priority: 100
max_new_per_day: 100000
steps:
  - {day: 0, channel: sms, message: hot/sms-nudge}
  - {day: 2, channel: email, message: hot/remind}
"""
TASKS_FIRST = """\
name: Calls
hook: A free scanner audit
audience: {status: [lost]}
priority: 100
max_new_per_day: 100000
steps:
  - {day: 0, channel: call, message: hot/call-script}
  - {day: 1, channel: mail, message: warm/postcard}
"""


def settings_text(*, email_cap: int = 100000, sms_cap: int = 100000, extra: str = "") -> str:
    text = (EXAMPLE / "content" / "settings.yaml").read_text(encoding="utf-8")
    text = text.replace("daily_caps: {email: 200, sms: 60}", f"daily_caps: {{email: {email_cap}, sms: {sms_cap}}}")
    text = text.replace("per_lead_per_7_days: 2", "per_lead_per_7_days: 5")
    return text + extra


def lead_yaml(i: int, **over) -> str:
    fields = {
        "id": f"lead-{i:04d}", "name": f"Pat Example{i}", "company": f"Company {i}",
        "email": f"pat{i}@company{i}.example", "phone": f'"+1 312 555 {i % 10000:04d}"', "owner": "sam",
        "reached": "{new: 2025-01-10, contacted: 2025-01-12}",
        "lost": "{date: 2025-03-01, reason: not_ready, temperature: warm}",
        "consent": "{email: true, sms: true}",
    }
    fields.update({k: v for k, v in over.items() if v is not None})
    for k in [k for k, v in over.items() if v is None]:
        fields.pop(k, None)
    return "  - " + "\n    ".join(f"{k}: {v}" for k, v in fields.items()) + "\n"


def leads_text(n: int, **over) -> str:
    return "leads:\n" + "".join(lead_yaml(i, **over) for i in range(1, n + 1))


def outreach_repo(make_repo, leads: str, *, campaign: str = BLAST, settings: str | None = None,
                  files: dict | None = None, git: bool = False) -> Path:
    """A repository with only ``campaign`` (as content/campaigns/blast.yaml) and the email templates."""
    extra = {"content/settings.yaml": settings or settings_text(), "content/campaigns/blast.yaml": campaign}
    for name in ("layout.html", "layout.txt"):
        extra[f"templates/email/{name}"] = (ROOT / "templates" / "email" / name).read_text(encoding="utf-8")
    extra.update(files or {})
    root = make_repo(leads, files=extra)
    for path in (root / "content" / "campaigns").glob("*.yaml"):
        if path.name != "blast.yaml":
            path.unlink()
    if git:
        git_init(root)
    return root


def git(root: Path, *args: str) -> str:
    out = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, check=True)
    return out.stdout


def git_init(root: Path) -> None:
    git(root, "init", "-q", "-b", "main")
    git(root, "config", "user.name", "Test Person")
    git(root, "config", "user.email", "test@example.invalid")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "initial")


def remote_and_clones(origin: Path, tmp_path: Path, names) -> tuple[Path, list[Path]]:
    """A bare remote holding ``origin``'s commits, and one clone of it per name (each its own
    committer): the team's runners, sharing one remote."""
    bare = tmp_path / "remote.git"
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(bare)], check=True)
    git(origin, "remote", "add", "origin", str(bare))
    git(origin, "push", "-q", "-u", "origin", "main")
    clones = []
    for name in names:
        clone = tmp_path / name
        subprocess.run(["git", "clone", "-q", str(bare), str(clone)], check=True)
        git(clone, "config", "user.name", name)
        git(clone, "config", "user.email", f"{name}@example.invalid")
        clones.append(clone)
    return bare, clones


def derived(root: Path, day: str = DAY):
    import datetime as dt
    checked = check_repository(root, today=dt.date.fromisoformat(day))
    assert not checked.errors, [p.format() for p in checked.errors]
    return checked.derived


def plan(root: Path, day: str = DAY):
    import datetime as dt
    d = derived(root, day)
    return d, plan_day(d.model, d.states, d.priorities, dt.date.fromisoformat(day))


def history_events(root: Path) -> list[list[str]]:
    """Every history record as its columns (the header and comments left out)."""
    rows = []
    for path in sorted((root / "history").rglob("*.tsv")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line and not line.startswith("#"):
                rows.append(line.split("\t"))
    return rows


def touch_states(root: Path) -> dict[str, list[str]]:
    """touch id -> its touch events in order (attempting, sent, ...)."""
    out: dict[str, list[str]] = {}
    for row in history_events(root):
        if row[8]:
            out.setdefault(row[8], []).append(row[1])
    return out


def copy_tree(src: Path, dest: Path) -> Path:
    shutil.copytree(src, dest)
    return dest
