"""The long lists' shared parts: the municipality filter (by name or code) and paging.

A national campaign has 5,220 questions and as many calls; a page shows :data:`PAGE_SIZE` rows
of them, with links to the others, so a page costs the same whatever the campaign's size.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar
from urllib.parse import urlencode

from sqlalchemy import Engine
from sqlmodel import Session, select

from harness.store.models import Target

T = TypeVar("T")
PAGE_SIZE = 100
MAX_QUERY = 40  # characters of a filter value kept (the form's own limit)


def _fold(text: str) -> str:
    """Case and accents folded, so "ostersund" finds Östersund and "ARE" finds Åre."""
    plain = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in plain if not unicodedata.combining(c)).strip()


def known_targets(engine: Engine) -> dict[str, str]:
    """Every campaign target's kommunkod and name (the filter's choices), by code."""
    with Session(engine) as session:
        rows = session.exec(select(Target.kommunkod, Target.name).distinct()).all()
    return dict(sorted(rows))


def match_municipalities(query: str, targets: Mapping[str, str]) -> set[str]:
    """The kommunkoder a filter value means: a code, a name, or "2326 Berg" as the list shows.

    An exact code or name wins; otherwise every name that contains the value and every code
    that starts with it ("23": Jämtland's), so "berg" finds Berg alone, "sund" both Östersund
    and Strömsund."""
    text = query.strip()[:MAX_QUERY]
    if not text:
        return set(targets)
    head, _, rest = text.partition(" ")
    if head in targets and (not rest or _fold(rest) == _fold(targets[head])):
        return {head}
    wanted = _fold(text)
    exact = {code for code, name in targets.items() if wanted in (code, _fold(name))}
    if exact:
        return exact
    return {c for c, name in targets.items() if c.startswith(wanted) or wanted in _fold(name)}


@dataclass(frozen=True)
class Paged(Generic[T]):
    """One page of a list, and what the page links need."""

    rows: Sequence[T]
    number: int  # 1-based
    pages: int
    total: int
    first: int  # 1-based position of the first row shown (0 when there is none)
    last: int

    def link(self, path: str, params: Mapping[str, str], number: int) -> str:
        """The address of page ``number`` with the same filters."""
        kept = {k: v for k, v in params.items() if v}
        if number > 1:
            kept["page"] = str(number)
        return path + ("?" + urlencode(kept) if kept else "")


def page_of(rows: Sequence[T], asked: str, size: int = PAGE_SIZE) -> Paged[T]:
    """The page ``asked`` for (the query's text) of ``rows``; anything but a page number there
    is shows the nearest page, never an error."""
    text = asked.strip()
    number = int(text) if text.isascii() and text.isdigit() and len(text) < 10 else 1
    pages = max(1, -(-len(rows) // size))
    number = min(max(1, number), pages)
    start = (number - 1) * size
    shown = rows[start : start + size]
    return Paged(shown, number, pages, len(rows), start + 1 if shown else 0, start + len(shown))
