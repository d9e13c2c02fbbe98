"""One faster-whisper model, tuned for short utterances where every millisecond counts.

Blocking: callers run `transcribe` off the event loop, one call at a time.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
from faster_whisper import WhisperModel
from faster_whisper.tokenizer import Tokenizer
from faster_whisper.transcribe import get_suppressed_tokens

from .model_source import resolve_model
from .utterance_audio import SAMPLE_RATE

AUTO_LANGUAGE = "auto"
WHISPER_WINDOW_FRAMES = 3000  # 30 s of 10 ms mel frames
MIN_SHORT_WINDOW_FRAMES = 1000
SHORT_WINDOW_MARGIN_FRAMES = 100
# Generous cap on tokens per utterance, so a decoder stuck repeating itself stops early.
TOKENS_PER_AUDIO_SECOND = 16
MIN_TOKEN_BUDGET = 24
# A decoded tail repeating the tokens just before it, at least this long, is a decoding loop.
MIN_REPEATED_TOKENS = 4
# faster-whisper's defaults for dropping a window as silence.
NO_SPEECH_THRESHOLD = 0.6
LOG_PROB_THRESHOLD = -1.0


@dataclass(frozen=True)
class WhisperSettings:
    """The recogniser's properties that shape the model and the decoding."""

    model: str = "packaged:tiny.en"
    language: str = "en"
    device: str = "cpu"
    compute_type: str = "int8"
    beam_size: int = 1
    initial_prompt: str = ""
    hotwords: str = ""
    cpu_threads: int = 0
    word_timestamps: bool = False
    short_window: bool = True


@dataclass(frozen=True)
class Word:
    word: str
    start_ms: int  # from the start of the transcribed audio
    duration_ms: int


@dataclass(frozen=True)
class Transcript:
    text: str
    language: str
    audio_ms: int
    elapsed_ms: float  # wall time the model took
    words: list[Word] = field(default_factory=list)


class UtteranceTranscriber:
    """Transcribes one utterance at a time with settings chosen for latency.

    Decoding: greedy by default, no timestamp tokens, no temperature fallback (a second full decode), no
    conditioning on earlier text and no VAD pass (the graph's VAD has already cut the audio).

    Short window: Whisper normally encodes a 30 s window, zero-padded, and for a 2 s utterance that
    encoder pass is most of the cost (it grows faster than linearly with the window). With `short_window`
    the encoder sees only the utterance plus a margin (at least 10 s: shorter windows made tiny.en repeat
    itself), and the decoder runs on that; measured on the bench utterances it is several times faster at
    the same word error rate. Longer utterances, word timestamps, and the rare short-window decode that
    loops (repeats its own tail, seen with an initial prompt) take faster-whisper's usual path.
    """

    def __init__(self, settings: WhisperSettings, download_root: str | None = None) -> None:
        self.settings = settings
        self.model_path = resolve_model(settings.model, download_root)
        self._model = WhisperModel(
            str(self.model_path),
            device=settings.device,
            compute_type=settings.compute_type,
            cpu_threads=settings.cpu_threads,
        )
        self.multilingual = self._model.model.is_multilingual
        language = settings.language.strip().lower()
        if language in ("", AUTO_LANGUAGE):
            self._language = None if self.multilingual else "en"
        elif language in self._model.supported_languages:
            self._language = language
        elif self.multilingual:
            raise ValueError(
                f"unknown language '{language}': expected auto or one of Whisper's codes (en, zh, ...)"
            )
        else:
            raise ValueError(
                f"model '{settings.model}' is English-only; language '{language}' needs another model"
            )
        self._tokenizers: dict[str, Tokenizer] = {}

    def transcribe(self, audio: np.ndarray) -> Transcript:
        """Text of int16 16 kHz mono `audio`."""
        started = time.perf_counter()
        samples = np.asarray(audio, dtype=np.float32) / 32768.0
        features = self._model.feature_extractor(samples)
        short = (
            self._decode_short_window(features)
            if self.settings.short_window
            and not self.settings.word_timestamps
            and features.shape[-1] + SHORT_WINDOW_MARGIN_FRAMES <= WHISPER_WINDOW_FRAMES
            else None
        )
        if short is not None:
            (text, language), words = short, []
        else:
            text, language, words = self._transcribe_whole(samples)
        if not any(character.isalnum() for character in text):
            text = ""  # punctuation alone is what Whisper "hears" in silence or noise
        return Transcript(
            text=text,
            language=language,
            audio_ms=len(audio) * 1000 // SAMPLE_RATE,
            elapsed_ms=(time.perf_counter() - started) * 1000,
            words=words,
        )

    def _decode_short_window(self, features: np.ndarray) -> tuple[str, str] | None:
        """Text and language, or None when the decoder repeated itself (the 30 s window then decides)."""
        frames = features.shape[-1]
        window = max(MIN_SHORT_WINDOW_FRAMES, frames + SHORT_WINDOW_MARGIN_FRAMES)
        padded = np.zeros((features.shape[0], window), dtype=np.float32)
        padded[:, :frames] = features
        encoded = self._model.encode(padded)
        # detect_language gives, per batch item, (token, probability) pairs best first; tokens look like <|en|>.
        language = self._language or self._model.model.detect_language(encoded)[0][0][0][2:-2]
        tokenizer = self._tokenizer(language)
        previous = (
            tokenizer.encode(" " + self.settings.initial_prompt.strip())
            if self.settings.initial_prompt
            else []
        )
        prompt = self._model.get_prompt(
            tokenizer, previous, without_timestamps=True, hotwords=self.settings.hotwords or None
        )
        budget = TOKENS_PER_AUDIO_SECOND * frames // 100 + MIN_TOKEN_BUDGET
        result = self._model.model.generate(
            encoded,
            [prompt],
            beam_size=self.settings.beam_size,
            max_length=min(self._model.max_length, len(prompt) + budget),
            return_scores=True,
            return_no_speech_prob=True,
            suppress_blank=True,
            suppress_tokens=get_suppressed_tokens(tokenizer, [-1]),
        )[0]
        tokens = result.sequences_ids[0]
        if _ends_in_repetition(tokens):
            return None
        # faster-whisper's rule for "this was silence": likely no speech, and no confident text either.
        average_log_prob = result.scores[0] * len(tokens) / (len(tokens) + 1)
        if result.no_speech_prob > NO_SPEECH_THRESHOLD and average_log_prob < LOG_PROB_THRESHOLD:
            return "", language
        return tokenizer.decode(tokens).strip(), language

    def _transcribe_whole(self, samples: np.ndarray) -> tuple[str, str, list[Word]]:
        with_words = self.settings.word_timestamps
        segments, info = self._model.transcribe(
            samples,
            language=self._language,
            beam_size=self.settings.beam_size,
            temperature=0.0,
            condition_on_previous_text=False,
            without_timestamps=not with_words,
            word_timestamps=with_words,
            vad_filter=False,
            initial_prompt=self.settings.initial_prompt or None,
            hotwords=self.settings.hotwords or None,
        )
        segments = list(segments)  # decoding happens while iterating
        text = " ".join(segment.text.strip() for segment in segments).strip()
        words = [
            Word(w.word.strip(), int(w.start * 1000), int((w.end - w.start) * 1000))
            for segment in segments
            for w in (segment.words or [])
        ]
        return text, info.language, words

    def _tokenizer(self, language: str) -> Tokenizer:
        if language not in self._tokenizers:
            self._tokenizers[language] = Tokenizer(
                self._model.hf_tokenizer, self.multilingual, task="transcribe", language=language
            )
        return self._tokenizers[language]


def _ends_in_repetition(tokens: list[int]) -> bool:
    """Whether the sequence ends with a run of tokens said twice in a row ("at work. I use ... at work.")."""
    return any(
        tokens[-size:] == tokens[-2 * size : -size]
        for size in range(MIN_REPEATED_TOKENS, len(tokens) // 2 + 1)
    )
