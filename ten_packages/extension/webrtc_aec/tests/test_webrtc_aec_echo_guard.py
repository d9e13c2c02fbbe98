"""The echo guard alone, on quiet residual echo that TEN VAD would otherwise take for speech."""

from __future__ import annotations

import numpy as np
import pytest

from ten_packages.extension.ten_vad_detector.speech_detector import SpeechDetector, VadSettings
from ten_packages.extension.ten_vad_detector.vad_state import VadEventKind
from ten_packages.extension.webrtc_aec.echo_guard import EchoGuard, EchoGuardSettings, frame_dbfs
from ten_packages.extension.webrtc_aec.simulated_echo import echo_of
from ten_packages.system.voice_kit.testing.speech import silence, synthesize_speech

FRAME = 160


@pytest.fixture(scope="module")
def played() -> np.ndarray:
    bot = synthesize_speech("Sure. The weather in Paris today is sunny with a light breeze.", voice="en-us")
    return np.concatenate([silence(500), bot, silence(1500)])


def residual_echo_mic(played: np.ndarray, user_speech: np.ndarray | None = None) -> np.ndarray:
    """Echo about 46 dB below full scale: what an AEC that has not fully converged might leave."""
    mic = echo_of(played, delay_ms=60, gain=0.05, reflection_gain=0.02)
    if user_speech is not None:
        mic[1500 * 16 : 1500 * 16 + len(user_speech)] += user_speech
    return np.clip(mic + np.random.default_rng(3).normal(0, 20, len(mic)), -32768, 32767).astype(np.int16)


def guarded(played: np.ndarray, mic: np.ndarray, settings: EchoGuardSettings) -> list[tuple[int, np.ndarray]]:
    guard = EchoGuard(settings)
    out = []
    for first in range(0, len(mic) - FRAME + 1, FRAME):
        guard.note_playback(played[first : first + FRAME], first // 16)
        out += guard.filter(mic[first : first + FRAME], first // 16)
    return out


def starts(frames: list[tuple[int, np.ndarray]]) -> list[int]:
    detector = SpeechDetector(VadSettings())
    events = [event for stamp, samples in frames for event in detector.push(samples, stamp)]
    return [event.timestamp_ms for event in events if event.kind is VadEventKind.START_OF_SENTENCE]


def test_residual_echo_starts_a_sentence_without_the_guard_and_none_with_it(played):
    mic = residual_echo_mic(played)
    assert frame_dbfs(mic) < EchoGuardSettings().speech_dbfs
    assert starts(guarded(played, mic, EchoGuardSettings(enabled=False))), "the VAD must hear the echo"
    assert starts(guarded(played, mic, EchoGuardSettings())) == []


def test_loud_user_speech_over_the_echo_gets_through(played):
    user = synthesize_speech("Wait, stop, I have a question for you", voice="en-gb-x-rp")
    found = starts(guarded(played, residual_echo_mic(played, user), EchoGuardSettings()))
    assert found and 1480 <= found[0] <= 1700


def test_frames_come_out_in_order_each_once_and_unchanged_while_the_bot_is_quiet(played):
    mic = residual_echo_mic(played)
    frames = guarded(played, mic, EchoGuardSettings())
    assert [stamp for stamp, _ in frames] == list(range(0, len(mic) // FRAME * 10, 10))
    bot_end_ms = len(played) // 16 - 1500
    quiet_from_ms = bot_end_ms + EchoGuardSettings().window_ms + 10
    for stamp, samples in frames:
        if stamp >= quiet_from_ms or stamp < 500:
            np.testing.assert_array_equal(samples, mic[stamp * 16 : stamp * 16 + FRAME])


def test_a_short_loud_burst_while_the_bot_speaks_is_muted(played):
    mic = np.zeros(len(played), dtype=np.int16)
    burst_ms = 1000
    mic[burst_ms * 16 : (burst_ms + 80) * 16] = 8000  # 80 ms: below min_speech_ms
    frames = dict(guarded(played, mic, EchoGuardSettings(min_speech_ms=150)))
    assert all(not frames[stamp].any() for stamp in range(burst_ms, burst_ms + 80, 10))


def test_without_an_echo_path_the_user_passes_at_once_and_held_frames_come_out_in_order():
    guard = EchoGuard(EchoGuardSettings())
    loud = np.full(160, 8000, dtype=np.int16)
    guard.note_playback(loud, 0)  # the bot is speaking
    assert guard.filter(loud, 10) == []  # held: might be echo
    released = guard.filter(loud, 20, echo_possible=False)
    assert [ts for ts, _ in released] == [10, 20]
    assert all(frame.any() for _, frame in released)
