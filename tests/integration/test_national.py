"""The national-scale run in small: a generated world through the whole demo machinery.

``bench/bench_national.py`` runs all 290 municipalities; CI runs five of them with the same
36 probes each (18 e-mails, 18 calls) and the same invariants: every probe ends exactly once
(completed, one question or one call) and every score equals the world's ground truth.
"""

from __future__ import annotations

from pathlib import Path

from harness.core.scenario import municipalities
from harness.demo.run import Demo
from harness.demo.world_generate import generate_world

# The first five by kommunkod include 0114 Upplands Väsby, whose seed-2026 profile reaches a
# person just under 60 s after a dial that started mid-second (the truth's rounding bug).
COUNT = 5


async def test_a_generated_world_is_measured_exactly_with_every_probe_accounted(tmp_path: Path):
    codes = sorted(municipalities())[:COUNT]
    world = generate_world(2026, codes)
    result = await Demo(tmp_path, seed=2026, world=world).run()
    assert result.unaccounted == []
    assert result.states == {"completed": COUNT * 36}
    assert result.probes == COUNT * 36
    assert result.calls == COUNT * 18
    assert result.questions_received == COUNT * 18
    assert result.mismatches == []
    assert {s.kommunkod for s in result.truth} == set(codes)


def test_a_generated_world_is_reproducible_and_valid():
    world = generate_world(7)
    assert len(world.targets) == 290
    assert world == generate_world(7)
    assert world != generate_world(8)
    assert len({t.email for t in world.targets}) == 290
    assert len({t.switchboard_e164 for t in world.targets}) == 290
