"""AEC + echo guard + TEN VAD on a simulated echo path: the bot's own voice must never start a sentence,
the user talking over it must; and so must a user on headphones (no echo path at all)."""

from __future__ import annotations

import numpy as np
import pytest

from ten_packages.extension.ten_vad_detector.speech_detector import SpeechDetector, VadSettings
from ten_packages.extension.ten_vad_detector.vad_state import VadEventKind
from ten_packages.extension.webrtc_aec.echo_canceller import AecSettings, EchoCanceller
from ten_packages.extension.webrtc_aec.echo_guard import EchoGuardSettings, frame_dbfs
from ten_packages.extension.webrtc_aec.echo_path import EchoPathSettings
from ten_packages.extension.webrtc_aec.simulated_echo import bot_reply, microphone, run_aec_and_guard
from ten_packages.system.voice_kit.testing.speech import silence, synthesize_speech

USER_START_MS = 2000


@pytest.fixture(scope="module")
def played() -> np.ndarray:
    return bot_reply(500, 1000)


@pytest.fixture(scope="module")
def user_speech() -> np.ndarray:
    return synthesize_speech("Wait, stop, I have a question for you", voice="en-gb-x-rp")


def sentence_starts(signal: np.ndarray) -> list[int]:
    events = SpeechDetector(VadSettings()).push(signal, 0)
    return [event.timestamp_ms for event in events if event.kind is VadEventKind.START_OF_SENTENCE]


def median_frame_dbfs(signal: np.ndarray) -> float:
    return float(
        np.median([frame_dbfs(signal[first : first + 160]) for first in range(0, len(signal) - 159, 160)])
    )


def energy(signal: np.ndarray) -> float:
    return float(np.mean(np.square(signal.astype(np.float64))))


def test_aec_removes_at_least_20_db_of_echo(played):
    mic = microphone(played)
    cleaned = run_aec_and_guard(played, mic, guard_settings=EchoGuardSettings(enabled=False))
    erle_db = 10 * np.log10(energy(mic[: len(cleaned)]) / max(energy(cleaned), 1.0))
    assert erle_db >= 20


def test_the_bots_voice_alone_is_heard_without_aec_but_never_starts_a_sentence_with_it(played):
    mic = microphone(played)
    assert sentence_starts(mic), "the raw echo must be speech to the VAD, or this test proves nothing"
    assert sentence_starts(run_aec_and_guard(played, mic)) == []


def test_the_user_talking_over_the_bot_starts_a_sentence(played, user_speech):
    mic = microphone(played, user_speech, user_start_ms=USER_START_MS)
    starts = sentence_starts(run_aec_and_guard(played, mic))
    assert starts, "barge-in was not heard"
    assert USER_START_MS - 20 <= starts[0] <= USER_START_MS + 600


def test_a_user_on_headphones_talking_over_the_bot_starts_a_sentence(played, user_speech):
    """No echo path: AEC3 alone would suppress the user while the bot plays; the detector stops that."""
    mic = microphone(played, user_speech, user_start_ms=USER_START_MS, echo_gain=0.0)
    starts = sentence_starts(run_aec_and_guard(played, mic))
    assert starts, "barge-in on headphones was not heard"
    assert USER_START_MS - 20 <= starts[0] <= USER_START_MS + 600


def test_without_echo_path_detection_aec3_swallows_the_user_on_headphones(played, user_speech):
    """The failure the detector exists for: the user's voice comes out of AEC3 tens of dB down."""
    mic = microphone(played, user_speech, user_start_ms=USER_START_MS, echo_gain=0.0)
    user = slice(USER_START_MS * 16, USER_START_MS * 16 + len(user_speech))
    always_aec = AecSettings(echo_path=EchoPathSettings(enabled=False))
    no_guard = EchoGuardSettings(enabled=False)
    swallowed = run_aec_and_guard(played, mic, always_aec, no_guard)[user]
    kept = run_aec_and_guard(played, mic, AecSettings(), no_guard)[user]
    assert median_frame_dbfs(kept) > median_frame_dbfs(mic[user]) - 3
    assert median_frame_dbfs(swallowed) < median_frame_dbfs(kept) - 20
    assert not sentence_starts(run_aec_and_guard(played, mic, always_aec)), (
        "then the VAD never hears the user"
    )


def test_the_user_alone_passes_through_with_nothing_held_back(user_speech):
    mic = microphone(silence(len(user_speech) // 16 + 1000), user_speech, user_start_ms=300)
    starts = sentence_starts(run_aec_and_guard(np.zeros_like(mic), mic))
    assert len(starts) >= 1 and abs(starts[0] - 300) <= 50


def test_cleaned_frames_keep_their_input_timestamps_whatever_the_capture_frame_size(played):
    canceller = EchoCanceller(AecSettings())
    mic = microphone(played)[:4800]
    stamps = []
    for first in range(0, len(mic), 240):  # 15 ms capture frames
        stamps += [stamp for stamp, _ in canceller.process_capture(mic[first : first + 240], first // 16)]
    assert stamps == list(range(0, 300, 10))
