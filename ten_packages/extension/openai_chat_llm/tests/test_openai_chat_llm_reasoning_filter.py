"""The reasoning filter must hide <think> blocks however the stream happens to be chunked."""

from __future__ import annotations

import pytest

from ten_packages.extension.openai_chat_llm.reasoning_filter import ReasoningFilter

RAW = (
    "<think>Let me think: a < b, so </thin is not a tag.</think>\n\nThe answer is <b>42</b>. <thinking aloud"
)
VISIBLE = "The answer is <b>42</b>. <thinking aloud"


def _run(chunks: list[str]) -> str:
    reasoning = ReasoningFilter()
    return "".join(reasoning.feed(chunk) for chunk in chunks) + reasoning.flush()


def test_openai_chat_llm_filter_whole_text() -> None:
    assert _run([RAW]) == VISIBLE


@pytest.mark.parametrize("split_at", range(1, len(RAW)))
def test_openai_chat_llm_filter_every_two_way_split(split_at: int) -> None:
    assert _run([RAW[:split_at], RAW[split_at:]]) == VISIBLE


def test_openai_chat_llm_filter_one_character_chunks() -> None:
    assert _run(list(RAW)) == VISIBLE


def test_openai_chat_llm_filter_releases_text_as_soon_as_it_is_certain() -> None:
    reasoning = ReasoningFilter()
    assert reasoning.feed("Hello <th") == "Hello "
    assert reasoning.feed("ere") == "<there"
    assert reasoning.feed("<think>hidden") == ""
    assert reasoning.feed("</think> world") == " world"


def test_openai_chat_llm_filter_drops_unclosed_think_block() -> None:
    assert _run(["Hi. <think>never clo", "sed"]) == "Hi. "


def test_openai_chat_llm_filter_without_tags_passes_text_through() -> None:
    assert _run(["  Plain", " text, no tags."]) == "Plain text, no tags."
