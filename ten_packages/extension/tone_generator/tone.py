"""A sine tone cut into 16 kHz s16 frames: a sound source with no device and no model."""

from __future__ import annotations

import numpy as np


class ToneFrames:
    """Yields consecutive frames of a continuous sine tone (phase carries across frames)."""

    def __init__(self, frequency_hz: float, amplitude: float, sample_rate: int, frame_ms: int) -> None:
        if not 0.0 <= amplitude <= 1.0:
            raise ValueError(f"amplitude must be within [0, 1], got {amplitude}")
        self.frequency_hz = frequency_hz
        self.amplitude = amplitude
        self.sample_rate = sample_rate
        self.frame_samples = sample_rate * frame_ms // 1000
        self._next_sample = 0

    def next_frame(self) -> np.ndarray:
        t = (np.arange(self.frame_samples) + self._next_sample) / self.sample_rate
        self._next_sample += self.frame_samples
        return (np.sin(2 * np.pi * self.frequency_hz * t) * self.amplitude * 32767).astype(np.int16)
