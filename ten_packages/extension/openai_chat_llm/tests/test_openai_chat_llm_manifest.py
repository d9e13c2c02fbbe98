"""manifest.json and property.json validate against TEN's schemas and agree with the code."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import jsonschema
import pytest

from ten_packages.extension.openai_chat_llm.chat_client import LlmSettings

EXTENSION_DIR = Path(__file__).resolve().parents[1]
SCHEMA_DIR = Path(__file__).resolve().parents[5] / "shared" / "ten-schema"


def _load(path: Path) -> dict:
    return json.loads(path.read_text())


@pytest.mark.parametrize("name", ["manifest", "property"])
def test_openai_chat_llm_files_validate_against_ten_schema(name: str) -> None:
    validator = jsonschema.Draft7Validator(_load(SCHEMA_DIR / f"{name}.schema.json"))
    errors = [
        f"{list(error.path)}: {error.message}"
        for error in validator.iter_errors(_load(EXTENSION_DIR / f"{name}.json"))
    ]
    assert errors == []


def test_openai_chat_llm_properties_are_declared_and_defaulted_consistently() -> None:
    declared = _load(EXTENSION_DIR / "manifest.json")["api"]["property"]["properties"]
    defaults = _load(EXTENSION_DIR / "property.json")
    setting_names = {setting.name for setting in dataclasses.fields(LlmSettings)}
    assert set(declared) == set(defaults) == setting_names | {"local_fallback"}
    assert LlmSettings.from_properties(defaults) == LlmSettings()
