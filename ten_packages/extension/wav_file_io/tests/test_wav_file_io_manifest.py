"""manifest.json and property.json validate against TEN's schemas and declare every property."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

EXTENSION_DIR = Path(__file__).resolve().parents[1]
SCHEMA_DIR = Path(__file__).resolve().parents[4].parent / "shared" / "ten-schema"


@pytest.mark.parametrize("kind", ["manifest", "property"])
def test_validates_against_the_ten_schema(kind: str) -> None:
    schema_path = SCHEMA_DIR / f"{kind}.schema.json"
    if not schema_path.exists():
        pytest.skip(f"TEN schemas not found at {SCHEMA_DIR}")
    schema = json.loads(schema_path.read_text())
    document = json.loads((EXTENSION_DIR / f"{kind}.json").read_text())
    assert [e.message for e in jsonschema.Draft7Validator(schema).iter_errors(document)] == []


def test_every_default_property_is_typed_in_the_manifest() -> None:
    manifest = json.loads((EXTENSION_DIR / "manifest.json").read_text())
    defaults = json.loads((EXTENSION_DIR / "property.json").read_text())
    declared = manifest["api"]["property"]["properties"]
    assert manifest["name"] == EXTENSION_DIR.name
    assert set(defaults) == set(declared)
    python_types = {"string": str, "bool": bool, "int64": int, "float64": float}
    assert all(isinstance(value, python_types[declared[key]["type"]]) for key, value in defaults.items())
