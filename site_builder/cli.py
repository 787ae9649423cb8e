"""`python -m site_builder`: build the dashboard, or serve it on 127.0.0.1."""

from __future__ import annotations

import argparse
import functools
import http.server
import sys
import time
from pathlib import Path

from relead.cli import add_common, finish
from relead.clock import as_of_note

from .build import build

__all__ = ["main"]


def _build(args) -> int:
    start = time.perf_counter()
    result = build(args.root, args.out, today=args.today, strict=args.strict, redact=args.redact,
                   jobs=args.jobs)
    checked = result.checked
    for p in checked.problems:
        print(p.format())
    if not result.files:
        n = len(checked.errors)
        why = f"{n} error{'s' * (n != 1)}" if n else f"{len(checked.warnings)} warnings (--strict)"
        print(f"build failed: {why}; nothing was written")
        return finish(args, 1)
    print(f"built {args.out}/: {result.files} files, {result.pages} pages of which "
          f"{result.lead_pages} lead pages (as of {checked.today}{', redacted' if args.redact else ''}) in {time.perf_counter() - start:.1f} s")
    if checked.loaded.as_of is not None:
        print(as_of_note(checked.loaded.as_of))
    return finish(args, 0)


def _serve(args) -> int:
    directory = Path(args.dir)
    if not (directory / "index.html").is_file():
        print(f"error: {directory}/index.html does not exist; run `make build` first", file=sys.stderr)
        return 2
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(directory))
    with http.server.ThreadingHTTPServer(("127.0.0.1", args.port), handler) as server:
        host, port = server.server_address[:2]
        print(f"serving {directory}/ on http://{host}:{port}/ (Ctrl-C stops)", flush=True)
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
    return 0


def main(argv: list[str] | None = None, *, script: bool = False) -> int:
    """``script``: run as ``python -m site_builder``; a build may end the process (relead.cli.finish)."""
    parser = argparse.ArgumentParser(prog="python -m site_builder",
                                     description="Render relead's static dashboard.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    p = sub.add_parser("build", help="validate, then render the dashboard into --out",
                       description="Validate the data, then write every page and the data exports. "
                                   "Exit 1 on invalid data (nothing is written), 2 on bad usage.")
    add_common(p)
    p.add_argument("--out", type=Path, default=Path("_site"), help="output directory (default: _site)")
    p.add_argument("--redact", action="store_true",
                   help="mask every email address and phone number in the pages and the data exports "
                        "(for a wider audience; docs/guide.md)")
    p.set_defaults(func=_build)
    p = sub.add_parser("serve", help="serve the built site on 127.0.0.1")
    p.add_argument("--dir", type=Path, default=Path("_site"), help="the built site (default: _site)")
    p.add_argument("--port", type=int, default=8000, help="port (default 8000; 0 picks a free one)")
    p.set_defaults(func=_serve)
    args = parser.parse_args(argv)
    args.script = script
    if not getattr(args, "func", None):
        parser.print_help(sys.stderr)
        return 2
    if getattr(args, "root", None) is not None and not args.root.is_dir():
        print(f"error: {args.root} is not a directory", file=sys.stderr)
        return 2
    return args.func(args)
