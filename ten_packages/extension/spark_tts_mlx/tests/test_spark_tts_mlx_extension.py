"""The spark_tts_mlx extension under the TEN runtime, with the tiny model and scripted semantic tokens."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

import numpy as np
import pytest
from ten_runtime import AsyncExtension, AsyncExtensionTester, AsyncTenEnvTester, AudioFrame, Data

from ten_packages.extension.spark_tts_mlx.config import SparkTTSConfig
from ten_packages.extension.spark_tts_mlx.spark_model import SparkModel
from ten_packages.extension.spark_tts_mlx.synthesizer import float_to_int16
from ten_packages.extension.spark_tts_mlx.testing import (
    GLOBAL_TOKEN_COUNT,
    scripted_global_tokens,
    scripted_semantic_tokens,
)
from ten_packages.extension.spark_tts_mlx.token_source import ScriptedTokenSource

EXTENSION_DIR = Path(__file__).resolve().parents[1]
# Context and lookahead cover the tiny decoder's receptive field, so streaming reproduces a one-shot decode.
EXACT_SCHEDULE = {
    "first_chunk_tokens": 8,
    "chunk_growth": 2.0,
    "max_chunk_tokens": 40,
    "left_context_tokens": 20,
    "lookahead_tokens": 18,
}


def _text_input(request_id: str | None, text: str, end: bool = True) -> Data:
    data = Data.create("tts_text_input")
    payload = {"text": text, "text_input_end": end, "metadata": {"turn_id": 3}}
    if request_id is not None:
        payload["request_id"] = request_id
    data.set_property_from_json(None, json.dumps(payload))
    return data


def _payload(data: Data) -> dict:
    payload_json, _ = data.get_property_to_json(None)
    return json.loads(payload_json)


class SparkTester(AsyncExtensionTester):
    """Collects everything the extension sends; subclasses drive the conversation."""

    def __init__(self, source: ScriptedTokenSource | None) -> None:
        super().__init__()
        self.source = source
        self.data: list[tuple[str, dict]] = []
        self.pcm: list[np.ndarray] = []
        self.frame_request_ids: set[str] = set()
        self.tokens_at_first_audio: int | None = None

    async def on_audio_frame(self, ten_env: AsyncTenEnvTester, audio_frame: AudioFrame) -> None:
        if self.tokens_at_first_audio is None and self.source is not None:
            self.tokens_at_first_audio = self.source.opened[-1].tokens_generated
        assert audio_frame.get_sample_rate() == 16000 and audio_frame.get_number_of_channels() == 1
        request_id, _ = audio_frame.get_property_string("request_id")
        self.frame_request_ids.add(request_id)
        self.pcm.append(np.frombuffer(bytes(audio_frame.get_buf()), dtype=np.int16))
        await self.on_first_audio(ten_env)

    async def on_first_audio(self, ten_env: AsyncTenEnvTester) -> None:
        pass

    async def on_data(self, ten_env: AsyncTenEnvTester, data: Data) -> None:
        self.data.append((data.get_name(), _payload(data)))
        if data.get_name() in self.stop_after:
            ten_env.stop_test()

    stop_after: tuple[str, ...] = ("tts_audio_end",)

    def named(self, name: str) -> list[dict]:
        return [payload for data_name, payload in self.data if data_name == name]


def _run(tester: SparkTester, monkeypatch: pytest.MonkeyPatch, properties: dict) -> None:
    # pytest's importlib mode may import this package a second time as top-level `spark_tts_mlx`, and the
    # runtime then instantiates that copy's class: swap the token source in every copy.
    for module in list(sys.modules.values()) if tester.source is not None else []:
        extension_class = getattr(module, "SparkTTSExtension", None)
        if isinstance(extension_class, type) and issubclass(extension_class, AsyncExtension):
            scripted = staticmethod(lambda model, config: tester.source)
            monkeypatch.setattr(extension_class, "token_source_factory", scripted)
    tester.set_test_mode_single("spark_tts_mlx", json.dumps(properties))
    tester.set_timeout(60_000_000)
    error = tester.run()
    assert error is None, error.error_message()


def test_every_property_is_declared_and_defaults_agree_with_the_code() -> None:
    manifest = json.loads((EXTENSION_DIR / "manifest.json").read_text())
    defaults = json.loads((EXTENSION_DIR / "property.json").read_text())
    assert set(defaults) == set(manifest["api"]["property"]["properties"])
    assert SparkTTSConfig.from_properties(defaults) == SparkTTSConfig.from_properties(
        {}
    )  # one set of defaults


def test_streams_audio_before_generation_ends_and_matches_one_shot_decode(
    tiny_spark_dir: Path, tiny_spark_model: SparkModel, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = ScriptedTokenSource(
        scripted_global_tokens(), scripted_semantic_tokens(150), seconds_per_token=0.01
    )

    class Tester(SparkTester):
        async def on_start(self, ten_env: AsyncTenEnvTester) -> None:
            await ten_env.send_data(_text_input(None, "no request id"))  # bad input: an error, then carry on
            await ten_env.send_data(_text_input("r1", "Hello world"))

    tester = Tester(source)
    _run(tester, monkeypatch, {"model": str(tiny_spark_dir), **EXACT_SCHEDULE})

    assert tester.named("error")[0]["message"].startswith("tts_text_input needs")
    assert tester.tokens_at_first_audio is not None and tester.tokens_at_first_audio < 150
    pcm = np.concatenate(tester.pcm)
    expected = float_to_int16(tiny_spark_model.decode(source.global_tokens, source.semantic_tokens))
    assert len(pcm) == len(expected) == 150 * 320
    assert np.abs(pcm.astype(np.int32) - expected).max() <= 2
    names = [name for name, _ in tester.data]
    assert names.index("tts_audio_start") < names.index("tts_text_result") < names.index("tts_audio_end")
    assert tester.frame_request_ids == {"r1"}
    (end,) = tester.named("tts_audio_end")
    assert (
        end["reason"] == 1
        and end["request_total_audio_duration_ms"] == 3000
        and end["metadata"]["turn_id"] == 3
    )
    (result,) = tester.named("tts_text_result")
    assert result["text"] == "Hello world" and result["duration_ms"] == 3000 and result["text_result_end"]
    metrics = {key for payload in tester.named("metrics") for key in payload["metrics"]}
    assert metrics == {"ttfb_ms", "rtf"}


def test_flush_mid_utterance_stops_generation_and_audio(
    tiny_spark_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = ScriptedTokenSource(
        scripted_global_tokens(), scripted_semantic_tokens(400), seconds_per_token=0.01
    )

    class Tester(SparkTester):
        stop_after = ("tts_flush_end",)
        flushed = False

        async def on_start(self, ten_env: AsyncTenEnvTester) -> None:
            await ten_env.send_data(_text_input("r1", "Hello world, and", end=False))  # speaks "Hello world,"

        async def on_first_audio(self, ten_env: AsyncTenEnvTester) -> None:
            if not self.flushed:
                self.flushed = True
                flush = Data.create("tts_flush")
                flush.set_property_from_json(None, json.dumps({"flush_id": "f1"}))
                await ten_env.send_data(flush)
                await ten_env.send_data(
                    _text_input("r1", " and more text", end=True)
                )  # dropped: r1 was flushed

    tester = Tester(source)
    _run(tester, monkeypatch, {"model": str(tiny_spark_dir), "warm_up": False, **EXACT_SCHEDULE})

    names = [name for name, _ in tester.data]
    assert names[-2:] == ["tts_audio_end", "tts_flush_end"] and tester.named("tts_flush_end") == [
        {"flush_id": "f1"}
    ]
    (end,) = tester.named("tts_audio_end")
    assert end["reason"] == 2 and end["request_total_audio_duration_ms"] < 400 * 20
    generated = source.opened[0].tokens_generated
    assert len(source.opened) == 1 and generated < 400
    assert sum(len(p) for p in tester.pcm) < generated * 320


def test_missing_model_is_reported_and_text_gets_an_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    class Tester(SparkTester):
        stop_after = ()

        async def on_start(self, ten_env: AsyncTenEnvTester) -> None:
            await asyncio.sleep(0.5)
            await ten_env.send_data(_text_input("r1", "Hello"))
            await asyncio.sleep(0.2)
            ten_env.stop_test()

    tester = Tester(ScriptedTokenSource([], []))
    _run(tester, monkeypatch, {"model": str(tmp_path / "missing")})
    errors = tester.named("error")
    assert len(errors) == 2 and all("does not exist" in error["message"] for error in errors)
    assert errors[0]["code"] == -1000 and errors[1]["id"] == "r1" and not tester.pcm


def test_language_model_path_streams_through_the_extension(tiny_spark_dir: Path) -> None:
    """No script: the tiny random LM, constrained to speaker then semantic tokens, drives the whole path."""

    class Tester(SparkTester):
        async def on_start(self, ten_env: AsyncTenEnvTester) -> None:
            await ten_env.send_data(_text_input("lm", "Hello world."))

    tester = Tester(None)
    tester.set_test_mode_single(
        "spark_tts_mlx", json.dumps({"model": str(tiny_spark_dir), "max_tokens": 60, "warm_up": False})
    )
    assert tester.run() is None
    (end,) = tester.named("tts_audio_end")
    samples = sum(len(pcm) for pcm in tester.pcm)
    assert end["reason"] == 1 and 0 < samples <= (60 - GLOBAL_TOKEN_COUNT) * 320
    assert end["request_total_audio_duration_ms"] == samples * 1000 // 16000
    assert not tester.named("error")
