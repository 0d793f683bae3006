"""The code a benchmark compares against: a git revision's packages, extracted with ``git
archive`` into a folder of their own, so the "before" side runs in the same session as "after".
"""

from __future__ import annotations

import io
import subprocess
import tarfile
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def git(*args: str) -> bytes:
    return subprocess.run(
        ["git", "-C", str(ROOT), *args], capture_output=True, check=True, timeout=120
    ).stdout


def extract_baseline(revision: str, into: Path, packages: Sequence[str]) -> tuple[str | None, str]:
    """Extract ``packages`` of ``revision`` into ``into``: (full commit, "") or (None, why not).

    A package the revision does not have is left out; without ``probes`` there is nothing to
    compare against."""
    try:
        commit = git("rev-parse", "--verify", "--quiet", f"{revision}^{{commit}}").decode().strip()
    except FileNotFoundError:
        return None, "git is not installed: the 'before' side was skipped"
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired):
        return None, f"revision {revision} is not available (no git checkout?): 'before' skipped"
    try:
        top = set(git("ls-tree", "--name-only", commit).decode().split())
        paths = [p for p in packages if p in top]
        if "probes" not in paths:
            return None, f"revision {commit} has no probes/ package: 'before' skipped"
        archive = git("archive", "--format=tar", commit, "--", *paths)
        with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
            tar.extractall(into, filter="data")
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired, tarfile.TarError) as exc:
        return None, f"could not extract {revision} ({exc}): 'before' skipped"
    return commit, ""
