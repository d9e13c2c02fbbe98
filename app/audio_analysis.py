"""Reading what a headless run produced: where the bot was audible in the output WAV."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import soundfile

WINDOW_MS = 10
AUDIBLE_DBFS = -45.0


def audible_windows(path: Path, threshold_dbfs: float = AUDIBLE_DBFS) -> tuple[np.ndarray, int]:
    """One bool per 10 ms window: is the output audible there? Also returns the sample rate."""
    samples, rate = soundfile.read(path, dtype="float32", always_2d=True)
    mono = samples.mean(axis=1)
    window = rate * WINDOW_MS // 1000
    usable = len(mono) // window * window
    frames = mono[:usable].reshape(-1, window)
    rms = np.sqrt(np.mean(frames**2, axis=1) + 1e-12)
    return 20 * np.log10(rms) > threshold_dbfs, rate


def first_audible_ms(audible: np.ndarray, after_ms: int, before_ms: int | None = None) -> int | None:
    """Start of the first audible window at or after ``after_ms`` (and before ``before_ms``)."""
    start = max(0, after_ms // WINDOW_MS)
    stop = len(audible) if before_ms is None else min(len(audible), before_ms // WINDOW_MS)
    hits = np.flatnonzero(audible[start:stop])
    return int((start + hits[0]) * WINDOW_MS) if len(hits) else None


def last_audible_ms(audible: np.ndarray, after_ms: int, before_ms: int | None = None) -> int | None:
    """End of the last audible window in [after_ms, before_ms)."""
    start = max(0, after_ms // WINDOW_MS)
    stop = len(audible) if before_ms is None else min(len(audible), before_ms // WINDOW_MS)
    hits = np.flatnonzero(audible[start:stop])
    return int((start + hits[-1] + 1) * WINDOW_MS) if len(hits) else None
