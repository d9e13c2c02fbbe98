"""Fixtures: a fault-injecting fake OpenAI-compatible server, and the real bundled llama.cpp server."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator

import pytest

FAKE_MODEL = "fake-model"


def _chunk(content: str | None = None, finish_reason: str | None = None, **delta_extra: str) -> bytes:
    delta = {"content": content, **delta_extra} if content is not None or delta_extra else {}
    event = {
        "id": "chatcmpl-fake",
        "object": "chat.completion.chunk",
        "created": 1_700_000_000,
        "model": FAKE_MODEL,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason}],
    }
    return b"data: " + json.dumps(event).encode() + b"\n\n"


class FakeOpenAiServer:
    """An OpenAI-compatible /v1 server on 127.0.0.1 that follows a script, one behaviour per request.

    Behaviours: "reply" (streams `reply_tokens`), "think" (reasoning in tags and in reasoning_content),
    "slow" (many tokens, `token_delay_s` apart), "http500", "http400", "drop" (two tokens, then the
    connection is cut), "stall" (two tokens, then silence), "stall_first" (headers, then silence),
    "garbage" (a data line that is not JSON), "unfinished" (tokens, then a clean end without
    finish_reason). The last behaviour of the script repeats.
    """

    def __init__(self) -> None:
        self.script: list[str] = ["reply"]
        self.reply_tokens = ["Hello", " there", ",", " friend", "!"]
        self.token_delay_s = 0.0
        self.requests: list[dict] = []
        self.disconnects = 0
        self._loop = asyncio.new_event_loop()
        started = threading.Event()
        self._thread = threading.Thread(target=self._serve, args=(started,), daemon=True)
        self._thread.start()
        started.wait()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def reset(self, *script: str) -> None:
        self.script = list(script) or ["reply"]
        self.reply_tokens = ["Hello", " there", ",", " friend", "!"]
        self.token_delay_s = 0.0
        self.requests = []
        self.disconnects = 0

    def close(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)

    def _serve(self, started: threading.Event) -> None:
        asyncio.set_event_loop(self._loop)
        server = self._loop.run_until_complete(asyncio.start_server(self._handle, "127.0.0.1", 0))
        self.port = server.sockets[0].getsockname()[1]
        started.set()
        self._loop.run_forever()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            request_line, *header_lines = head.decode().split("\r\n")
            headers = {
                k.strip().lower(): v.strip() for k, _, v in (h.partition(":") for h in header_lines if h)
            }
            body = await reader.readexactly(int(headers.get("content-length", "0")))
            if request_line.startswith("GET /v1/models"):
                models = {"object": "list", "data": [{"id": FAKE_MODEL, "object": "model", "owned_by": "me"}]}
                await self._respond_json(writer, 200, models)
                return
            self.requests.append(json.loads(body))
            behaviour = self.script.pop(0) if len(self.script) > 1 else self.script[0]
            await self._play(behaviour, reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError):
            self.disconnects += 1
        finally:
            writer.close()

    async def _respond_json(self, writer: asyncio.StreamWriter, status: int, payload: dict) -> None:
        body = json.dumps(payload).encode()
        writer.write(
            f"HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n"
            f"Connection: close\r\n\r\n".encode()
            + body
        )
        await writer.drain()

    async def _send(self, writer: asyncio.StreamWriter, payload: bytes) -> None:
        writer.write(f"{len(payload):x}\r\n".encode() + payload + b"\r\n")
        await writer.drain()

    async def _play(self, behaviour: str, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if behaviour in ("http500", "http400"):
            status = int(behaviour[4:])
            await self._respond_json(
                writer, status, {"error": {"message": f"scripted {status}", "type": "x"}}
            )
            return
        writer.write(
            b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n"
            b"Connection: close\r\n\r\n"
        )
        await writer.drain()
        if behaviour == "stall_first":
            await reader.read()  # silent until the client hangs up
            self.disconnects += 1
            return
        await self._send(writer, _chunk("", role="assistant"))
        if behaviour == "think":
            await self._send(writer, _chunk(None, reasoning_content="The user greets me."))
            for piece in ["<thi", "nk>secret pl", "an</th", "ink>\n\nVis", "ible <", "b> answer."]:
                await self._send(writer, _chunk(piece))
            await self._send(writer, _chunk(None, finish_reason="stop"))
        elif behaviour == "garbage":
            await self._send(writer, b"data: {this is not json\n\n")
        else:
            tokens = [f" word{i}" for i in range(400)] if behaviour == "slow" else self.reply_tokens
            if behaviour in ("drop", "stall"):
                tokens = tokens[:2]
            for token in tokens:
                await self._send(writer, _chunk(token))
                await asyncio.sleep(self.token_delay_s)
            if behaviour == "drop":
                writer.transport.abort()
                return
            if behaviour == "stall":
                await reader.read()
                self.disconnects += 1
                return
            if behaviour != "unfinished":
                await self._send(writer, _chunk(None, finish_reason="stop"))
        await self._send(writer, b"data: [DONE]\n\n")
        writer.write(b"0\r\n\r\n")
        await writer.drain()


@pytest.fixture(scope="session")
def local_llm_base_url() -> Iterator[str]:
    """The real bundled llama.cpp server (SmolLM2-135M), started once for the session.

    The server launcher is the app's (this repo's test only; the extension itself never imports app).
    """
    from app.local_llm import LocalLlmServer

    with LocalLlmServer() as server:
        yield server.base_url


@pytest.fixture(scope="session")
def _fake_server_instance() -> Iterator[FakeOpenAiServer]:
    server = FakeOpenAiServer()
    yield server
    server.close()


@pytest.fixture
def fake_llm_server(_fake_server_instance: FakeOpenAiServer) -> FakeOpenAiServer:
    """The shared fake server, reset to replying normally."""
    _fake_server_instance.reset()
    return _fake_server_instance


ChatResult = tuple[int, bool, dict]  # (status code, is_final, properties)


class LlmExtensionHarness:
    """Runs the openai_chat_llm extension alone under AsyncExtensionTester (TEN's way) with a scenario:
    an async function(ten_env_tester, harness) that sends cmds; data the extension sends is collected."""

    def __init__(self) -> None:
        self.data: list[tuple[str, dict]] = []

    def run(self, properties: dict, scenario, timeout_s: float = 30.0) -> None:
        from ten_runtime import AsyncExtensionTester

        harness = self

        class ScenarioTester(AsyncExtensionTester):
            failure: BaseException | None = None

            async def on_start(self, ten_env_tester) -> None:
                self._scenario_task = asyncio.create_task(self._play(ten_env_tester))

            async def _play(self, ten_env_tester) -> None:
                try:
                    await asyncio.wait_for(scenario(ten_env_tester), timeout_s)
                except BaseException as failure:  # noqa: BLE001 -- re-raised after the run, for pytest
                    ScenarioTester.failure = failure
                ten_env_tester.stop_test()

            async def on_data(self, ten_env_tester, data) -> None:
                payload_json, _ = data.get_property_to_json()
                harness.data.append((data.get_name(), json.loads(payload_json or "{}")))

        tester = ScenarioTester()
        tester.set_test_mode_single("openai_chat_llm", json.dumps(properties))
        error = tester.run()
        if ScenarioTester.failure is not None:
            raise ScenarioTester.failure
        assert error is None, error.error_message()

    @staticmethod
    async def chat(ten_env_tester, payload: dict, on_partial=None) -> list[ChatResult]:
        """Send chat_completion and collect every result until the final one."""
        from ten_runtime import Cmd

        cmd = Cmd.create("chat_completion")
        cmd.set_property_from_json(None, json.dumps(payload))
        results: list[ChatResult] = []
        async for result, error in ten_env_tester.send_cmd_ex(cmd):
            assert error is None, error.error_message()
            properties_json, _ = result.get_property_to_json()
            results.append((result.get_status_code(), result.is_final(), json.loads(properties_json or "{}")))
            if on_partial is not None and not result.is_final():
                await on_partial(results[-1])
        return results

    @staticmethod
    async def command(ten_env_tester, name: str, payload: dict) -> ChatResult:
        from ten_runtime import Cmd

        cmd = Cmd.create(name)
        cmd.set_property_from_json(None, json.dumps(payload))
        result, error = await ten_env_tester.send_cmd(cmd)
        assert error is None, error.error_message()
        properties_json, _ = result.get_property_to_json()
        return result.get_status_code(), result.is_final(), json.loads(properties_json or "{}")

    def named(self, name: str) -> list[dict]:
        return [payload for data_name, payload in self.data if data_name == name]


@pytest.fixture
def llm_extension() -> LlmExtensionHarness:
    return LlmExtensionHarness()
