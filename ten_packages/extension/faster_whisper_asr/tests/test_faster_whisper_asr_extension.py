"""The faster_whisper_asr extension in TEN's single-extension test mode, with the real packaged model."""

from __future__ import annotations

import asyncio
import json

import numpy as np
from ten_runtime import AsyncExtensionTester, AsyncTenEnvTester, Cmd, Data, StatusCode

from ten_packages.extension.faster_whisper_asr.tests.transcript_words import words_of
from ten_packages.system.voice_kit.pcm import make_pcm_frame
from ten_packages.system.voice_kit.testing.speech import silence, synthesize_speech

SENTENCE = "Remind me to call my mother on Sunday afternoon."


class AsrTester(AsyncExtensionTester):
    """Plays one utterance between VAD cmds, asks for the final result; `asr_finalize_end` ends the test."""

    def __init__(self, signal: np.ndarray, speech_start_ms: int, before_audio: list[Cmd | Data] = ()) -> None:
        super().__init__()
        self.signal = signal
        self.speech_start_ms = speech_start_ms
        self.before_audio = list(before_audio)
        self.results: list[dict] = []
        self.cmd_results: dict[str, tuple[StatusCode, str]] = {}
        self.received: list[tuple[str, dict]] = []

    async def send_cmd(self, ten_env: AsyncTenEnvTester, name: str, **ints: int) -> None:
        cmd = Cmd.create(name)
        for key, value in ints.items():
            cmd.set_property_int(key, value)
        result, _ = await ten_env.send_cmd(cmd)
        message, _ = result.get_property_string("message")
        self.cmd_results[name] = (result.get_status_code(), message or "")

    async def on_start(self, ten_env: AsyncTenEnvTester) -> None:
        for message in self.before_audio:
            if isinstance(message, Data):
                await ten_env.send_data(message)
            else:
                await ten_env.send_audio_frame(message)
        await self.send_cmd(ten_env, "flush_everything")  # not an ASR cmd: must be refused, not crash
        speech_end_ms = (len(self.signal) // 16 - 300) // 10 * 10  # the last 300 ms are silence
        for first in range(0, len(self.signal), 160):
            timestamp_ms = first // 16
            if timestamp_ms == self.speech_start_ms + 200:  # the VAD decides a little after the speech starts
                await self.send_cmd(ten_env, "start_of_sentence", timestamp_ms=self.speech_start_ms)
            if timestamp_ms == speech_end_ms:
                await self.send_cmd(ten_env, "end_of_sentence", timestamp_ms=timestamp_ms)
            await ten_env.send_audio_frame(
                make_pcm_frame(self.signal[first : first + 160], timestamp_ms=timestamp_ms)
            )
            await asyncio.sleep(0.002)  # leave the loop room for interim passes, as real-time capture would
        finalize = Data.create("asr_finalize")
        finalize.set_property_from_json(
            None, json.dumps({"finalize_id": "turn-1", "metadata": {"session_id": "s1"}})
        )
        await ten_env.send_data(finalize)

    async def on_data(self, ten_env: AsyncTenEnvTester, data: Data) -> None:
        payload_json, _ = data.get_property_to_json(None)
        payload = json.loads(payload_json)
        self.received.append((data.get_name(), payload))
        if data.get_name() == "asr_finalize_end":
            ten_env.stop_test()


def run(tester: AsrTester, properties: dict) -> None:
    tester.set_test_mode_single("faster_whisper_asr", json.dumps(properties))
    error = tester.run()
    assert error is None, error.error_message()


def named(tester: AsrTester, name: str) -> list[dict]:
    return [payload for message, payload in tester.received if message == name]


def test_interim_results_then_final_then_finalize_end() -> None:
    signal = np.concatenate([silence(600), synthesize_speech(SENTENCE), silence(300)])
    tester = AsrTester(signal, speech_start_ms=600)
    run(tester, {"interim_interval_ms": 700, "pre_roll_ms": 250, "cpu_threads": 2})

    assert tester.cmd_results["start_of_sentence"][0] == StatusCode.OK
    assert tester.cmd_results["end_of_sentence"][0] == StatusCode.OK
    assert tester.cmd_results["flush_everything"][0] == StatusCode.ERROR
    results = named(tester, "asr_result")
    *interims, final = results
    assert interims and all(r["final"] is False and r["id"] == final["id"] for r in interims)
    assert final["final"] is True and final["language"] == "en"
    assert len(set(words_of(final["text"])) ^ set(words_of(SENTENCE))) <= 2, final["text"]
    assert final["start_ms"] == 600 - 250
    assert abs(final["start_ms"] + final["duration_ms"] - len(signal) // 16) <= 10
    assert (
        final["metadata"]["session_id"] == "s1"
        and final["metadata"]["asr_info"]["model"] == "packaged:tiny.en"
    )
    names = [message for message, _ in tester.received]
    assert names.index("asr_finalize_end") > names.index("metrics") > len(results) - 1
    assert named(tester, "asr_finalize_end") == [{"finalize_id": "turn-1", "metadata": {"session_id": "s1"}}]
    assert named(tester, "metrics")[0]["metrics"]["finalize_ms"] > 0
    assert named(tester, "error") == []


def test_bad_frames_are_reported_once_and_recognition_goes_on() -> None:
    eight_bit = [make_pcm_frame(np.zeros(160, dtype=np.int16)) for _ in range(3)]
    for frame in eight_bit:
        frame.set_bytes_per_sample(1)
    signal = np.concatenate([silence(400), synthesize_speech("What time is it?"), silence(300)])
    tester = AsrTester(signal, speech_start_ms=400, before_audio=eight_bit)
    run(tester, {"interim_interval_ms": 0, "cpu_threads": 2})

    errors = named(tester, "error")
    assert len(errors) == 1 and "expected 2" in errors[0]["message"] and errors[0]["module"] == "asr"
    *interims, final = named(tester, "asr_result")
    assert final["final"] and words_of(final["text"]) == ["what", "time", "is", "it"]
    # Periodic interims are off; the end-of-sentence pass is published if it beat the finalize.
    assert all(not r["final"] and r["text"] == final["text"] for r in interims) and len(interims) <= 1


def test_a_model_that_cannot_load_is_reported_and_finalize_is_still_answered() -> None:
    tester = AsrTester(silence(600), speech_start_ms=100)
    run(tester, {"model": "packaged:huge"})

    errors = named(tester, "error")
    assert "unknown packaged model 'huge'" in errors[0]["message"] and errors[0]["code"] < 0
    assert "before the model loaded" in errors[-1]["message"]
    assert named(tester, "asr_result") == []
    assert named(tester, "asr_finalize_end")[0]["finalize_id"] == "turn-1"
