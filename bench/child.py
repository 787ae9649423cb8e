"""One measured task, run by :mod:`bench.run` in a fresh interpreter: ``python -m bench.child TASK ...``.

Each task prints one JSON object as the last line of its standard output.
Imports happen before the clock starts; ``peak_mb`` is this process's peak
resident set size (``ru_maxrss``), or for ``wrap`` the peak of the command it
ran (``RUSAGE_CHILDREN`` of this otherwise idle process); with worker processes,
the largest single one. ``cpu_seconds`` is the CPU time (user + system) of the
same region, the workers' included: on a busy machine wall time grows with the
load, CPU time much less.

Tasks:
  baseline LEADS_YAML        read the file (not timed), then time
                             ``yaml.load(text, Loader=yaml.CSafeLoader)``
  relead ROOT TODAY          time ``relead.check.check_repository(ROOT, today=TODAY)``
  wrap -- CMD...             time CMD as a whole subprocess
  breakdown ROOT TODAY       one check_repository with timers around its steps, and GC time
  profile ROOT TODAY TOP     cProfile ``check_repository``; the TOP hotspots
"""

from __future__ import annotations

import datetime as dt
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

clock = time.perf_counter


def _peak_mb(who=resource.RUSAGE_SELF) -> float:
    return resource.getrusage(who).ru_maxrss / 1024.0     # KiB on Linux


def _children_cpu() -> float:
    """CPU time of the worker processes relead forked and waited for."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _emit(result: dict) -> None:
    sys.stdout.write("\n" + json.dumps(result) + "\n")
    sys.stdout.flush()


def baseline(path: str) -> dict:
    import yaml

    text = Path(path).read_text(encoding="utf-8")       # outside the timed region
    c0, t0 = time.process_time(), clock()
    data = yaml.load(text, Loader=yaml.CSafeLoader)
    seconds, cpu = clock() - t0, time.process_time() - c0
    return {"seconds": seconds, "cpu_seconds": cpu, "peak_mb": _peak_mb(), "leads": len(data["leads"])}


def relead(root: str, today: str) -> dict:
    from relead.check import check_repository

    c0, k0, t0 = time.process_time(), _children_cpu(), clock()
    checked = check_repository(root, today=dt.date.fromisoformat(today))
    seconds, cpu = clock() - t0, time.process_time() - c0 + _children_cpu() - k0
    model = checked.loaded.model
    errors = checked.errors
    return {
        "seconds": seconds, "cpu_seconds": cpu,
        "peak_mb": max(_peak_mb(), _peak_mb(resource.RUSAGE_CHILDREN)),
        "errors": len(errors), "warnings": len(checked.warnings),
        "first_errors": [p.format() if hasattr(p, "format") else str(p) for p in errors[:10]],
        "leads": len(model.leads) if model else None,
        "history_records": len(model.history.records) if model else None,
        "derived": checked.derived is not None,
    }


def wrap(cmd: list[str]) -> dict:
    t0 = clock()
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                          errors="replace")
    seconds = clock() - t0
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    last_err = proc.stderr.strip().splitlines()[-1:] if proc.stderr.strip() else []
    last_out = proc.stdout.strip().splitlines()[-1:] if proc.stdout.strip() else []
    return {"seconds": seconds, "cpu_seconds": usage.ru_utime + usage.ru_stime,
            "peak_mb": usage.ru_maxrss / 1024.0,
            "returncode": proc.returncode, "stderr_tail": last_err, "stdout_tail": last_out}


# Where relead's time goes: one real ``check_repository`` run, with timers around the
# functions it calls (module attributes replaced by timed wrappers), and the time
# spent in the cyclic garbage collector. Nothing is done twice, so the heap (and the
# collector's work) is the same as in the measured run. Rows: (depth, label, module,
# attribute); a missing attribute (the code moved) is reported, not fatal.
_TIMED = (
    (0, "load: read, parse, validate every file, read history", "relead.check", "load"),
    (1, "parse YAML (every file; see the two rows below)", "relead.read.load", "parse_checked"),
    (2, "scan for constructs the parsers read differently", "relead.read.yamlparse", "_is_risky"),
    (2, "yaml-rs loads", "relead.read.yamlparse._yaml_rs", "loads"),
    (2, "PyYAML (fallback)", "relead.read.yamlparse", "_pyyaml"),
    (1, "validate leads (leads_from)", "relead.read.load", "leads_from"),
    (1, "read history (read_history)", "relead.read.load", "read_history"),
    (0, "derive", "relead.check", "derive"),
    (1, "derive_states", "relead.derive.derived", "derive_states"),
    (1, "funnel, counts, losses, sources, owners, weeks, recovery", "relead.derive.funnel", "*"),
    (1, "rank (priorities)", "relead.derive.derived", "rank"),
    (1, "hygiene", "relead.derive.derived", "hygiene"),
    (2, "duplicate_groups", "relead.derive.hygiene", "duplicate_groups"),
    (2, "unknown_touches", "relead.derive.hygiene", "unknown_touches"),
    (0, "lint", "relead.check", "lint"),
    (0, "locate and sort problems (Loaded.located)", "relead.read.load", "_located"),
    (1, "locate: scan the leads text for lead lines (LeadLines.scan)", "relead.read.load:LeadLines", "scan"),
    (1, "locate: walk PyYAML events for the lines", "relead.read.load", "locate"),
)
_FUNNEL_FUNCS = ("funnel", "status_counts", "losses_by", "by_source", "by_owner", "weekly", "recovery")


def breakdown(root: str, today_text: str) -> dict:
    import gc
    import importlib

    from relead.check import check_repository

    totals: dict[int, list] = {}     # row -> [calls, seconds]
    missing = []
    scans: list[tuple[int, bool]] = []   # (text length, risky) for every scan

    def wrap_attr(row: int, owner, attr: str) -> None:
        fn = getattr(owner, attr)
        acc = totals.setdefault(row, [0, 0.0])

        def timed(*args, **kw):
            t0 = clock()
            try:
                value = fn(*args, **kw)
            finally:
                acc[0] += 1
                acc[1] += clock() - t0
            if attr == "_is_risky" and args and isinstance(args[0], str):
                scans.append((len(args[0]), value))
            return value
        setattr(owner, attr, timed)

    for row, (_depth, label, modname, attr) in enumerate(_TIMED):
        try:
            if modname.endswith("._yaml_rs"):
                ymod = importlib.import_module("relead.read.yamlparse")
                owner = ymod._yaml_rs
                if owner is None:
                    raise AttributeError("yaml_rs is not installed")
                owner = _Proxy(owner)
                ymod._yaml_rs = owner
            else:
                modname, _, cls = modname.partition(":")
                owner = importlib.import_module(modname)
                if cls:
                    owner = getattr(owner, cls)
            for a in (_FUNNEL_FUNCS if attr == "*" else (attr,)):
                wrap_attr(row, owner, a)
        except (ImportError, AttributeError) as exc:
            missing.append(f"{label}: {exc}")

    gc_time = [0.0, 0, 0.0]          # seconds, collections, seconds in generation 2
    gc_start = [0.0]

    def on_gc(phase, info):
        if phase == "start":
            gc_start[0] = clock()
        else:
            d = clock() - gc_start[0]
            gc_time[0] += d
            gc_time[1] += 1
            if info.get("generation") == 2:
                gc_time[2] += d
    gc.callbacks.append(on_gc)
    t0 = clock()
    checked = check_repository(root, today=dt.date.fromisoformat(today_text))
    total = clock() - t0
    gc.callbacks.remove(on_gc)

    steps = []
    for row, (depth, label, _m, _a) in enumerate(_TIMED):
        if row in totals:
            calls, seconds = totals[row]
            steps.append({"depth": depth, "step": label, "calls": calls, "seconds": seconds})
    top = sum(s["seconds"] for s in steps if s["depth"] == 0)
    from relead.read import yamlparse
    risky = max(scans)[1] if scans else True     # the largest text scanned: leads.yaml
    return {"total_seconds": total, "steps": steps, "other_seconds": total - top,
            "gc_seconds": gc_time[0], "gc_collections": gc_time[1], "gc_gen2_seconds": gc_time[2],
            "missing": missing, "warnings": len(checked.warnings), "errors": len(checked.errors),
            "risky": risky, "fast_parser_available": yamlparse.fast_parser_available(),
            "parser": "yaml-rs" if yamlparse.fast_parser_available() and not risky else "PyYAML"}


class _Proxy:
    """Stands in for a module whose attributes cannot be replaced (an extension module)."""

    def __init__(self, target):
        object.__setattr__(self, "_target", target)

    def __getattr__(self, name):
        return getattr(self._target, name)

    def __setattr__(self, name, value):
        object.__setattr__(self, name, value)


def profile(root: str, today: str, top: str) -> dict:
    import cProfile
    import pstats

    from relead.check import check_repository

    prof = cProfile.Profile()
    t0 = clock()
    prof.enable()
    check_repository(root, today=dt.date.fromisoformat(today))
    prof.disable()
    seconds = clock() - t0
    stats = pstats.Stats(prof)
    rows = []
    for (file, line, func), (cc, nc, tt, ct, _callers) in stats.stats.items():
        rows.append({"function": f"{_short(file)}:{line}({func})", "calls": nc,
                     "tottime": tt, "cumtime": ct})
    n = int(top)
    by_tot = sorted(rows, key=lambda r: -r["tottime"])[:n]
    by_cum = sorted(rows, key=lambda r: -r["cumtime"])[:n]
    return {"seconds_profiled": seconds, "by_tottime": by_tot, "by_cumtime": by_cum}


def _short(file: str) -> str:
    for marker in ("/relead/", "/site-packages/", "/lib/python3"):
        i = file.rfind(marker)
        if i >= 0:
            return file[i + 1:]
    return file


def main(argv: list[str]) -> int:
    task, args = argv[0], argv[1:]
    if task == "wrap":
        if args and args[0] == "--":
            args = args[1:]
        result = wrap(args)
    else:
        result = {"baseline": baseline, "relead": relead, "breakdown": breakdown,
                  "profile": profile}[task](*args)
    _emit(result)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
