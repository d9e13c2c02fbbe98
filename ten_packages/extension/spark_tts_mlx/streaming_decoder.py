"""Streaming BiCodec decoding: audio for semantic tokens while the language model is still generating them.

BiCodec's decoder is a stack of non-causal convolutions, so the audio of a token depends on its neighbours on
both sides. Each chunk is therefore decoded with `left_context_tokens` of already-spoken tokens before it and
`lookahead_tokens` of not-yet-spoken tokens after it; only the middle is sent. The first `crossfade_tokens` of
audio after the sent part is kept and faded into the next chunk, so that any remaining difference at the join
is smoothed instead of clicking. With context and lookahead at least the decoder's receptive field, the
streamed audio equals a one-shot decode of the same tokens.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

# Semantic token ids -> float32 waveform with exactly samples_per_token samples per token.
DecodeFn = Callable[[Sequence[int]], np.ndarray]


@dataclass(frozen=True)
class ChunkSchedule:
    """When to decode: a small first chunk for a fast start, then growing chunks for efficiency."""

    first_chunk_tokens: int = 16
    chunk_growth: float = 1.5
    max_chunk_tokens: int = 150
    left_context_tokens: int = 32
    lookahead_tokens: int = 16
    crossfade_tokens: int = 2

    def __post_init__(self) -> None:
        if self.first_chunk_tokens < 1:
            raise ValueError(f"first_chunk_tokens must be >= 1, got {self.first_chunk_tokens}")
        if self.chunk_growth < 1.0:
            raise ValueError(f"chunk_growth must be >= 1.0, got {self.chunk_growth}")
        if self.max_chunk_tokens < self.first_chunk_tokens:
            raise ValueError(
                f"max_chunk_tokens ({self.max_chunk_tokens}) must be >= first_chunk_tokens "
                f"({self.first_chunk_tokens})"
            )
        if self.left_context_tokens < 0 or self.crossfade_tokens < 0:
            raise ValueError("left_context_tokens and crossfade_tokens must be >= 0")
        if self.lookahead_tokens < self.crossfade_tokens:
            raise ValueError(
                f"lookahead_tokens ({self.lookahead_tokens}) must be >= crossfade_tokens "
                f"({self.crossfade_tokens}): the crossfade uses audio decoded past the sent part"
            )

    def chunk_tokens(self, chunk_index: int) -> int:
        """Tokens to send in chunk `chunk_index` (0-based)."""
        return min(self.max_chunk_tokens, round(self.first_chunk_tokens * self.chunk_growth**chunk_index))


class StreamingBiCodecDecoder:
    """Semantic tokens in, one at a time; audio chunks out as soon as the schedule allows."""

    def __init__(self, decode: DecodeFn, samples_per_token: int, schedule: ChunkSchedule) -> None:
        self._decode = decode
        self.samples_per_token = samples_per_token
        self.schedule = schedule
        self._tokens: list[int] = []
        self._sent_tokens = 0
        self._crossfade_tail = np.zeros(0, dtype=np.float32)
        self._chunk_index = 0
        self.join_samples: list[int] = []  # sample offsets where one chunk's audio meets the next

    @property
    def tokens_received(self) -> int:
        return len(self._tokens)

    def push(self, token: int) -> np.ndarray | None:
        """Add one generated token; returns the next audio chunk when one is due, else None."""
        self._tokens.append(int(token))
        sendable = len(self._tokens) - self.schedule.lookahead_tokens
        if sendable - self._sent_tokens >= self.schedule.chunk_tokens(self._chunk_index):
            return self._decode_through(sendable)
        return None

    def finish(self) -> np.ndarray:
        """The audio of every token not sent yet (generation has ended)."""
        if self._sent_tokens == len(self._tokens):
            return np.zeros(0, dtype=np.float32)
        return self._decode_through(len(self._tokens))

    def _decode_through(self, end_token: int) -> np.ndarray:
        """Decode with context, return the audio of tokens [sent, end_token) with the join crossfaded."""
        spt = self.samples_per_token
        window_start = max(0, self._sent_tokens - self.schedule.left_context_tokens)
        window = self._tokens[window_start:]
        audio = np.asarray(self._decode(window), dtype=np.float32).reshape(-1)
        if len(audio) != len(window) * spt:
            raise RuntimeError(
                f"BiCodec returned {len(audio)} samples for {len(window)} tokens, expected {len(window) * spt}"
            )
        chunk_start = (self._sent_tokens - window_start) * spt
        chunk_end = (end_token - window_start) * spt
        chunk = audio[chunk_start:chunk_end].copy()
        if self._chunk_index:
            self.join_samples.append(self._sent_tokens * spt)
        fade = min(len(self._crossfade_tail), len(chunk))
        if fade:
            fade_in = 0.5 - 0.5 * np.cos(np.linspace(0.0, np.pi, fade, dtype=np.float32))
            chunk[:fade] = self._crossfade_tail[:fade] * (1.0 - fade_in) + chunk[:fade] * fade_in
        self._crossfade_tail = audio[chunk_end : chunk_end + self.schedule.crossfade_tokens * spt].copy()
        self._sent_tokens = end_token
        self._chunk_index += 1
        return chunk
