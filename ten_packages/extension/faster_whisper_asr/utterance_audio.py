"""The audio of the utterance being recognised, on the input timeline, with pre-roll before the VAD start."""

from __future__ import annotations

import numpy as np

SAMPLE_RATE = 16000
# How long a VAD may take to decide that speech started: audio this old is still kept so that the
# pre-roll can be cut relative to the start the VAD reports.
VAD_DECISION_LAG_MS = 1000


def ms_to_samples(ms: float) -> int:
    return round(ms * SAMPLE_RATE / 1000)


def samples_to_ms(samples: int) -> int:
    return round(samples * 1000 / SAMPLE_RATE)


class UtteranceAudio:
    """Keeps audio per utterance: from the VAD start (minus pre-roll) until the final result takes it.

    Outside an utterance only a short history is kept. Without any VAD (no start_of_sentence ever seen)
    everything since the last `take()` is kept, up to `max_ms` (the oldest audio is dropped beyond it).
    """

    def __init__(self, pre_roll_ms: int, max_ms: int) -> None:
        self.pre_roll_ms = pre_roll_ms
        self.max_samples = ms_to_samples(max_ms)
        self._history_samples = ms_to_samples(pre_roll_ms + VAD_DECISION_LAG_MS)
        self._chunks: list[np.ndarray] = []
        self._samples = 0
        self._end_ms = 0  # input-timeline time just after the last sample received
        self._vad_seen = False
        self.is_open = False  # inside an utterance (between a VAD start and the final result)

    @property
    def sample_count(self) -> int:
        return self._samples

    @property
    def duration_ms(self) -> int:
        return samples_to_ms(self._samples)

    @property
    def is_collecting(self) -> bool:
        """Audio now belongs to an utterance (inside VAD bounds, or always when there is no VAD)."""
        return self.is_open or not self._vad_seen

    @property
    def start_ms(self) -> int:
        """Input-timeline time of the first kept sample."""
        return self._end_ms - self.duration_ms

    @property
    def end_ms(self) -> int:
        return self._end_ms

    def append(self, samples: np.ndarray, timestamp_ms: int | None = None) -> None:
        """Add one frame; `timestamp_ms` (input timeline) is trusted when it moves forward."""
        if timestamp_ms is not None and timestamp_ms >= self._end_ms:
            self._end_ms = timestamp_ms
        self._end_ms += samples_to_ms(len(samples))
        self._chunks.append(np.asarray(samples, dtype=np.int16))
        self._samples += len(samples)
        excess = self._samples - (self.max_samples if self.is_collecting else self._history_samples)
        if excess > 0:
            self._drop_oldest(excess)

    def open(self, speech_start_ms: int | None = None) -> None:
        """Start an utterance at a VAD start, keeping `pre_roll_ms` before the speech start.

        Without a reported speech start, the last `pre_roll_ms` of audio is kept. A second start within
        the same utterance (the user paused and went on) keeps everything.
        """
        self._vad_seen = True
        if self.is_open:
            return
        self.is_open = True
        keep_from_ms = (speech_start_ms if speech_start_ms is not None else self._end_ms) - self.pre_roll_ms
        excess = ms_to_samples(keep_from_ms - self.start_ms)
        if excess > 0:
            self._drop_oldest(min(excess, self._samples))

    def snapshot(self) -> np.ndarray:
        """All kept audio as one int16 array (the buffer keeps it)."""
        if len(self._chunks) > 1:
            self._chunks = [np.concatenate(self._chunks)]
        return self._chunks[0] if self._chunks else np.zeros(0, dtype=np.int16)

    def take(self) -> tuple[np.ndarray, int]:
        """The utterance's audio and its start on the input timeline; the buffer starts afresh."""
        audio, start_ms = self.snapshot(), self.start_ms
        self._chunks, self._samples = [], 0
        self.is_open = False
        return audio, start_ms

    def _drop_oldest(self, count: int) -> None:
        """Drop whole frames where possible: this runs on every frame between utterances."""
        self._samples -= count
        while count > 0:
            first = self._chunks[0]
            if len(first) <= count:
                self._chunks.pop(0)
                count -= len(first)
            else:
                self._chunks[0] = first[count:]
                count = 0
