"""The extension under the TEN runtime against the fake server: the LLM contract, abort, and every
failure answered with an ERROR result plus `error` data while the extension keeps serving."""

from __future__ import annotations

import asyncio
import socket
import time

MESSAGES = [{"role": "user", "content": "Say hello."}]
OK, ERROR = 0, 1


def _properties(base_url: str, **overrides: object) -> dict:
    return {
        "base_url": base_url,
        "first_token_timeout_ms": 1500,
        "chunk_timeout_ms": 500,
        "max_retries": 0,
        "retry_backoff_ms": 10,
        **overrides,
    }


def test_openai_chat_llm_streams_partials_then_done_and_metrics(fake_llm_server, llm_extension) -> None:
    results = []

    async def scenario(tester) -> None:
        results.extend(await llm_extension.chat(tester, {"request_id": "r1", "messages": MESSAGES}))

    llm_extension.run(_properties(fake_llm_server.base_url), scenario)
    *partials, done = results
    assert [status for status, _, _ in results] == [OK] * len(results)
    assert [final for _, final, _ in results] == [False] * len(partials) + [True]
    assert [p["delta"] for _, _, p in partials] == ["Hello", " there", ",", " friend", "!"]
    assert [p["content"] for _, _, p in partials][-1] == "Hello there, friend!"
    assert {p["type"] for _, _, p in partials} == {"message_content_delta"}
    assert partials[0][2]["response_id"] == "chatcmpl-fake" and partials[0][2]["created"] == 1_700_000_000
    assert done[2] == {
        "response_id": "chatcmpl-fake",
        "type": "message_content_done",
        "content": "Hello there, friend!",
        "finish_reason": "stop",
    }
    (metrics,) = llm_extension.named("metrics")
    assert metrics["module"] == "llm" and metrics["id"] == "r1"
    assert metrics["metrics"]["ttft_ms"] > 0 and metrics["metrics"]["tokens_per_s"] > 0
    assert llm_extension.named("error") == []


def test_openai_chat_llm_never_returns_reasoning(fake_llm_server, llm_extension) -> None:
    fake_llm_server.reset("think")
    results = []

    async def scenario(tester) -> None:
        results.extend(await llm_extension.chat(tester, {"request_id": "r1", "messages": MESSAGES}))

    llm_extension.run(_properties(fake_llm_server.base_url), scenario)
    assert results[-1][2]["content"] == "Visible <b> answer."
    assert all("secret" not in payload.get("delta", "") + payload["content"] for _, _, payload in results)


def test_openai_chat_llm_non_streaming_sends_only_the_final_result(fake_llm_server, llm_extension) -> None:
    results = []

    async def scenario(tester) -> None:
        payload = {"request_id": "r1", "messages": MESSAGES, "streaming": False}
        results.extend(await llm_extension.chat(tester, payload))

    llm_extension.run(_properties(fake_llm_server.base_url), scenario)
    assert [(status, final) for status, final, _ in results] == [(OK, True)]
    assert results[0][2]["content"] == "Hello there, friend!"


def test_openai_chat_llm_abort_stops_the_stream_at_once(fake_llm_server, llm_extension) -> None:
    fake_llm_server.reset("slow")
    fake_llm_server.token_delay_s = 0.02
    timings: dict[str, float] = {}
    results = []
    abort_results = []

    async def scenario(tester) -> None:
        async def abort_after_first_delta(_partial) -> None:
            if "abort_sent" not in timings:
                timings["abort_sent"] = time.monotonic()
                abort_results.append(await llm_extension.command(tester, "abort", {"request_id": "r1"}))

        results.extend(
            await llm_extension.chat(
                tester, {"request_id": "r1", "messages": MESSAGES}, abort_after_first_delta
            )
        )
        timings["done"] = time.monotonic()

    llm_extension.run(_properties(fake_llm_server.base_url), scenario)
    assert abort_results == [(OK, True, {})]
    status, final, done = results[-1]
    assert (status, final, done["finish_reason"]) == (OK, True, "aborted")
    assert len(results) < 20  # 400 tokens were on offer
    assert timings["done"] - timings["abort_sent"] < 1.0
    time.sleep(0.2)
    assert fake_llm_server.disconnects == 1  # the HTTP stream was closed, not left generating


def test_openai_chat_llm_abort_without_request_id_aborts_all(fake_llm_server, llm_extension) -> None:
    fake_llm_server.reset("slow")
    fake_llm_server.token_delay_s = 0.05
    finish_reasons = []

    async def scenario(tester) -> None:
        chats = [
            asyncio.create_task(llm_extension.chat(tester, {"request_id": rid, "messages": MESSAGES}))
            for rid in ("a", "b")
        ]
        await asyncio.sleep(0.3)
        await llm_extension.command(tester, "abort", {})
        for results in await asyncio.gather(*chats):
            finish_reasons.append(results[-1][2]["finish_reason"])

    llm_extension.run(_properties(fake_llm_server.base_url), scenario)
    assert finish_reasons == ["aborted", "aborted"]


def test_openai_chat_llm_server_500_then_recovers(fake_llm_server, llm_extension) -> None:
    fake_llm_server.reset("http500", "reply")
    outcomes = []

    async def scenario(tester) -> None:
        for request_id in ("r1", "r2"):
            outcomes.append(
                await llm_extension.chat(tester, {"request_id": request_id, "messages": MESSAGES})
            )

    llm_extension.run(_properties(fake_llm_server.base_url), scenario)
    [(status, final, failure)] = outcomes[0]
    assert (status, final, failure["finish_reason"]) == (ERROR, True, "error")
    assert "HTTP 500" in failure["message"]
    (error,) = llm_extension.named("error")
    assert error["module"] == "llm" and error["id"] == "r1" and "HTTP 500" in error["message"]
    assert outcomes[1][-1][2]["content"] == "Hello there, friend!"


def test_openai_chat_llm_drop_mid_stream_keeps_what_was_said(fake_llm_server, llm_extension) -> None:
    fake_llm_server.reset("drop")
    results = []

    async def scenario(tester) -> None:
        results.extend(await llm_extension.chat(tester, {"request_id": "r1", "messages": MESSAGES}))

    llm_extension.run(_properties(fake_llm_server.base_url, max_retries=2), scenario)
    status, final, failure = results[-1]
    assert (status, final) == (ERROR, True)
    assert failure["content"] == "Hello there" and "broke after 2 tokens" in failure["message"]
    assert len(fake_llm_server.requests) == 1
    assert len(llm_extension.named("error")) == 1


def test_openai_chat_llm_stalled_stream_and_garbage_are_errors(fake_llm_server, llm_extension) -> None:
    fake_llm_server.reset("stall", "garbage")
    messages = []

    async def scenario(tester) -> None:
        for request_id in ("r1", "r2"):
            results = await llm_extension.chat(tester, {"request_id": request_id, "messages": MESSAGES})
            assert results[-1][:2] == (ERROR, True)
            messages.append(results[-1][2]["message"])

    started = time.monotonic()
    llm_extension.run(_properties(fake_llm_server.base_url), scenario)
    assert "stalled" in messages[0] and "malformed stream" in messages[1]
    assert time.monotonic() - started < 10


def test_openai_chat_llm_server_down_is_a_clear_error(llm_extension) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    results = []

    async def scenario(tester) -> None:
        results.extend(await llm_extension.chat(tester, {"request_id": "r1", "messages": MESSAGES}))

    llm_extension.run(_properties(f"http://127.0.0.1:{closed_port}/v1", max_retries=1), scenario)
    assert results[-1][:2] == (ERROR, True)
    assert "cannot reach LLM server" in results[-1][2]["message"]
    assert "after 2 attempts" in llm_extension.named("error")[0]["message"]


def test_openai_chat_llm_bad_requests_get_errors_and_service_continues(
    fake_llm_server, llm_extension
) -> None:
    outcomes = []

    async def scenario(tester) -> None:
        outcomes.append(await llm_extension.chat(tester, {"request_id": "bad1", "messages": "hi"}))
        outcomes.append(
            await llm_extension.chat(tester, {"request_id": "bad2", "messages": MESSAGES, "parameters": [1]})
        )
        outcomes.append([await llm_extension.command(tester, "summarize", {})])
        outcomes.append(await llm_extension.chat(tester, {"request_id": "good", "messages": MESSAGES}))

    llm_extension.run(_properties(fake_llm_server.base_url), scenario)
    assert [results[-1][0] for results in outcomes] == [ERROR, ERROR, ERROR, OK]
    assert "'messages' must be a non-empty array" in outcomes[0][-1][2]["message"]
    assert "'parameters' must be an object" in outcomes[1][-1][2]["message"]
    assert "unsupported cmd 'summarize'" in outcomes[2][-1][2]["message"]
    assert [error["id"] for error in llm_extension.named("error")] == ["bad1", "bad2", ""]
    assert len(fake_llm_server.requests) == 1


def test_openai_chat_llm_invalid_properties_reported_and_requests_refused(llm_extension) -> None:
    results = []

    async def scenario(tester) -> None:
        results.extend(await llm_extension.chat(tester, {"request_id": "r1", "messages": MESSAGES}))

    # Types are checked by the runtime against the manifest; values by the extension.
    llm_extension.run({"base_url": "localhost:1234"}, scenario)
    assert results[-1][:2] == (ERROR, True)
    assert "invalid properties: property 'base_url' must be an http(s) URL" in results[-1][2]["message"]
    assert llm_extension.named("error")[0]["code"] == -1000


def test_openai_chat_llm_retrieve_prompt_returns_system_prompt(fake_llm_server, llm_extension) -> None:
    answers = []

    async def scenario(tester) -> None:
        answers.append(await llm_extension.command(tester, "retrieve_prompt", {"request_id": "r"}))

    llm_extension.run(_properties(fake_llm_server.base_url, system_prompt="You are terse."), scenario)
    assert answers == [(OK, True, {"prompt": "You are terse."})]
