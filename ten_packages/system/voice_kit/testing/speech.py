"""Real speech for tests, spoken by espeak-ng at test time and converted to the graph format."""

from __future__ import annotations

import functools
import io
import shutil
import subprocess

import numpy as np
import soundfile
import soxr

from ten_packages.system.voice_kit.pcm import GRAPH_SAMPLE_RATE


@functools.lru_cache(maxsize=64)
def _espeak(text: str, voice: str, words_per_minute: int) -> tuple[bytes, int]:
    if shutil.which("espeak-ng") is None:
        raise RuntimeError("espeak-ng is not installed: run scripts/setup (it installs Debian's espeak-ng)")
    wav = subprocess.run(
        ["espeak-ng", "-v", voice, "-s", str(words_per_minute), "--stdout", text],
        check=True,
        capture_output=True,
    ).stdout
    samples, rate = soundfile.read(io.BytesIO(wav), dtype="int16")
    return samples.tobytes(), rate


def synthesize_speech(
    text: str, voice: str = "en-us", words_per_minute: int = 165, sample_rate: int = GRAPH_SAMPLE_RATE
) -> np.ndarray:
    """Speech for `text` as mono int16 at `sample_rate`, with espeak-ng's own leading/trailing silence trimmed."""
    raw, rate = _espeak(text, voice, words_per_minute)
    samples = np.frombuffer(raw, dtype=np.int16)
    if rate != sample_rate:
        samples = soxr.resample(samples, rate, sample_rate).astype(np.int16)
    loud = np.flatnonzero(np.abs(samples.astype(np.int32)) > 300)
    if len(loud):
        samples = samples[loud[0] : loud[-1] + 1]
    return samples


def silence(ms: int, sample_rate: int = GRAPH_SAMPLE_RATE) -> np.ndarray:
    return np.zeros(sample_rate * ms // 1000, dtype=np.int16)


def conversation(parts: list[str | int], sample_rate: int = GRAPH_SAMPLE_RATE) -> np.ndarray:
    """Concatenate spoken strings and silences (ints, in ms) into one int16 signal."""
    pieces = [
        silence(p, sample_rate) if isinstance(p, int) else synthesize_speech(p, sample_rate=sample_rate)
        for p in parts
    ]
    return np.concatenate(pieces) if pieces else np.zeros(0, dtype=np.int16)
