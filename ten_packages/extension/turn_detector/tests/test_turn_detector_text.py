"""ten_text mode's client against a scripted OpenAI-compatible server.

The real TEN Turn Detection model (a 7B LLM) cannot be fetched here, so a small local HTTP server
plays it: it answers what each test scripts and records what it was asked.
"""

import asyncio
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from ten_packages.extension.turn_detector.text_turn_client import (
    TextTurnClient,
    TextTurnError,
    parse_verdict,
    strip_punctuation,
)
from ten_packages.extension.turn_detector.turn_policy import TurnState


class ScriptedTurnServer:
    """An OpenAI-compatible /v1/chat/completions endpoint answering from a script: (status, content, delay_s)."""

    def __init__(self) -> None:
        self.script: list[tuple[int, str, float]] = []
        self.requests: list[dict] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                server.requests.append({"path": self.path, "body": body})
                status, content, delay_s = server.script.pop(0) if server.script else (200, "finished", 0.0)
                time.sleep(delay_s)
                if status == 200:
                    reply = {
                        "id": "chatcmpl-1",
                        "object": "chat.completion",
                        "created": 0,
                        "model": body["model"],
                        "choices": [
                            {"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "length"}
                        ],
                    }
                else:
                    reply = {"error": {"message": content, "type": "server_error"}}
                payload = json.dumps(reply).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (timeout test)

            def log_message(self, *args) -> None:
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base_url = f"http://127.0.0.1:{self._httpd.server_address[1]}/v1"
        threading.Thread(target=self._httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()


@pytest.fixture
def turn_server():
    server = ScriptedTurnServer()
    yield server
    server.close()


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
    assert first["body"]["messages"] == [{"role": "user", "content": "What is the weather like in Paris today"}]
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
