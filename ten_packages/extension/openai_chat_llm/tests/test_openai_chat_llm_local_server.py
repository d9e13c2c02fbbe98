"""The extension against the real bundled llama.cpp server (SmolLM2-135M): streaming and abort."""

from __future__ import annotations

import time

MESSAGES = [{"role": "user", "content": "Write a long story about a red fox in the forest."}]
OK = 0


def test_openai_chat_llm_real_server_streams_a_reply(local_llm_base_url, llm_extension) -> None:
    results = []

    async def scenario(tester) -> None:
        payload = {
            "request_id": "r1",
            "messages": MESSAGES,
            "parameters": {"max_tokens": 24, "temperature": 0},
        }
        results.extend(await llm_extension.chat(tester, payload))

    llm_extension.run({"base_url": local_llm_base_url, "first_token_timeout_ms": 20000}, scenario)
    *partials, (status, final, done) = results
    assert (status, final) == (OK, True)
    assert len(partials) >= 5
    assert "".join(payload["delta"] for _, _, payload in partials) == done["content"]
    assert len(done["content"].split()) >= 5
    assert done["finish_reason"] == "length"  # 24 tokens cannot finish a long story
    (metrics,) = llm_extension.named("metrics")
    assert metrics["metrics"]["ttft_ms"] > 0 and metrics["metrics"]["tokens_per_s"] > 1


def test_openai_chat_llm_real_server_abort_mid_stream(local_llm_base_url, llm_extension) -> None:
    results = []
    abort_answer = []
    timings: dict[str, float] = {}

    async def scenario(tester) -> None:
        partials_seen = 0

        async def abort_after_three_deltas(_partial) -> None:
            nonlocal partials_seen
            partials_seen += 1
            if partials_seen == 3:
                timings["abort"] = time.monotonic()
                abort_answer.append(await llm_extension.command(tester, "abort", {"request_id": "r1"}))

        payload = {"request_id": "r1", "messages": MESSAGES, "parameters": {"max_tokens": 300}}
        results.extend(await llm_extension.chat(tester, payload, abort_after_three_deltas))
        timings["done"] = time.monotonic()

    llm_extension.run({"base_url": local_llm_base_url, "first_token_timeout_ms": 20000}, scenario)
    assert abort_answer[0][0] == OK
    status, final, done = results[-1]
    assert (status, final, done["finish_reason"]) == (OK, True, "aborted")
    assert len(results) <= 6  # a few deltas may have been in flight; 300 tokens were allowed
    assert timings["done"] - timings["abort"] < 1.0
