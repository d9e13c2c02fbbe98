"""Played slices handed from the event loop to the speaker's PortAudio callback thread."""

from __future__ import annotations

import threading
from collections import deque

import numpy as np
import soxr

from ten_packages.system.voice_kit.pcm import GRAPH_SAMPLE_RATE


class SpeakerFeed:
    """A short, thread-safe queue of device-format audio between the clock and the output callback.

    The clock pushes one 16 kHz slice per capture tick; the callback pulls whatever the device asks for.
    The queue is capped at `max_buffered_ms` (oldest dropped) so drift between the microphone's and the
    speaker's clocks cannot build up latency, and `clear` empties it at once on a flush. Resampling uses
    soxr's "LQ" quality, which holds back about 6 ms instead of HQ's 21 ms.
    """

    def __init__(self, device_rate: int, channels: int, max_buffered_ms: int = 100) -> None:
        self.device_rate = device_rate
        self.channels = channels
        self._max_samples = device_rate * max_buffered_ms // 1000
        self._resampler = (
            soxr.ResampleStream(GRAPH_SAMPLE_RATE, device_rate, 1, dtype="float32", quality="LQ")
            if device_rate != GRAPH_SAMPLE_RATE
            else None
        )
        self._chunks: deque[np.ndarray] = deque()
        self._buffered = 0
        self._lock = threading.Lock()
        self.underrun_samples = 0

    @property
    def buffered_ms(self) -> int:
        with self._lock:
            return self._buffered * 1000 // self.device_rate

    def push(self, samples: np.ndarray) -> None:
        """Queue one played slice (int16 mono at 16 kHz), converted to the device's rate."""
        audio = np.asarray(samples, dtype=np.float32) / 32768.0
        if self._resampler:
            audio = self._resampler.resample_chunk(audio)
        with self._lock:
            self._chunks.append(audio)
            self._buffered += len(audio)
            while self._buffered > self._max_samples:
                self._buffered -= len(self._chunks.popleft())

    def clear(self) -> None:
        """Drop everything not yet handed to the device."""
        with self._lock:
            self._chunks.clear()
            self._buffered = 0

    def fill(self, out: np.ndarray) -> None:
        """Fill a PortAudio output block (frames x channels, float32) in place; silence where nothing is queued."""
        wanted = len(out)
        filled = 0
        with self._lock:
            while filled < wanted and self._chunks:
                chunk = self._chunks[0]
                take = min(len(chunk), wanted - filled)
                out[filled : filled + take] = chunk[:take, None]
                if take == len(chunk):
                    self._chunks.popleft()
                else:
                    self._chunks[0] = chunk[take:]
                filled += take
            self._buffered -= filled
        out[filled:] = 0
        self.underrun_samples += wanted - filled
