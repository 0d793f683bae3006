"""A demo world built in code from a seed: every municipality, or any of them (pure).

For benchmarks and scale tests (the national run), where writing a profile per municipality by
hand is pointless; the world it builds passes the same validation as a world file
(:mod:`harness.demo.world`).
"""

from __future__ import annotations

import random
import re
import unicodedata
from collections.abc import Iterable
from datetime import date

from harness.core.scenario import municipalities
from harness.demo.world import EmailProfile, PhoneProfile, World, WorldMunicipality

__all__ = ["generate_world"]


def _ascii_slug(name: str) -> str:
    """ "Upplands Väsby" -> "upplands-vasby": the name folded to the address's slug alphabet."""
    folded = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9]+", "-", folded.casefold()).strip("-")


def generate_world(
    seed: int,
    kommunkoder: Iterable[str] | None = None,
    *,
    name: str = "Generated national world",
    campaign: str = "KKiK-demo nationell",
    period_start: date = date(2026, 10, 5),
    period_end: date = date(2026, 11, 13),
    emails_per_target: int = 18,
    calls_per_target: int = 18,
    extra_closed_days: tuple[date, ...] = (),
) -> World:
    """A world of many municipalities (all 290 by default) with profiles drawn from ``seed``.

    For benchmarks and scale tests, where writing a profile per municipality by hand is
    pointless: each municipality gets plausible shares and delays drawn from ranges wide enough
    that every branch of the world (receipts, holding replies, junk, broken threading, no reply;
    busy, unanswered, queues, no person) occurs. Switchboards are unique 010 numbers built from
    the kommunkod (010-1AB CD 00) and addresses ``kommun@<name>.example.se``, so the world passes
    the same validation as a world file. The same seed gives the same world.
    """
    rng = random.Random(f"{seed}-world")
    known = municipalities()
    codes = sorted(known) if kommunkoder is None else list(kommunkoder)
    slugs: set[str] = set()
    targets = []
    for code in codes:
        official = known[code].name
        slug = _ascii_slug(official) or f"k{code}"
        if slug in slugs:  # two names folding to one slug: keep addresses unique
            slug = f"{slug}-{code}"
        slugs.add(slug)
        weights = [rng.uniform(0.0, 1.0) for _ in range(4)]
        total = sum(weights)
        median = rng.uniform(1.0, 12.0)
        email_profile = EmailProfile(
            delay_median_hours=round(median, 2),
            delay_spread=round(rng.uniform(0.2, 1.0), 2),
            delay_max_hours=round(max(median, rng.uniform(20.0, 80.0)), 2),
            share_receipt=round(rng.uniform(0.0, 0.9), 2),
            share_holding=round(rng.uniform(0.0, 0.5), 2),
            share_never=round(rng.uniform(0.0, 0.2), 2),
            share_officer=round(rng.uniform(0.2, 0.8), 2),
            share_broken_threading=round(rng.uniform(0.0, 0.3), 2),
            share_junk=round(rng.uniform(0.0, 0.1), 2),
        )
        ring_low = rng.uniform(2.0, 10.0)
        queue_low = rng.uniform(5.0, 60.0)
        phone_profile = PhoneProfile(
            ring_seconds=(round(ring_low, 1), round(ring_low + rng.uniform(0.0, 20.0), 1)),
            share_busy=round(rng.uniform(0.0, 0.1), 2),
            share_unanswered=round(rng.uniform(0.0, 0.1), 2),
            share_no_person=round(rng.uniform(0.0, 0.1), 2),
            share_ivr=round(rng.uniform(0.0, 1.0), 2),
            queue_seconds=(round(queue_low, 1), round(queue_low + rng.uniform(0.0, 200.0), 1)),
            direct_answer=round(rng.uniform(0.4, 0.95), 2),
            bemotande=(
                weights[0] / total,
                weights[1] / total,
                weights[2] / total,
                1.0 - (weights[0] + weights[1] + weights[2]) / total,
            ),
        )
        targets.append(
            WorldMunicipality(
                kommunkod=code,
                name=official,
                email=f"kommun@{slug}.example.se",
                switchboard=f"010-1{code[:2]} {code[2:]} 00",
                email_profile=email_profile,
                phone_profile=phone_profile,
            )
        )
    return World(
        name=name,
        campaign=campaign,
        period_start=period_start,
        period_end=period_end,
        emails_per_target=emails_per_target,
        calls_per_target=calls_per_target,
        extra_closed_days=extra_closed_days,
        targets=tuple(targets),
    )
