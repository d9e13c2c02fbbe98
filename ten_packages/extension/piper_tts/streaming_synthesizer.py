"""Streaming speech from text with a Piper voice, free of any TEN runtime so it can be tested alone.

A reply arrives as several text inputs; `PiperStreamingSynthesizer.start_request()` gives a
`RequestSynthesis` that keeps the reply's audio timeline and resampler state across them. Each input is
cleaned and cut into sentences ("spoken pieces"); each piece is announced with its place on the reply's
audio timeline before its audio, so a controller can later map the time actually played back to text.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import soxr

from ten_packages.system.voice_kit.text import clean_for_speech, iter_boundaries, split_long

from .piper_voice import StreamableVoice


@dataclass(frozen=True)
class SynthesisSettings:
    """How to speak: Piper's synthesis knobs plus our streaming and output format."""

    length_scale: float = 1.0
    noise_scale: float = 0.667
    noise_w: float = 0.8
    speaker_id: int = 0
    sentence_silence_ms: int = 0
    sample_rate_out: int = 16000
    max_piece_chars: int = 200
    # Latent frames decoded in the first chunk of a piece (one frame = hop_length samples, ~11.6 ms for
    # 22.05 kHz voices); later chunks double up to max_chunk_frames, which bounds how late a flush lands.
    first_chunk_frames: int = 8
    max_chunk_frames: int = 128
    # Latent frames decoded on each side of a chunk and thrown away, so that chunk joins are seamless.
    context_frames: int = 12

    def __post_init__(self) -> None:
        if self.sample_rate_out < 8000:
            raise ValueError(f"sample_rate_out must be at least 8000, got {self.sample_rate_out}")
        if self.length_scale <= 0:
            raise ValueError(f"length_scale must be positive, got {self.length_scale}")
        if self.sentence_silence_ms < 0:
            raise ValueError(f"sentence_silence_ms must not be negative, got {self.sentence_silence_ms}")
        if not 1 <= self.first_chunk_frames <= self.max_chunk_frames:
            raise ValueError("need 1 <= first_chunk_frames <= max_chunk_frames")


@dataclass(frozen=True)
class SpokenPiece:
    """Text about to be spoken, with its place on the reply's audio timeline (ms from its first sample)."""

    text: str
    start_ms: int
    duration_ms: int
    last_of_text: bool  # the last piece of the text given to `speak`


def speakable_pieces(text: str, max_chars: int) -> list[str]:
    """`text` cleaned for speech and cut into sentences of at most `max_chars` (nothing dropped)."""
    cleaned = clean_for_speech(text)
    pieces, start = [], 0
    for cut, ends_sentence in iter_boundaries(cleaned, at_end=True):
        if ends_sentence:
            pieces.extend(split_long(cleaned[start:cut], max_chars))
            start = cut
    pieces.extend(split_long(cleaned[start:], max_chars))
    return [piece for piece in pieces if piece]


def chunk_spans(frames: int, first: int, largest: int) -> Iterator[tuple[int, int]]:
    """(start, end) latent frame spans that cover `frames`: `first` long, then doubling up to `largest`."""
    start, size = 0, first
    while start < frames:
        end = min(frames, start + size)
        yield start, end
        start, size = end, min(size * 2, largest)


# A reply starts at its first audible sample: Piper's voices open with 30-50 ms of near-silence,
# which is pure latency to a listener. Capped, so a soft first syllable is never eaten.
LEADING_QUIET_LEVEL = 0.002  # about -54 dBFS
LEADING_QUIET_MAX_S = 0.2


def drop_leading_quiet(audio: np.ndarray, sample_rate: int) -> np.ndarray:
    """``audio`` from its first sample above LEADING_QUIET_LEVEL (at most LEADING_QUIET_MAX_S dropped)."""
    limit = min(len(audio), int(sample_rate * LEADING_QUIET_MAX_S))
    loud = np.flatnonzero(np.abs(audio[:limit]) > LEADING_QUIET_LEVEL)
    return audio[loud[0] if len(loud) else limit :]


def float_to_int16(audio: np.ndarray) -> np.ndarray:
    return (np.clip(audio, -1.0, 1.0) * 32767.0).astype(np.int16)


class RequestSynthesis:
    """The audio of one reply (one request_id), made piece by piece as its text arrives.

    `speak` yields a SpokenPiece before each piece's audio, then int16 blocks at `sample_rate_out`, one per
    decoded chunk. Setting `cancel` stops it before the next chunk. Not thread-safe: use from one thread.
    """

    def __init__(self, voice: StreamableVoice, settings: SynthesisSettings) -> None:
        self.voice = voice
        self.settings = settings
        self.cancel = threading.Event()
        self.compute_seconds = 0.0
        self.samples_out = 0
        self._timeline_samples = 0  # at the voice's rate, silences included
        self._resampler = soxr.ResampleStream(voice.sample_rate, settings.sample_rate_out, 1, dtype="float32")

    @property
    def audio_ms(self) -> int:
        return self.samples_out * 1000 // self.settings.sample_rate_out

    @property
    def real_time_factor(self) -> float:
        """Seconds of computing per second of audio (lower is faster)."""
        return (
            self.compute_seconds / (self.samples_out / self.settings.sample_rate_out)
            if self.samples_out
            else 0.0
        )

    def speak(self, text: str) -> Iterator[SpokenPiece | np.ndarray]:
        pieces = speakable_pieces(text, self.settings.max_piece_chars)
        for index, piece in enumerate(pieces):
            if self.cancel.is_set():
                return
            yield from self._speak_piece(piece, last_of_text=index == len(pieces) - 1)

    def finish(self) -> np.ndarray:
        """The resampler's last samples; call once after the reply's last text."""
        tail = float_to_int16(self._resampler.resample_chunk(np.zeros(0, dtype=np.float32), last=True))
        self.samples_out += len(tail)
        return tail

    def _speak_piece(self, text: str, last_of_text: bool) -> Iterator[SpokenPiece | np.ndarray]:
        settings, voice = self.settings, self.voice
        started = time.perf_counter()
        encoded = [
            voice.encode(
                voice.model_inputs(
                    ids, settings.length_scale, settings.noise_scale, settings.noise_w, settings.speaker_id
                )
            )
            for ids in voice.phoneme_ids(text)
        ]
        self.compute_seconds += time.perf_counter() - started
        if not encoded:
            return
        silence = np.zeros(voice.sample_rate * settings.sentence_silence_ms // 1000, dtype=np.float32)
        lengths = [self._audio_samples(item) for item in encoded]
        leading_silence = len(silence) if self._timeline_samples else 0
        piece_samples = leading_silence + sum(lengths) + len(silence) * (len(encoded) - 1)
        chunks: list[Iterator[np.ndarray]] = [self._decoded_chunks(item) for item in encoded]
        if self._timeline_samples == 0:
            # The reply's first audio: start it at its first audible sample, and keep the timeline exact.
            first = next(chunks[0], None)
            if first is not None:
                kept = drop_leading_quiet(first, voice.sample_rate)
                piece_samples -= len(first) - len(kept)
                chunks[0] = itertools.chain([kept], chunks[0])
        yield SpokenPiece(
            text,
            start_ms=self._ms(self._timeline_samples + leading_silence),
            duration_ms=self._ms(piece_samples - leading_silence),
            last_of_text=last_of_text,
        )
        self._timeline_samples += piece_samples
        for index, item_chunks in enumerate(chunks):
            if index > 0 or leading_silence:
                yield from self._emit(silence)
            for audio in item_chunks:
                if self.cancel.is_set():
                    return
                yield from self._emit(audio)

    def _audio_samples(self, encoded: np.ndarray) -> int:
        if self.voice.streams_within_sentence:
            return encoded.shape[-1] * self.voice.hop_length
        return encoded.size

    def _decoded_chunks(self, encoded: np.ndarray) -> Iterator[np.ndarray]:
        """Float audio of one sentence, chunk by chunk (the whole sentence at once for unsplit voices)."""
        if not self.voice.streams_within_sentence:
            yield encoded.reshape(-1)
            return
        settings, hop = self.settings, self.voice.hop_length
        frames = encoded.shape[-1]
        for start, end in chunk_spans(frames, settings.first_chunk_frames, settings.max_chunk_frames):
            if self.cancel.is_set():
                return
            started = time.perf_counter()
            left = max(0, start - settings.context_frames)
            right = min(frames, end + settings.context_frames)
            audio = self.voice.decode(encoded[:, :, left:right])
            chunk = audio[(start - left) * hop : (end - left) * hop]
            self.compute_seconds += time.perf_counter() - started
            yield chunk

    def _emit(self, audio: np.ndarray) -> Iterator[np.ndarray]:
        started = time.perf_counter()
        block = float_to_int16(self._resampler.resample_chunk(audio.astype(np.float32, copy=False)))
        self.compute_seconds += time.perf_counter() - started
        if len(block):
            self.samples_out += len(block)
            yield block

    def _ms(self, samples: int) -> int:
        return round(samples * 1000 / self.voice.sample_rate)


class PiperStreamingSynthesizer:
    """A loaded Piper voice with fixed settings; makes one RequestSynthesis per reply."""

    def __init__(self, voice: StreamableVoice, settings: SynthesisSettings) -> None:
        self.voice = voice
        self.settings = settings

    def start_request(self) -> RequestSynthesis:
        return RequestSynthesis(self.voice, self.settings)

    def warm_up(self) -> None:
        """Run the graphs once so the first reply does not pay for onnxruntime's lazy initialisation."""
        request = self.start_request()
        for _ in request.speak("Hello."):
            pass
        request.finish()
