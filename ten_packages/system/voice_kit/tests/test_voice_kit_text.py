"""Speech text preparation: clause splitting, cleaning and long-input splitting."""

from __future__ import annotations

import random
import re

import pytest

from ten_packages.system.voice_kit.text import (
    StreamingClauseSplitter,
    clean_for_speech,
    count_words,
    split_long,
)


def stream(text: str, chunk_sizes: list[int] | None = None, **options) -> list[str]:
    """Feed `text` to a splitter in chunks (token-like sizes) and collect every piece, flush included."""
    splitter = StreamingClauseSplitter(**options)
    pieces, position, sizes = [], 0, chunk_sizes or [3]
    index = 0
    while position < len(text):
        size = sizes[index % len(sizes)]
        pieces += splitter.push(text[position : position + size])
        position += size
        index += 1
    rest = splitter.flush()
    return pieces + ([rest] if rest else [])


def words_of(text: str) -> list[str]:
    return text.split()


def test_first_clause_goes_out_at_the_first_comma():
    splitter = StreamingClauseSplitter()
    assert splitter.push("Sure") == []
    assert splitter.push(",") == []  # a comma at the very end may still be "1,000"
    assert splitter.push(" I can") == ["Sure,"]


def test_first_clause_after_six_words_without_punctuation():
    splitter = StreamingClauseSplitter(first_clause_max_words=6)
    assert splitter.push("The quick brown fox jumps over") == []  # "over" may still be growing
    assert splitter.push(" the") == ["The quick brown fox jumps over"]


def test_later_pieces_are_whole_sentences_not_clauses():
    pieces = stream("Sure, I can help. First, you open the box, then you lift it. Finally, you rest.")
    assert pieces == [
        "Sure,",
        "I can help.",
        "First, you open the box, then you lift it.",
        "Finally, you rest.",
    ]


def test_forced_first_clause_does_not_end_on_a_leading_word():
    splitter = StreamingClauseSplitter(first_clause_max_words=6)
    assert splitter.push("The sky is blue because of a") == []
    assert splitter.push(" process called scattering") == ["The sky is blue because of a process"]
    splitter = StreamingClauseSplitter(first_clause_max_words=2)
    assert splitter.push("of the and the cat sat") == ["of the and the cat"]  # at most three extra words


def test_minimum_words_of_first_clause():
    pieces = stream("Well, that is a fine question. Yes.", first_clause_min_words=3)
    assert pieces[0] == "Well, that is a fine question."


@pytest.mark.parametrize(
    "text",
    [
        "Pi is about 3.14159 and e is 2.718 or so.",
        "It costs $1,000,000 in total today.",
        "We meet at 10:30 in the morning.",
        "Dr. Smith and Mr. Jones met Mrs. Brown.",
        "Use e.g. a hammer, i.e. a tool.",
        "J. K. Rowling wrote it.",
    ],
)
def test_no_cut_inside_numbers_or_abbreviations(text):
    pieces = stream(text, first_clause_min_words=1, first_clause_max_words=50)
    for piece in pieces:
        assert not re.search(r"\d$", piece) or piece == pieces[-1]
        assert not piece.endswith(("Dr.", "Mr.", "Mrs.", "e.g.", "i.e.", "J.", "K."))
    assert " ".join(pieces) == text


def test_decimal_split_across_deltas_is_not_cut():
    splitter = StreamingClauseSplitter(first_clause_max_words=50)
    assert splitter.push("The value is 3.") == []
    assert splitter.push("14 exactly. Next") == ["The value is 3.14 exactly."]


def test_chinese_punctuation():
    pieces = stream("你好，我是你的助手。今天天气很好！你想去哪里？我们可以去公园、博物馆或者商场；都很好。")
    assert pieces == [
        "你好，",
        "我是你的助手。",
        "今天天气很好！",
        "你想去哪里？",
        "我们可以去公园、博物馆或者商场；都很好。",
    ]


def test_chinese_first_clause_at_enumeration_comma_when_long_enough():
    pieces = stream("苹果和香蕉、橙子都很好吃。", first_clause_min_words=2)
    assert pieces == ["苹果和香蕉、", "橙子都很好吃。"]


def test_chinese_without_punctuation_cut_after_six_words_worth():
    pieces = stream("我们今天下午一起去图书馆看书然后回家吃饭。")
    assert pieces[0] == "我们今天下午一起去图书馆"  # 12 characters = six words
    assert "".join(pieces) == "我们今天下午一起去图书馆看书然后回家吃饭。"


def test_mixed_chinese_and_english():
    pieces = stream("我喜欢Python，因为它简单。It is fun!")
    assert pieces == ["我喜欢Python，", "因为它简单。", "It is fun!"]


def test_quotes_and_brackets_stay_with_their_clause():
    pieces = stream('He said "hello." Then (quietly) he left (slowly). Fine.')
    assert pieces == ['He said "hello."', "Then (quietly) he left (slowly).", "Fine."]


def test_newlines_end_pieces_and_list_numbers_are_not_sentence_ends():
    pieces = stream("Options:\n1. First thing is good.\n2. Second thing\n- bullet a\n- bullet b")
    assert pieces == ["Options:", "1. First thing is good.", "2. Second thing", "- bullet a", "- bullet b"]


def test_long_sentence_is_bounded_and_nothing_is_lost():
    text = "This sentence just keeps going " * 30 + "and ends here."
    pieces = stream(text, max_chars=80)
    assert all(len(piece) <= 80 for piece in pieces)
    assert words_of(" ".join(pieces)) == words_of(text)


@pytest.mark.parametrize("seed", range(5))
def test_any_chunking_gives_the_same_pieces(seed):
    text = (
        "Sure, here's the plan. Dr. Lee measured 3.5 kg at 10:30, then left! Was it enough? "
        "我觉得可以，没问题。Finally: rest, eat, and sleep well.\nDone"
    )
    rng = random.Random(seed)
    sizes = [rng.randint(1, 7) for _ in range(40)]
    assert stream(text, sizes) == stream(text, [len(text)]) == stream(text, [1])


def test_flush_returns_rest_and_resets_first_clause():
    splitter = StreamingClauseSplitter()
    splitter.push("Hello, world. And")
    assert splitter.flush() == "And"
    assert splitter.flush() == ""
    assert splitter.push("Again, yes") == ["Again,"]  # a new stream gets an early first clause again


def test_reset_drops_pending_text():
    splitter = StreamingClauseSplitter()
    splitter.push("Half a sent")
    splitter.reset()
    assert splitter.flush() == ""


def test_invalid_options_are_refused():
    with pytest.raises(ValueError):
        StreamingClauseSplitter(first_clause_min_words=7, first_clause_max_words=6)
    with pytest.raises(ValueError):
        StreamingClauseSplitter(max_chars=5)
    with pytest.raises(ValueError):
        split_long("text", 0)


def test_count_words():
    assert count_words("Hello, big world!") == 3
    assert count_words("你好世界") == 2
    assert count_words("— , !") == 0


def test_split_long_prefers_sentence_then_clause_then_space():
    text = "This is one sentence. This is another, longer sentence with a clause; and more words here. End."
    pieces = split_long(text, 40)
    assert pieces[0] == "This is one sentence."
    assert pieces[1] == "This is another,"
    assert all(len(piece) <= 40 for piece in pieces)
    assert " ".join(pieces) == text


def test_split_long_cuts_unbroken_text_hard_without_loss():
    text = "一" * 45
    pieces = split_long(text, 20)
    assert [len(p) for p in pieces] == [20, 20, 5]
    assert "".join(pieces) == text


def test_split_long_short_text_is_one_piece():
    assert split_long("  short text  ", 100) == ["short text"]
    assert split_long("", 100) == []


@pytest.mark.parametrize(
    ("markdown", "spoken"),
    [
        ("**Bold** and __strong__ and *italic* and _em_.", "Bold and strong and italic and em."),
        ("Run `pip install x` now.", "Run pip install x now."),
        ("See [the docs](https://example.com/a?b=c) and ![a cat](cat.png).", "See the docs and a cat."),
        ("## Title\nBody text.", "Title. Body text."),
        ("- item one\n* item two\n+ item three", "item one. item two. item three"),
        ("> quoted words", "quoted words"),
        ("Above\n\n---\n\nBelow", "Above. Below"),
        ("~~old~~ new", "old new"),
        ("```python\nprint(1)\n```", "print(1)"),
        ("| a | b |\n|---|---|\n| 1 | 2 |", "a b. 1 2"),
        ("Great job 🎉! 👍🏽 Thumbs ❤️ up ✅", "Great job! Thumbs up"),
        ("Family 👨‍👩‍👧 time", "Family time"),
        ("Keycap 1️⃣ one", "Keycap 1 one"),
        ("It is 25°C → warm ™", "It is 25°C warm"),
        ("snake_case_name stays, 2 * 3 = 6.", "snake_case_name stays, 2 * 3 = 6."),
        ("#1 priority and C# code", "#1 priority and C# code"),
        ("你好😀，世界！", "你好，世界！"),
        ("标题\n正文", "标题。 正文"),
        ("🎉🎉", ""),
    ],
)
def test_clean_for_speech(markdown, spoken):
    assert clean_for_speech(markdown) == spoken


def test_clean_for_speech_handles_markup_split_across_clauses():
    # Streaming cuts may separate the two halves of an emphasis: stray markers must still go.
    assert clean_for_speech("**Note, this") == "Note, this"
    assert clean_for_speech("is important**.") == "is important."


def test_clean_for_speech_is_idempotent():
    # The controller cleans each clause and a TTS engine may clean again: the second pass changes nothing.
    samples = [
        "## Title\n**Bold** [x](y) 🎉!\n- a\n- b",
        "你好😀，世界！\n标题",
        "2 * 3 = 6. snake_case",
        "> q\n---\nz",
    ]
    for sample in samples:
        once = clean_for_speech(sample)
        assert clean_for_speech(once) == once
