"""Where the input timeline is now, between audio frames."""

from __future__ import annotations


class InputClock:
    """The input-timeline time: the end of the newest frame plus the wall time since it arrived.

    Frames set the pace (a WAV read as fast as possible runs the timeline faster than the wall);
    the wall time only carries it on when frames stop, so a max pause still expires.
    """

    def __init__(self) -> None:
        self._frame_end_ms: int | None = None
        self._wall_at_frame_s = 0.0

    def frame_arrived(self, frame_end_ms: int, wall_s: float) -> None:
        self._frame_end_ms = frame_end_ms
        self._wall_at_frame_s = wall_s

    def now_ms(self, wall_s: float) -> int | None:
        """None until the first frame: without audio there is no timeline."""
        if self._frame_end_ms is None:
            return None
        return self._frame_end_ms + int((wall_s - self._wall_at_frame_s) * 1000)
