"""TEN VAD on a stream of 16 kHz samples: re-chunks to the model's hop and drives the state machine."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from ten_vad import TenVad

from ten_packages.system.voice_kit.pcm import GRAPH_SAMPLE_RATE, FrameChunker

from .vad_state import VadEvent, VadStateMachine

SAMPLES_PER_MS = GRAPH_SAMPLE_RATE // 1000
SUPPORTED_HOP_MS = (10, 16)


@dataclass(frozen=True)
class VadSettings:
    prefix_padding_ms: int = 100
    silence_duration_ms: int = 128
    vad_threshold: float = 0.5
    hop_size_ms: int = 16

    def validate(self) -> None:
        """Raise ValueError/TypeError naming the bad property and what is expected."""
        if self.hop_size_ms not in SUPPORTED_HOP_MS:
            raise ValueError(f"hop_size_ms={self.hop_size_ms}: TEN VAD takes one of {SUPPORTED_HOP_MS}")
        for name in ("prefix_padding_ms", "silence_duration_ms", "hop_size_ms"):
            if not isinstance(getattr(self, name), int):
                raise TypeError(f"{name}={getattr(self, name)!r}: expected an integer number of ms")
        if not isinstance(self.vad_threshold, (int, float)):
            raise TypeError(f"vad_threshold={self.vad_threshold!r}: expected a number")
        if not 0.0 < self.vad_threshold < 1.0:
            raise ValueError(f"vad_threshold={self.vad_threshold}: expected a probability between 0 and 1")
        if self.prefix_padding_ms < 0 or self.silence_duration_ms < 0:
            raise ValueError("prefix_padding_ms and silence_duration_ms must be >= 0")


class SpeechDetector:
    """Finds sentence starts and ends in audio with the TEN VAD model, on the input timeline."""

    def __init__(self, settings: VadSettings) -> None:
        settings.validate()
        self.hop_samples = settings.hop_size_ms * SAMPLES_PER_MS
        try:
            self._model = TenVad(hop_size=self.hop_samples, threshold=settings.vad_threshold)
        except OSError as error:
            raise RuntimeError(
                f"TEN VAD cannot load its native library ({error}); on Debian/Ubuntu: apt-get install libc++1 libc++abi1"
            ) from error
        self._chunker = FrameChunker(self.hop_samples)
        self._pending = 0
        self.state = VadStateMachine(
            settings.vad_threshold,
            settings.hop_size_ms,
            settings.prefix_padding_ms,
            settings.silence_duration_ms,
        )

    def push(self, samples: np.ndarray, timestamp_ms: int) -> list[VadEvent]:
        """Feed samples whose first one is at `timestamp_ms`; return the events decided on them."""
        first_ms = timestamp_ms - self._pending / SAMPLES_PER_MS
        self._pending = (self._pending + len(samples)) % self.hop_samples
        events = []
        for index, hop in enumerate(self._chunker.push(samples)):
            probability, _ = self._model.process(np.ascontiguousarray(hop, dtype=np.int16))
            event = self.state.update(probability, first_ms + index * self.hop_samples / SAMPLES_PER_MS)
            if event:
                events.append(event)
        return events
