"""docs/architecture.md draws the layers that import-linter enforces, in the same order.

The contract in pyproject.toml is what CI checks; this test keeps the drawing a newcomer reads
from drifting away from it, and every package of harness/ in a layer of its own.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _layers() -> list[list[str]]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))
    contracts = config["tool"]["importlinter"]["contracts"]
    (layers,) = [c for c in contracts if c["type"] == "layers"]
    assert layers["containers"] == ["harness"]
    return [[name.strip() for name in layer.split("|")] for layer in layers["layers"]]


def _drawing() -> str:
    text = (ROOT / "docs" / "architecture.md").read_text("utf-8")
    section = text.split("## Layers: one core, two faces", 1)[1]
    return section.split("```", 2)[1]


def test_every_package_and_top_module_of_harness_is_in_a_layer() -> None:
    named = {name for layer in _layers() for name in layer}
    found = {
        path.stem if path.is_file() else path.name
        for path in (ROOT / "harness").iterdir()
        if (path.is_dir() and (path / "__init__.py").exists())
        or (path.suffix == ".py" and path.stem not in ("__init__", "__main__"))
    }
    assert found == named


def test_the_drawing_shows_the_layers_top_down_in_the_contracts_order() -> None:
    drawing = _drawing()
    # Independent layers ("store | sandbox") may share a line, in the contract's order.
    positions = []
    for layer in _layers():
        for name in layer:
            shown = f"{name}.py" if (ROOT / "harness" / f"{name}.py").exists() else f"{name}/"
            match = re.search(rf"(?<![\w/]){re.escape(shown)}", drawing)
            assert match is not None, f"{shown} is not in the drawing"
            positions.append((match.start(), name))
    order = [name for _, name in sorted(positions)]
    flat = [name for layer in _layers() for name in layer]
    assert order == flat
