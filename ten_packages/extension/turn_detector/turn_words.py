"""Can the transcript so far end an utterance? The last words, as a second opinion on Smart Turn's "finished".

Smart Turn hears prosody only, and on flat (e.g. synthetic) speech it calls fragments such as "Where is
the nearest" finished. The words settle many of those cases: an utterance does not end in "the", "my",
"and" or "could". The rules below look only at the last one or two words, and the lists stay small on
purpose: a wrong veto costs a complete turn the max pause, a missed one costs nothing more than Smart
Turn alone. Each list is documented with the endings it deliberately leaves out.

Three answers:
* CAN_END: nothing in the words against the model.
* RARELY_ENDS: an ending that usually goes on but can close a question ("What is this for?", "What do you
  think about that?"); the model's "finished" stands only when it is sure.
* CANNOT_END: an ending that needs more words whatever the prosody ("Can you tell me about the").

English rules apply to English text only, a few Chinese conjunctions to Chinese; any other language gets
only the punctuation rule (Whisper writes a trailing "..." or "," when the speech trails off).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum


class Ending(str, Enum):
    CAN_END = "can_end"
    RARELY_ENDS = "rarely_ends"
    CANNOT_END = "cannot_end"


@dataclass(frozen=True)
class EndingVerdict:
    ending: Ending
    rule: str  # what decided, for logs: "article 'the'", "trailing '...'", ""


CAN_END = EndingVerdict(Ending.CAN_END, "")

# Trailing punctuation with which Whisper marks speech that trails off (any language): rarely a real end.
TRAILING_OFF = ("...", "…", ",", ";", ":", "-", "—", "，", "、", "；", "：")

# --- English -----------------------------------------------------------------------------------------
# Words that need a noun after them. Left out: "his"/"her" (also pronouns: "I saw her"), "its" (ASR
# confuses it with "it's"), "this"/"that"/"some"/"any" (pronouns too: "I'll take some").
EN_DETERMINERS = frozenset({"a", "an", "the", "my", "your", "our", "their"})
# Conjunctions that need a clause after them. Left out: "so" ("I think so"), "that" (see below), "when"/
# "while"/"since"/"though" ("say when", "for a while", "ever since", "I'll go though").
EN_CONJUNCTIONS = frozenset({"and", "or", "but", "because", "if", "unless", "although", "whether", "than"})
# Modals need a verb ("I was wondering if you could") unless a determiner or "in" makes them nouns: "a
# can", "a must", "the will", "in May". Left out: do/does/did/have/has/had, which end questions ("What
# did you do?").
EN_MODALS = frozenset({"can", "could", "will", "would", "shall", "should", "may", "might", "must"})
EN_NOUN_BEFORE = EN_DETERMINERS | frozenset({"in"})
# A copula needs its complement ("So what I want to know is") unless the subject comes right before it
# in a clause that already has its complement: "what time it is", "who you are", "here it is".
EN_COPULAS = frozenset({"am", "is", "are", "was", "were"})
EN_SUBJECT_PRONOUNS = frozenset(
    {"i", "you", "he", "she", "it", "we", "they", "there", "here", "who", "what", "that", "this"}
)
# "the nearest", "the cheapest": a superlative still waiting for its noun. Left out: best/worst/most/least/
# latest/earliest ("You're the best", "I like it the most", "at the latest"). A question whose subject is
# the wh-word ("Which one is the cheapest?", "Who is the oldest?") may end so: not applied after which/who.
EN_SUPERLATIVES = frozenset(
    {
        "nearest", "closest", "cheapest", "fastest", "quickest", "biggest", "largest", "smallest",
        "highest", "lowest", "longest", "shortest", "easiest", "oldest", "newest", "furthest", "farthest",
    }
)  # fmt: skip
# "Could you please" opens a request; "Two coffees, please" ends one.
EN_OPENERS = frozenset({("you", "please")})
# Prepositions that usually take an object but are stranded in questions and relative clauses ("What is
# this for?", "Who did you talk to?"), and "that", which ends many questions ("Can you repeat that?") but
# is also what Whisper tends to hear for a trailing "the". Left out altogether: the particles of phrasal
# verbs (in, on, off, up, out, down, over, back: "Turn it on").
EN_RARELY_FINAL = frozenset({"to", "for", "with", "about", "from", "of", "at", "into", "that"})

# --- Chinese -----------------------------------------------------------------------------------------
# Conjunctions and prepositions that cannot close a sentence (simplified and traditional forms). Only
# two-character words: single characters such as 和 or 跟 also end ordinary words (暖和 "warm").
ZH_CANNOT_END = (
    "但是", "可是", "而且", "并且", "並且", "以及", "因为", "因為", "所以", "如果", "要是", "虽然", "雖然",
    "然后", "然後", "或者", "还是", "還是", "比如", "关于", "關於", "除了",
)  # fmt: skip
_CJK = re.compile(r"[\u3400-\u9fff]")
_ZH_CLOSING = "。！？!?.\"'”’」』 "


def judge_ending(text: str, language: str = "") -> EndingVerdict:
    """Whether `text` (the user's transcript so far, in `language`, a Whisper code) can end an utterance."""
    text = text.strip()
    code = language.strip().lower().replace("_", "-").split("-")[0]
    if code == "en":
        verdict = _judge_english(text)
    elif code == "zh" or (not code and _CJK.search(text)):
        verdict = _judge_chinese(text)
    else:
        verdict = CAN_END
    if verdict.ending is Ending.CAN_END:
        mark = next((m for m in TRAILING_OFF if text.endswith(m)), None)
        if mark:
            return EndingVerdict(Ending.RARELY_ENDS, f"trailing {mark!r}")
    return verdict


def _judge_english(text: str) -> EndingVerdict:
    words = re.findall(r"[a-z0-9']+", text.lower().replace("’", "'"))
    if not words:
        return CAN_END
    last = words[-1]
    before = words[-2] if len(words) > 1 else ""
    if last in EN_DETERMINERS:
        return EndingVerdict(Ending.CANNOT_END, f"determiner {last!r}")
    if last in EN_CONJUNCTIONS:
        return EndingVerdict(Ending.CANNOT_END, f"conjunction {last!r}")
    if last in EN_MODALS and before not in EN_NOUN_BEFORE:
        return EndingVerdict(Ending.CANNOT_END, f"modal {last!r}")
    if last in EN_COPULAS and before not in EN_SUBJECT_PRONOUNS:
        return EndingVerdict(Ending.CANNOT_END, f"copula {before} {last!r}".replace("  ", " "))
    if last in EN_SUPERLATIVES and before == "the" and words[0] not in ("which", "who"):
        return EndingVerdict(Ending.CANNOT_END, f"superlative 'the {last}'")
    if (before, last) in EN_OPENERS:
        return EndingVerdict(Ending.CANNOT_END, f"opener '{before} {last}'")
    if last in EN_RARELY_FINAL:
        return EndingVerdict(Ending.RARELY_ENDS, f"stranded {last!r}")
    return CAN_END


def _judge_chinese(text: str) -> EndingVerdict:
    stripped = text.rstrip(_ZH_CLOSING)
    for word in ZH_CANNOT_END:
        if stripped.endswith(word):
            return EndingVerdict(Ending.CANNOT_END, f"conjunction {word!r}")
    return CAN_END
