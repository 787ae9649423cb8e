"""Claims: with a remote (``PUSH=1``), no touch goes out before its ``attempting`` record is on the remote.

A laptop and a scheduled job each have their own checkout; a lock cannot span them,
but the remote can. Each ``PUSH=1`` run first brings its checkout up to date, plans
on that, then for each group of touches (``OUTREACH_CLAIM``, default 100):

1. appends their ``attempting`` records (with the enrolments, skips and tasks of the
   plan, the first time) to today's history file and commits them: the claim;
2. pushes. Git updates a branch only if nobody pushed in between, so two runners can
   never both push a claim made on the same history: that is the whole lock;
3. sends, only once the push went through.

A rejected push means another runner (or a merged pull request) moved the remote
first. :class:`Claimer` then takes the claim back: the commit is undone, the claim's
records are cut off the history file (they were never on the remote, and nothing of
them was sent), results already recorded are committed on their own, and the checkout
is rebased on the remote. The run then plans again on what the remote holds, and any
touch another runner claimed is done for it (never sent twice; one claimed by a run
that died before recording its result stays unknown, for a person to settle).

Only runs that push coordinate this way: a run without ``PUSH=1`` sees only its own
checkout (one at a time, by :mod:`outreach.lock`).
"""

from __future__ import annotations

import os
from pathlib import Path

from . import gitops
from .errors import GitError

__all__ = ["Claimer"]


class Claimer:
    """The ``claim`` callable of :func:`outreach.run.send_queue` for a checkout with a remote."""

    def __init__(self, root: Path | str, queue_path: Path, day: str):
        self.root = Path(root)
        self.queue_path = Path(queue_path)
        self.day = day
        self.claims = 0             # claims pushed
        self.lost = 0               # claims another runner beat

    def __call__(self, journal, records, message: str) -> bool:
        path = journal.writer.path
        before = path.stat().st_size if path.exists() else None
        journal.durable(records)
        journal.writer.close()      # git may replace the file: the next append opens it again
        paths = [self.root / "history", self.queue_path]
        if gitops.commit_paths(self.root, paths, message) is None:
            raise GitError(f"the claim ({message}) made no commit: is history/ ignored by git?")
        if gitops.push_once(self.root):
            self.claims += 1
            return True
        self.lost += 1
        gitops.take_back(self.root, paths)
        if before is None:
            path.unlink()
        else:
            os.truncate(path, before)
        if self.queue_path.exists() and not gitops.is_tracked(self.root, self.queue_path):
            self.queue_path.unlink()    # the remote may hold the day's queue: that one is sent
        gitops.commit_paths(self.root, [self.root / "history"],
                            f"outreach {self.day}: results so far (another run claimed next)")
        gitops.pull(self.root)
        return False
