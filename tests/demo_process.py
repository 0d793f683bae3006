"""``kkik demo --serve`` on the small world in a child process, for the tests that visit it."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SMALL = ROOT / "tests" / "data" / "demo" / "world-small.toml"


@contextmanager
def serving_demo(out: Path, pattern: str, *options: str) -> Iterator[re.Match[str]]:
    """Run the demo with ``--serve`` and yield the match of ``pattern`` in the first line of its
    output that has one (where it serves, who may log in). Afterwards Ctrl-C must stop it
    cleanly (exit 0).
    """
    command = [sys.executable, "-m", "harness", *options, "demo", "--world", str(SMALL),
               "--out", str(out), "--serve"]  # fmt: skip
    # The demo sets its own secrets; a developer's KKIK_* variables must not leak into it.
    env = {k: v for k, v in os.environ.items() if not k.startswith("KKIK_")}
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, cwd=ROOT, env=env)
    try:
        assert process.stdout is not None
        found = None
        for line in process.stdout:
            found = re.search(pattern, line)
            if found:
                break
        assert found is not None, f"kkik demo --serve printed nothing like {pattern!r}"
        yield found
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=20) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        if process.stdout is not None:
            process.stdout.close()
