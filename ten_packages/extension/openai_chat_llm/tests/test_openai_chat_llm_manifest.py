"""manifest.json and property.json agree with the code."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

from ten_packages.extension.openai_chat_llm.chat_client import LlmSettings

EXTENSION_DIR = Path(__file__).resolve().parents[1]


def _load(path: Path) -> dict:
    return json.loads(path.read_text())


def test_openai_chat_llm_properties_are_declared_and_defaulted_consistently() -> None:
    declared = _load(EXTENSION_DIR / "manifest.json")["api"]["property"]["properties"]
    defaults = _load(EXTENSION_DIR / "property.json")
    setting_names = {setting.name for setting in dataclasses.fields(LlmSettings)}
    assert set(declared) == set(defaults) == setting_names | {"local_fallback"}
    assert LlmSettings.from_properties(defaults) == LlmSettings()
