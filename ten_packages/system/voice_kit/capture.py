"""Captured audio in any rate and channel count, turned into the graph's 16 kHz mono s16 frames."""

from __future__ import annotations

import numpy as np
import soxr

from ten_packages.system.voice_kit.pcm import FRAME_SAMPLES, GRAPH_SAMPLE_RATE, FrameChunker


def float_to_int16(samples: np.ndarray) -> np.ndarray:
    """Float samples in [-1, 1] as int16, clipped rather than wrapped."""
    return np.round(np.clip(samples, -1.0, 1.0) * 32767.0).astype(np.int16)


class CaptureConverter:
    """Streams blocks of float audio (frames x channels) into fixed 10 ms graph frames.

    A streaming resampler keeps block boundaries click-free and the output aligned with the input, so a
    sample at time t in the source lands at time t on the graph's timeline. It holds back a few ms of
    audio ("HQ": about 21 ms, "LQ": about 6 ms at 48 kHz); live devices pick "LQ" for latency.
    """

    def __init__(
        self,
        source_rate: int,
        sample_rate: int = GRAPH_SAMPLE_RATE,
        frame_samples: int = FRAME_SAMPLES,
        quality: str = "HQ",
    ) -> None:
        self.source_rate = source_rate
        self.sample_rate = sample_rate
        self._resampler = (
            soxr.ResampleStream(source_rate, sample_rate, 1, dtype="float32", quality=quality)
            if source_rate != sample_rate
            else None
        )
        self._chunker = FrameChunker(frame_samples)
        self.converted_samples = 0

    def push(self, block: np.ndarray) -> list[np.ndarray]:
        """Complete frames made from this block (mixed down to mono, resampled)."""
        mono = np.asarray(block, dtype=np.float32)
        if mono.ndim == 2:
            mono = mono.mean(axis=1)
        return self._frames(self._resampler.resample_chunk(mono) if self._resampler else mono)

    def finish(self) -> list[np.ndarray]:
        """The frames still held back at the end of the input, the last one padded with silence."""
        frames = []
        if self._resampler:
            frames = self._frames(self._resampler.resample_chunk(np.zeros(0, np.float32), last=True))
        rest = self._chunker.flush()
        if len(rest):
            frames.append(np.concatenate([rest, np.zeros(self._chunker.frame_samples - len(rest), np.int16)]))
        return frames

    def _frames(self, samples: np.ndarray) -> list[np.ndarray]:
        self.converted_samples += len(samples)
        return self._chunker.push(float_to_int16(samples))
