"""Control figures: how much sooner a reply's first piece reaches TTS with early clauses than with whole
sentences, on real streamed LLM replies, and what the controller itself costs per streamed delta.

Replies come from the bundled local LLM (started and stopped here) unless a base_url is given, e.g.
`python scripts/bench_control.py http://localhost:1234/v1`. Times are measured from the reply's first
token; token counts do not depend on the machine. Prints one JSON object as its last line.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from app.ten_select import ensure_ten_runtime  # noqa: E402

ensure_ten_runtime()

from bench_stats import percentile  # noqa: E402

from ten_packages.extension.conversation_control.actions import SendAsrFinalize, StartChat  # noqa: E402
from ten_packages.extension.conversation_control.controller import (  # noqa: E402
    ControlConfig,
    ConversationController,
    TurnDecision,
)
from ten_packages.system.voice_kit.text import (  # noqa: E402
    StreamingClauseSplitter,
    count_words,
    iter_boundaries,
)

QUESTIONS = [
    "What's a good way to start the morning?",
    "Can you tell me about the moon?",
    "How do I make a cup of tea?",
    "Why is the sky blue?",
    "What should I cook for dinner tonight?",
    "Tell me something interesting about cats.",
    "How can I sleep better?",
    "What is the capital of France, and what is it known for?",
    "Give me a tip for learning a new language.",
    "What do you think about rainy days?",
    "How far away is the sun?",
    "Can you suggest a book to read?",
]
PARAMETERS = {"max_tokens": 80, "temperature": 0}


@dataclass
class StreamedReply:
    deltas: list[str]
    arrival_s: list[float]  # perf_counter() when each delta arrived


async def _stream_replies(base_url: str) -> list[StreamedReply]:
    import openai

    client = openai.AsyncOpenAI(base_url=base_url, api_key="bench", max_retries=0)
    system_prompt = ControlConfig().system_prompt
    replies = []
    try:
        model = (await client.models.list()).data[0].id
        for question in ["Hello!", *QUESTIONS]:  # the first one warms the server up
            messages = [{"role": "system", "content": system_prompt}, {"role": "user", "content": question}]
            stream = await client.chat.completions.create(
                model=model, messages=messages, stream=True, **PARAMETERS
            )
            reply = StreamedReply([], [])
            async with stream:
                async for chunk in stream:
                    delta = chunk.choices[0].delta.content if chunk.choices else None
                    if delta:
                        reply.deltas.append(delta)
                        reply.arrival_s.append(time.perf_counter())
            if question != "Hello!" and reply.deltas:
                replies.append(reply)
    finally:
        await client.close()
    return replies


def _first_piece_index(deltas: list[str]) -> tuple[int, str]:
    """Index of the delta after which the controller's splitter sends its first piece, and that piece."""
    config = ControlConfig()
    splitter = StreamingClauseSplitter(
        config.first_clause_min_words, config.first_clause_max_words, config.max_clause_chars
    )
    for index, delta in enumerate(deltas):
        pieces = splitter.push(delta)
        if pieces:
            return index, pieces[0]
    return len(deltas) - 1, splitter.flush()


def _first_sentence_index(deltas: list[str]) -> tuple[int, str]:
    """The same for a splitter that waits for a whole sentence (the usual sentence aggregator)."""
    text = ""
    for index, delta in enumerate(deltas):
        text += delta
        for cut, is_sentence in iter_boundaries(text, at_end=False):
            if is_sentence:
                return index, text[:cut].strip()
    return len(deltas) - 1, text.strip()


def _controller_us_per_delta(replies: list[StreamedReply]) -> list[float]:
    """Wall time of ConversationController.on_llm_delta (splitting and cleaning included) per delta."""
    costs = []
    for reply in replies:
        control = ConversationController(ControlConfig())
        control.on_start_of_sentence(0)
        control.on_end_of_sentence(1000)
        (finalize,) = control.on_turn_decision(TurnDecision("finished", 0.9, 1000, 1100, 0))
        assert isinstance(finalize, SendAsrFinalize)
        control.on_asr_result("a question", final=True)
        (chat,) = [a for a in control.on_asr_finalize_end(finalize.finalize_id) if isinstance(a, StartChat)]
        for delta in reply.deltas:
            started = time.perf_counter_ns()
            control.on_llm_delta(chat.request_id, delta)
            costs.append((time.perf_counter_ns() - started) / 1000)
    return costs


def measure(base_url: str) -> dict:
    replies = asyncio.run(_stream_replies(base_url))
    if not replies:
        raise RuntimeError("the LLM sent no replies")
    piece_ms, sentence_ms, piece_tokens, sentence_tokens, piece_words, sentence_words = [], [], [], [], [], []
    for reply in replies:
        first_token_s = reply.arrival_s[0]
        piece_index, piece = _first_piece_index(reply.deltas)
        sentence_index, sentence = _first_sentence_index(reply.deltas)
        piece_ms.append((reply.arrival_s[piece_index] - first_token_s) * 1000)
        sentence_ms.append((reply.arrival_s[sentence_index] - first_token_s) * 1000)
        piece_tokens.append(piece_index + 1)
        sentence_tokens.append(sentence_index + 1)
        piece_words.append(count_words(piece))
        sentence_words.append(count_words(sentence))
    gains = [s - p for s, p in zip(sentence_ms, piece_ms, strict=True)]
    costs = _controller_us_per_delta(replies)
    return {
        "replies": len(replies),
        "first_piece_ms_after_first_token_p50": round(statistics.median(piece_ms), 1),
        "first_piece_ms_after_first_token_p90": round(percentile(piece_ms, 0.9), 1),
        "first_sentence_ms_after_first_token_p50": round(statistics.median(sentence_ms), 1),
        "first_sentence_ms_after_first_token_p90": round(percentile(sentence_ms, 0.9), 1),
        "first_piece_gain_ms_p50": round(statistics.median(gains), 1),
        "first_piece_tokens_p50": statistics.median(piece_tokens),
        "first_sentence_tokens_p50": statistics.median(sentence_tokens),
        "first_piece_words_p50": statistics.median(piece_words),
        "first_sentence_words_p50": statistics.median(sentence_words),
        "controller_us_per_delta_p50": round(statistics.median(costs), 1),
        "controller_us_per_delta_p90": round(percentile(costs, 0.9), 1),
    }


def main() -> None:
    if len(sys.argv) > 1:
        print(json.dumps({**measure(sys.argv[1]), "llm_server": sys.argv[1]}))
        return
    from app.local_llm import LocalLlmServer

    with LocalLlmServer() as server:
        figures = measure(server.base_url)
        print(json.dumps({**figures, "llm_server": f"local {server.model_path.name}"}))


if __name__ == "__main__":
    main()
