"""Pairs every captured 10 ms frame with one played slice, queued for the speaker."""

from __future__ import annotations

import numpy as np

from ten_packages.system.voice_kit.capture import CaptureConverter
from ten_packages.system.voice_kit.playback import PlaybackBuffer, PlaybackSlice

from .speaker import SpeakerFeed


class DeviceDuplexClock:
    """The microphone is the clock: each captured frame plays exactly one slice, so playback stays on
    the capture timeline whatever the device rates and block sizes."""

    def __init__(self, capture: CaptureConverter, playback: PlaybackBuffer, speaker: SpeakerFeed) -> None:
        self.capture = capture
        self.playback = playback
        self.speaker = speaker

    def on_captured(self, block: np.ndarray) -> list[tuple[np.ndarray, PlaybackSlice]]:
        """For a device input block: the graph frames it completed, each with the slice played against it."""
        ticks = []
        for frame in self.capture.push(block):
            played = self.playback.next_slice()
            self.speaker.push(played.samples)
            ticks.append((frame, played))
        return ticks
