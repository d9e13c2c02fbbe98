"""LLM figures: time to first token through the openai_chat_llm extension (under the TEN runtime) and
the extension's overhead over a direct openai client call to the same server.

Direct and extension requests alternate on one event loop against one server (the bundled local
llama.cpp server unless a base_url is given), with the same prompt, so both see the same conditions.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import sys
import time
from pathlib import Path

from bench_stats import percentile  # noqa: E402

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

MESSAGES = [{"role": "user", "content": "Say one short sentence about the sea."}]
PARAMETERS = {"max_tokens": 8, "temperature": 0}


async def _direct_ttft_ms(client, model: str) -> float:
    """Time to the first non-empty content delta with a plain AsyncOpenAI streaming call."""
    started = time.monotonic()
    stream = await client.chat.completions.create(model=model, messages=MESSAGES, stream=True, **PARAMETERS)
    ttft_ms: float | None = None
    async with stream:
        async for chunk in stream:
            if ttft_ms is None and chunk.choices and chunk.choices[0].delta.content:
                ttft_ms = (time.monotonic() - started) * 1000
    return _require(ttft_ms)


def _require(ttft_ms: float | None) -> float:
    if ttft_ms is None:
        raise RuntimeError("the reply had no text")
    return ttft_ms


def _measure_against(base_url: str, runs: int) -> dict:
    import openai

    from app.ten_select import ensure_ten_runtime

    ensure_ten_runtime()
    from ten_runtime import AsyncExtensionTester, Cmd

    through_extension: list[float] = []
    direct: list[float] = []

    class BenchTester(AsyncExtensionTester):
        async def on_start(self, ten_env_tester) -> None:
            self._task = asyncio.create_task(self._bench(ten_env_tester))

        async def _extension_ttft_ms(self, ten_env_tester, request_id: str) -> float:
            cmd = Cmd.create("chat_completion")
            payload = {"request_id": request_id, "messages": MESSAGES, "parameters": PARAMETERS}
            cmd.set_property_from_json(None, json.dumps(payload))
            started = time.monotonic()
            ttft_ms: float | None = None
            async for result, error in ten_env_tester.send_cmd_ex(cmd):
                if error is not None or result.get_status_code() != 0:
                    raise RuntimeError(f"chat_completion failed: {error or result.get_property_to_json()[0]}")
                if ttft_ms is None and not result.is_final():
                    ttft_ms = (time.monotonic() - started) * 1000
            return _require(ttft_ms)

        async def _bench(self, ten_env_tester) -> None:
            client = openai.AsyncOpenAI(base_url=base_url, api_key="bench", max_retries=0)
            try:
                model = (await client.models.list()).data[0].id
                await _direct_ttft_ms(client, model)  # warm-up: model load, prompt cache
                await self._extension_ttft_ms(ten_env_tester, "warmup")
                for run in range(runs):
                    direct.append(await _direct_ttft_ms(client, model))
                    through_extension.append(await self._extension_ttft_ms(ten_env_tester, f"bench-{run}"))
            finally:
                await client.close()
                ten_env_tester.stop_test()

    tester = BenchTester()
    tester.set_test_mode_single("openai_chat_llm", json.dumps({"base_url": base_url, "max_retries": 0}))
    error = tester.run()
    if error is not None or len(through_extension) != runs:
        raise RuntimeError(f"LLM bench did not complete: {error.error_message() if error else 'no results'}")
    overheads = [ext - plain for ext, plain in zip(through_extension, direct, strict=True)]
    return {
        "llm_ttft_ms_p50": round(statistics.median(through_extension), 2),
        "llm_ttft_ms_p90": round(percentile(through_extension, 0.9), 2),
        "llm_direct_ttft_ms_p50": round(statistics.median(direct), 2),
        "llm_overhead_ms_p50": round(statistics.median(through_extension) - statistics.median(direct), 2),
        "llm_overhead_paired_ms_p90": round(percentile(overheads, 0.9), 2),
        "llm_runs": runs,
    }


def measure(base_url: str | None = None, runs: int = 20) -> dict:
    """LLM TTFT figures; starts (and stops) the bundled local server when no base_url is given."""
    if base_url is not None:
        return {**_measure_against(base_url, runs), "llm_server": base_url}
    from app.local_llm import LocalLlmServer

    with LocalLlmServer() as server:
        return {**_measure_against(server.base_url, runs), "llm_server": f"local {server.model_path.name}"}


if __name__ == "__main__":
    print(json.dumps(measure(sys.argv[1] if len(sys.argv) > 1 else None)))
