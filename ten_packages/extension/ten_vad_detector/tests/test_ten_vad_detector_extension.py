"""The ten_vad_detector extension in TEN's single-extension test mode."""

from __future__ import annotations

import json

import numpy as np
from ten_runtime import (
    AsyncExtensionTester,
    AsyncTenEnvTester,
    AudioFrame,
    Cmd,
    CmdResult,
    Data,
    StatusCode,
)

from ten_packages.system.voice_kit.pcm import make_pcm_frame
from ten_packages.system.voice_kit.testing.speech import silence, synthesize_speech

SPEECH_START_MS = 500


class VadTester(AsyncExtensionTester):
    """Sends `signal` as 10 ms frames, then a frame the VAD must refuse; its error ends the test."""

    def __init__(self, signal: np.ndarray, expected_errors: int = 1) -> None:
        super().__init__()
        self.signal = signal
        self.expected_errors = expected_errors
        self.frames_out: list[tuple[int, bytes]] = []
        self.cmds: list[tuple[str, int, int]] = []
        self.errors: list[dict] = []

    async def on_start(self, ten_env: AsyncTenEnvTester) -> None:
        for first in range(0, len(self.signal), 160):
            await ten_env.send_audio_frame(
                make_pcm_frame(self.signal[first : first + 160], timestamp_ms=first // 16)
            )
        eight_bit = make_pcm_frame(np.zeros(160, dtype=np.int16))
        eight_bit.set_bytes_per_sample(1)
        await ten_env.send_audio_frame(eight_bit)

    async def on_audio_frame(self, ten_env: AsyncTenEnvTester, audio_frame: AudioFrame) -> None:
        self.frames_out.append((audio_frame.get_timestamp(), bytes(audio_frame.get_buf())))

    async def on_cmd(self, ten_env: AsyncTenEnvTester, cmd: Cmd) -> None:
        timestamp_ms, _ = cmd.get_property_int("timestamp_ms")
        wall_ms, _ = cmd.get_property_int("wall_ms")
        self.cmds.append((cmd.get_name(), timestamp_ms, wall_ms))
        await ten_env.return_result(CmdResult.create(StatusCode.OK, cmd))

    async def on_data(self, ten_env: AsyncTenEnvTester, data: Data) -> None:
        payload, _ = data.get_property_to_json()
        self.errors.append(json.loads(payload))
        if len(self.errors) == self.expected_errors:
            ten_env.stop_test()


def run(tester: VadTester, properties: dict | None = None) -> None:
    tester.set_test_mode_single("ten_vad_detector", json.dumps(properties or {}))
    error = tester.run()
    assert error is None, error.error_message()


def test_speech_gives_a_sentence_start_and_end_and_every_frame_passes_through():
    speech = synthesize_speech("Could you tell me the time please")
    signal = np.concatenate([silence(SPEECH_START_MS), speech, silence(800)])
    tester = VadTester(signal)
    run(tester)

    assert [name for name, _, _ in tester.cmds] == ["start_of_sentence", "end_of_sentence"]
    (_, start_ms, start_wall), (_, end_ms, end_wall) = tester.cmds
    assert abs(start_ms - SPEECH_START_MS) <= 50
    assert 0 <= end_ms - (SPEECH_START_MS + len(speech) // 16) <= 80
    assert 0 < start_wall <= end_wall
    assert [stamp for stamp, _ in tester.frames_out] == list(range(0, len(signal) // 16, 10))
    assert b"".join(buf for _, buf in tester.frames_out) == signal.tobytes()
    assert "expected 2" in tester.errors[0]["message"] and tester.errors[0]["module"] == "ten_vad_detector"


def test_a_bad_hop_size_is_reported_and_the_defaults_are_used():
    tester = VadTester(
        np.concatenate([silence(300), synthesize_speech("Hello"), silence(600)]), expected_errors=2
    )
    run(tester, {"hop_size_ms": 20})
    assert "hop_size_ms" in tester.errors[0]["message"]
    assert [name for name, _, _ in tester.cmds] == ["start_of_sentence", "end_of_sentence"]
