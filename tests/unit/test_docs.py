"""The README and the guides only name commands that exist."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def _commands(text: str) -> set[tuple[str, ...]]:
    found = set()
    for line in text.splitlines():
        for match in re.finditer(r"\bkkik ((?:[a-z][a-z-]*)(?: [a-z][a-z-]*)?)", line):
            words = tuple(match.group(1).split())
            found.add(words)
    return found


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.name)
def test_it_names_only_real_commands(kkik, doc: Path):
    for words in sorted(_commands(doc.read_text(encoding="utf-8"))):
        top = kkik("--lang", "en", words[0], "--help")
        assert top.code == 0, f"{doc.name}: kkik {words[0]} does not exist"
        if len(words) == 2 and "Commands:" in top.out:
            sub = kkik("--lang", "en", *words, "--help")
            assert sub.code == 0, f"{doc.name}: kkik {' '.join(words)} does not exist"
