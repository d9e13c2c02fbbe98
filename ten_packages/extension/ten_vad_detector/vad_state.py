"""The VAD's speaking/silent state machine over per-hop speech probabilities (no model inside)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import Enum


class VadEventKind(str, Enum):
    START_OF_SENTENCE = "start_of_sentence"
    END_OF_SENTENCE = "end_of_sentence"


@dataclass(frozen=True)
class VadEvent:
    kind: VadEventKind
    timestamp_ms: int
    """Input timeline: first voiced sample (start) or last voiced sample (end)."""
    decided_ms: int
    """Input timeline: end of the hop on which the decision was made."""


class VadStateMachine:
    """Speech starts after `prefix_padding_ms` of consecutive voiced hops and ends after
    `silence_duration_ms` of consecutive unvoiced ones; each needs whole hops, rounded up."""

    def __init__(self, vad_threshold: float, hop_ms: float, prefix_padding_ms: int, silence_duration_ms: int):
        self.vad_threshold = vad_threshold
        self.hop_ms = hop_ms
        self.start_hops = max(1, math.ceil(prefix_padding_ms / hop_ms))
        self.end_hops = max(1, math.ceil(silence_duration_ms / hop_ms))
        self.speaking = False
        self._run_hops = 0
        self._run_start_ms = 0.0
        self._last_voiced_end_ms = 0.0

    def update(self, probability: float, hop_start_ms: float) -> VadEvent | None:
        """Take one hop's speech probability; return the event it completes, if any."""
        hop_end_ms = hop_start_ms + self.hop_ms
        voiced = probability >= self.vad_threshold
        if voiced:
            self._last_voiced_end_ms = hop_end_ms
        if voiced != self.speaking:
            if self._run_hops == 0:
                self._run_start_ms = hop_start_ms
            self._run_hops += 1
        else:
            self._run_hops = 0
        if not self.speaking and self._run_hops >= self.start_hops:
            self.speaking = True
            self._run_hops = 0
            return VadEvent(VadEventKind.START_OF_SENTENCE, round(self._run_start_ms), round(hop_end_ms))
        if self.speaking and self._run_hops >= self.end_hops:
            self.speaking = False
            self._run_hops = 0
            return VadEvent(VadEventKind.END_OF_SENTENCE, round(self._last_voiced_end_ms), round(hop_end_ms))
        return None

    def reset(self) -> None:
        self.speaking = False
        self._run_hops = 0
