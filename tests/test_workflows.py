"""The GitHub workflows and the pre-commit hook: valid YAML, only make targets that exist,
every action pinned to a version, and the settings the team's workflow depends on."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from makefile_helpers import make_invocations, make_targets

ROOT = Path(__file__).resolve().parent.parent
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.y*ml"))
# owner/repo[/path]@vN[.N[.N]], or a full commit SHA
_PINNED = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+(?:/[A-Za-z0-9_./-]+)?@(?:v\d+(?:\.\d+){0,2}|[0-9a-f]{40})$")


def _load(path: Path) -> dict:
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(doc, dict), path
    # YAML 1.1 reads the key `on` as true: GitHub reads it as the string
    if True in doc:
        doc["on"] = doc.pop(True)
    return doc


def _steps(doc: dict):
    for name, job in doc["jobs"].items():
        for step in job.get("steps", []):
            yield name, step


def test_the_four_workflows_exist():
    assert {p.name for p in WORKFLOWS} == {"check.yml", "site.yml", "outreach.yml", "digest.yml"}


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_workflow_is_valid(path):
    doc = _load(path)
    assert {"name", "on", "jobs", "permissions"} <= set(doc), "every workflow says what its token may do"
    assert doc["jobs"]
    for name, job in doc["jobs"].items():
        assert "runs-on" in job and job.get("timeout-minutes"), name
        assert job.get("steps"), name
        for step in job["steps"]:
            assert ("uses" in step) != ("run" in step), step
    if any("| tee" in step.get("run", "") for _, step in _steps(doc)):
        assert doc["defaults"]["run"]["shell"] == "bash"         # bash -eo pipefail: make's failure counts


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_actions_are_pinned(path):
    uses = [step["uses"] for _, step in _steps(_load(path)) if "uses" in step]
    assert uses
    for ref in uses:
        assert _PINNED.match(ref), f"{path.name}: {ref} is not pinned to a version"


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_make_targets_exist(path):
    targets = make_targets()
    used = [t for _, step in _steps(_load(path)) for t in make_invocations(step.get("run", ""))]
    assert used, path.name
    missing = sorted(set(used) - targets)
    assert not missing, f"{path.name} runs make targets the Makefile does not have: {missing}"


def test_make_invocations_parser():
    assert make_invocations('make outreach TODAY="$DAY" PUSH=1 $review 2>&1 | tee outreach.log') == ["outreach"]
    assert make_invocations("make install\nmake --no-print-directory check STRICT=1 FORMAT=github") == \
        ["install", "check"]
    assert make_invocations("cmake build; remake x") == []
    assert {"check", "build", "plan", "outreach", "record", "install", "serve", "diff"} <= make_targets()


def test_pull_request_check():
    doc = _load(ROOT / ".github" / "workflows" / "check.yml")
    paths = doc["on"]["pull_request"]["paths"]
    for wanted in ("leads.yaml", "leads/**", "content/**", "templates/**"):
        assert wanted in paths
    runs = [step.get("run", "") for _, step in _steps(doc)]
    assert any("make check STRICT=1 FORMAT=github" in r for r in runs)
    diff = next(r for r in runs if "relead diff" in r)
    assert 'origin/$BASE_REF' in diff and "--format markdown" in diff and '>> "$GITHUB_STEP_SUMMARY"' in diff
    checkout = next(step for _, step in _steps(doc) if step.get("uses", "").startswith("actions/checkout@"))
    assert checkout["with"]["fetch-depth"] == 0         # the base branch is there to compare with
    assert doc["permissions"] == {"contents": "read"}


def test_published_dashboard():
    doc = _load(ROOT / ".github" / "workflows" / "site.yml")
    assert doc["on"]["push"]["branches"] == ["main"]
    assert doc["on"]["workflow_run"]["workflows"] == ["outreach"]      # outreach's pushes start nothing
    assert doc["on"]["schedule"]
    uses = {step["uses"].split("@")[0] for _, step in _steps(doc) if "uses" in step}
    assert {"actions/upload-pages-artifact", "actions/deploy-pages", "actions/upload-artifact"} <= uses
    deploy = doc["jobs"]["deploy"]
    assert deploy["permissions"] == {"pages": "write", "id-token": "write"}
    assert deploy["environment"]["name"] == "github-pages"
    # personal data: nothing is published until the team says the Pages site is access-controlled
    assert "vars.PAGES_ACCESS_CONTROLLED == 'true'" in deploy["if"]
    assert doc["permissions"] == {"contents": "read"}
    runs = " ".join(step.get("run", "") for _, step in _steps(doc))
    assert "make build REDACT=" in runs


def test_scheduled_outreach():
    doc = _load(ROOT / ".github" / "workflows" / "outreach.yml")
    on = doc["on"]
    # hourly on every day: each run sends only what is due and inside the recipient's hours now
    cron = on["schedule"][0]["cron"].split()
    assert cron[0].isdigit() and _cron_hours(cron[1]) == list(range(24)) and cron[2:] == ["*", "*", "*"]
    mode = on["workflow_dispatch"]["inputs"]["mode"]
    assert {"review", "direct"} <= set(mode["options"]) and mode["default"] == "review"
    assert doc["concurrency"] == {"group": "outreach", "cancel-in-progress": False}
    assert doc["permissions"] == {"contents": "write", "pull-requests": "write"}
    env = doc["jobs"]["outreach"]["env"]
    for name in ("SMTP_HOST", "SMTP_PORT", "SMTP_USERNAME", "SMTP_PASSWORD", "TWILIO_ACCOUNT_SID",
                 "TWILIO_AUTH_TOKEN", "TWILIO_FROM", "IMAP_HOST", "IMAP_USERNAME", "IMAP_PASSWORD"):
        assert env[name] == f"${{{{ secrets.{name} }}}}"
    runs = [step.get("run", "") for _, step in _steps(doc)]
    assert any("make plan" in r for r in runs)
    sync = next(i for i, r in enumerate(runs) if "-m outreach sync" in r)
    assert "--push" in runs[sync] and sync < next(i for i, r in enumerate(runs) if "make plan" in r)
    send = next(r for r in runs if "make outreach TODAY=" in r and "PUSH=1" in r)
    assert "REQUIRE_REVIEW=1" in send and "| tee outreach.log" in send
    assert any("create-pull-request" in step.get("uses", "") for _, step in _steps(doc))
    summary = next(step for _, step in _steps(doc) if step.get("name") == "Job summary")
    assert summary["if"] == "always()" and "GITHUB_STEP_SUMMARY" in summary["run"]
    # no secret value is ever put on a command line or in the summary
    for r in runs:
        assert "secrets." not in r


def _cron_hours(field: str) -> list[int]:
    return list(range(24)) if field == "*" else [int(h) for h in field.split(",")]


def test_monday_digest():
    """Hourly on Sundays and Mondays in UTC, the command deciding when it is Monday morning in the
    team's zone: every zone from UTC-12 to UTC+14 gets a run within an hour of 08:00 on its Monday
    (the first one sends)."""
    import datetime as dt

    doc = _load(ROOT / ".github" / "workflows" / "digest.yml")
    (schedule,) = doc["on"]["schedule"]
    minute, hour, dom, month, dow = schedule["cron"].split()
    assert (dom, month, dow) == ("*", "*", "0,1") and hour == "*" and minute.isdigit()
    days = [dt.date(2026, 11, 22) + dt.timedelta(days=d) for d in range(7) if (d % 7) in map(int, dow.split(","))]
    runs = [dt.datetime.combine(day, dt.time(h, int(minute)), dt.timezone.utc)
            for day in days for h in _cron_hours(hour)]          # 2026-11-22 is a Sunday (cron's 0)
    for offset in range(-12, 15):
        local = [r.astimezone(dt.timezone(dt.timedelta(hours=offset))) for r in runs]
        assert any(t.weekday() == 0 and dt.time(8) <= t.time() < dt.time(9) for t in local), offset
    assert doc["concurrency"] == {"group": "digest", "cancel-in-progress": False}
    assert doc["permissions"] == {"contents": "write"}
    job = doc["jobs"]["digest"]
    assert "vars.DIGEST_ENABLED == 'true'" in job["if"]
    for name in ("SMTP_HOST", "SMTP_PORT", "SMTP_USERNAME", "SMTP_PASSWORD"):
        assert job["env"][name] == f"${{{{ secrets.{name} }}}}"
    runs_text = [step.get("run", "") for _, step in _steps(doc)]
    send = next(r for r in runs_text if "-m outreach digest" in r)
    for flag in ("--monday-from", "--push", "--now", "--dry-run", "| tee digest.log"):
        assert flag in send, flag
    assert 'date -u' in send            # the real clock: never the settings' as_of
    assert set(doc["on"]["workflow_dispatch"]["inputs"]) == {"to", "dry_run"}
    for r in runs_text:
        assert "secrets." not in r


def test_pre_commit_hook():
    doc = yaml.safe_load((ROOT / ".pre-commit-config.yaml").read_text(encoding="utf-8"))
    (repo,) = doc["repos"]
    assert repo["repo"] == "local"
    (hook,) = repo["hooks"]
    assert hook["language"] == "system" and hook["pass_filenames"] is False
    assert hook["entry"].endswith("-m relead check --strict")
    files = re.compile(hook["files"])
    for path in ("leads.yaml", "leads/east.yaml", "leads/west.yml", "content/settings.yaml",
                 "content/messages/hot/remind.md", "templates/site/base.html"):
        assert files.search(path), path
    for path in ("README.md", "relead/cli.py", "leads.yaml.bak", "docs/guide.md"):
        assert not files.search(path), path
