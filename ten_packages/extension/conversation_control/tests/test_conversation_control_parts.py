"""History bounds and the mapping of played time to heard text."""

from __future__ import annotations

import pytest

from ten_packages.extension.conversation_control.history import ChatHistory, join_speech
from ten_packages.extension.conversation_control.latency import TurnLatency
from ten_packages.extension.conversation_control.spoken_text import SpokenTextTracker, TimedText, TimedWord


def fill(history: ChatHistory, turns: int) -> None:
    for i in range(turns):
        history.add("user", f"question {i}")
        history.add("assistant", f"answer {i}")


def test_history_keeps_the_newest_turns():
    history = ChatHistory(max_turns=2, max_chars=10_000)
    fill(history, 5)
    messages = history.messages("sys", pending_user_text="question 5")
    assert [m["content"] for m in messages] == ["sys", "question 4", "answer 4", "question 5"]


def test_history_keeps_within_the_character_budget_and_starts_with_a_user_message():
    history = ChatHistory(max_turns=50, max_chars=30)
    fill(history, 5)
    messages = history.messages("", pending_user_text="last")
    contents = [m["content"] for m in messages]
    assert contents == ["question 4", "answer 4", "last"]
    assert sum(len(c) for c in contents) <= 30
    assert messages[0]["role"] == "user"


def test_newest_user_message_is_kept_even_when_too_long():
    history = ChatHistory(max_turns=4, max_chars=10)
    fill(history, 2)
    long_text = "word " * 20
    messages = history.messages("sys", pending_user_text=long_text)
    assert messages == [{"role": "system", "content": "sys"}, {"role": "user", "content": long_text.strip()}]


def test_history_merges_same_role_messages_and_skips_empty_ones():
    history = ChatHistory(max_turns=4, max_chars=1000)
    history.add("user", "tell me")
    history.add("assistant", "")
    history.add("user", "a joke")
    entry = history.add("assistant", "Why did")
    entry.content = "Why"
    assert history.messages("")[0:2] == [
        {"role": "user", "content": "tell me a joke"},
        {"role": "assistant", "content": "Why"},
    ]


def test_history_storage_stays_bounded():
    history = ChatHistory(max_turns=2, max_chars=1000)
    fill(history, 100)
    assert len(history._entries) <= 4 * 2 + 4


def test_history_refuses_bad_bounds():
    with pytest.raises(ValueError):
        ChatHistory(0, 100)


def test_join_speech_spaces_latin_but_not_cjk():
    assert join_speech("Hello,", "world") == "Hello,world".replace(",", ", ")
    assert join_speech("你好，", "世界") == "你好，世界"
    assert join_speech("", "x") == "x"


def tracker_with_timing() -> SpokenTextTracker:
    tracker = SpokenTextTracker()
    for text in ("Hello there.", "How are you today?"):
        tracker.add_sent_text(text)
    tracker.add_timed_text(TimedText("Hello there.", 0, 1000))
    tracker.add_timed_text(TimedText("How are you today?", 1000, 2000))
    return tracker


@pytest.mark.parametrize(
    ("played_ms", "heard"),
    [
        (0, ""),
        (500, "Hello there."),  # halfway through "Hello there." is into "there"
        (200, "Hello"),
        (1000, "Hello there."),
        (2000, "Hello there. How are you"),
        (3000, "Hello there. How are you today?"),
        (9000, "Hello there. How are you today?"),
    ],
)
def test_heard_text_from_piece_timing(played_ms, heard):
    assert tracker_with_timing().heard_text(played_ms) == heard


def test_heard_text_uses_word_timing_when_given():
    tracker = SpokenTextTracker()
    words = [TimedWord("one", 0, 300), TimedWord("two", 300, 300), TimedWord("three", 900, 300)]
    tracker.add_timed_text(TimedText("one two three", 0, 1200, words))
    assert tracker.heard_text(650) == "one two"
    assert tracker.heard_text(901) == "one two three"


def test_heard_text_in_chinese_is_cut_between_characters():
    tracker = SpokenTextTracker()
    tracker.add_timed_text(TimedText("你好，世界。", 0, 1200))
    assert tracker.heard_text(400) == "你好"


def test_heard_text_without_timing_uses_a_speaking_rate():
    tracker = SpokenTextTracker()
    tracker.add_sent_text("Hello there.")  # 12 characters: 0.8 s at 15 characters per second
    tracker.add_sent_text("Goodbye now.")
    assert tracker.heard_text(800) == "Hello there."
    assert tracker.heard_text(100_000) == "Hello there. Goodbye now."
    assert tracker.full_text() == "Hello there. Goodbye now."


def test_latency_keeps_first_record_in_pipeline_order():
    latency = TurnLatency(3)
    latency.record("asr_final", wall_ms=20)
    latency.record("user_speech_end", input_ms=5)
    latency.record("asr_final", wall_ms=99)
    assert latency.stages() == [
        {"stage": "user_speech_end", "input_ms": 5},
        {"stage": "asr_final", "wall_ms": 20},
    ]
    with pytest.raises(ValueError):
        latency.record("nonsense", wall_ms=1)
