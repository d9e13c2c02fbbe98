"""Which part of a reply's text was actually heard, from how many milliseconds of its audio were played."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from ten_packages.system.voice_kit.text import CJK_CHAR

from .history import join_speech

# Speaking rates for replies whose TTS reports no text timing: typical TTS voices.
LATIN_CHARS_PER_SECOND = 15.0
CJK_CHARS_PER_SECOND = 4.5


@dataclass
class TimedWord:
    word: str
    start_ms: int
    duration_ms: int


@dataclass
class TimedText:
    """A piece of the reply and where its audio lies on the request's audio timeline (0 = first sample)."""

    text: str
    start_ms: int
    duration_ms: int
    words: list[TimedWord] = field(default_factory=list)


def _estimated_duration_ms(text: str) -> float:
    cjk = sum(1 for c in text if CJK_CHAR.match(c))
    return 1000 * (cjk / CJK_CHARS_PER_SECOND + (len(text) - cjk) / LATIN_CHARS_PER_SECOND)


def _prefix_for_fraction(text: str, fraction: float) -> str:
    """The start of `text` covering `fraction` of it, ending after the word in progress (a word begun was heard)."""
    if fraction >= 1:
        return text
    end = math.ceil(len(text) * max(0.0, fraction))
    if end == 0:
        return ""
    while end < len(text) and not text[end].isspace() and not CJK_CHAR.match(text[end - 1]):
        end += 1
    return text[:end].strip()


class SpokenTextTracker:
    """Maps played audio time of one reply to the text heard.

    Uses the TTS's `tts_text_result` timing (words when given, else the piece's time shared out by
    characters); a TTS that reports no timing falls back to typical speaking rates over the texts sent.
    """

    def __init__(self) -> None:
        self.sent_texts: list[str] = []
        self.timed_texts: list[TimedText] = []

    def add_sent_text(self, text: str) -> None:
        self.sent_texts.append(text)

    def add_timed_text(self, timed_text: TimedText) -> None:
        self.timed_texts.append(timed_text)

    def full_text(self) -> str:
        text = ""
        for piece in self.sent_texts:
            text = join_speech(text, piece)
        return text

    def heard_text(self, played_ms: float) -> str:
        pieces = self.timed_texts or self._estimated_timing()
        heard = ""
        for piece in sorted(pieces, key=lambda p: p.start_ms):
            if piece.start_ms >= played_ms:
                break
            heard = join_speech(heard, self._heard_part(piece, played_ms))
        return heard

    @staticmethod
    def _heard_part(piece: TimedText, played_ms: float) -> str:
        if piece.start_ms + piece.duration_ms <= played_ms:
            return piece.text
        if piece.words:
            words = [w.word for w in sorted(piece.words, key=lambda w: w.start_ms) if w.start_ms < played_ms]
            return " ".join(words) if not CJK_CHAR.search(piece.text) else "".join(words)
        fraction = (played_ms - piece.start_ms) / piece.duration_ms if piece.duration_ms > 0 else 1.0
        return _prefix_for_fraction(piece.text, fraction)

    def _estimated_timing(self) -> list[TimedText]:
        timed, start = [], 0.0
        for text in self.sent_texts:
            duration = _estimated_duration_ms(text)
            timed.append(TimedText(text, round(start), round(duration)))
            start += duration
        return timed
