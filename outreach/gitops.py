"""Committing a run's outcomes (and pushing them) with the ``git`` command.

Only ``history/`` and the day's queue are committed, with ``git commit --only``
so nothing else a person has staged goes with them. A push the remote rejects
(someone pushed first) is retried after ``git pull --rebase``: history files are
per day and per writer (and ``merge=union`` in .gitattributes), so the rebase
does not conflict with pull requests that edit leads.yaml or record responses.
:mod:`outreach.claim` builds the claims of ``PUSH=1`` runs on :func:`push_once`,
:func:`take_back` and :func:`pull`.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

from .errors import GitError

__all__ = ["Committed", "is_repository", "is_committed", "is_tracked", "commit_paths", "push", "push_once",
           "pull", "upstream", "take_back", "FALLBACK_IDENTITY"]

FALLBACK_IDENTITY = ("relead outreach", "outreach@relead.invalid")


@dataclass(frozen=True, slots=True)
class Committed:
    sha: str
    message: str


def _git(root: Path, *args: str, check: bool = True, identity: bool = False) -> subprocess.CompletedProcess:
    cmd = ["git"]
    if identity:
        cmd += ["-c", f"user.name={FALLBACK_IDENTITY[0]}", "-c", f"user.email={FALLBACK_IDENTITY[1]}"]
    try:
        out = subprocess.run(cmd + list(args), cwd=root, capture_output=True, text=True, timeout=300)
    except (OSError, subprocess.SubprocessError) as exc:
        raise GitError(f"git {args[0]} could not run: {exc.__class__.__name__}") from None
    if check and out.returncode != 0:
        msg = (out.stderr or out.stdout).strip().splitlines()
        raise GitError(f"git {args[0]} failed: {msg[-1] if msg else out.returncode}")
    return out


def is_repository(root: Path | str) -> bool:
    out = _git(Path(root), "rev-parse", "--is-inside-work-tree", check=False)
    return out.returncode == 0 and out.stdout.strip() == "true"


def is_committed(root: Path | str, path: Path | str) -> bool:
    """True when ``path`` is tracked and identical to HEAD (nothing staged or changed)."""
    root = Path(root)
    rel = str(Path(path).resolve().relative_to(root.resolve()))
    if _git(root, "ls-files", "--error-unmatch", "--", rel, check=False).returncode != 0:
        return False
    return _git(root, "diff", "--quiet", "HEAD", "--", rel, check=False).returncode == 0


def _has_identity(root: Path) -> bool:
    return bool(_git(root, "config", "user.email", check=False).stdout.strip())


def commit_paths(root: Path | str, paths: list[Path | str], message: str) -> Committed | None:
    """Commit the changes under ``paths`` only; None when there is nothing to commit."""
    root = Path(root)
    rels = [str(Path(p).resolve().relative_to(root.resolve())) for p in paths if Path(p).exists()]
    if not rels:
        return None
    _git(root, "add", "--", *rels)
    if _git(root, "diff", "--cached", "--quiet", "--", *rels, check=False).returncode == 0:
        return None
    _git(root, "commit", "--quiet", "--no-verify", "-m", message, "--only", "--", *rels,
         identity=not _has_identity(root))
    sha = _git(root, "rev-parse", "HEAD").stdout.strip()
    return Committed(sha, message)


def upstream(root: Path | str) -> tuple[str, str]:
    """(remote, branch) the current branch pushes to: its upstream, else ``origin`` and the same name."""
    root = Path(root)
    branch = _git(root, "rev-parse", "--abbrev-ref", "HEAD").stdout.strip()
    if branch == "HEAD":
        raise GitError("not on a branch (detached HEAD): cannot push")
    remote = _git(root, "config", f"branch.{branch}.remote", check=False).stdout.strip() or "origin"
    merge = _git(root, "config", f"branch.{branch}.merge", check=False).stdout.strip()
    if _git(root, "remote", "get-url", remote, check=False).returncode != 0:
        raise GitError(f"PUSH=1, but this repository has no remote `{remote}`: add one (git remote add), or "
                       "run without PUSH=1")
    return remote, merge.removeprefix("refs/heads/") if merge else branch


def pull(root: Path | str) -> str:
    """Fetch and rebase the current branch on its remote (a change not committed is stashed and put
    back); history files merge by union. Returns ``remote/branch``."""
    root = Path(root)
    remote, target = upstream(root)
    out = _git(root, "pull", "--rebase", "--autostash", "--quiet", remote, target, check=False,
               identity=not _has_identity(root))
    if out.returncode != 0:
        _git(root, "rebase", "--abort", check=False)
        msg = (out.stderr or out.stdout).strip().splitlines()
        raise GitError(f"could not bring this checkout up to date with {remote}/{target}: "
                       f"{msg[-1] if msg else out.returncode}")
    return f"{remote}/{target}"


# How git says another push got there first: the remote has commits we lack, or it moved while
# ours was on its way (the remote's compare-and-swap of the branch failed). Any other refusal
# (a hook, a protected branch) is an error.
_RACE_LOST = ("[rejected]", "non-fast-forward", "fetch first", "cannot lock ref", "failed to update ref")


def push_once(root: Path | str) -> bool:
    """Push the current branch; False when the remote has commits this checkout lacks (another
    runner pushed first), :class:`GitError` on anything else."""
    root = Path(root)
    remote, target = upstream(root)
    out = _git(root, "push", "--quiet", "--porcelain", remote, f"HEAD:refs/heads/{target}", check=False)
    if out.returncode == 0:
        return True
    text = out.stdout + out.stderr
    if any(word in text for word in _RACE_LOST):
        return False
    msg = text.strip().splitlines()
    raise GitError(f"push to {remote}/{target} failed: {msg[-1] if msg else out.returncode}")


def take_back(root: Path | str, paths: list[Path]) -> None:
    """Undo the last commit (a claim the remote refused) and unstage ``paths``; the files keep their
    content, for the caller to put back as it was."""
    root = Path(root)
    _git(root, "reset", "--soft", "--quiet", "HEAD~1")
    rels = [str(Path(p).resolve().relative_to(root.resolve())) for p in paths]
    _git(root, "reset", "--quiet", "HEAD", "--", *rels, check=False)


def is_tracked(root: Path | str, path: Path | str) -> bool:
    root = Path(root)
    rel = str(Path(path).resolve().relative_to(root.resolve()))
    return _git(root, "ls-files", "--error-unmatch", "--", rel, check=False).returncode == 0


def push(root: Path | str, *, attempts: int = 3) -> str:
    """Push the current branch to its upstream (else ``origin``); rebase and retry when the
    remote moved. Returns where it pushed."""
    root = Path(root)
    remote, target = upstream(root)
    for _ in range(max(1, attempts)):
        if push_once(root):
            return f"{remote}/{target}"
        pull(root)
    raise GitError(f"push to {remote}/{target} still rejected after {attempts} tries: other runs keep "
                   "pushing; run again")
