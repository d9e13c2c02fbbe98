"""The bot's audio waiting to be played, handed out one slice per capture tick.

An audio I/O extension owns the graph's clock: for every captured frame it plays exactly one slice of the
same length (bot audio or silence). Keeping playback on the capture timeline is what makes the played
audio usable as the AEC's echo reference and lets a WAV sink line the bot's voice up with the input.
This module has no `ten_runtime` import so the clock logic can be tested and reused on its own.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Any

import numpy as np

PLAYBACK_START = "playback_start"
PLAYBACK_END = "playback_end"


@dataclass(frozen=True)
class PlaybackEvent:
    """`playback_start` (first sample of a request played) or `playback_end` (all played, or flushed)."""

    name: str
    request_id: str
    timestamp_ms: int
    played_ms: int = 0
    interrupted: bool = False

    def payload(self) -> dict[str, Any]:
        """The data message's properties, as in the graph contracts."""
        if self.name == PLAYBACK_START:
            return {"request_id": self.request_id, "timestamp_ms": self.timestamp_ms}
        return {
            "request_id": self.request_id,
            "played_ms": self.played_ms,
            "interrupted": self.interrupted,
            "timestamp_ms": self.timestamp_ms,
        }


@dataclass(frozen=True)
class PlaybackSlice:
    """What one tick plays: `samples` (always one full frame) and the events it caused."""

    timestamp_ms: int
    samples: np.ndarray
    events: list[PlaybackEvent]


@dataclass(frozen=True)
class FlushResult:
    """The request that was playing (or last played) when the flush came, and how much of it was heard."""

    request_id: str
    played_ms: int
    events: list[PlaybackEvent]


@dataclass
class _Request:
    request_id: str
    chunks: deque[np.ndarray] = field(default_factory=deque)
    available: int = 0
    played: int = 0
    started: bool = False
    input_ended: bool = False
    last_push_position: int = 0


class PlaybackBuffer:
    """Buffers bot audio by request and plays it out one frame per tick, on the capture timeline.

    A request ends (``playback_end``) once its audio has all been played and either its end was announced
    (`end_request`, from `tts_audio_end`), audio of a later request is waiting, or no more audio came for
    `request_idle_end_ms` (for TTS extensions that do not announce the end).
    """

    def __init__(
        self,
        sample_rate: int = 16000,
        frame_samples: int = 160,
        request_idle_end_ms: int = 1000,
        remembered_flushes: int = 64,
    ) -> None:
        self.sample_rate = sample_rate
        self.frame_samples = frame_samples
        self._idle_end_samples = request_idle_end_ms * sample_rate // 1000
        self._requests: deque[_Request] = deque()
        self._flushed_ids: deque[str] = deque(maxlen=remembered_flushes)
        self._position = 0  # samples played so far = start of the next tick on the input timeline
        self._last_audio_end = 0  # position right after the last bot sample played
        self._last_request: tuple[str, int] = ("", 0)

    @property
    def position_ms(self) -> int:
        """Start of the next tick on the input timeline."""
        return self._ms(self._position)

    @property
    def is_quiet(self) -> bool:
        """True when no request is playing or waiting to be played."""
        return not self._requests

    @property
    def quiet_ms(self) -> int:
        """How long the bot has been quiet, on the input timeline (0 while a request is open)."""
        return self._ms(self._position - self._last_audio_end) if self.is_quiet else 0

    def push(self, request_id: str, samples: np.ndarray) -> bool:
        """Queue bot audio (mono int16 at `sample_rate`); False if it belongs to a flushed request."""
        if request_id and request_id in self._flushed_ids:
            return False
        chunk = np.asarray(samples, dtype=np.int16)
        if chunk.size == 0:
            return True
        request = self._find(request_id)
        if request is None or request.input_ended:
            request = _Request(request_id)
            self._requests.append(request)
        request.chunks.append(chunk)
        request.available += len(chunk)
        request.last_push_position = self._position
        return True

    def end_request(self, request_id: str) -> None:
        """No more audio will come for this request (e.g. on `tts_audio_end`)."""
        request = self._find(request_id)
        if request is not None:
            request.input_ended = True

    def next_slice(self) -> PlaybackSlice:
        """Play one tick: one frame of buffered audio, padded with silence, and the events it caused."""
        tick_start = self._position
        out = np.zeros(self.frame_samples, dtype=np.int16)
        filled = 0
        events: list[PlaybackEvent] = []
        while self._requests:
            request = self._requests[0]
            if request.available == 0:
                if not self._is_finished(request):
                    break
                self._requests.popleft()
                events.append(self._end_event(request, tick_start + filled, interrupted=False))
                continue
            if filled == self.frame_samples:
                break
            if not request.started:
                request.started = True
                events.append(
                    PlaybackEvent(PLAYBACK_START, request.request_id, self._ms(tick_start + filled))
                )
            taken = self._take(request, self.frame_samples - filled)
            out[filled : filled + len(taken)] = taken
            filled += len(taken)
            self._last_audio_end = tick_start + filled
        self._position += self.frame_samples
        return PlaybackSlice(self._ms(tick_start), out, events)

    def flush(self) -> FlushResult:
        """Drop all buffered audio at once; later audio of the flushed requests is refused."""
        events = []
        while self._requests:
            request = self._requests.popleft()
            if request.request_id:
                self._flushed_ids.append(request.request_id)
            events.append(self._end_event(request, self._position, interrupted=True))
        request_id, played_ms = self._last_request
        return FlushResult(request_id, played_ms, events)

    def _find(self, request_id: str) -> _Request | None:
        return next((r for r in reversed(self._requests) if r.request_id == request_id), None)

    def _is_finished(self, request: _Request) -> bool:
        return (
            request.input_ended
            or len(self._requests) > 1
            or self._position - request.last_push_position >= self._idle_end_samples
        )

    def _take(self, request: _Request, wanted: int) -> np.ndarray:
        pieces = []
        while wanted > 0 and request.chunks:
            chunk = request.chunks[0]
            if len(chunk) <= wanted:
                request.chunks.popleft()
            else:
                request.chunks[0] = chunk[wanted:]
                chunk = chunk[:wanted]
            pieces.append(chunk)
            wanted -= len(chunk)
        taken = np.concatenate(pieces)
        request.available -= len(taken)
        request.played += len(taken)
        return taken

    def _end_event(self, request: _Request, position: int, interrupted: bool) -> PlaybackEvent:
        if request.started:
            self._last_request = (request.request_id, self._ms(request.played))
        return PlaybackEvent(
            PLAYBACK_END, request.request_id, self._ms(position), self._ms(request.played), interrupted
        )

    def _ms(self, samples: int) -> int:
        return samples * 1000 // self.sample_rate
