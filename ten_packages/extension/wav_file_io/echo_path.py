"""A simulated acoustic echo path: what the speaker played comes back into the microphone.

Headless runs have no room between speaker and mic; this puts the bot's own voice, delayed and
attenuated, into the captured input so echo cancellation and the echo guard face a real echo.
"""

from __future__ import annotations

import numpy as np


class SimulatedEchoPath:
    """Mixes played audio, ``delay_ms`` later and scaled by ``gain``, into captured frames."""

    def __init__(self, gain: float, delay_ms: int, sample_rate: int) -> None:
        if gain < 0:
            raise ValueError(f"echo_gain must be >= 0, got {gain}")
        if delay_ms < 0:
            raise ValueError(f"echo_delay_ms must be >= 0, got {delay_ms}")
        self.gain = gain
        self._line = np.zeros(sample_rate * delay_ms // 1000, dtype=np.float32)

    def mix(self, capture: np.ndarray, played: np.ndarray) -> np.ndarray:
        """The capture frame with the echo of earlier playback added (same length as ``capture``)."""
        line = np.concatenate([self._line, played.astype(np.float32)])
        echo, self._line = line[: len(capture)], line[len(capture) :]
        mixed = capture.astype(np.float32) + self.gain * echo
        return np.clip(mixed, -32768, 32767).astype(np.int16)
