"""Input that is almost right: typos that would silently change the numbers, and the last holes in
what relead reads (issue 16). Each mistake gives one located message: file, line, lead, what is
wrong and how to fix it, never a traceback."""

from __future__ import annotations

import datetime as dt
import textwrap

import pytest

from relead.check import check_repository
from tests.paths import ROOT
from tests.test_validation import GOOD, leads, line_of, the_problem

TODAY = dt.date(2026, 11, 22)


def check(root, strict=False):
    return check_repository(root, today=TODAY, strict=strict)


# --------------------------------------------------------------------------- a loss before the first stage

HALE = """\
- id: margaret-hale-hale-distribution
  name: Margaret Hale
  email: margaret.hale@haledistribution.example
  owner: sam
  value: 18000
  reached:
    new: 2023-01-09
    contacted: 2023-01-11
    appointment: 2023-02-02
    proposal: 2023-02-20
  lost:
    date: {date}
    reason: budget_freeze
    temperature: hot
"""


def test_a_year_typo_in_the_loss_date_is_an_error_with_the_likely_date(make_repo):
    text = leads(HALE.format(date="2013-04-03"))
    p = the_problem(check(make_repo(text)), "is before the lead was first reached", file="leads.yaml",
                    line=line_of(text, "date: 2013-04-03"), lead="margaret-hale-hale-distribution")
    assert p.message == "the loss date 2013-04-03 is before the lead was first reached (`new` 2023-01-09)"
    assert p.fix.startswith("did you mean 2023-04-03?")


def test_the_right_year_is_a_hot_lead_in_the_priorities(make_repo):
    result = check(make_repo(leads(HALE.format(date="2023-04-03"))))
    assert result.errors == ()
    assert "margaret-hale-hale-distribution" in {p.lead.id for p in result.derived.priorities}


@pytest.mark.parametrize("lost,fix", [
    ("2022-12-31", "did you mean 2023-12-31?"),
    ("2022-01-05", "did you mean 2024-01-05?"),         # 2023-01-05 is before the first stage too
    ("2023-01-05", "write the day it was lost, on or after 2023-01-09"),   # the year is not what is wrong
])
def test_a_loss_before_the_first_stage_says_how_to_fix_it(make_repo, lost, fix):
    text = leads(HALE.format(date=lost))
    p = the_problem(check(make_repo(text)), "is before the lead was first reached", file="leads.yaml",
                    line=line_of(text, f"date: {lost}"), lead="margaret-hale-hale-distribution")
    assert p.fix.startswith(fix), p.fix


def test_a_loss_on_the_day_of_the_first_stage_is_fine(make_repo):
    assert check(make_repo(leads(HALE.format(date="2023-01-09")))).errors == ()


# --------------------------------------------------------------------------- an emptied leads file

HEADER = "#relead-history v1\tat\tevent\tlead\tcampaign\tenrolment\tstep\tchannel\tvariant\ttouch\tref\tnote\n"


def _sent(lead: str, at: str = "2026-10-05T15:00:00Z") -> str:
    return f"{at}\tsent\t{lead}\tnurture\t2026-10-05\t0\temail\t\t{lead[:6]}\t\t\n"


@pytest.mark.parametrize("text", ["", "\n", "# merged\n", "leads: []\n", "leads:\n"])
def test_an_emptied_leads_file_with_history_is_an_error(make_repo, text):
    root = make_repo(text, history={"2026/10/2026-10-05.outreach.tsv":
                                    HEADER + _sent("ann-lee-acme") + _sent("bo-chen-globex")})
    p = the_problem(check(root), "there are no leads", file="leads.yaml", line=1, lead=None)
    assert p.message == "there are no leads, but history/ has records of 2 leads"
    assert "bad merge or an editor crash" in p.fix and "git checkout HEAD~ -- leads.yaml" in p.fix


def test_an_import_or_an_add_does_not_fill_an_emptied_leads_file(make_repo):
    """They read only the ids of history/, and still see that the file was emptied."""
    from relead.intake.csv_table import ImportFailed
    from relead.intake.editing import add_lead, import_file
    root = make_repo("leads:\n", history={"2026/10/2026-10-05.outreach.tsv":
                                          HEADER + _sent("ann-lee-acme") + _sent("bo-chen-globex")})
    (root / "in.csv").write_text("name,company,email\nCy Dee,Dee Co,cy@dee.example\n", encoding="utf-8")
    for attempt in (lambda: import_file(root, root / "in.csv", today=TODAY),
                    lambda: add_lead(root, today=TODAY, name="Cy Dee", company="Dee Co")):
        with pytest.raises(ImportFailed) as failed:
            attempt()
        assert "there are no leads, but history/ has records of 2 leads" in "\n".join(failed.value.problems)
    assert (root / "leads.yaml").read_text(encoding="utf-8") == "leads:\n"


def test_no_leads_and_no_history_is_a_new_repository(make_repo):
    assert check(make_repo("leads: []\n")).errors == ()


def test_a_history_warning_names_the_file_and_line_of_the_record(make_repo):
    root = make_repo(GOOD, history={"2026/10/2026-10-05.outreach.tsv":
                                    HEADER + _sent("ann-lee-acme") + _sent("zed-gone-initech")})
    p = the_problem(check(root), "which is not in the leads", warning=True,
                    file="history/2026/10/2026-10-05.outreach.tsv", line=3, lead=None)
    assert p.format().startswith("history/2026/10/2026-10-05.outreach.tsv:3: warning: history has records")


# --------------------------------------------------------------------------- symlinks out of the repository

@pytest.fixture
def secret(tmp_path):
    """A file outside every repository the tests make, like /etc/passwd."""
    path = tmp_path / "elsewhere" / "passwd"
    path.parent.mkdir()
    path.write_text("---\nsubject: root:x:0:0\n---\nroot:x:0:0:root:/root:/bin/bash\n", encoding="utf-8")
    return path


def _link(root, rel, target):
    path = root / rel
    if path.exists() or path.is_symlink():
        path.unlink()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.symlink_to(target)
    return path


@pytest.mark.parametrize("rel", ["content/messages/hot/remind.md", "content/pages/playbook.md",
                                 "content/campaigns/nurture.yaml", "content/settings.yaml", "leads.yaml",
                                 "leads/more.yaml", "history/2026/10/2026-10-05.outreach.tsv",
                                 "templates/site/base.html", "templates/email/layout.html"])
def test_a_symlink_out_of_the_repository_is_refused(make_repo, secret, rel):
    root = make_repo(GOOD)
    _link(root, rel, secret)
    result = check(root)
    found = [p for p in result.errors if p.file == rel]
    assert len(found) == 1, [p.format() for p in result.problems]
    assert found[0].format() == (f"{rel}:1: this file is a symlink to {secret.resolve()}, outside the repository; "
                                 "relead reads only files inside the repository: copy the file in instead of "
                                 "linking to it, or delete the link")
    assert not result.ok and result.derived is None


def test_nothing_is_read_through_a_folder_linked_out_of_the_repository(make_repo, secret):
    (secret.parent / "passwd.md").write_text(secret.read_text(encoding="utf-8"), encoding="utf-8")
    root = make_repo(GOOD)
    _link(root, "content/messages/stolen", secret.parent)
    result = check(root)
    assert result.errors == (), [p.format() for p in result.errors]
    assert not [key for key in result.loaded.model.messages if key.startswith("stolen/")]
    # A campaign that sends it names a message that is not there.
    campaign = (root / "content/campaigns/nurture.yaml").read_text(encoding="utf-8")
    (root / "content/campaigns/nurture.yaml").write_text(
        campaign.replace("message: nurture/briefing}", "message: stolen/passwd}", 1), encoding="utf-8")
    assert any("unknown message `stolen/passwd`" in p.message for p in check(root).errors)


def test_a_templates_folder_linked_out_of_the_repository_is_said_once_at_a_file(make_repo, tmp_path):
    for name in ("base.html", "lead.html"):
        (tmp_path / "shared-site" / name).parent.mkdir(exist_ok=True)
        (tmp_path / "shared-site" / name).write_text("<p>{{ lead.name }}</p>\n", encoding="utf-8")
    root = make_repo(GOOD)
    _link(root, "templates/site", tmp_path / "shared-site")
    found = [p for p in check(root).errors if "symlink" in p.message]
    assert len(found) == 1, [p.format() for p in found]
    assert found[0].message.startswith("templates/site/ is a symlink to ")
    assert (root / found[0].file).is_file() and found[0].file.startswith("templates/site/")


def test_history_linked_out_of_the_repository_is_said_once(make_repo, tmp_path):
    elsewhere = tmp_path / "shared-history" / "2026" / "10"
    elsewhere.mkdir(parents=True)
    for day in ("2026-10-05", "2026-10-06"):
        (elsewhere / f"{day}.outreach.tsv").write_text(HEADER + _sent("ann-lee-acme"), encoding="utf-8")
    root = make_repo(GOOD)
    _link(root, "history", tmp_path / "shared-history")
    p = the_problem(check(root), "history/ is a symlink to", file="history/2026/10/2026-10-05.outreach.tsv",
                    line=1, lead=None)
    assert str((tmp_path / "shared-history").resolve()) in p.message


def test_a_symlink_inside_the_repository_is_fine(make_repo):
    root = make_repo(None, files={"data/leads.yaml": GOOD})
    _link(root, "leads.yaml", root / "data" / "leads.yaml")
    result = check(root)
    assert result.errors == () and len(result.loaded.model.leads) == 2


# --------------------------------------------------------------------------- encodings

def test_invalid_utf8_is_reported_at_its_line_and_column(make_repo):
    data = "leads:\n  - id: a\n    name: Jos\xe9 Diaz\n".encode("latin-1")
    root = make_repo(None, files={"leads.yaml": data})
    p = the_problem(check(root), "not UTF-8", file="leads.yaml", line=3, lead=None)
    assert p.message == "the file is not UTF-8 text (byte 0xE9 at column 14)"


def test_invalid_utf8_in_a_message_is_at_its_line(make_repo):
    text = "---\nsubject: Caf\xe9\n---\nHello\n".encode("latin-1")
    root = make_repo(GOOD, files={"content/messages/hot/remind.md": text})
    the_problem(check(root), "not UTF-8", file="content/messages/hot/remind.md", line=2, lead=None, only=False)


def test_invalid_utf8_in_a_history_file_is_at_its_line(make_repo):
    data = (HEADER + _sent("ann-lee-acme") + _sent("ann-lee-acme").replace("\t\t\n", "\tcaf\xe9\n")).encode("latin-1")
    root = make_repo(GOOD, history={"2026/10/2026-10-05.outreach.tsv": data})
    p = the_problem(check(root), "not UTF-8", file="history/2026/10/2026-10-05.outreach.tsv", line=3, lead=None)
    assert p.message.startswith("the file is not UTF-8 text (byte 0xE9 at column ") and "restore" in p.fix


def test_a_byte_order_mark_does_not_hide_a_message_subject(make_repo, example_root):
    original = (example_root / "content/messages/hot/remind.md").read_text(encoding="utf-8")
    root = make_repo(GOOD, files={"content/messages/hot/remind.md": "\ufeff" + original})
    result = check(root)
    assert result.errors == (), [p.format() for p in result.errors]
    msg = result.loaded.model.messages["hot/remind"]
    assert msg.subject and msg.subject in original and not msg.body.startswith("\ufeff")


# --------------------------------------------------------------------------- javascript: written as entities

ENCODED_SCHEMES = ["&#106;avascript:alert(1)", "&#x6A;avascript:alert(1)", "javascript&colon;alert(1)",
                   "&#0000106;avascript:alert(1)", "jav&#x09;ascript:alert(1)", "&amp;#106;avascript:alert(1)",
                   "JaVaScRiPt:alert(1)", "data:text/html,x", "vbscript:x"]


def _runs(html: str) -> bool:
    """Whether any href or src in ``html`` is one a browser would run."""
    import html as html_lib
    import re
    for value in re.findall(r"""(?:href|src)\s*=\s*("[^"]*"|'[^']*'|[^\s>]+)""", html, re.IGNORECASE):
        url = html_lib.unescape(value.strip("\"'"))
        if re.sub(r"[\x00-\x20]", "", url).lower().startswith(("javascript:", "data:", "vbscript:")):
            return True
    return False


@pytest.mark.parametrize("scheme", ENCODED_SCHEMES)
def test_an_entity_encoded_scheme_is_not_a_link_on_a_page(scheme):
    from site_builder.render import render_markdown
    html = render_markdown(f"[w]({scheme}) ![i]({scheme})")
    assert not _runs(html), html
    assert 'class="external"' in html and "<img" not in html


def test_links_a_page_may_have():
    from site_builder.render import render_markdown
    html = render_markdown("[a](../index.html) [b](#top) [c](mailto:sam@northwind.example) [d](tel:+14155550134) "
                           "[e](x.html?a=1&b=2) <sam@northwind.example>")
    for href in ('href="../index.html"', 'href="#top"', 'href="mailto:sam@northwind.example"',
                 'href="tel:+14155550134"', 'href="x.html?a=1&amp;b=2"', 'href="mailto:sam@northwind.example"'):
        assert href in html, (href, html)


@pytest.mark.parametrize("scheme", ENCODED_SCHEMES)
def test_an_entity_encoded_scheme_is_not_a_link_in_an_email(make_repo, scheme):
    from outreach.render import Renderer
    from tests.test_outreach_render import custom_message
    root, d, p = custom_message(make_repo, f"{{{{ campaign.hook }}}}: [book]({scheme}) "
                                f"<a href=\"{scheme}\">raw</a> ![x]({scheme}) [site](https://northwind.example/a?b=1)")
    email = Renderer(d.model).email(p.touches[0])
    assert not _runs(email.html), email.html
    assert 'href="https://northwind.example/a?b=1"' in email.html


def test_every_attribute_that_loads_a_url_is_held_to_the_rule():
    from relead.links import safe_html_links
    for tag in ('<object data="javascript:alert(1)">', "<iframe srcdoc='<script>alert(1)</script>'>",
                '<img srcset="javascript:alert(1) 1x">', '<blockquote cite="&#106;avascript:x">',
                '<a ping="javascript:x" href="https://x.example/">'):
        kept = safe_html_links(tag)
        assert "javascript" not in kept.lower() and "&#106;" not in kept and "srcdoc" not in kept, kept
    assert safe_html_links('<img srcset="/a.png 1x" data-x="1">') == '<img srcset="/a.png 1x" data-x="1">'


def test_safe_link_is_the_one_rule():
    from relead.links import safe_link
    assert safe_link("&#104;ttps://x.example/?a=1&amp;b=2") == "https://x.example/?a=1&b=2"
    assert safe_link(" mailto:sam@northwind.example\n") == "mailto:sam@northwind.example"
    assert safe_link("page.html?q=a:b") == "page.html?q=a:b"
    for bad in ENCODED_SCHEMES + ["java\tscript:x", "\x01javascript:x", "java\u200bscript:x", "file:///etc/passwd"]:
        assert safe_link(bad) is None, bad


# --------------------------------------------------------------------------- .inf and .nan

@pytest.mark.parametrize("written,shown", [(".inf", ".inf"), ("-.inf", "-.inf"), (".nan", ".nan"), (".Inf", ".inf")])
def test_infinity_is_not_a_value(make_repo, written, shown):
    text = leads(f"- id: cy-diaz-initech\n  name: Cy Diaz\n  value: {written}\n")
    p = the_problem(check(make_repo(text)), "finite", file="leads.yaml", line=line_of(text, f"value: {written}"),
                    lead="cy-diaz-initech")
    assert p.message == f"`value` must be a finite number, not {shown}"


def test_infinity_in_a_settings_mapping_is_not_a_weight(make_repo, example_root):
    settings = (example_root / "content/settings.yaml").read_text(encoding="utf-8")
    changed = settings.replace("{hot: 30, warm: 18, cold: 6}", "{hot: .inf, warm: 18, cold: 6}")
    assert changed != settings
    root = make_repo(GOOD, files={"content/settings.yaml": changed})
    p = the_problem(check(root), "finite", file="content/settings.yaml", line=line_of(changed, "hot: .inf"),
                    lead=None)
    assert p.message == "`temperature.hot` must be a finite number, not .inf"


# --------------------------------------------------------------------------- days relead works as of

@pytest.mark.parametrize("day", ["9999-12-31", "0001-01-01", "1999-12-31", "2100-01-01"])
@pytest.mark.parametrize("command", ["relead check", "site_builder build", "outreach plan"])
def test_a_day_outside_the_range_is_a_usage_error(make_repo, capsys, command, day):
    import importlib
    package, verb = command.split()
    main = importlib.import_module(f"{package}.cli").main
    root = make_repo(GOOD)
    argv = [verb, "--root", str(root), "--today", day] + (["--out", str(root / "_site")] if verb == "build" else [])
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert f"'{day}' is outside the days relead works as of: use a day from 2000-01-01 to 2099-12-31" in err
    assert "Traceback" not in err and not (root / "_site").exists() and not (root / "outbox").exists()


@pytest.mark.parametrize("command, extra", [
    ("outreach send", ["--dry-run"]), ("outreach sync", ["--dry-run"]), ("outreach digest", ["--dry-run"]),
    ("outreach record", ["--lead", "ann-lee-acme", "--outcome", "replied"]),
    ("relead import", ["in.csv", "--dry-run"]), ("relead add", ["--name", "Zoe Park", "--dry-run"]),
    ("relead diff", ["HEAD"]),
])
def test_every_command_refuses_a_day_outside_the_range(make_repo, capsys, command, extra):
    """TODAY=9999-12-31 on each of the other commands that take --today: the same usage error."""
    import importlib
    package, verb = command.split()
    root = make_repo(GOOD)
    before = sorted(p.relative_to(root).as_posix() for p in root.rglob("*"))
    with pytest.raises(SystemExit) as exc:
        importlib.import_module(f"{package}.cli").main([verb, "--root", str(root), "--today", "9999-12-31"] + extra)
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "'9999-12-31' is outside the days relead works as of: use a day from 2000-01-01 to 2099-12-31" in err
    assert "Traceback" not in err
    assert sorted(p.relative_to(root).as_posix() for p in root.rglob("*")) == before


def test_now_outside_the_range_is_a_usage_error(make_repo, capsys):
    from outreach.cli import main
    with pytest.raises(SystemExit) as exc:
        main(["plan", "--root", str(make_repo(GOOD)), "--now", "9999-12-31T23:59:59+00:00"])
    assert exc.value.code == 2 and "use a day from 2000-01-01 to 2099-12-31" in capsys.readouterr().err


@pytest.mark.parametrize("day", ["2000-01-01", "2099-12-31"])
def test_the_first_and_last_day_work(make_repo, capsys, day):
    from relead.cli import main
    assert main(["check", "--root", str(make_repo(GOOD)), "--today", day]) in (0, 1)
    assert "Traceback" not in capsys.readouterr().err


# --------------------------------------------------------------------------- a killed build

def test_a_build_removes_the_staging_folders_a_killed_build_left(tmp_path):
    from site_builder.writer import write_site
    out = tmp_path / "_site"
    left = [tmp_path / "._site-k3j4h5g6", tmp_path / "._site-old"]
    for folder in left:
        (folder / "assets").mkdir(parents=True)
        (folder / "assets" / "site.css").write_text("half", encoding="utf-8")
    kept = [tmp_path / ".other-k3j4h5g6", tmp_path / "._site-notes", tmp_path / "._site-k3j4h5g6.bak"]
    for folder in kept:
        folder.mkdir()
    (tmp_path / "._site-a1b2c3d4").write_text("a file, not ours", encoding="utf-8")
    write_site(out, {"index.html": "<p>hi</p>"})
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        ["_site", ".other-k3j4h5g6", "._site-notes", "._site-k3j4h5g6.bak", "._site-a1b2c3d4"])
    assert (out / "index.html").read_text(encoding="utf-8") == "<p>hi</p>"


def test_the_staging_folder_is_ignored_by_git():
    import subprocess
    result = subprocess.run(["git", "check-ignore", "--no-index", "._site-k3j4h5g6/index.html"],
                            cwd=ROOT, capture_output=True, text=True)     # the repository's .gitignore
    assert result.returncode == 0, result


def test_a_send_refuses_a_message_linked_out_of_the_repository(make_repo, secret):
    root = make_repo(GOOD)
    _link(root, "content/messages/hot/remind.md", secret)
    result = check_repository(root, today=TODAY, lenient_copy=True)      # as a send checks
    p = [p for p in result.problems if p.file == "content/messages/hot/remind.md"]
    assert [q.severity for q in p] == ["error"] and not result.copy_faults and result.derived is None


def test_a_send_refuses_a_queue_linked_out_of_the_repository(make_repo, secret):
    from outreach.errors import QueueError
    from outreach.queue import read_queue
    root = make_repo(GOOD)
    path = _link(root, "outbox/2026-11-23/queue.yaml", secret)
    with pytest.raises(QueueError, match="this file is a symlink to .*, outside the repository; relead reads only"):
        read_queue(path, root)


@pytest.mark.parametrize("written", ["9999-12-31T23:00:00-06:00", "0001-01-01T10:00:00"])
def test_as_of_outside_the_range_is_an_error_not_a_traceback(make_repo, example_root, written):
    import re
    settings = (example_root / "content/settings.yaml").read_text(encoding="utf-8")
    changed = re.sub(r"(?m)^as_of: .*$", f"as_of: {written}", settings) if "\nas_of:" in settings \
        else settings + f"as_of: {written}\n"
    root = make_repo(GOOD, files={"content/settings.yaml": changed})
    result = check_repository(root)                  # no --today: as_of is the day
    p = the_problem(result, "is outside the days relead works as of", file="content/settings.yaml",
                    line=line_of(changed, f"as_of: {written}"), lead=None)
    assert p.fix.startswith("use a day from 2000-01-01 to 2099-12-31")


# --------------------------------------------------------------------------- a key under the wrong outcome

@pytest.mark.parametrize("old,new,key", [
    ("out_of_scope:   {review_after_days: 365}", "out_of_scope:   {review_after_days: 365, after_days: 30}",
     "after_days"),
    ("not_interested: {then: nurture}", "not_interested: {then: nurture, review_after_days: 30}",
     "review_after_days"),
])
def test_a_key_under_an_outcome_that_does_not_read_it_is_an_error(make_repo, example_root, old, new, key):
    rel = "content/campaigns/hot-reactivation.yaml"
    text = (example_root / rel).read_text(encoding="utf-8")
    assert old in text
    text = text.replace(old, new)
    p = the_problem(check(make_repo(GOOD, files={rel: text})), "does nothing under", file=rel,
                    line=line_of(text, new), lead=None)
    assert p.message.startswith(f"`{key}` does nothing under `") and p.fix.startswith("it belongs under `")


@pytest.mark.parametrize("target", ["leads.yaml", "nowhere.yaml"])
def test_a_leads_file_linked_to_nothing_cannot_be_read(make_repo, target):
    """A link in a loop (to itself) or to nothing is a file relead cannot read, at its line 1."""
    root = make_repo(GOOD)
    _link(root, "leads.yaml", root / target)
    p = the_problem(check(root), "cannot read the file", file="leads.yaml", line=1, lead=None)
    assert p.fix == "check it exists and is readable"
