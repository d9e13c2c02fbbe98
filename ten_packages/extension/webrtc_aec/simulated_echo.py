"""A simulated room for tests and benchmarks: the bot's played audio comes back into the microphone."""

from __future__ import annotations

import numpy as np

from ten_packages.system.voice_kit.pcm import FRAME_SAMPLES, GRAPH_SAMPLE_RATE
from ten_packages.system.voice_kit.testing.speech import silence, synthesize_speech

from .echo_canceller import AecSettings, EchoCanceller
from .echo_guard import EchoGuard, EchoGuardSettings

SAMPLES_PER_MS = GRAPH_SAMPLE_RATE // 1000
BOT_REPLY_TEXT = (
    "Sure. The weather in Paris today is sunny with a light breeze, and tomorrow looks much the same."
)


def bot_reply(lead_ms: int, tail_ms: int) -> np.ndarray:
    """What the speaker plays in the echo tests: one spoken reply between silences."""
    return np.concatenate(
        [silence(lead_ms), synthesize_speech(BOT_REPLY_TEXT, voice="en-us"), silence(tail_ms)]
    )


def echo_of(
    played: np.ndarray, delay_ms: int = 60, gain: float = 0.4, reflection_gain: float = 0.15
) -> np.ndarray:
    """What the mic picks up of `played`: a delayed, attenuated direct path plus one later reflection."""
    played_f = played.astype(np.float64)
    echo = np.zeros_like(played_f)
    delay = delay_ms * SAMPLES_PER_MS
    echo[delay:] += gain * played_f[: len(played_f) - delay]
    reflection = (delay_ms + 40) * SAMPLES_PER_MS
    echo[reflection:] += reflection_gain * played_f[: len(played_f) - reflection]
    return echo


def microphone(
    played: np.ndarray,
    user_speech: np.ndarray | None = None,
    user_start_ms: int = 0,
    delay_ms: int = 60,
    noise_level: float = 20.0,
    seed: int = 0,
    echo_gain: float = 0.4,
) -> np.ndarray:
    """The mic signal (int16, same length as `played`): echo, room noise and optionally the user on top.
    `echo_gain` 0 is a user on headphones: the mic hears no echo at all."""
    mic = echo_of(played, delay_ms, gain=echo_gain, reflection_gain=echo_gain * 0.375)
    if user_speech is not None:
        start = user_start_ms * SAMPLES_PER_MS
        end = min(len(mic), start + len(user_speech))
        mic[start:end] += user_speech[: end - start]
    mic += np.random.default_rng(seed).normal(0.0, noise_level, len(mic))
    return np.clip(mic, -32768, 32767).astype(np.int16)


def run_aec_and_guard(
    played: np.ndarray,
    mic: np.ndarray,
    aec_settings: AecSettings | None = None,
    guard_settings: EchoGuardSettings | None = None,
) -> np.ndarray:
    """Run the extension's chain tick by tick as the audio I/O would feed it (reference, then capture);
    returns the cleaned signal on the input timeline (frames the guard held are put back in place)."""
    canceller = EchoCanceller(aec_settings or AecSettings())
    guard = EchoGuard(guard_settings or EchoGuardSettings())
    cleaned = np.zeros(len(mic) - len(mic) % FRAME_SAMPLES, dtype=np.int16)
    for start in range(0, len(cleaned), FRAME_SAMPLES):
        timestamp_ms = start // SAMPLES_PER_MS
        played_frame = played[start : start + FRAME_SAMPLES]
        canceller.add_reference(played_frame)
        guard.note_playback(played_frame, timestamp_ms)
        for frame_ms, frame in canceller.process_capture(mic[start : start + FRAME_SAMPLES], timestamp_ms):
            for out_ms, out in guard.filter(frame, frame_ms):
                position = out_ms * SAMPLES_PER_MS
                cleaned[position : position + len(out)] = out
    return cleaned
