"""The webrtc_aec extension in TEN's single-extension test mode, fed like the audio I/O feeds it."""

from __future__ import annotations

import json

import numpy as np
import pytest
from ten_runtime import AsyncExtensionTester, AsyncTenEnvTester, AudioFrame, Data

from ten_packages.extension.ten_vad_detector.speech_detector import SpeechDetector, VadSettings
from ten_packages.extension.ten_vad_detector.vad_state import VadEventKind
from ten_packages.extension.webrtc_aec.extension import settings_from_properties
from ten_packages.extension.webrtc_aec.simulated_echo import bot_reply, microphone
from ten_packages.system.voice_kit.pcm import make_pcm_frame
from ten_packages.system.voice_kit.testing.speech import synthesize_speech

USER_START_MS = 3000


class AecTester(AsyncExtensionTester):
    """Each 10 ms tick: the played frame, then the captured one. Then a refused 8-bit frame and a 48 kHz
    stereo one (converted); the cleaned output of that last frame ends the test."""

    def __init__(self, played: np.ndarray, mic: np.ndarray) -> None:
        super().__init__()
        self.played, self.mic = played, mic
        self.last_ms = len(mic) // 16
        self.cleaned: dict[int, np.ndarray] = {}
        self.errors: list[dict] = []

    async def on_start(self, ten_env: AsyncTenEnvTester) -> None:
        for first in range(0, len(self.mic), 160):
            stamp = first // 16
            await ten_env.send_audio_frame(
                make_pcm_frame(self.played[first : first + 160], timestamp_ms=stamp, name="playback_frame")
            )
            await ten_env.send_audio_frame(make_pcm_frame(self.mic[first : first + 160], timestamp_ms=stamp))
        eight_bit = make_pcm_frame(np.zeros(160, dtype=np.int16), timestamp_ms=self.last_ms)
        eight_bit.set_bytes_per_sample(1)
        await ten_env.send_audio_frame(eight_bit)
        stereo_48k = np.zeros(480 * 2, dtype=np.int16)
        frame = make_pcm_frame(stereo_48k, sample_rate=48000, timestamp_ms=self.last_ms)
        frame.set_number_of_channels(2)
        frame.set_samples_per_channel(480)
        await ten_env.send_audio_frame(frame)

    async def on_audio_frame(self, ten_env: AsyncTenEnvTester, audio_frame: AudioFrame) -> None:
        assert audio_frame.get_sample_rate() == 16000 and audio_frame.get_number_of_channels() == 1
        stamp = audio_frame.get_timestamp()
        self.cleaned[stamp] = np.frombuffer(bytes(audio_frame.get_buf()), dtype=np.int16)
        if stamp == self.last_ms:
            ten_env.stop_test()

    async def on_data(self, ten_env: AsyncTenEnvTester, data: Data) -> None:
        payload, _ = data.get_property_to_json()
        self.errors.append(json.loads(payload))


@pytest.mark.parametrize("echo_gain", [0.4, 0.0], ids=["speakers", "headphones"])
def test_echo_is_removed_and_only_the_user_talking_over_the_bot_starts_a_sentence(echo_gain):
    played = bot_reply(300, 500)
    played = played[: len(played) // 160 * 160]  # whole ticks, so the last frame's output is the last one
    user = synthesize_speech("Wait, stop, I have a question", voice="en-gb-x-rp")
    mic = microphone(played, user, user_start_ms=USER_START_MS, echo_gain=echo_gain)
    tester = AecTester(played, mic)
    tester.set_test_mode_single("webrtc_aec", json.dumps({"stream_delay_ms": 0}))
    error = tester.run()
    assert error is None, error.error_message()

    assert sorted(tester.cleaned) == list(range(0, tester.last_ms + 10, 10))
    cleaned = np.concatenate([tester.cleaned[stamp] for stamp in sorted(tester.cleaned)])
    events = SpeechDetector(VadSettings()).push(cleaned, 0)
    starts = [event.timestamp_ms for event in events if event.kind is VadEventKind.START_OF_SENTENCE]
    assert starts and USER_START_MS - 20 <= starts[0] <= USER_START_MS + 600, starts
    assert len(tester.errors) == 1 and "expected 2" in tester.errors[0]["message"]


def test_guard_properties_map_onto_the_echo_guard_settings():
    aec, guard = settings_from_properties(
        {
            "stream_delay_ms": 40,
            "noise_suppression": False,
            "guard_speech_dbfs": -30.0,
            "guard_enabled": False,
            "echo_path_enabled": False,
            "echo_path_no_echo_ms": 800,
        }
    )
    assert (aec.stream_delay_ms, aec.noise_suppression, aec.echo_cancellation) == (40, False, True)
    assert (guard.speech_dbfs, guard.enabled, guard.min_speech_ms) == (-30.0, False, 150)
    assert (aec.echo_path.enabled, aec.echo_path.no_echo_ms, aec.echo_path.max_delay_ms) == (False, 800, 500)


def test_every_declared_property_reaches_the_settings():
    import dataclasses
    import json
    from pathlib import Path

    from ten_packages.extension.webrtc_aec.extension import settings_from_properties

    defaults = json.loads((Path(__file__).resolve().parents[1] / "property.json").read_text())
    changed = {
        name: (not value if isinstance(value, bool) else value + 1) for name, value in defaults.items()
    }
    aec, guard = settings_from_properties(changed)
    used = {f"guard_{k}": v for k, v in dataclasses.asdict(guard).items()}
    used |= {f"echo_path_{k}": v for k, v in dataclasses.asdict(aec.echo_path).items()}
    used |= {k: v for k, v in dataclasses.asdict(aec).items() if k != "echo_path"}
    assert {name: used.get(name) for name in changed} == changed
