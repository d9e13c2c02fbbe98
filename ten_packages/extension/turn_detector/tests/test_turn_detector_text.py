"""ten_text mode's client against a scripted OpenAI-compatible server (the real TEN model is not available)."""

import asyncio
import time

import pytest

from ten_packages.extension.turn_detector.tests.scripted_turn_server import ScriptedTurnServer
from ten_packages.extension.turn_detector.text_turn_client import (
    TextTurnClient,
    TextTurnError,
    parse_verdict,
    strip_punctuation,
)
from ten_packages.extension.turn_detector.turn_policy import TurnState


def classify(server: ScriptedTurnServer, text: str, timeout_ms: int = 2000) -> TurnState:
    async def ask() -> TurnState:
        client = TextTurnClient(server.base_url, "", "ten-turn", 0.1, 0.1, timeout_ms)
        try:
            return await client.classify(text)
        finally:
            await client.close()

    return asyncio.run(ask())


def test_asks_like_ten_and_maps_each_label(turn_server):
    turn_server.script = [(200, "finished", 0.0), (200, "unfinished", 0.0), (200, " Wait\n", 0.0)]
    assert classify(turn_server, "What is the weather like in Paris, today?") is TurnState.FINISHED
    assert classify(turn_server, "I was wondering if you could") is TurnState.UNFINISHED
    assert classify(turn_server, "Hold on, let me think.") is TurnState.WAIT
    first = turn_server.requests[0]
    assert first["path"] == "/v1/chat/completions"
    assert first["body"]["messages"] == [
        {"role": "user", "content": "What is the weather like in Paris today"}
    ]
    assert first["body"]["max_tokens"] == 1 and first["body"]["model"] == "ten-turn"


def test_server_error_and_unknown_answer_are_clear_errors(turn_server):
    turn_server.script = [(500, "model crashed", 0.0), (200, "banana", 0.0)]
    with pytest.raises(TextTurnError, match="request failed"):
        classify(turn_server, "hello")
    with pytest.raises(TextTurnError, match="expected finished, unfinished or wait"):
        classify(turn_server, "hello")


def test_slow_server_times_out(turn_server):
    turn_server.script = [(200, "finished", 1.5)]
    started = time.monotonic()
    with pytest.raises(TextTurnError, match="request failed"):
        classify(turn_server, "hello", timeout_ms=300)
    assert time.monotonic() - started < 1.4


def test_unreachable_endpoint_is_a_clear_error():
    async def ask() -> None:
        client = TextTurnClient("http://127.0.0.1:9/v1", "", "m", 0.1, 0.1, 500)
        try:
            await client.classify("hello")
        finally:
            await client.close()

    with pytest.raises(TextTurnError, match="request failed"):
        asyncio.run(ask())


def test_punctuation_of_any_script_is_removed():
    assert strip_punctuation("Well... I think, maybe?") == "Well I think maybe"
    assert strip_punctuation("你好，今天天气怎么样？") == "你好 今天天气怎么样"
    assert parse_verdict("FINISHED") is TurnState.FINISHED
