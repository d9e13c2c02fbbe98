"""Speech text preparation shared by the controller and the TTS engines.

An LLM streams markdown-flavoured text a token at a time; a TTS engine wants short, speakable pieces as early
as possible. `StreamingClauseSplitter` cuts the stream into clauses (the first one early, for latency, later
ones whole sentences, for prosody), `clean_for_speech` removes what a voice cannot say, and `split_long`
splits oversized inputs at the best boundary without dropping anything. Chinese and English punctuation.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator

SENTENCE_END_PUNCTUATION = frozenset(".!?…。！？")
CLAUSE_PUNCTUATION = frozenset(",;:，；、：")
PUNCTUATION = SENTENCE_END_PUNCTUATION | CLAUSE_PUNCTUATION
# Full-width punctuation ends a clause by itself; ASCII punctuation only when followed by whitespace
# (so "3.14", "1,000" and "10:30" are never cut).
ASCII_PUNCTUATION = frozenset(".!?,;:")
# Characters that may close a clause after its punctuation: quotes, brackets, markdown emphasis.
CLOSERS = frozenset("\"')]}”’」』）】》*_`")
# Words that end with a period without ending a sentence.
ABBREVIATIONS = frozenset(
    [
        "mr",
        "mrs",
        "ms",
        "dr",
        "prof",
        "sr",
        "jr",
        "st",
        "mt",
        "vs",
        "etc",
        "e.g",
        "i.e",
        "approx",
        "dept",
        "fig",
        "inc",
        "ltd",
        "corp",
        "vol",
        "jan",
        "feb",
        "mar",
        "apr",
        "jun",
        "jul",
        "aug",
        "sep",
        "sept",
        "oct",
        "nov",
        "dec",
        "u.s",
        "u.k",
        "a.m",
        "p.m",
        "ph.d",
    ]
)
# English words that lead into what follows: a forced cut right after one sounds broken.
LEADING_WORDS = frozenset(
    "a an the of to in on at for with by from and or but because that which who whose is are was were be "
    "my your our their his her its as than so if when about into like very".split()
)
MAX_EXTRA_WORDS = 3
CJK_CHAR = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u3040-\u30ff\uac00-\ud7af]")
# One unit of speech: a single CJK character, or a run of other non-space characters.
_SPEECH_TOKEN = re.compile(
    r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u3040-\u30ff\uac00-\ud7af]|[^\s\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u3040-\u30ff\uac00-\ud7af]+"
)
# Two CJK characters carry about as much speech as one English word.
CJK_CHARS_PER_WORD = 2


def _is_period_inside_sentence(text: str, dot_index: int) -> bool:
    """True for the period of an abbreviation ("Dr."), an initial ("J."), or an ordered-list marker ("1.")."""
    start = dot_index
    while start > 0 and not text[start - 1].isspace():
        start -= 1
    word = text[start:dot_index].lstrip("\"'([{*_“‘").lower()
    if not word:
        return False
    if word in ABBREVIATIONS or (len(word) == 1 and word.isalpha()) or "." in word:
        return True
    at_line_start = start == 0 or text[start - 1] == "\n"
    return word.isdigit() and at_line_start


def iter_boundaries(text: str, at_end: bool) -> Iterator[tuple[int, bool]]:
    """Yield (cut index, ends a sentence) for every clause boundary in `text`, in order.

    The cut index is just past the punctuation and any closing quotes or brackets. A boundary whose
    punctuation run reaches the end of `text` is only certain when `at_end` (more text may follow).
    """
    length = len(text)
    i = 0
    while i < length:
        char = text[i]
        if char == "\n":
            end = i
            while end < length and text[end] == "\n":
                end += 1
            if text[:i].strip() and (end < length or at_end):
                yield end, True
            i = end
            continue
        if char not in PUNCTUATION:
            i += 1
            continue
        end = i
        while end < length and (text[end] in PUNCTUATION or text[end] in CLOSERS):
            end += 1
        run = text[i:end]
        i = end
        if end == length and not at_end:
            return
        if any(c in ASCII_PUNCTUATION for c in run) and end < length and not text[end].isspace():
            continue
        if run.rstrip("".join(CLOSERS)) == "." and _is_period_inside_sentence(text, end - len(run)):
            continue
        if not text[: end - len(run)].strip():
            continue
        yield end, any(c in SENTENCE_END_PUNCTUATION for c in run)


def count_words(text: str) -> float:
    """Words of speech in `text`, counting CJK characters as half a word each."""
    return sum(
        1 / CJK_CHARS_PER_WORD if CJK_CHAR.match(token) else 1
        for token in _SPEECH_TOKEN.findall(text)
        if any(c.isalnum() for c in token)
    )


def best_cut(text: str, max_chars: int) -> int:
    """Where to cut `text` (longer than max_chars) so the first piece is at most max_chars long.

    Prefers, in order, a sentence end, a clause boundary, a space, each only if it leaves a first piece of
    reasonable size; a text with none of them (a CJK run, a long URL) is cut at max_chars.
    """
    window = text[: max_chars + 1]
    boundaries = [
        (cut, is_sentence) for cut, is_sentence in iter_boundaries(window, at_end=True) if cut <= max_chars
    ]
    sentence_cuts = [cut for cut, is_sentence in boundaries if is_sentence]
    clause_cuts = [cut for cut, _ in boundaries]
    space_cuts = [i for i, c in enumerate(window) if c.isspace() and window[:i].strip()]
    for candidates, min_fraction in ((sentence_cuts, 0.5), (clause_cuts, 0.3), (space_cuts, 0.3)):
        good = [cut for cut in candidates if cut >= max_chars * min_fraction]
        if good:
            return good[-1]
    for candidates in (sentence_cuts, clause_cuts, space_cuts):
        if candidates:
            return candidates[-1]
    return max_chars


def split_long(text: str, max_chars: int) -> list[str]:
    """Split `text` into pieces of at most `max_chars` at the best boundaries; nothing is dropped."""
    if max_chars < 1:
        raise ValueError(f"max_chars must be at least 1, got {max_chars}")
    pieces = []
    rest = text.strip()
    while len(rest) > max_chars:
        cut = best_cut(rest, max_chars)
        pieces.append(rest[:cut].strip())
        rest = rest[cut:].strip()
    if rest:
        pieces.append(rest)
    return pieces


class StreamingClauseSplitter:
    """Cuts streamed LLM text into speakable pieces as soon as each one is certain.

    The first piece of a reply goes out at the first clause boundary (comma or stronger) once it holds
    `first_clause_min_words`, or after `first_clause_max_words` words without punctuation, so speech can
    start early. Later pieces are whole sentences, which a TTS voices with better prosody; a sentence
    longer than `max_chars` is cut at its best boundary. Nothing is ever dropped.
    """

    def __init__(
        self, first_clause_min_words: int = 1, first_clause_max_words: int = 6, max_chars: int = 200
    ):
        if not 1 <= first_clause_min_words <= first_clause_max_words:
            raise ValueError("need 1 <= first_clause_min_words <= first_clause_max_words")
        if max_chars < 20:
            raise ValueError(f"max_chars must be at least 20, got {max_chars}")
        self.first_clause_min_words = first_clause_min_words
        self.first_clause_max_words = first_clause_max_words
        self.max_chars = max_chars
        self._buffer = ""
        self._first_clause_done = False

    def push(self, delta: str) -> list[str]:
        """Add streamed text; return the pieces that are now complete (often none)."""
        self._buffer += delta
        pieces = []
        while (cut := self._next_cut()) is not None:
            piece, self._buffer = self._buffer[:cut].strip(), self._buffer[cut:].lstrip()
            if piece:
                pieces.append(piece)
                self._first_clause_done = True
        return pieces

    def flush(self) -> str:
        """End of the stream: return the rest (at most max_chars) and get ready for a new stream."""
        rest = self._buffer.strip()
        self.reset()
        return rest

    def reset(self) -> None:
        """Forget everything pushed so far (e.g. after a barge-in)."""
        self._buffer = ""
        self._first_clause_done = False

    def _next_cut(self) -> int | None:
        text = self._buffer
        if not self._first_clause_done:
            for cut, _ in iter_boundaries(text, at_end=False):
                if count_words(text[:cut]) >= self.first_clause_min_words and cut <= self.max_chars:
                    return cut
            cut = self._cut_after_words(text, self.first_clause_max_words)
            if cut is not None and cut <= self.max_chars:
                return cut
        else:
            for cut, is_sentence in iter_boundaries(text, at_end=False):
                if is_sentence and cut <= self.max_chars:
                    return cut
                if cut > self.max_chars:
                    break
        return best_cut(text, self.max_chars) if len(text) > self.max_chars else None

    @staticmethod
    def _cut_after_words(text: str, words: int) -> int | None:
        """Index just after the word that completes `words` words, once that word is certainly complete.

        A clause that would end on a word that leads into the next ("of", "the", "because") takes up to
        MAX_EXTRA_WORDS more words, so the pause falls where a speaker would make it.
        """
        total = 0.0
        for match in _SPEECH_TOKEN.finditer(text):
            token = match.group()
            if not any(c.isalnum() for c in token):
                continue
            total += 1 / CJK_CHARS_PER_WORD if CJK_CHAR.match(token) else 1
            if match.end() == len(text):
                return None  # the word may still be growing
            leads_on = token.strip(".,;:!?\"'()").lower() in LEADING_WORDS
            if total >= words and (not leads_on or total >= words + MAX_EXTRA_WORDS):
                return match.end()
        return None


_CODE_FENCE = re.compile(r"^\s*(```|~~~)[^\n]*$", re.MULTILINE)
_INLINE_CODE = re.compile(r"`+([^`]*)`+")
_IMAGE = re.compile(r"!\[([^\]]*)\]\([^)]*\)")
_LINK = re.compile(r"\[([^\]]+)\]\([^)]*\)")
_HEADER = re.compile(r"^[ \t]{0,3}#{1,6}(?:[ \t]+|$)", re.MULTILINE)
_BLOCKQUOTE = re.compile(r"^[ \t]*(>[ \t]?)+", re.MULTILINE)
_BULLET = re.compile(r"^[ \t]*[-*+•·▪‣][ \t]+", re.MULTILINE)
_RULE = re.compile(r"^[ \t]*([-*_=])([ \t]*\1){2,}[ \t]*$", re.MULTILINE)
_TABLE_RULE = re.compile(
    r"^[ \t]*\|?([ \t]*:?-{3,}:?[ \t]*\|)+([ \t]*:?-{3,}:?[ \t]*)?\|?[ \t]*$", re.MULTILINE
)
_STRONG = re.compile(r"(\*\*|__)(?=\S)(.+?)(?<=\S)\1")
_EMPHASIS = re.compile(
    r"(?<![\w*])\*(?=[^\s*])(.+?)(?<=[^\s*])\*(?![\w*])|(?<!\w)_(?=[^\s_])(.+?)(?<=[^\s_])_(?!\w)"
)
_STRIKE = re.compile(r"~~(.+?)~~")
_STRAY_MARKUP = re.compile(r"\*\*|__|~~|`")
_SPACES = re.compile(r"[ \t\u00a0\u3000]+")
_SPACE_BEFORE_PUNCTUATION = re.compile(r" +([,.!?;:，。！？；、：])")
# Symbol categories a voice cannot say: emoji and other pictographs (So), modifier symbols such as skin
# tones (Sk, outside ASCII), format characters such as zero-width joiners (Cf), private use and
# unassigned code points, surrogates.
_UNSPEAKABLE_CATEGORIES = frozenset({"So", "Cf", "Co", "Cn", "Cs"})
# Variation selectors, the keycap combiner and arrows are unspeakable too; the degree sign is said.
_UNSPEAKABLE_CODE_POINTS = frozenset(range(0xFE00, 0xFE10)) | frozenset(range(0x2190, 0x2200)) | {0x20E3}
_SPEAKABLE_SYMBOLS = frozenset("°")


def _is_speakable(char: str) -> bool:
    if char in "\n\t" or char in _SPEAKABLE_SYMBOLS:
        return True
    category = unicodedata.category(char)
    if category in _UNSPEAKABLE_CATEGORIES or category == "Cc":
        return False
    if category == "Sk" and ord(char) > 0x7F:
        return False
    return ord(char) not in _UNSPEAKABLE_CODE_POINTS


def clean_for_speech(text: str) -> str:
    """Text as a voice should say it: markdown reduced to its words, emoji and symbols removed.

    Links and images keep their text, emphasis and code keep their content, headers, bullets, quotes and
    rules lose their markers, and each line that ends without punctuation gets a period so that lines
    do not run together.
    """
    text = _CODE_FENCE.sub("", text)
    text = _INLINE_CODE.sub(r"\1", text)
    text = _IMAGE.sub(r"\1", text)
    text = _LINK.sub(r"\1", text)
    text = _TABLE_RULE.sub("", text)
    text = _RULE.sub("", text)
    text = _HEADER.sub("", text)
    text = _BLOCKQUOTE.sub("", text)
    text = _BULLET.sub("", text)
    text = _STRONG.sub(r"\2", text)
    text = _EMPHASIS.sub(lambda m: m.group(1) or m.group(2), text)
    text = _STRIKE.sub(r"\1", text)
    text = _STRAY_MARKUP.sub("", text)
    text = text.replace("|", " ")
    text = "".join(c if _is_speakable(c) else " " for c in text)
    lines = [_SPACES.sub(" ", line).strip() for line in text.split("\n")]
    lines = [line for line in lines if any(c.isalnum() for c in line)]
    spoken_lines = []
    for index, line in enumerate(lines):
        if index < len(lines) - 1 and line[-1].isalnum():
            line += "。" if CJK_CHAR.match(line[-1]) else "."
        spoken_lines.append(line)
    return _SPACE_BEFORE_PUNCTUATION.sub(r"\1", " ".join(spoken_lines))
