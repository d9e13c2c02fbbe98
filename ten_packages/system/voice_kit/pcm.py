"""PCM audio frames: the graph's audio format and conversions to and from numpy."""

from __future__ import annotations

import numpy as np
import soxr
from ten_runtime import AudioFrame, AudioFrameDataFmt

GRAPH_SAMPLE_RATE = 16000
FRAME_MS = 10
FRAME_SAMPLES = GRAPH_SAMPLE_RATE * FRAME_MS // 1000


class AudioFormatError(ValueError):
    """An audio frame that is not in a format this stage can take."""


def make_pcm_frame(
    samples: np.ndarray,
    sample_rate: int = GRAPH_SAMPLE_RATE,
    timestamp_ms: int = 0,
    name: str = "pcm_frame",
) -> AudioFrame:
    """Build a mono s16 interleaved frame from int16 samples."""
    data = np.ascontiguousarray(samples, dtype=np.int16)
    frame = AudioFrame.create(name)
    frame.set_sample_rate(sample_rate)
    frame.set_bytes_per_sample(2)
    frame.set_number_of_channels(1)
    frame.set_data_fmt(AudioFrameDataFmt.INTERLEAVE)
    frame.set_samples_per_channel(len(data))
    frame.set_timestamp(int(timestamp_ms))
    frame.alloc_buf(data.nbytes)
    buf = frame.lock_buf()
    buf[:] = data.tobytes()
    frame.unlock_buf(buf)
    return frame


def frame_to_mono_int16(frame: AudioFrame, expected_rate: int | None = GRAPH_SAMPLE_RATE) -> np.ndarray:
    """Samples of a frame as mono int16 at ``expected_rate`` (mixed down and resampled if needed).

    Raises AudioFormatError naming the expected format for anything but 16-bit PCM.
    """
    bytes_per_sample = frame.get_bytes_per_sample()
    if bytes_per_sample != 2:
        raise AudioFormatError(
            f"audio frame '{frame.get_name()}': {bytes_per_sample} bytes per sample, expected 2 (s16 PCM)"
        )
    channels = max(1, frame.get_number_of_channels())
    samples = np.frombuffer(frame.get_buf(), dtype=np.int16)
    if channels > 1:
        usable = len(samples) - len(samples) % channels
        samples = samples[:usable].reshape(-1, channels).mean(axis=1).astype(np.int16)
    rate = frame.get_sample_rate()
    if expected_rate and rate and rate != expected_rate:
        samples = soxr.resample(samples, rate, expected_rate).astype(np.int16)
    return samples


class FrameChunker:
    """Cuts a stream of arbitrary-length sample blocks into fixed-size frames."""

    def __init__(self, frame_samples: int = FRAME_SAMPLES) -> None:
        self.frame_samples = frame_samples
        self._pending = np.zeros(0, dtype=np.int16)

    def push(self, samples: np.ndarray) -> list[np.ndarray]:
        data = np.concatenate([self._pending, np.asarray(samples, dtype=np.int16)])
        whole = len(data) // self.frame_samples * self.frame_samples
        self._pending = data[whole:]
        return [data[i : i + self.frame_samples] for i in range(0, whole, self.frame_samples)]

    def flush(self) -> np.ndarray:
        """What is left (shorter than one frame); the chunker is empty afterwards."""
        rest, self._pending = self._pending, np.zeros(0, dtype=np.int16)
        return rest

    def clear(self) -> None:
        self._pending = np.zeros(0, dtype=np.int16)
