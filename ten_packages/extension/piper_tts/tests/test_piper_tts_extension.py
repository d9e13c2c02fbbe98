"""The piper_tts extension under the TEN runtime's AsyncExtensionTester, with the real packaged voice."""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest
from ten_runtime import AsyncExtensionTester, AsyncTenEnvTester, AudioFrame, Data

from ten_packages.extension.piper_tts.piper_voice import StreamableVoice

LONG_TEXT = (
    "This is a long answer that goes on for a while. It has several sentences, so that there is plenty "
    "of audio to interrupt. The third sentence is here. And a fourth one follows it."
)


@dataclass
class Frame:
    request_id: str
    samples: np.ndarray
    sample_rate: int
    channels: int
    bytes_per_sample: int
    timestamp: int
    metadata: dict[str, Any]


class ScriptedTester(AsyncExtensionTester):
    """Plays `script` against the extension and records everything it sends, in order."""

    def __init__(self, script: Callable[[ScriptedTester, AsyncTenEnvTester], Awaitable[None]]) -> None:
        super().__init__()
        self.script = script
        self.received: list[tuple[str, Any]] = []  # ("frame", Frame) or (data name, payload)
        self.failure: BaseException | None = None

    async def on_start(self, ten_env_tester: AsyncTenEnvTester) -> None:
        self._task = asyncio.create_task(self._play(ten_env_tester))

    async def _play(self, ten_env_tester: AsyncTenEnvTester) -> None:
        try:
            await self.script(self, ten_env_tester)
        except BaseException as error:  # noqa: BLE001 - re-raised by run_tester after the runtime stops
            self.failure = error
        ten_env_tester.stop_test()

    async def on_data(self, ten_env_tester: AsyncTenEnvTester, data: Data) -> None:
        payload, _ = data.get_property_to_json(None)
        self.received.append((data.get_name(), json.loads(payload or "{}")))

    async def on_audio_frame(self, ten_env_tester: AsyncTenEnvTester, audio_frame: AudioFrame) -> None:
        request_id, _ = audio_frame.get_property_string("request_id")
        metadata, error = audio_frame.get_property_to_json("metadata")
        frame = Frame(
            request_id,
            np.frombuffer(bytes(audio_frame.get_buf()), dtype=np.int16),
            audio_frame.get_sample_rate(),
            audio_frame.get_number_of_channels(),
            audio_frame.get_bytes_per_sample(),
            audio_frame.get_timestamp(),
            json.loads(metadata) if error is None and metadata else {},
        )
        self.received.append(("frame", frame))

    async def wait_for(self, condition: Callable[[], bool], timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > deadline:
                raise TimeoutError(f"gave up waiting; received: {[name for name, _ in self.received]}")
            await asyncio.sleep(0.01)

    def data(self, name: str) -> list[dict[str, Any]]:
        return [payload for kind, payload in self.received if kind == name]

    def frames(self, request_id: str | None = None) -> list[Frame]:
        return [
            frame
            for kind, frame in self.received
            if kind == "frame" and (request_id is None or frame.request_id == request_id)
        ]

    def index_of(self, name: str, **fields: Any) -> int:
        for index, (kind, payload) in enumerate(self.received):
            if kind == name and all(payload.get(key) == value for key, value in fields.items()):
                return index
        raise AssertionError(f"no {name} {fields} in {[kind for kind, _ in self.received]}")


async def send(ten_env_tester: AsyncTenEnvTester, name: str, payload: dict[str, Any]) -> None:
    data = Data.create(name)
    data.set_property_from_json(None, json.dumps(payload))
    await ten_env_tester.send_data(data)


def run_tester(script: Callable[[ScriptedTester, AsyncTenEnvTester], Awaitable[None]], **properties: Any):
    tester = ScriptedTester(script)
    tester.set_test_mode_single("piper_tts", json.dumps({"voice": "packaged:joe-us", **properties}))
    error = tester.run()
    if tester.failure is not None:
        raise tester.failure
    assert error is None, error.error_message()
    return tester


def ended(tester: ScriptedTester, request_id: str) -> Callable[[], bool]:
    return lambda: any(end["request_id"] == request_id for end in tester.data("tts_audio_end"))


def test_piper_tts_speaks_a_reply_given_in_two_inputs() -> None:
    metadata = {"session_id": "s1", "turn_id": 7}

    async def script(tester: ScriptedTester, env: AsyncTenEnvTester) -> None:
        await send(
            env,
            "tts_text_input",
            {"request_id": "r1", "text": "Hello there, **friend**!", "metadata": metadata},
        )
        await send(
            env, "tts_text_input", {"request_id": "r1", "text": "How are you today?", "text_input_end": True}
        )
        await tester.wait_for(ended(tester, "r1"))

    tester = run_tester(script)
    frames = tester.frames("r1")
    assert frames and all(frame.sample_rate == 16000 for frame in frames)
    assert all(frame.channels == 1 and frame.bytes_per_sample == 2 for frame in frames)
    assert all(0 < len(frame.samples) <= 1600 for frame in frames)  # at most 100 ms
    assert frames[0].metadata == metadata
    timestamps = [frame.timestamp for frame in frames]
    assert timestamps == sorted(timestamps) and timestamps[0] == 0
    audio = np.concatenate([frame.samples for frame in frames])
    assert 1.5 < len(audio) / 16000 < 5.0
    assert np.sqrt(np.mean(audio.astype(np.float64) ** 2)) > 500

    start, end = (
        tester.index_of("tts_audio_start", request_id="r1"),
        tester.index_of("tts_audio_end", request_id="r1"),
    )
    frame_indexes = [i for i, (kind, _) in enumerate(tester.received) if kind == "frame"]
    assert start < frame_indexes[0] and frame_indexes[-1] < end
    audio_end = tester.data("tts_audio_end")[0]
    assert audio_end["reason"] == 1
    assert abs(audio_end["request_total_audio_duration_ms"] - len(audio) / 16) <= 1

    results = tester.data("tts_text_result")
    assert [result["text"] for result in results] == ["Hello there, friend!", "How are you today?"]
    assert [result["text_result_end"] for result in results] == [False, True]
    assert results[0]["start_ms"] == 0
    assert results[1]["start_ms"] == results[0]["start_ms"] + results[0]["duration_ms"]
    assert abs(results[1]["start_ms"] + results[1]["duration_ms"] - len(audio) / 16) <= 5

    metrics = {key: value for payload in tester.data("metrics") for key, value in payload["metrics"].items()}
    assert 0 < metrics["ttfb_ms"] < 5000 and 0 < metrics["rtf"] < 2
    assert not tester.data("error")


def test_piper_tts_flush_stops_the_reply_and_a_new_request_starts_fresh() -> None:
    async def script(tester: ScriptedTester, env: AsyncTenEnvTester) -> None:
        await send(env, "tts_text_input", {"request_id": "old", "text": LONG_TEXT, "text_input_end": False})
        await tester.wait_for(lambda: len(tester.frames("old")) >= 3)
        await send(env, "tts_flush", {"flush_id": "f1"})
        await tester.wait_for(lambda: bool(tester.data("tts_flush_end")))
        # Late text of the flushed reply is dropped; a new request speaks from a clean state.
        await send(env, "tts_text_input", {"request_id": "old", "text": "Too late.", "text_input_end": True})
        await send(env, "tts_text_input", {"request_id": "new", "text": "Okay.", "text_input_end": True})
        await tester.wait_for(ended(tester, "new"))

    tester = run_tester(script)
    flush_end = tester.index_of("tts_flush_end", flush_id="f1")
    old_end = tester.index_of("tts_audio_end", request_id="old")
    assert old_end < flush_end
    assert tester.received[old_end][1]["reason"] == 2
    old_indexes = [
        i for i, (kind, frame) in enumerate(tester.received) if kind == "frame" and frame.request_id == "old"
    ]
    assert max(old_indexes) < flush_end
    old_ms = sum(len(frame.samples) for frame in tester.frames("old")) / 16
    assert old_ms < 4000  # the whole text is over 10 s of speech
    assert tester.received[old_end][1]["request_total_audio_duration_ms"] == pytest.approx(old_ms, abs=1)

    new_frames = tester.frames("new")
    assert new_frames and new_frames[0].timestamp == 0
    assert tester.index_of("tts_audio_start", request_id="new") > flush_end
    new_end = tester.data("tts_audio_end")[-1]
    assert (new_end["request_id"], new_end["reason"]) == ("new", 1)
    assert "Too late." not in [result["text"] for result in tester.data("tts_text_result")]


def test_piper_tts_bad_input_gets_an_error_and_the_extension_carries_on() -> None:
    async def script(tester: ScriptedTester, env: AsyncTenEnvTester) -> None:
        await send(env, "tts_text_input", {"text": "No request id."})
        await tester.wait_for(lambda: bool(tester.data("error")))
        await send(env, "tts_text_input", {"request_id": "ok", "text": "Still here.", "text_input_end": True})
        await tester.wait_for(ended(tester, "ok"))

    tester = run_tester(script)
    assert "request_id" in tester.data("error")[0]["message"]
    assert tester.frames("ok")


def test_piper_tts_a_voice_that_fails_to_load_is_reported(tmp_path) -> None:
    async def script(tester: ScriptedTester, env: AsyncTenEnvTester) -> None:
        await tester.wait_for(lambda: bool(tester.data("error")))
        await send(env, "tts_text_input", {"request_id": "r", "text": "Hello.", "text_input_end": True})
        await tester.wait_for(lambda: len(tester.data("error")) >= 2)

    tester = run_tester(script, voice=str(tmp_path / "missing.onnx"))
    load_error, request_error = tester.data("error")
    assert load_error["code"] == -1000 and "missing.onnx" in load_error["message"]
    assert request_error["id"] == "r" and "not available" in request_error["message"]
    assert not tester.frames()


def test_piper_tts_a_synthesis_failure_ends_that_reply_only(monkeypatch) -> None:
    def fail_on_kaboom(real_phoneme_ids: Callable[..., list[list[int]]]) -> Callable[..., list[list[int]]]:
        def phoneme_ids(self: StreamableVoice, text: str) -> list[list[int]]:
            if "Kaboom" in text:
                raise RuntimeError("injected front-end fault")
            return real_phoneme_ids(self, text)

        return phoneme_ids

    # pytest's importlib mode may have imported this package a second time under a shorter name (and the
    # runtime may have registered that copy's addon): inject the fault into every copy.
    for module in [m for name, m in sys.modules.items() if name.endswith("piper_tts.piper_voice")]:
        monkeypatch.setattr(
            module.StreamableVoice, "phoneme_ids", fail_on_kaboom(module.StreamableVoice.phoneme_ids)
        )

    async def script(tester: ScriptedTester, env: AsyncTenEnvTester) -> None:
        await send(
            env,
            "tts_text_input",
            {"request_id": "bad", "text": "Fine so far. Kaboom.", "text_input_end": True},
        )
        await tester.wait_for(ended(tester, "bad"))
        await send(
            env, "tts_text_input", {"request_id": "good", "text": "That worked.", "text_input_end": True}
        )
        await tester.wait_for(ended(tester, "good"))

    tester = run_tester(script)
    (error,) = tester.data("error")
    assert error["id"] == "bad" and "injected front-end fault" in error["message"]
    assert tester.frames("bad")  # the sentence before the fault was spoken
    assert tester.frames("good")
