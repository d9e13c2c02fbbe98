"""One utterance from token stream to graph-rate PCM, streamed chunk by chunk. Blocking: run it on the MLX thread."""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import soxr

from .streaming_decoder import ChunkSchedule, StreamingBiCodecDecoder
from .token_source import SpeechTokenStream

# (global tokens, semantic tokens) -> float32 waveform at the model's sample rate.
BiCodecDecodeFn = Callable[[Sequence[int], Sequence[int]], np.ndarray]


@dataclass
class SynthesisResult:
    tokens_generated: int = 0
    tokens_before_first_audio: int | None = None
    audio_samples: int = 0
    cancelled: bool = False
    seconds: float = 0.0


def float_to_int16(audio: np.ndarray) -> np.ndarray:
    return (np.clip(audio, -1.0, 1.0) * 32767.0).astype(np.int16)


class SparkStreamingSynthesizer:
    """Feeds generated semantic tokens to a StreamingBiCodecDecoder and hands out int16 audio as it is ready."""

    def __init__(
        self,
        decode: BiCodecDecodeFn,
        samples_per_token: int,
        model_sample_rate: int,
        schedule: ChunkSchedule,
        output_sample_rate: int,
    ) -> None:
        self._decode = decode
        self.samples_per_token = samples_per_token
        self.model_sample_rate = model_sample_rate
        self.schedule = schedule
        self.output_sample_rate = output_sample_rate

    def synthesize(
        self,
        stream: SpeechTokenStream,
        on_audio: Callable[[np.ndarray], None],
        cancelled: threading.Event,
    ) -> SynthesisResult:
        """Generate and decode until the stream ends or `cancelled` is set (checked after every token)."""
        started = time.perf_counter()
        result = SynthesisResult()
        decoder: StreamingBiCodecDecoder | None = None
        resampler = (
            soxr.ResampleStream(self.model_sample_rate, self.output_sample_rate, 1, dtype="float32")
            if self.model_sample_rate != self.output_sample_rate
            else None
        )

        def emit(chunk: np.ndarray, last: bool) -> None:
            if resampler is not None:
                chunk = resampler.resample_chunk(chunk, last=last)
            if len(chunk):
                if result.tokens_before_first_audio is None:
                    result.tokens_before_first_audio = result.tokens_generated
                result.audio_samples += len(chunk)
                on_audio(float_to_int16(chunk))

        for token in stream:
            result.tokens_generated += 1
            if cancelled.is_set():
                break
            if decoder is None:
                speaker_decode = functools.partial(self._decode, stream.global_tokens())
                decoder = StreamingBiCodecDecoder(speaker_decode, self.samples_per_token, self.schedule)
            chunk = decoder.push(token)
            if chunk is not None:
                emit(chunk, last=False)
        result.cancelled = cancelled.is_set()
        if decoder is not None and not result.cancelled:
            emit(decoder.finish(), last=True)
        result.seconds = time.perf_counter() - started
        return result
