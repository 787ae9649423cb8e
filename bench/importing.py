"""Benchmark: import 50,000 CRM rows into a 100,000-lead repository (``python -m bench.importing``).

The figure is a ratio, measured side by side in one run (docs/scaling.md): the whole
``relead import`` (load and validate the repository once, read and map the
CSV, de-duplicate, splice and append the text, check the new and changed
leads, write the file) over one ``relead.check.check_repository`` of the
result, i.e. loading and validating the result once. Each is timed in a fresh
interpreter after its imports.

The CSV is a Pipedrive deals export (``Deal - Status``, ``Deal - Lost reason``,
``Deal - Lost time``...), deterministic: about 60% lost deals, some won, the
rest open; half with a phone; 4% of the rows are people already in the
leads (same email) and 4% repeat an earlier row (same email), so every path of
the de-duplication runs. The base repository is :mod:`bench.generate`'s (the
one ``make bench`` uses, reused when it matches); the import runs on a copy of
its ``leads.yaml``, with the example's ``content/`` (``tests/example/``) and hard links to the files of its ``history/``.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

from . import generate as G

__all__ = ["run", "make_csv"]

DEFAULT_OUT = Path(__file__).resolve().parent / "out"
HEADERS = ("Deal - ID", "Deal - Title", "Deal - Value", "Deal - Currency", "Deal - Organization",
           "Deal - Contact person", "Deal - Owner", "Deal - Stage", "Deal - Status", "Deal - Deal created",
           "Deal - Lost time", "Deal - Won time", "Deal - Lost reason", "Person - Email", "Person - Phone")
STAGES = ("Lead In", "Contact Made", "Demo Scheduled", "Proposal Made", "Negotiations Started")
REASONS = ("Budget", "Timing", "No response", "Went with competitor", "Too expensive", "not_ready",
           "Nobody followed up", "Moved the work offshore")
OWNERS = ("Sam Carter", "Priya Natarajan", "Lee Okafor")


def make_csv(path: Path, existing_emails: list[str], *, rows: int, today: dt.date, seed: int = 7) -> dict:
    """Write the Pipedrive export; what it holds."""
    r = random.Random(seed)
    first_day = today.toordinal() - 700
    written: list[str] = []
    counts = {"rows": rows, "known": 0, "repeats": 0}
    with path.open("w", encoding="utf-8", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(HEADERS)
        for i in range(rows):
            first, last = r.choice(G.FIRST), r.choice(G.LAST)
            company = f"{r.choice(G.PLACES)} {r.choice(G.INDUSTRIES)} {i:05d}"
            u = r.random()
            if u < 0.04 and existing_emails:
                email = r.choice(existing_emails)
                counts["known"] += 1
            elif u < 0.08 and written:
                email = r.choice(written)
                counts["repeats"] += 1
            else:
                email = f"{G._slug(first, '')}.{G._slug(last, '')}.{i}@import-bench.example"
                written.append(email)
            phone = f"(615) {200 + i // 10000}-{i % 10000:04d}" if r.random() < 0.5 else ""
            created = r.randint(first_day, today.toordinal() - 30)
            s = r.random()
            status = "Lost" if s < 0.6 else "Won" if s < 0.7 else "Open"
            closed = dt.date.fromordinal(r.randint(created + 1, today.toordinal()))
            stamp = closed.isoformat() + " 10:30:00"
            out.writerow((
                str(100000 + i), f"{company} - scanners", str(r.choice((1500, 4800, 12000, 23000))), "USD",
                company, f"{first} {last}", r.choice(OWNERS), r.choice(STAGES), status,
                dt.date.fromordinal(created).isoformat() + " 09:00:00",
                stamp if status == "Lost" else "", stamp if status == "Won" else "",
                r.choice(REASONS) if status == "Lost" else "", email, phone))
    return counts


def _child(*args: str) -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(G.REPO_ROOT) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    proc = subprocess.run([sys.executable, "-m", "bench.importing", "--child", *args], cwd=G.REPO_ROOT, env=env,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, errors="replace")
    lines = proc.stdout.strip().splitlines()
    if proc.returncode != 0 or not lines:
        raise RuntimeError(f"{args[0]} failed ({proc.returncode}):\n" + "\n".join(proc.stderr.splitlines()[-15:]))
    return json.loads(lines[-1])


def _measure_import(root: str, file: str, today: str) -> dict:
    from relead.intake.editing import import_file

    t0 = time.perf_counter()
    edited = import_file(root, file, choice="pipedrive", today=dt.date.fromisoformat(today))
    seconds = time.perf_counter() - t0
    return {"seconds": seconds, "format": edited.read_as, **edited.counts, "written": edited.written,
            "rewritten": len(edited.rewritten)}


def _measure_check(root: str, today: str) -> dict:
    from relead.check import check_repository

    t0 = time.perf_counter()
    checked = check_repository(root, today=dt.date.fromisoformat(today))
    seconds = time.perf_counter() - t0
    model = checked.loaded.model
    return {"seconds": seconds, "errors": len(checked.errors), "warnings": len(checked.warnings),
            "leads": len(model.leads) if model else None,
            "first_errors": [p.format() for p in checked.errors[:5]]}


def _link_or_copy(src: str, dst: str) -> None:
    try:
        os.link(src, dst)
    except OSError:             # another file system: a copy
        shutil.copy2(src, dst)


BAR = 1.0      # the import over loading and validating its result (docs/scaling.md)


def run(out_dir: Path | str = DEFAULT_OUT, *, leads: int = 100_000, history: int = 1_000_000,
        rows: int = 50_000, today: dt.date = G.TODAY, repeat: int = 1, say=print) -> dict:
    """Generate (or reuse) the base repository, import ``rows`` rows into a copy, measure; the results.

    With ``repeat``, the import (each time into a fresh copy) and the check of its result are
    measured that many times, alternating; the ratio is of the medians.
    """
    out = Path(out_dir)
    base = out / "repo"
    if G.matches(base, leads=leads, history=history):
        say(f"  reusing {base}")
    else:
        say(f"  generating {base} ({leads} leads, {history} history records) ...")
        G.generate(base, leads=leads, history=history)
    work = out / "import-repo"
    text = (base / "leads.yaml").read_text(encoding="utf-8")
    emails = re.findall(r"^    email: (\S+)$", text, re.MULTILINE)
    del text
    csv_path = out / f"import-{rows}.csv"
    say(f"  writing {csv_path} ({rows} rows) ...")
    made = make_csv(csv_path, emails, rows=rows, today=today)
    imports, checks = [], []
    for i in range(repeat):
        tag = f" (run {i + 1}/{repeat})" if repeat > 1 else ""
        _fresh_copy(base, work)
        say(f"  importing{tag} ...")
        imp = _child("import", str(work), str(csv_path), today.isoformat())
        say(f"  {imp['added']} added, {imp['updated']} updated, {imp['merged']} merged, {imp['skipped']} skipped "
            f"in {imp['seconds']:.1f} s; checking the result ...")
        chk = _child("check", str(work), today.isoformat())
        if chk["errors"]:
            raise RuntimeError("the imported repository does not validate:\n" + "\n".join(chk["first_errors"]))
        imports.append(imp)
        checks.append(chk)
    imp_s = statistics.median(r["seconds"] for r in imports)
    chk_s = statistics.median(r["seconds"] for r in checks)
    ratio = imp_s / chk_s if chk_s else float("inf")
    result = {"leads_before": leads, "history": history, "rows": rows, "csv": made, "import": imports[-1],
              "check_result": checks[-1], "import_seconds": [r["seconds"] for r in imports],
              "check_seconds": [r["seconds"] for r in checks], "ratio": round(ratio, 3),
              "bar": BAR, "result": "PASS" if ratio <= BAR else "FAIL"}
    median = " (medians)" if repeat > 1 else ""
    say(f"import of {rows} rows into {leads} leads: {imp_s:.2f} s; loading and validating the result "
        f"({checks[-1]['leads']} leads): {chk_s:.2f} s{median}; ratio {ratio:.2f} (bar <= {BAR}: {result['result']})")
    return result


def _fresh_copy(base: Path, work: Path) -> None:
    """The base repository's leads.yaml, the example's content/, its history/'s files linked."""
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    shutil.copyfile(base / "leads.yaml", work / "leads.yaml")
    shutil.copytree(G.EXAMPLE / "content", work / "content")      # today's settings, with `import:`
    if (base / "history").exists():
        # Hard links, not a symlink: relead refuses files that lead outside the repository.
        shutil.copytree(base / "history", work / "history", copy_function=_link_or_copy)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["--child"]:
        task, *args = argv[1:]
        result = _measure_import(*args) if task == "import" else _measure_check(*args)
        sys.stdout.write("\n" + json.dumps(result) + "\n")
        return 0
    parser = argparse.ArgumentParser(prog="python -m bench.importing",
                                     description="Import N CRM rows into a generated repository; the ratio "
                                                 "to loading and validating the result once.")
    parser.add_argument("--leads", type=int, default=100_000)
    parser.add_argument("--history", type=int, default=1_000_000)
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--repeat", type=int, default=3, help="runs to take the medians of (default 3)")
    args = parser.parse_args(argv)
    result = run(args.out, leads=args.leads, history=args.history, rows=args.rows, repeat=max(1, args.repeat))
    (args.out / "importing.json").write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
