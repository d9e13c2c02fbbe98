"""The WAV I/O's clock: one capture frame and one playback slice per 10 ms tick, then a quiet tail."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

import numpy as np

from ten_packages.system.voice_kit.playback import PlaybackBuffer, PlaybackSlice

from .wav_files import WavSink, WavSource

TickHandler = Callable[[np.ndarray | None, PlaybackSlice], Awaitable[None]]
InputEndHandler = Callable[[int], Awaitable[None]]


class WavDuplexClock:
    """Plays the input file against the bot's buffered audio, tick by tick, on the input's timeline.

    With `realtime` off the input is read as fast as the graph takes it; the tail after the input always
    runs at real time, because it waits for the bot, whose latency is wall-clock time.
    """

    def __init__(
        self,
        source: WavSource,
        buffer: PlaybackBuffer,
        sink: WavSink | None,
        realtime: bool,
        tail_ms: int,
    ) -> None:
        self.source = source
        self.buffer = buffer
        self.sink = sink
        self.realtime = realtime
        self.tail_ms = tail_ms
        self._frame_s = buffer.frame_samples / buffer.sample_rate

    async def run(self, on_tick: TickHandler, on_input_end: InputEndHandler) -> None:
        """Tick through the input, report its end, then tick on (no capture) until the bot is quiet."""
        pace = _Pacer(self._frame_s) if self.realtime else None
        for frame in self.source.frames():
            await self._tick(frame, on_tick)
            await (pace.wait() if pace else asyncio.sleep(0))
        await on_input_end(self.source.duration_ms)
        pace = _Pacer(self._frame_s)
        while self.buffer.quiet_ms < self.tail_ms:
            await self._tick(None, on_tick)
            await pace.wait()

    async def _tick(self, frame: np.ndarray | None, on_tick: TickHandler) -> None:
        played = self.buffer.next_slice()
        if self.sink:
            self.sink.write(played.samples)
        await on_tick(frame, played)


class _Pacer:
    """Sleeps so that tick n ends at start + n * period, without drifting on late wake-ups."""

    def __init__(self, period_s: float) -> None:
        self._period_s = period_s
        self._start = time.monotonic()
        self._ticks = 0

    async def wait(self) -> None:
        self._ticks += 1
        await asyncio.sleep(max(0.0, self._start + self._ticks * self._period_s - time.monotonic()))
