"""Smart Turn v3.2 on real speech (espeak-ng), with the model that setup extracts from the pipecat-ai wheel.

On espeak's synthetic prosody the model is far from perfect (see the report of bench_listen.py); these
utterances are ones it judges clearly, so a broken feature pipeline (wrong scaling, padding at the wrong
end, unnormalized audio) shows up as a flipped verdict.
"""

from pathlib import Path

import numpy as np
import pytest

from ten_packages.extension.turn_detector.smart_turn_model import (
    WINDOW_SAMPLES,
    ModelNotFoundError,
    SmartTurnModel,
    resolve_model_path,
)
from ten_packages.system.voice_kit.testing.speech import conversation

APP_ROOT = Path(__file__).resolve().parents[4]
MODEL_PATH = "models/smart_turn/smart-turn-v3.2-cpu.onnx"
COMPLETE = ["Please set a timer for ten minutes.", "Remind me to call my mother tomorrow."]
CLIPPED = ["I was wondering if you could", "What if we tried to"]


@pytest.fixture(scope="module")
def model() -> SmartTurnModel:
    if not (APP_ROOT / MODEL_PATH).is_file():
        pytest.fail(f"{MODEL_PATH} missing: run scripts/setup.d/30-smart-turn.sh")
    return SmartTurnModel(resolve_model_path(MODEL_PATH, APP_ROOT, "", ""))


def user_turn(text: str) -> np.ndarray:
    """What the detector holds at the VAD's end of sentence: pre-speech audio, speech, ~150 ms of pause."""
    return conversation([300, text, 150])


def test_features_are_whisper_log_mel_of_the_last_8_seconds(model):
    short = model.features(user_turn(COMPLETE[0]))
    assert short.shape == (1, 80, 800) and short.dtype == np.float32
    long_audio = np.concatenate(
        [conversation(["Hello there, this is a long preamble."] * 4), user_turn(COMPLETE[0])]
    )
    assert len(long_audio) > WINDOW_SAMPLES
    np.testing.assert_allclose(model.features(long_audio), model.features(long_audio[-WINDOW_SAMPLES:]))
    assert not np.allclose(short, model.features(user_turn(CLIPPED[0])))


@pytest.mark.parametrize("text", COMPLETE)
def test_complete_utterance_sounds_finished(model, text):
    assert model.completion_probability(user_turn(text)) >= 0.5


@pytest.mark.parametrize("text", CLIPPED)
def test_clipped_utterance_sounds_unfinished(model, text):
    assert model.completion_probability(user_turn(text)) < 0.2


def test_empty_audio_is_refused(model):
    with pytest.raises(ValueError, match="no audio"):
        model.completion_probability(np.zeros(0, dtype=np.int16))


def test_missing_model_says_how_to_get_it(tmp_path):
    with pytest.raises(ModelNotFoundError, match="scripts/setup"):
        resolve_model_path("models/none.onnx", tmp_path, "", "")


def test_unreachable_hub_says_how_to_get_it(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")  # what a machine without the hub sees, without waiting on DNS
    with pytest.raises(ModelNotFoundError, match="hub is not reachable.*scripts/setup"):
        resolve_model_path(
            "models/none.onnx", tmp_path, "pipecat-ai/smart-turn-v3", "smart-turn-v3.2-cpu.onnx"
        )


def test_absolute_model_path_is_used_as_is(tmp_path):
    model_file = APP_ROOT / MODEL_PATH
    assert resolve_model_path(str(model_file), tmp_path, "", "") == model_file
