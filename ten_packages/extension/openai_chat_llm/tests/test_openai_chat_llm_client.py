"""ChatClient against the fault-injecting fake server: every failure is a clear LlmRequestError, fast."""

from __future__ import annotations

import asyncio
import socket
import time

import pytest

from ten_packages.extension.openai_chat_llm.chat_client import (
    ChatClient,
    LlmRequestError,
    LlmSettings,
    validate_messages,
)

MESSAGES = [{"role": "user", "content": "Say hello."}]


def _settings(base_url: str, **overrides: object) -> LlmSettings:
    values = {
        "base_url": base_url,
        "first_token_timeout_ms": 1500,
        "chunk_timeout_ms": 500,
        "max_retries": 2,
        "retry_backoff_ms": 20,
    }
    return LlmSettings.from_properties({**values, **overrides})


async def _collect(client: ChatClient, **parameters: object) -> tuple[list[str], object]:
    reply = client.reply(MESSAGES, dict(parameters))
    deltas = [delta async for delta in reply]
    await client.aclose()
    return deltas, reply


@pytest.mark.asyncio
async def test_openai_chat_llm_client_streams_reply_and_metrics(fake_llm_server) -> None:
    client = ChatClient(_settings(fake_llm_server.base_url, temperature=0.2, extra_params={"top_k": 5}))
    deltas, reply = await _collect(client, max_tokens=7)
    assert deltas == ["Hello", " there", ",", " friend", "!"]
    assert reply.content == "Hello there, friend!"
    assert reply.finish_reason == "stop"
    assert reply.response_id == "chatcmpl-fake"
    assert reply.ttft_ms is not None and reply.ttft_ms > 0
    assert reply.token_count == 5
    request = fake_llm_server.requests[0]
    assert request["model"] == "fake-model"  # empty `model` property: first model the server lists
    assert request["stream"] is True
    assert (request["temperature"], request["max_tokens"], request["top_k"]) == (0.2, 7, 5)


@pytest.mark.asyncio
async def test_openai_chat_llm_client_prepends_system_prompt(fake_llm_server) -> None:
    client = ChatClient(_settings(fake_llm_server.base_url, system_prompt="Be brief.", model="m1"))
    await _collect(client)
    request = fake_llm_server.requests[0]
    assert request["model"] == "m1"
    assert request["messages"] == [{"role": "system", "content": "Be brief."}, *MESSAGES]


@pytest.mark.asyncio
async def test_openai_chat_llm_client_never_yields_reasoning(fake_llm_server) -> None:
    fake_llm_server.reset("think")
    deltas, reply = await _collect(ChatClient(_settings(fake_llm_server.base_url)))
    assert "".join(deltas) == reply.content == "Visible <b> answer."
    assert reply.token_count == 7  # reasoning chunks count as generated tokens


@pytest.mark.asyncio
async def test_openai_chat_llm_client_retries_500_then_succeeds(fake_llm_server) -> None:
    fake_llm_server.reset("http500", "http500", "reply")
    deltas, _ = await _collect(ChatClient(_settings(fake_llm_server.base_url)))
    assert "".join(deltas) == "Hello there, friend!"
    assert len(fake_llm_server.requests) == 3


@pytest.mark.asyncio
async def test_openai_chat_llm_client_gives_up_after_max_retries(fake_llm_server) -> None:
    fake_llm_server.reset("http500")
    with pytest.raises(LlmRequestError, match=r"HTTP 500: .*scripted 500.*\(after 3 attempts\)"):
        await _collect(ChatClient(_settings(fake_llm_server.base_url)))
    assert len(fake_llm_server.requests) == 3


@pytest.mark.asyncio
async def test_openai_chat_llm_client_does_not_retry_client_errors(fake_llm_server) -> None:
    fake_llm_server.reset("http400")
    with pytest.raises(LlmRequestError, match="HTTP 400") as raised:
        await _collect(ChatClient(_settings(fake_llm_server.base_url)))
    assert not raised.value.retryable
    assert len(fake_llm_server.requests) == 1


@pytest.mark.asyncio
async def test_openai_chat_llm_client_server_down() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    client = ChatClient(_settings(f"http://127.0.0.1:{closed_port}/v1", model="m"))
    with pytest.raises(LlmRequestError, match=r"cannot reach LLM server at .*\(after 3 attempts\)"):
        await _collect(client)


@pytest.mark.asyncio
async def test_openai_chat_llm_client_drop_mid_stream_is_not_retried(fake_llm_server) -> None:
    fake_llm_server.reset("drop", "reply")
    client = ChatClient(_settings(fake_llm_server.base_url))
    reply = client.reply(MESSAGES)
    deltas: list[str] = []
    with pytest.raises(LlmRequestError, match="broke after 2 tokens"):
        async for delta in reply:
            deltas.append(delta)
    assert deltas == ["Hello", " there"]  # already spoken: a retry would repeat it
    assert len(fake_llm_server.requests) == 1


@pytest.mark.asyncio
async def test_openai_chat_llm_client_unfinished_stream_is_an_error(fake_llm_server) -> None:
    fake_llm_server.reset("unfinished")
    with pytest.raises(LlmRequestError, match="ended before the reply was finished"):
        await _collect(ChatClient(_settings(fake_llm_server.base_url, max_retries=0)))


@pytest.mark.asyncio
async def test_openai_chat_llm_client_stalled_stream_times_out(fake_llm_server) -> None:
    fake_llm_server.reset("stall")
    started = time.monotonic()
    with pytest.raises(LlmRequestError, match="stalled: nothing for 500 ms after 2 tokens"):
        await _collect(ChatClient(_settings(fake_llm_server.base_url)))
    assert time.monotonic() - started < 5
    await asyncio.sleep(0.1)
    assert fake_llm_server.disconnects == 1  # the stalled connection was closed, not leaked


@pytest.mark.asyncio
async def test_openai_chat_llm_client_first_token_timeout_retries(fake_llm_server) -> None:
    fake_llm_server.reset("stall_first", "reply")
    deltas, _ = await _collect(ChatClient(_settings(fake_llm_server.base_url, first_token_timeout_ms=400)))
    assert "".join(deltas) == "Hello there, friend!"
    assert len(fake_llm_server.requests) == 2

    fake_llm_server.reset("stall_first")
    with pytest.raises(LlmRequestError, match="no first token within 400 ms"):
        await _collect(
            ChatClient(_settings(fake_llm_server.base_url, first_token_timeout_ms=400, max_retries=0))
        )


@pytest.mark.asyncio
async def test_openai_chat_llm_client_garbage_sse(fake_llm_server) -> None:
    fake_llm_server.reset("garbage")
    with pytest.raises(LlmRequestError, match="malformed stream"):
        await _collect(ChatClient(_settings(fake_llm_server.base_url, max_retries=0)))


@pytest.mark.asyncio
async def test_openai_chat_llm_client_cancel_closes_stream_at_once(fake_llm_server) -> None:
    fake_llm_server.reset("slow")
    fake_llm_server.token_delay_s = 0.02
    client = ChatClient(_settings(fake_llm_server.base_url))
    reply = client.reply(MESSAGES)
    first_delta = asyncio.Event()

    async def consume() -> None:
        async for _ in reply:
            first_delta.set()

    task = asyncio.create_task(consume())
    await asyncio.wait_for(first_delta.wait(), 5)
    task.cancel()
    cancelled_at = time.monotonic()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert time.monotonic() - cancelled_at < 0.2
    await asyncio.sleep(0.2)
    assert fake_llm_server.disconnects == 1
    assert reply.token_count < 100
    await client.aclose()


@pytest.mark.parametrize(
    ("properties", "message"),
    [
        ({"temperature": "hot"}, "'temperature' must be of type float"),
        ({"max_retries": True}, "'max_retries' must be of type int"),
        ({"max_tokens": 0}, "'max_tokens' must be > 0"),
        ({"base_url": "localhost:1234"}, "'base_url' must be an http"),
    ],
)
def test_openai_chat_llm_settings_reject_bad_properties(properties: dict, message: str) -> None:
    with pytest.raises((TypeError, ValueError), match=message):
        LlmSettings.from_properties(properties)


@pytest.mark.parametrize(
    ("messages", "message"),
    [
        ([], "non-empty array"),
        ("hello", "non-empty array"),
        ([{"role": "robot", "content": "x"}], r"messages\[0\].role"),
        ([{"role": "user", "content": "ok"}, {"role": "user"}], r"messages\[1\].content"),
    ],
)
def test_openai_chat_llm_validate_messages(messages: object, message: str) -> None:
    with pytest.raises((TypeError, ValueError), match=message):
        validate_messages(messages)
