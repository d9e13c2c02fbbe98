"""manifest.json and property.json agree (tests/test_schemas.py validates both against TEN's schemas)."""

from __future__ import annotations

import json
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1]


def load(name: str) -> dict:
    return json.loads((PACKAGE / name).read_text(encoding="utf-8"))


def test_piper_tts_every_property_default_is_declared_with_its_type() -> None:
    declared = load("manifest.json")["api"]["property"]["properties"]
    defaults = load("property.json")
    assert set(defaults) == set(declared)
    python_types = {"string": str, "int64": int, "float64": float, "bool": bool}
    for name, value in defaults.items():
        assert isinstance(value, python_types[declared[name]["type"]]), name
