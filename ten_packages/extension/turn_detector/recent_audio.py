"""The user's recent audio, kept with its input-timeline timestamps so a turn can be cut out of it."""

from __future__ import annotations

from collections import deque

import numpy as np

SAMPLES_PER_MS = 16


class RecentAudio:
    """A rolling window of 16 kHz mono int16 frames, each stamped with its start on the input timeline."""

    def __init__(self, keep_ms: int) -> None:
        self.keep_ms = keep_ms
        self._frames: deque[tuple[int, np.ndarray]] = deque()

    @property
    def end_ms(self) -> int | None:
        """Input-timeline end of the newest frame, None before any audio."""
        if not self._frames:
            return None
        start_ms, samples = self._frames[-1]
        return start_ms + len(samples) // SAMPLES_PER_MS

    def append(self, timestamp_ms: int, samples: np.ndarray) -> None:
        self._frames.append((timestamp_ms, np.asarray(samples, dtype=np.int16)))
        newest_end = self.end_ms or 0
        while self._frames and self._frames[0][0] + len(self._frames[0][1]) // SAMPLES_PER_MS <= (
            newest_end - self.keep_ms
        ):
            self._frames.popleft()

    def since(self, start_ms: int) -> np.ndarray:
        """All kept samples from `start_ms` on (whole frames; frames overlapping it are cut)."""
        pieces = []
        for frame_start_ms, samples in self._frames:
            frame_end_ms = frame_start_ms + len(samples) // SAMPLES_PER_MS
            if frame_end_ms <= start_ms:
                continue
            skip = max(0, start_ms - frame_start_ms) * SAMPLES_PER_MS
            pieces.append(samples[skip:])
        return np.concatenate(pieces) if pieces else np.zeros(0, dtype=np.int16)

    def clear(self) -> None:
        self._frames.clear()
