"""wav_file_io under TEN's AsyncExtensionTester, with real speech in a 22.05 kHz stereo float WAV."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import numpy as np
import soundfile
import soxr
from ten_runtime import (
    AsyncExtensionTester,
    AsyncTenEnvTester,
    AudioFrame,
    Cmd,
    Data,
    StatusCode,
    TenError,
    TenErrorCode,
)

from ten_packages.system.voice_kit.pcm import make_pcm_frame
from ten_packages.system.voice_kit.testing.speech import synthesize_speech

INPUT_RATE = 22050
WATCHDOG_S = 30.0


def write_stereo_float_speech(path: Path, text: str) -> np.ndarray:
    """Speech as a 22.05 kHz stereo float WAV; returns its mono mix converted to 16 kHz for comparison."""
    speech = synthesize_speech(text, sample_rate=INPUT_RATE).astype(np.float32) / 32768
    soundfile.write(path, np.stack([speech, 0.5 * speech], axis=1), INPUT_RATE, subtype="FLOAT")
    return soxr.resample(0.75 * speech, INPUT_RATE, 16000) * 32767


def tone(samples: int, hz: float = 500.0) -> np.ndarray:
    return (10000 * np.sin(2 * np.pi * hz * np.arange(samples) / 16000)).astype(np.int16)


def bot_frame(samples: np.ndarray, request_id: str) -> AudioFrame:
    frame = make_pcm_frame(samples)
    frame.set_property_string("request_id", request_id)
    return frame


def samples_of(frame: AudioFrame) -> np.ndarray:
    return np.frombuffer(bytes(frame.get_buf()), dtype=np.int16)


class RecordingTester(AsyncExtensionTester):
    """Records every frame and data message the extension sends; subclasses add the bot's side."""

    def __init__(self) -> None:
        super().__init__()
        self.captured: list[tuple[int, np.ndarray]] = []
        self.played: list[tuple[int, np.ndarray]] = []
        self.data: list[tuple[str, dict[str, Any]]] = []
        self._watchdog: asyncio.Task[None] | None = None

    async def on_start(self, ten_env: AsyncTenEnvTester) -> None:
        self._watchdog = asyncio.create_task(self._stop_after_timeout(ten_env))

    async def on_stop(self, ten_env: AsyncTenEnvTester) -> None:
        if self._watchdog:
            self._watchdog.cancel()

    async def _stop_after_timeout(self, ten_env: AsyncTenEnvTester) -> None:
        await asyncio.sleep(WATCHDOG_S)
        ten_env.stop_test(
            TenError.create(TenErrorCode.ErrorCodeTimeout, "the extension never stopped the graph")
        )

    async def on_audio_frame(self, ten_env: AsyncTenEnvTester, audio_frame: AudioFrame) -> None:
        entry = (audio_frame.get_timestamp(), samples_of(audio_frame))
        (self.captured if audio_frame.get_name() == "pcm_frame" else self.played).append(entry)
        if audio_frame.get_name() == "pcm_frame":
            await self.on_capture(ten_env, entry[0])

    async def on_data(self, ten_env: AsyncTenEnvTester, data: Data) -> None:
        payload, _ = data.get_property_to_json(None)
        self.data.append((data.get_name(), json.loads(payload)))

    async def on_capture(self, ten_env: AsyncTenEnvTester, timestamp_ms: int) -> None:
        """Called for each captured frame; the bot's side of a test goes here."""

    def events(self, name: str) -> list[dict[str, Any]]:
        return [payload for data_name, payload in self.data if data_name == name]


def run(tester: RecordingTester, **properties: Any) -> TenError | None:
    tester.set_test_mode_single("wav_file_io", json.dumps({"request_idle_end_ms": 1000, **properties}))
    return tester.run()


class BotRepliesAtHalfASecond(RecordingTester):
    async def on_capture(self, ten_env: AsyncTenEnvTester, timestamp_ms: int) -> None:
        if timestamp_ms == 500:
            for start in range(0, 4800, 1600):
                await ten_env.send_audio_frame(bot_frame(tone(4800)[start : start + 1600], "r1"))
            end = Data.create("tts_audio_end")
            end.set_property_from_json(None, json.dumps({"request_id": "r1", "reason": 1}))
            await ten_env.send_data(end)


def test_input_is_converted_reply_lands_on_the_input_timeline_and_the_graph_stops(tmp_path: Path) -> None:
    expected_capture = write_stereo_float_speech(
        tmp_path / "in.wav", "Could you tell me the weather, please?"
    )
    tester = BotRepliesAtHalfASecond()
    error = run(
        tester,
        input_path=str(tmp_path / "in.wav"),
        output_path=str(tmp_path / "out.wav"),
        realtime=True,
        tail_ms=300,
    )
    assert error is None, error.error_message()

    assert [t for t, _ in tester.captured] == [10 * i for i in range(len(tester.captured))]
    capture = np.concatenate([s for _, s in tester.captured])
    assert len(capture) == -(-len(expected_capture) // 160) * 160
    assert np.corrcoef(capture[: len(expected_capture)], expected_capture)[0, 1] > 0.999
    assert tester.events("input_end") == [{"timestamp_ms": len(expected_capture) * 1000 // 16000}]

    (start,) = tester.events("playback_start")
    (end,) = tester.events("playback_end")
    assert start["request_id"] == "r1" and start["timestamp_ms"] >= 510
    assert end == {
        "request_id": "r1",
        "played_ms": 300,
        "interrupted": False,
        "timestamp_ms": start["timestamp_ms"] + 300,
    }
    played = {t: s for t, s in tester.played}
    assert sorted(t for t, s in played.items() if s.any()) == list(
        range(start["timestamp_ms"], end["timestamp_ms"], 10)
    )
    np.testing.assert_array_equal(
        np.concatenate([played[t] for t in range(start["timestamp_ms"], end["timestamp_ms"], 10)]), tone(4800)
    )

    written, rate = soundfile.read(tmp_path / "out.wav", dtype="int16")
    assert rate == INPUT_RATE and len(written) >= soundfile.info(str(tmp_path / "in.wav")).frames
    loud_in_output = np.flatnonzero(np.abs(written.astype(np.int32)) > 2000)
    loud_in_tone = np.flatnonzero(np.abs(tone(4800).astype(np.int32)) > 2000)
    reply_offset = start["timestamp_ms"] * INPUT_RATE // 1000
    for output_index, tone_index in [(0, 0), (-1, -1)]:
        expected = reply_offset + int(loud_in_tone[tone_index]) * INPUT_RATE // 16000
        assert abs(int(loud_in_output[output_index]) - expected) <= 2


class BotIsInterrupted(RecordingTester):
    """Plays a 2 s reply, flushes it after 300 ms, then sends late audio of the flushed reply."""

    def __init__(self) -> None:
        super().__init__()
        self.flush_result: dict[str, Any] = {}

    async def on_capture(self, ten_env: AsyncTenEnvTester, timestamp_ms: int) -> None:
        if timestamp_ms == 0:
            for start in range(0, 32000, 1600):
                await ten_env.send_audio_frame(bot_frame(tone(32000)[start : start + 1600], "r1"))

    async def on_audio_frame(self, ten_env: AsyncTenEnvTester, audio_frame: AudioFrame) -> None:
        await super().on_audio_frame(ten_env, audio_frame)
        heard = sum(1 for _, s in self.played if s.any())
        if heard == 30 and not self.flush_result:
            self.flush_result = {"pending": True}
            result, error = await ten_env.send_cmd(Cmd.create("flush"))
            assert error is None and result.get_status_code() == StatusCode.OK
            payload, _ = result.get_property_to_json(None)
            self.flush_result = json.loads(payload)
            await ten_env.send_audio_frame(bot_frame(tone(1600), "r1"))


def test_flush_stops_playback_within_one_frame_and_reports_what_was_heard(tmp_path: Path) -> None:
    soundfile.write(tmp_path / "quiet.wav", np.zeros(16000 * 2, np.int16), 16000)
    tester = BotIsInterrupted()
    error = run(tester, input_path=str(tmp_path / "quiet.wav"), realtime=True, tail_ms=200)
    assert error is None, error.error_message()

    assert tester.flush_result["request_id"] == "r1"
    played_ms = tester.flush_result["played_ms"]
    assert 300 <= played_ms < 2000
    (end,) = tester.events("playback_end")
    assert end["interrupted"] is True and end["played_ms"] == played_ms
    audible = [t for t, s in tester.played if s.any()]
    assert len(audible) * 10 == played_ms  # what was reported heard is exactly what was played
    assert audible[-1] < end["timestamp_ms"]
    # from the tick after the flush on, silence: the late audio of the flushed reply was refused too
    assert all(not s.any() for t, s in tester.played if t >= end["timestamp_ms"])


class SendsBadInput(RecordingTester):
    def __init__(self) -> None:
        super().__init__()
        self.unknown_cmd_status: StatusCode | None = None

    async def on_capture(self, ten_env: AsyncTenEnvTester, timestamp_ms: int) -> None:
        if timestamp_ms != 100:
            return
        wide = make_pcm_frame(tone(320))
        wide.set_bytes_per_sample(4)
        await ten_env.send_audio_frame(wide)
        await ten_env.send_audio_frame(bot_frame(tone(1600), "ok"))
        result, _ = await ten_env.send_cmd(Cmd.create("rewind"))
        self.unknown_cmd_status = result.get_status_code() if result else None


def test_bad_input_is_an_error_naming_the_format_and_the_extension_carries_on(tmp_path: Path) -> None:
    soundfile.write(tmp_path / "quiet.wav", np.zeros(8000, np.int16), 16000)
    tester = SendsBadInput()
    error = run(tester, input_path=str(tmp_path / "quiet.wav"), realtime=True, tail_ms=100)
    assert error is None, error.error_message()
    (bad_format,) = tester.events("error")
    assert bad_format["module"] == "wav_file_io" and "expected 2 (s16 PCM)" in bad_format["message"]
    assert [e["request_id"] for e in tester.events("playback_end")] == ["ok"]
    assert tester.unknown_cmd_status == StatusCode.ERROR


def test_a_missing_input_file_is_reported_and_the_graph_stops(tmp_path: Path) -> None:
    tester = RecordingTester()
    error = run(tester, input_path=str(tmp_path / "nowhere.wav"), realtime=True, tail_ms=100)
    assert error is None, error.error_message()
    (missing,) = tester.events("error")
    assert "nowhere.wav' does not exist" in missing["message"] and missing["code"] == -1000
    assert not tester.captured
