"""Loading the tiny Spark model through mlx-audio, LM token generation, voice cloning tokens, clear errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile

from ten_packages.extension.spark_tts_mlx.spark_model import (
    SamplingSettings,
    SparkModel,
    SparkModelUnavailable,
    SparkVoice,
)
from ten_packages.extension.spark_tts_mlx.testing import GLOBAL_TOKEN_COUNT, SEMANTIC_CODES
from ten_packages.system.voice_kit.testing.speech import synthesize_speech


def test_loads_through_mlx_audio_with_the_released_layout(tiny_spark_model: SparkModel) -> None:
    assert tiny_spark_model.sample_rate == 16000
    assert tiny_spark_model.samples_per_token == 320
    assert tiny_spark_model.global_token_count == GLOBAL_TOKEN_COUNT
    assert sorted(tiny_spark_model.semantic_index.values()) == list(range(SEMANTIC_CODES))


def test_language_model_stream_is_speaker_tokens_then_semantic_tokens(tiny_spark_model: SparkModel) -> None:
    """Constrained decoding turns even a random LM's output into a speakable stream."""
    source = tiny_spark_model.token_source(
        SparkVoice(gender="male", pitch="low"), SamplingSettings(max_tokens=40)
    )
    stream = source.open("hello world.")
    semantic = list(stream)
    assert len(stream.global_tokens()) == GLOBAL_TOKEN_COUNT
    assert stream.tokens_generated <= 40
    assert 0 < len(semantic) <= 40 - GLOBAL_TOKEN_COUNT
    assert all(0 <= token < SEMANTIC_CODES for token in semantic)
    audio = tiny_spark_model.decode(stream.global_tokens(), semantic)
    assert len(audio) == len(semantic) * 320 and np.isfinite(audio).all()


def test_voice_cloning_takes_speaker_tokens_from_the_reference(
    tiny_spark_model: SparkModel, tmp_path: Path
) -> None:
    reference = tmp_path / "reference.wav"
    soundfile.write(reference, synthesize_speech("This is my voice, please copy it."), 16000)
    voice = SparkVoice(ref_audio=str(reference), ref_text="This is my voice, please copy it.")
    source = tiny_spark_model.token_source(voice, SamplingSettings(max_tokens=12))
    speaker, reference_semantic = source.reference
    assert (
        len(speaker) == GLOBAL_TOKEN_COUNT and len(reference_semantic) > 50
    )  # ~2 s of speech at 50 tokens/s
    assert "<|bicodec_semantic_" in source.prompt("Hello.")
    stream = source.open("Hello.")
    semantic = list(stream)
    assert stream.global_tokens() == speaker and 0 < len(semantic) <= stream.tokens_generated <= 12


def test_unreachable_hub_gives_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    import huggingface_hub.constants

    monkeypatch.setattr(
        huggingface_hub.constants, "HF_HUB_OFFLINE", True
    )  # as when the hub cannot be reached
    with pytest.raises(SparkModelUnavailable, match="from the Hugging Face hub.*set the `model` property"):
        SparkModel.load("no-such-org/no-such-spark-model")


def test_bad_settings_and_missing_models_give_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="gender"):
        SparkVoice(gender="robot")
    with pytest.raises(ValueError, match="pitch"):
        SparkVoice(pitch="loud")
    with pytest.raises(ValueError, match="ref_audio"):
        SparkVoice(ref_audio=str(tmp_path / "missing.wav"))
    with pytest.raises(SparkModelUnavailable, match="does not exist"):
        SparkModel.load(str(tmp_path / "no-such-model"))
    (tmp_path / "empty").mkdir()
    with pytest.raises(SparkModelUnavailable, match="not a loadable Spark-TTS model"):
        SparkModel.load(str(tmp_path / "empty"))
