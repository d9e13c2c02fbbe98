"""The last-words rules: which transcripts can end an utterance, per language. Plain functions, no runtime."""

import pytest

from ten_packages.extension.turn_detector.turn_words import Ending, judge_ending

CANNOT, RARELY, CAN = Ending.CANNOT_END, Ending.RARELY_ENDS, Ending.CAN_END


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ("Can you tell me about the", "determiner 'the'"),
        ("Remind me to call my.", "determiner 'my'"),
        ("I'd like a", "determiner 'a'"),
        ("Salt and", "conjunction 'and'"),
        ("I'll come if", "conjunction 'if'"),
        ("I was wondering if you could.", "modal 'could'"),
        ("I think that we should", "modal 'should'"),
        ("So what I want to know is", "copula know 'is'"),
        ("My favourite thing to do on weekends is", "copula weekends 'is'"),
        ("Where is the nearest?", "superlative 'the nearest'"),
        ("Could you please?", "opener 'you please'"),
        ("I need to go to the...", "determiner 'the'"),  # a word rule outranks the trailing dots
    ],
)
def test_english_endings_that_cannot_end_an_utterance(text, rule):
    verdict = judge_ending(text, "en")
    assert (verdict.ending, verdict.rule) == (CANNOT, rule)


@pytest.mark.parametrize(
    "text",
    [
        "Could you turn off that?",  # Whisper's hearing of a trailing "the", and a real question alike
        "What is this for?",
        "Who did you talk to?",
        "What if we tried to...",
        "So what I want to know...",
        "Well, I was thinking,",
    ],
)
def test_english_endings_that_rarely_end_an_utterance(text):
    assert judge_ending(text, "en").ending is RARELY


@pytest.mark.parametrize(
    "text",
    [
        "Where is the nearest train station?",
        "I'd like a cup of coffee, please.",
        "Do you know what time it is?",  # a copula after its subject
        "I know who you are.",
        "You are the best.",  # best/most/latest are left out of the superlatives
        "Which one is the cheapest?",  # the wh-word is the subject
        "Turn it on!",  # phrasal-verb particles are not prepositions here
        "My birthday is in May.",  # a modal's spelling used as a noun
        "It's a must",
        "Thank you.",
        "",
    ],
)
def test_english_endings_that_can_end_an_utterance(text):
    assert judge_ending(text, "en").ending is CAN


def test_english_rules_apply_to_english_only():
    assert judge_ending("Where is the", "en-US").ending is CANNOT
    # French "il y a" ends in "a"; German "Ich weiß, dass es so ist" has no English copula.
    assert judge_ending("Il y a", "fr").ending is CAN
    assert judge_ending("Ich glaube, das ist", "de").ending is CAN
    # Whisper's trailing-off marks mean the same in any language.
    assert judge_ending("Je voudrais...", "fr").ending is RARELY


def test_chinese_conjunctions_cannot_end_a_sentence():
    assert judge_ending("我今天不去，因为", "zh").ending is CANNOT
    assert judge_ending("你要喝茶还是。", "zh").ending is CANNOT
    assert judge_ending("我想去，但是", "").ending is CANNOT  # no language given: the script says Chinese
    assert judge_ending("今天很暖和。", "zh").ending is CAN  # 和 alone is left out: it ends words too
    assert judge_ending("我想问一下，", "zh").ending is RARELY
    assert judge_ending("Where is the", "zh").ending is CAN  # English rules only for English text
