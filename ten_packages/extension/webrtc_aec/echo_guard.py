"""The echo guard: a second line behind WebRTC AEC that mutes residual echo while the bot speaks."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np

from ten_packages.system.voice_kit.pcm import FRAME_MS, GRAPH_SAMPLE_RATE


@dataclass(frozen=True)
class EchoGuardSettings:
    """While the bot speaks, mic audio counts as user speech only if it is loud and sustained."""

    enabled: bool = True
    window_ms: int = 400
    """The bot counts as speaking until this long after its last non-silent playback frame (echo tail)."""
    playback_dbfs: float = -50.0
    """A playback frame louder than this is bot audio."""
    speech_dbfs: float = -40.0
    """A cleaned mic frame louder than this may be the user, while the bot speaks."""
    min_speech_ms: int = 150
    """Loud audio must last this long (held back meanwhile) before it is let through."""
    max_gap_ms: int = 120
    """Quiet frames tolerated inside that loud run (gaps between syllables)."""
    hangover_ms: int = 500
    """Once let through, audio keeps flowing until this much quiet, then the guard closes again."""


def frame_dbfs(samples: np.ndarray) -> float:
    """RMS level in dB relative to full scale (-120 for digital silence)."""
    if len(samples) == 0:
        return -120.0
    as_float = samples.astype(np.float64)
    rms = float(np.sqrt(np.dot(as_float, as_float) / len(as_float)))
    return 20.0 * np.log10(max(rms, 1e-6) / 32768.0)


class EchoGuard:
    """Passes mic frames through, except while the bot speaks: then frames are held until sustained loud
    speech confirms a user barging in (the held frames are released) or the run breaks off (the held
    frames become silence, so downstream VAD and ASR never hear the residual echo). A run that began
    while the bot spoke is judged to its end even if the bot has stopped meanwhile.

    Frames come out in order with their own timestamps; only while holding are they delayed.
    """

    def __init__(self, settings: EchoGuardSettings) -> None:
        self.settings = settings
        self._last_bot_audio_ms: float | None = None
        self._held: deque[tuple[int, np.ndarray]] = deque()
        self._loud_ms = 0
        self._gap_ms = 0
        self._passing = False
        self._quiet_ms = 0

    def note_playback(self, samples: np.ndarray, timestamp_ms: int) -> None:
        """Record a played frame; non-silent ones mark the bot as speaking."""
        if frame_dbfs(samples) > self.settings.playback_dbfs:
            end_ms = timestamp_ms + len(samples) * 1000 / GRAPH_SAMPLE_RATE
            self._last_bot_audio_ms = max(self._last_bot_audio_ms or end_ms, end_ms)

    def bot_speaking(self, timestamp_ms: int) -> bool:
        return (
            self._last_bot_audio_ms is not None
            and timestamp_ms <= self._last_bot_audio_ms + self.settings.window_ms
        )

    def filter(
        self, samples: np.ndarray, timestamp_ms: int, echo_possible: bool = True
    ) -> list[tuple[int, np.ndarray]]:
        """Take one cleaned 10 ms mic frame; return the frames that may go downstream now.

        ``echo_possible`` is False when the mic is known to carry no echo of the bot (headphones):
        then there is nothing to guard against, and holding the user's first words would only
        delay barge-in.
        """
        if not self.settings.enabled:
            return [(timestamp_ms, samples)]
        if not echo_possible:
            return [*self._release_held(), (timestamp_ms, samples)]
        loud = frame_dbfs(samples) > self.settings.speech_dbfs
        if self._passing:
            self._quiet_ms = 0 if loud else self._quiet_ms + FRAME_MS
            if self._quiet_ms < self.settings.hangover_ms:
                return [(timestamp_ms, samples)]
            self._passing = False
        if not self._held and not self.bot_speaking(timestamp_ms):
            return [(timestamp_ms, samples)]
        if not self._held and not loud:
            return [(timestamp_ms, np.zeros_like(samples))]
        self._held.append((timestamp_ms, samples))
        if loud:
            self._loud_ms += FRAME_MS
            self._gap_ms = 0
        else:
            self._gap_ms += FRAME_MS
        if self._gap_ms > self.settings.max_gap_ms:
            return self._mute_held()
        if self._loud_ms >= self.settings.min_speech_ms:
            self._passing = True
            self._quiet_ms = 0
            return self._release_held()
        return []

    def _release_held(self) -> list[tuple[int, np.ndarray]]:
        released = list(self._held)
        self._reset_run()
        return released

    def _mute_held(self) -> list[tuple[int, np.ndarray]]:
        muted = [(timestamp_ms, np.zeros_like(samples)) for timestamp_ms, samples in self._held]
        self._reset_run()
        return muted

    def _reset_run(self) -> None:
        self._held.clear()
        self._loud_ms = 0
        self._gap_ms = 0
