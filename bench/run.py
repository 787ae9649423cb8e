"""The measurements, side by side in one run (docs/scaling.md), each task in a fresh subprocess.

Tasks, in this order on every repetition (so the baseline and relead alternate):

* ``baseline``: ``yaml.load(text, Loader=yaml.CSafeLoader)`` of the generated
  ``leads.yaml``. The file is read before the clock starts: only parsing is timed.
* ``relead check``: ``relead.check.check_repository(root, today=...)``: reading
  every file, parsing, validating, reading history, deriving, linting and
  locating the problems. Must find no errors.
* ``site build``: ``python -m site_builder build --root <repo> --out <out>/site-N --today ...``
  timed as a whole subprocess (interpreter start-up included); skipped, with
  the reason, when ``site_builder`` is not there yet or fails.
* with ``--scaling``, ``relead check`` and ``site build`` again in one process
  (``RELEAD_JOBS=1``): the speed-up from one process to all of them.

Times exclude interpreter start-up and imports, except for the build. Peak
memory is each task's own peak RSS: with several processes, the largest of them
(a forked worker shares its parent's pages until it writes to them). With ``--repeat R`` each figure is the
median of R runs. A further child times relead's steps one by one (the
breakdown), and ``--profile`` adds a cProfile of ``check_repository``.
"""

from __future__ import annotations

import importlib.util
import itertools
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

from . import generate as G

__all__ = ["run"]

REPO_ROOT = G.REPO_ROOT
BAR_CHECK = 0.25
BAR_BUILD = 0.5
BAR_PEAK_MB = 1000
BAR_OVERVIEW_KB = 300


class ChildFailed(RuntimeError):
    pass


def _child(*args: str, timeout: float | None = None, jobs: int | None = None) -> dict:
    """Run ``python -m bench.child ARGS`` in a fresh interpreter; its JSON result.

    ``jobs``: the processes relead may use (``RELEAD_JOBS``); None: what the environment says.
    """
    cmd = [sys.executable, "-m", "bench.child", *args]
    env = dict(os.environ)
    if jobs is not None:
        env["RELEAD_JOBS"] = str(jobs)
    env["PYTHONPATH"] = str(REPO_ROOT) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    proc = subprocess.run(cmd, cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True, errors="replace", timeout=timeout)
    lines = proc.stdout.strip().splitlines()
    if proc.returncode != 0 or not lines:
        tail = "\n".join(proc.stderr.strip().splitlines()[-15:])
        raise ChildFailed(f"`{' '.join(args[:1])}` exited {proc.returncode}:\n{tail}")
    return json.loads(lines[-1])


def _mb(n_bytes: int) -> float:
    return n_bytes / 1e6


def _dir_bytes(path: Path, pattern: str = "*") -> int:
    return sum(p.stat().st_size for p in path.rglob(pattern) if p.is_file())


def _site_builder_missing() -> str | None:
    if importlib.util.find_spec("site_builder") is None:
        return "the site_builder package is not installed"
    if importlib.util.find_spec("site_builder.__main__") is None:
        return "site_builder has no __main__ yet"
    return None


def _build_once(repo: Path, today: str, site: Path, jobs: int | None = None) -> dict:
    """One build into ``site``, a folder no earlier build used; the caller removes them all at the
    end (:func:`_remove_sites`)."""
    missing = _site_builder_missing()
    if missing:
        return {"skipped": missing}
    out = _child("wrap", "--", sys.executable, "-m", "site_builder", "build", "--root", str(repo),
                 "--out", str(site), "--today", today, jobs=jobs)
    if out["returncode"] != 0:
        why = (out["stderr_tail"] or out["stdout_tail"] or ["no output"])[-1]
        return {"skipped": f"exit {out['returncode']}: {why[:200]}"}
    index = site / "index.html"
    out["overview_kb"] = index.stat().st_size / 1024 if index.is_file() else None
    out["site_mb"] = _mb(_dir_bytes(site))
    return out


# The builds' sites: beside the repository, as `make build` writes its _site/ into it (on the
# repository's own disk, not in the temporary folder, which may be another file system), each
# in a folder of its own, all removed once the builds are done. Removing one site just before
# the next build would time the removal, not the build: ext4 without a journal (this project's
# machine) passes over every inode freed in the last minute (the last six, while the freeing is
# not yet on disk) each time it gives out a new one, so 58,000 files created just after as many
# were deleted took up to 20 s more kernel time (docs/scaling.md).
def _site_folder(out: Path, n: int) -> Path:
    return out / f"site-{n}"


def _remove_sites(out: Path) -> None:
    for folder in sorted(out.glob("site-*")):
        shutil.rmtree(folder, ignore_errors=True)


def _cores() -> int:
    from relead.jobs import available_cores
    return available_cores()


def _median(runs: list[dict], key: str) -> float | None:
    vals = [r[key] for r in runs if r.get(key) is not None]
    return statistics.median(vals) if vals else None


def _fmt_s(x: float | None) -> str:
    return "-" if x is None else f"{x:.2f}"


def run(*, leads: int, history: int, out: Path, keep: bool = False, repeat: int = 1,
        profile: bool = False, risky: bool = False, seed: int = 1, top: int = 25,
        jobs: int | None = None, scaling: bool = False) -> int:
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    repo = out / "repo"
    today = G.TODAY.isoformat()
    say = lambda *a: print(*a, flush=True)  # noqa: E731

    say(f"relead bench: {leads:,} leads, {history:,} history records, today {today}, "
        f"{jobs if jobs else _cores()} process(es) for relead"
        f"{', risky constructs' if risky else ''}")
    if keep and G.matches(repo, leads=leads, history=history, seed=seed, risky=risky):
        meta = G.read_meta(repo)
        gen_seconds = None
        say(f"  reusing {repo} (--keep)")
    else:
        say(f"  generating {repo} ...")
        t0 = time.perf_counter()
        meta = G.generate(repo, leads=leads, history=history, seed=seed, risky=risky)
        gen_seconds = time.perf_counter() - t0
        say(f"  generated in {gen_seconds:.1f} s")

    leads_bytes = (repo / "leads.yaml").stat().st_size
    history_bytes = _dir_bytes(repo / "history", "*.tsv")
    history_files = sum(1 for _ in (repo / "history").rglob("*.tsv"))

    load_before = os.getloadavg()[0]
    runs: dict[str, list[dict]] = {"baseline": [], "relead": [], "build": [], "relead1": [], "build1": []}
    failures: list[str] = []
    _remove_sites(out)      # a run stopped midway left them
    sites = itertools.count(1)
    for i in range(repeat):
        tag = f" (run {i + 1}/{repeat})" if repeat > 1 else ""
        say(f"  baseline: CSafeLoader parse of leads.yaml{tag} ...")
        runs["baseline"].append(_child("baseline", str(repo / "leads.yaml")))
        say(f"  relead: check_repository{tag} ...")
        res = _child("relead", str(repo), today, jobs=jobs)
        runs["relead"].append(res)
        if res["errors"]:
            failures.append(f"relead found {res['errors']} errors in the generated repository:\n  "
                            + "\n  ".join(res["first_errors"]))
        say(f"  site build{tag} ...")
        try:
            runs["build"].append(_build_once(repo, today, _site_folder(out, next(sites)), jobs))
        except ChildFailed as exc:
            runs["build"].append({"skipped": str(exc).splitlines()[0]})
        if scaling:
            say(f"  relead, one process{tag} ...")
            runs["relead1"].append(_child("relead", str(repo), today, jobs=1))
            say(f"  site build, one process{tag} ...")
            try:
                runs["build1"].append(_build_once(repo, today, _site_folder(out, next(sites)), 1))
            except ChildFailed as exc:
                runs["build1"].append({"skipped": str(exc).splitlines()[0]})
    _remove_sites(out)
    # The step timers see only this process: the breakdown and the profile run in one.
    say("  breakdown of relead's time (one process) ...")
    try:
        breakdown = _child("breakdown", str(repo), today, jobs=1)
    except ChildFailed as exc:
        breakdown = {"error": str(exc)}
    prof = None
    if profile:
        say("  profiling check_repository (cProfile) ...")
        try:
            prof = _child("profile", str(repo), today, str(top), jobs=1)
        except ChildFailed as exc:
            prof = {"error": str(exc)}

    load_after = os.getloadavg()[0]
    base_s = _median(runs["baseline"], "seconds")
    base_cpu = _median(runs["baseline"], "cpu_seconds")
    rel_s = _median(runs["relead"], "seconds")
    built = [r for r in runs["build"] if "skipped" not in r]
    build_skipped = runs["build"][-1].get("skipped") if not built else None
    build_s = _median(built, "seconds") if built else None

    def task(name, what, rs, seconds):
        cpu = _median(rs, "cpu_seconds") if rs else None
        paired = [r["seconds"] / b["seconds"] for r, b in zip(runs[name_key[name]], runs["baseline"])
                  if "skipped" not in r and r.get("seconds") and b.get("seconds")]
        return {"task": name, "what": what, "seconds": seconds,
                "runs": [r.get("seconds") for r in rs],
                "cpu_seconds": cpu,
                "peak_mb": max((r["peak_mb"] for r in rs if r.get("peak_mb") is not None), default=None),
                "ratio": (seconds / base_s) if seconds is not None and base_s else None,
                "cpu_ratio": (cpu / base_cpu) if cpu is not None and base_cpu else None,
                "paired_ratios": paired}

    name_key = {"baseline": "baseline", "relead check": "relead", "site build": "build",
                "check, 1 proc": "relead1", "build, 1 proc": "build1"}

    tasks = [
        task("baseline", "yaml.load(text, Loader=CSafeLoader) of leads.yaml; file read outside the timer",
             runs["baseline"], base_s),
        task("relead check", "check_repository: read + parse + validate + history + derive + lint + locate",
             runs["relead"], rel_s),
        task("site build", "python -m site_builder build, the whole subprocess", built, build_s),
    ]
    speedups = {}
    if scaling:
        built1 = [r for r in runs["build1"] if "skipped" not in r]
        rel1_s = _median(runs["relead1"], "seconds")
        build1_s = _median(built1, "seconds") if built1 else None
        tasks.append(task("check, 1 proc", "relead check with RELEAD_JOBS=1", runs["relead1"], rel1_s))
        tasks.append(task("build, 1 proc", "site build with RELEAD_JOBS=1", built1, build1_s))
        speedups = {"relead check": rel1_s / rel_s if rel1_s and rel_s else None,
                    "site build": build1_s / build_s if build1_s and build_s else None}
    if build_skipped:
        tasks[2]["skipped"] = build_skipped
    if built:
        tasks[2]["overview_kb"] = built[-1].get("overview_kb")
        tasks[2]["site_mb"] = built[-1].get("site_mb")
    rel_last = runs["relead"][-1]

    bars = []

    def bar(name, value, limit, unit, strict=False):
        if value is None:
            bars.append({"bar": name, "value": None, "limit": limit, "result": "SKIPPED"})
            return
        ok = value < limit if strict else value <= limit
        bars.append({"bar": name, "value": value, "limit": limit, "unit": unit,
                     "result": "PASS" if ok else "FAIL"})

    bar("load+validate+derive ratio (relead check / baseline)", tasks[1]["ratio"], BAR_CHECK, "x")
    bar("whole build ratio (site build / baseline)", tasks[2]["ratio"], BAR_BUILD, "x")
    bar("peak memory, site build", tasks[2]["peak_mb"], BAR_PEAK_MB, "MB", strict=True)
    bar("peak memory, relead check", tasks[1]["peak_mb"], BAR_PEAK_MB, "MB", strict=True)
    bar("overview page (index.html) size", tasks[2].get("overview_kb"), BAR_OVERVIEW_KB, "KB", strict=True)

    results = {
        "today": today, "python": platform.python_version(), "machine": platform.machine(),
        "cpus": os.cpu_count(), "repeat": repeat, "repo": str(repo),
        "jobs": jobs if jobs else _cores(), "speedups": speedups,
        "load_average": {"before": load_before, "after": load_after},
        "generated": {**meta, "seconds": gen_seconds},
        "sizes": {"leads_yaml_mb": _mb(leads_bytes), "history_mb": _mb(history_bytes),
                  "history_files": history_files},
        "counts": {"leads": rel_last.get("leads"), "history_records": rel_last.get("history_records"),
                   "warnings": rel_last.get("warnings"), "errors": rel_last.get("errors")},
        "tasks": tasks, "bars": bars, "breakdown": breakdown, "profile": prof,
        "failures": failures,
    }
    (out / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    _print(results, say)
    say(f"\nresults: {out / 'results.json'}")
    for f in failures:
        say(f"\nFAILED: {f}")
    return 1 if failures else 0


def _print(res: dict, say) -> None:
    s, c = res["sizes"], res["counts"]
    say("")
    say(f"data: leads.yaml {s['leads_yaml_mb']:.1f} MB, {c['leads']:,} leads "
        f"({c['warnings']:,} warnings, {c['errors']} errors); history {s['history_mb']:.1f} MB, "
        f"{c['history_records']:,} records in {s['history_files']:,} files")
    if "parser" in res["breakdown"]:
        b = res["breakdown"]
        say(f"relead parsed leads.yaml with {b['parser']}"
            f"{' (the file holds constructs yaml-rs and PyYAML may read differently)' if b['risky'] else ''}"
            f"{'' if b['fast_parser_available'] else ' (yaml-rs is not installed)'}")
    say("")
    head = f"{'task':<14} {'seconds':>9} {'peak MB':>9} {'ratio':>7} {'CPU s':>8} {'CPU ratio':>9}  notes"
    say(head)
    say("-" * len(head))
    for t in res["tasks"]:
        ratio = "-" if t["ratio"] is None else f"{t['ratio']:.3f}"
        cratio = "-" if t.get("cpu_ratio") is None else f"{t['cpu_ratio']:.3f}"
        peak = "-" if t["peak_mb"] is None else f"{t['peak_mb']:.0f}"
        note = t.get("skipped") and f"skipped: {t['skipped']}" or t["what"]
        if len(t["runs"]) > 1:
            note += "; runs " + ", ".join(_fmt_s(x) for x in t["runs"])
            if t["task"] != "baseline" and t.get("paired_ratios"):
                note += " (ratios run by run " + ", ".join(f"{x:.3f}" for x in t["paired_ratios"]) + ")"
        say(f"{t['task']:<14} {_fmt_s(t['seconds']):>9} {peak:>9} {ratio:>7} "
            f"{_fmt_s(t.get('cpu_seconds')):>8} {cratio:>9}  {note}")
    la = res["load_average"]
    cpus = res["cpus"] or 1
    if max(la["before"], la["after"]) > 0.75 * cpus:
        say(f"note: the machine was busy (load average {la['before']:.1f} before, {la['after']:.1f} after, "
            f"{cpus} CPUs): wall times are inflated and noisy; CPU times and --repeat help")
    sp = res.get("speedups") or {}
    if sp:
        words = ", ".join(f"{k} {v:.2f}x" for k, v in sp.items() if v)
        say(f"speed-up from 1 process to {res['jobs']} (medians): {words or 'not measured'}")
    say("")
    say("bars (docs/scaling.md; medians of the runs):")
    for b in res["bars"]:
        if b["value"] is None:
            say(f"  {b['result']:<7} {b['bar']} (limit {b['limit']})")
            continue
        op = "<=" if b["unit"] == "x" else "<"
        fmt = f"{b['value']:.3f}" if b["unit"] == "x" else f"{b['value']:.0f}"
        say(f"  {b['result']:<7} {b['bar']}: {fmt} {b['unit']} ({op} {b['limit']} {b['unit']})")
    bd = res["breakdown"]
    say("")
    if "error" in bd:
        say(f"breakdown: unavailable: {bd['error']}")
    else:
        base = next((t["seconds"] for t in res["tasks"] if t["task"] == "baseline"), None)
        say(f"where relead's time goes: one more check_repository ({bd['total_seconds']:.2f} s), "
            "with timers around its steps (ratio: to the baseline):")
        for st in bd["steps"]:
            label = "  " * st["depth"] + st["step"]
            calls = f"x{st['calls']}" if st["calls"] != 1 else ""
            share = f"{st['seconds'] / base:.3f}x" if base else ""
            say(f"  {label:<62} {st['seconds']:>7.2f} s {share:>7} {calls}")
        say(f"  {'other (Model, Checked, ...)':<62} {bd['other_seconds']:>7.2f} s")
        say(f"  {'garbage collector, across all the above':<62} {bd['gc_seconds']:>7.2f} s "
            f"  ({bd['gc_collections']} collections; generation 2: {bd['gc_gen2_seconds']:.2f} s)")
        for m in bd.get("missing", ()):
            say(f"  (not timed: {m})")
    prof = res.get("profile")
    if prof:
        say("")
        if "error" in prof:
            say(f"profile: unavailable: {prof['error']}")
        else:
            say(f"cProfile of check_repository ({prof['seconds_profiled']:.1f} s under the profiler), "
                "top by own time:")
            say(f"  {'tottime':>8} {'cumtime':>8} {'calls':>10}  function")
            for row in prof["by_tottime"]:
                say(f"  {row['tottime']:>8.2f} {row['cumtime']:>8.2f} {row['calls']:>10}  {row['function']}")
            say("  top by cumulative time:")
            for row in prof["by_cumtime"]:
                say(f"  {row['tottime']:>8.2f} {row['cumtime']:>8.2f} {row['calls']:>10}  {row['function']}")
