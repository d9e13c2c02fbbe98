"""Smart Turn and the words together on real speech (espeak-ng), with the real models: Smart Turn v3.2 and
faster_whisper_asr's tiny.en transcriber, as the graph runs them at a VAD pause. No runtime: the policy
gets the model's verdict and the transcript of the pause.

The clipped utterances are ones Smart Turn calls finished on espeak (p 0.7-0.95), the failure the words
are there for; the complete ones must still finish at the pause.
"""

from pathlib import Path

import numpy as np
import pytest

from ten_packages.extension.faster_whisper_asr.transcriber import UtteranceTranscriber, WhisperSettings
from ten_packages.extension.turn_detector.settings import TurnDetectorSettings
from ten_packages.extension.turn_detector.smart_turn_model import SmartTurnModel, resolve_model_path
from ten_packages.extension.turn_detector.turn_policy import Reason, TurnDecision, TurnPolicy, TurnState
from ten_packages.system.voice_kit.testing.speech import conversation

APP_ROOT = Path(__file__).resolve().parents[4]
LEAD_MS, PAUSE_MS = 300, 150  # pre-speech audio, and the silence the VAD waits before its end of sentence
CLIPPED_HEARD_FINISHED = [
    "Where is the nearest",
    "I need to go to the",
    "Could you please",
    "Can you tell me about the",
]
COMPLETE = ["Please set a timer for ten minutes.", "Remind me to call my mother tomorrow."]


@pytest.fixture(scope="module")
def smart_turn() -> SmartTurnModel:
    settings = TurnDetectorSettings()
    return SmartTurnModel(resolve_model_path(settings.model_path, APP_ROOT, "", ""))


@pytest.fixture(scope="module")
def whisper() -> UtteranceTranscriber:
    return UtteranceTranscriber(WhisperSettings(model="packaged:tiny.en", cpu_threads=2))


def decide(
    smart_turn: SmartTurnModel, whisper: UtteranceTranscriber, text: str
) -> tuple[float, str, TurnDecision]:
    """Smart Turn's probability, the transcript, and the policy's decision at the pause after `text`."""
    settings = TurnDetectorSettings()
    audio = conversation([LEAD_MS, text, PAUSE_MS])
    speech_end_ms = len(audio) // 16 - PAUSE_MS
    vad_end_ms = len(audio) // 16
    policy = TurnPolicy(settings.max_pause_ms, settings.text_wait_ms, settings.sure_threshold)
    policy.transcript("Hi.", "en", end_ms=0, now_ms=0)  # the ASR is in the graph
    policy.speech_started()
    pause = policy.speech_ended(speech_end_ms, now_ms=vad_end_ms)
    probability = smart_turn.completion_probability(audio)
    state = TurnState.FINISHED if probability >= settings.finished_threshold else TurnState.UNFINISHED
    decision = policy.verdict(pause, state, probability, now_ms=vad_end_ms + 60)
    transcript = whisper.transcribe(audio)
    if decision is None:  # held for the words
        decision = policy.transcript(transcript.text, transcript.language, vad_end_ms, vad_end_ms + 120)
    return probability, transcript.text, decision


@pytest.mark.parametrize("text", CLIPPED_HEARD_FINISHED)
def test_words_keep_a_clipped_utterance_open_that_smart_turn_calls_finished(smart_turn, whisper, text):
    probability, heard, decision = decide(smart_turn, whisper, text)
    assert probability >= 0.5, (
        f"Smart Turn now hears {text!r} as unfinished ({probability:.2f}): pick another"
    )
    assert (decision.state, decision.reason) == (TurnState.UNFINISHED, Reason.WORDS), (heard, probability)


@pytest.mark.parametrize("text", COMPLETE)
def test_complete_utterance_still_finishes_at_the_pause(smart_turn, whisper, text):
    probability, heard, decision = decide(smart_turn, whisper, text)
    assert (decision.state, decision.reason) == (TurnState.FINISHED, Reason.MODEL), (heard, probability)


def test_a_chinese_transcript_is_judged_by_the_chinese_rules():
    policy = TurnPolicy(max_pause_ms=1500, text_wait_ms=250, sure_threshold=0.95)
    policy.transcript("我想问一下，因为", "zh", end_ms=1140, now_ms=1200)
    pause = policy.speech_ended(speech_end_ms=1000, now_ms=1140)
    decision = policy.verdict(pause, TurnState.FINISHED, 0.9, now_ms=1250)
    assert (decision.state, decision.reason) == (TurnState.UNFINISHED, Reason.WORDS)
    assert np.isclose(decision.probability, 0.9)
