"""Does the microphone actually hear the bot? An echo path detector for the echo canceller."""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ten_packages.system.voice_kit.pcm import FRAME_MS

FULL_SCALE_POWER = 32768.0**2


@dataclass(frozen=True)
class EchoPathSettings:
    """How the detector decides, from 10 ms level envelopes of the mic and the played audio."""

    enabled: bool = True
    """Off: always assume an echo path (plain AEC, as before the detector existed)."""
    window_ms: int = 1000
    """Mic history compared with the reference in each check."""
    max_delay_ms: int = 500
    """Longest speaker-to-mic delay searched (the reference is shifted by 0..this)."""
    check_every_ms: int = 100
    """How often the decision is revisited while the bot's audio plays."""
    active_dbfs: float = -45.0
    """A reference frame louder than this is bot audio worth comparing against."""
    min_active_ms: int = 300
    """A check needs at least this much active reference in the compared span, else it is skipped."""
    echo_correlation: float = 0.75
    """Mic and reference envelopes correlating at least this well at some delay: there is an echo."""
    no_echo_margin_db: float = -35.0
    """Evidence of no echo: at every delay, the mic is at least this far below the active reference in
    `quiet_fraction` of the frames (an echo, being a copy of the reference, would never leave it that
    far below)."""
    quiet_fraction: float = 0.1
    no_echo_ms: int = 500
    """Consecutive checks showing no echo for this long switch the echo canceller off."""
    floor_dbfs: float = -80.0
    """Levels are clipped here, so digital silence has a finite level."""


class EchoPathDetector:
    """Decides whether the mic picks up the played audio (speakers in a room) or not (headphones, a
    headless WAV run), so that the echo canceller only works where there is an echo to cancel.

    Why: WebRTC AEC3 with no echo path never converges a filter, and its suppressor then treats all mic
    audio during playback as possible echo: a user talking over the bot on headphones comes out ~60 dB
    down, so barge-in is impossible. With a real echo path AEC3 keeps the user and removes the echo.

    How: each 10 ms frame of both streams is reduced to its level in dBFS. Every `check_every_ms`
    while the reference is active, the last `window_ms` of the mic envelope is compared with the
    reference envelope shifted by every delay in 0..`max_delay_ms`:

    * normalized cross-correlation >= `echo_correlation` at some delay: the mic follows the bot's
      syllables, so there is an echo path. The answer is *echo* at once (the mode is reset to AEC).
    * otherwise, if at every delay the mic drops to `no_echo_margin_db` below the active reference in
      at least `quiet_fraction` of the frames, that check is evidence of *no echo*: a linear echo path
      adds a copy of the reference to whatever else the mic hears, so the mic can never be that far
      below the reference everywhere. `no_echo_ms` of consecutive such checks switch to *no echo*.
    * neither (e.g. the user talks over a real echo without pausing, so correlation drops but the mic
      never goes quiet): no decision, the current mode stays and the evidence count restarts.

    The detector starts in *echo* mode, and the decision outlives each reply (the echo path belongs to
    the setup, not to a turn): a real room is protected from the first word, leaving AEC needs
    positive, repeated evidence (about 0.8 s of bot audio with a quiet mic), and returning to it needs a
    single correlated check. What a wrong decision costs:

    * wrong *echo* (the user talks over the bot on headphones from its very first word, without
      pausing, before any evidence came in): the old behaviour, the user is suppressed meanwhile.
    * wrong *no echo* (speakers switched on mid-session): the echo passes until the mic envelope
      correlates over most of the window, about 0.8-1 s; meanwhile the echo guard behind the AEC still
      mutes whatever is quieter than its speech level or shorter than its minimum run.

    Checks run every `check_every_ms` on a few hundred envelope values, about 0.07 % of real time.
    """

    def __init__(self, settings: EchoPathSettings | None = None) -> None:
        self.settings = settings or EchoPathSettings()
        self._window = max(1, self.settings.window_ms // FRAME_MS)
        self._max_lag = max(0, self.settings.max_delay_ms // FRAME_MS)
        self._check_every = max(1, self.settings.check_every_ms // FRAME_MS)
        self._min_active = max(1, self.settings.min_active_ms // FRAME_MS)
        # Before the first frames, both streams count as silent.
        floor = self.settings.floor_dbfs
        self._reference_db = deque(
            [floor] * (self._window + self._max_lag), maxlen=self._window + self._max_lag
        )
        self._mic_db = deque([floor] * self._window, maxlen=self._window)
        self._frames_since_check = 0
        self._no_echo_checks = 0
        self._hears_echo = True
        self.last_correlation: float | None = None
        """The best envelope correlation of the last check (for logs and tests)."""

    @property
    def hears_echo(self) -> bool:
        """The current decision: True = the mic hears the played audio (or detection is off), run AEC."""
        return self._hears_echo or not self.settings.enabled

    def add_reference(self, frame: np.ndarray) -> None:
        """One 10 ms frame that went to the speaker."""
        self._reference_db.append(self._level_db(frame))

    def add_capture(self, frame: np.ndarray) -> bool:
        """One raw 10 ms mic frame (before any processing); returns the current decision."""
        self._mic_db.append(self._level_db(frame))
        self._frames_since_check += 1
        if self.settings.enabled and self._frames_since_check >= self._check_every:
            self._frames_since_check = 0
            self._check()
        return self.hears_echo

    def _level_db(self, frame: np.ndarray) -> float:
        samples = frame.astype(np.float32)
        power = float(np.dot(samples, samples)) / max(len(samples), 1) / FULL_SCALE_POWER
        return max(10.0 * math.log10(power + 1e-12), self.settings.floor_dbfs)

    def _check(self) -> None:
        reference = np.fromiter(self._reference_db, dtype=np.float64)
        if np.count_nonzero(reference > self.settings.active_dbfs) < self._min_active:
            return
        mic = np.fromiter(self._mic_db, dtype=np.float64)
        # Row `lag` holds the reference as it was `lag` frames before each mic frame.
        shifted = sliding_window_view(reference, self._window)[::-1]
        self.last_correlation = _best_correlation(mic, shifted)
        if self.last_correlation >= self.settings.echo_correlation:
            self._hears_echo = True
            self._no_echo_checks = 0
            return
        if self._mic_falls_below_reference(mic, shifted):
            self._no_echo_checks += 1
            if self._no_echo_checks * self.settings.check_every_ms >= self.settings.no_echo_ms:
                self._hears_echo = False
        else:
            self._no_echo_checks = 0

    def _mic_falls_below_reference(self, mic: np.ndarray, shifted: np.ndarray) -> bool:
        """At every delay, is the mic far below the active reference in enough frames?"""
        active = shifted > self.settings.active_dbfs
        counts = active.sum(axis=1)
        usable = counts >= self._min_active
        if not usable.any():
            return False
        margin = np.where(active, mic[np.newaxis, :] - shifted, np.inf)
        margin.sort(axis=1)
        ranks = (self.settings.quiet_fraction * counts[usable]).astype(int)
        low_margins = margin[usable, ranks]
        return bool(np.all(low_margins <= self.settings.no_echo_margin_db))


def _best_correlation(mic: np.ndarray, shifted: np.ndarray) -> float:
    """The highest normalized cross-correlation of `mic` with any row of `shifted` (0 if either is flat)."""
    mic_centred = mic - mic.mean()
    shifted_centred = shifted - shifted.mean(axis=1, keepdims=True)
    mic_energy = float(mic_centred @ mic_centred)
    shifted_energy = np.einsum("ij,ij->i", shifted_centred, shifted_centred)
    denominator = np.sqrt(mic_energy * shifted_energy)
    covariance = shifted_centred @ mic_centred
    correlation = np.divide(covariance, denominator, out=np.zeros_like(covariance), where=denominator > 1e-9)
    return float(correlation.max())
