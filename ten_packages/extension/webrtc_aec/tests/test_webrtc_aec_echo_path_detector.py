"""The echo path detector alone: does the mic hear the bot (speakers) or not (headphones)?"""

from __future__ import annotations

import numpy as np
import pytest

from ten_packages.extension.webrtc_aec.echo_path import EchoPathDetector, EchoPathSettings
from ten_packages.extension.webrtc_aec.simulated_echo import bot_reply, echo_of
from ten_packages.system.voice_kit.testing.speech import synthesize_speech

FRAME = 160
BOT_START_MS = 500
USER_START_MS = 2500


@pytest.fixture(scope="module")
def played() -> np.ndarray:
    return bot_reply(BOT_START_MS, 500)


@pytest.fixture(scope="module")
def user(played) -> np.ndarray:
    """The user talking over the bot from USER_START_MS, on the played audio's timeline."""
    speech = synthesize_speech("Wait, stop, I have a question for you about tomorrow", voice="en-gb-x-rp")
    track = np.zeros(len(played))
    track[USER_START_MS * 16 : USER_START_MS * 16 + len(speech)] = speech[: len(played) - USER_START_MS * 16]
    return track


def as_mic(*parts: np.ndarray, seed: int = 0) -> np.ndarray:
    noise = np.random.default_rng(seed).normal(0.0, 20.0, len(parts[0]))
    return np.clip(sum(parts) + noise, -32768, 32767).astype(np.int16)


def decisions(played: np.ndarray, mic: np.ndarray, settings: EchoPathSettings | None = None) -> np.ndarray:
    """The detector's decision after each 10 ms tick (reference first, as the audio I/O sends it)."""
    detector = EchoPathDetector(settings)
    out = []
    for first in range(0, len(mic) - FRAME + 1, FRAME):
        detector.add_reference(played[first : first + FRAME])
        out.append(detector.add_capture(mic[first : first + FRAME]))
    return np.array(out)


def first_tick(flags: np.ndarray, value: bool) -> int | None:
    hits = np.flatnonzero(flags == value)
    return int(hits[0]) * 10 if len(hits) else None


def test_it_starts_assuming_an_echo_path_so_a_real_room_is_protected_from_the_first_word(played):
    flags = decisions(played, as_mic(echo_of(played)))
    assert flags[: BOT_START_MS // 10 + 50].all()


@pytest.mark.parametrize("room_noise", [True, False], ids=["headset mic", "headless WAV (digital silence)"])
def test_on_headphones_it_finds_no_echo_within_a_second_of_bot_audio_and_keeps_that_while_the_user_talks(
    played, user, room_noise
):
    mic = as_mic(user) if room_noise else user.astype(np.int16)
    flags = decisions(played, mic)
    off_at = first_tick(flags, False)
    assert off_at is not None and off_at - BOT_START_MS <= 1000, off_at
    assert off_at < USER_START_MS
    assert not flags[off_at // 10 :].any(), "the user talking over the bot must not look like an echo"


@pytest.mark.parametrize(("gain", "delay_ms"), [(0.03, 60), (0.3, 60), (0.6, 250), (0.2, 450)])
def test_with_an_echo_path_it_never_switches_off_even_while_the_user_talks_over_the_bot(
    played, user, gain, delay_ms
):
    mic = as_mic(echo_of(played, delay_ms, gain, gain * 0.4), user)
    assert decisions(played, mic).all()


def test_when_an_echo_appears_it_switches_back_on_within_about_a_second(played):
    echo_from_ms = 2500
    echo = echo_of(played, 60, 0.4, 0.15)
    echo[: echo_from_ms * 16] = 0.0  # headphones unplugged at 2.5 s
    flags = decisions(played, as_mic(echo))
    off_at = first_tick(flags, False)
    assert off_at is not None and off_at < echo_from_ms
    on_again = first_tick(flags[echo_from_ms // 10 :], True)
    assert on_again is not None and on_again <= 1200, on_again
    assert flags[echo_from_ms // 10 + on_again // 10 :].all()


def test_without_bot_audio_it_keeps_its_decision(played, user):
    quiet = np.zeros(len(played), dtype=np.int16)
    assert decisions(quiet, as_mic(user)).all()


def test_disabled_it_always_reports_an_echo_path(played):
    flags = decisions(played, np.zeros(len(played), dtype=np.int16), EchoPathSettings(enabled=False))
    assert flags.all()
