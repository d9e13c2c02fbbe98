"""WebRTC echo cancellation (livekit's AudioProcessingModule) over 10 ms frames on the input timeline."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from livekit import rtc

from ten_packages.system.voice_kit.pcm import FRAME_MS, FRAME_SAMPLES, GRAPH_SAMPLE_RATE, FrameChunker

from .echo_path import EchoPathDetector, EchoPathSettings

SAMPLES_PER_MS = GRAPH_SAMPLE_RATE // 1000


@dataclass(frozen=True)
class AecSettings:
    """The WebRTC audio processing stages to run, and the echo path delay hint."""

    stream_delay_ms: int = 0
    """Hint for the echo path delay, set before every capture frame; 0 leaves it to AEC3's own estimator."""
    echo_cancellation: bool = True
    noise_suppression: bool = True
    high_pass_filter: bool = True
    auto_gain_control: bool = False
    echo_path: EchoPathSettings = field(default_factory=EchoPathSettings)
    """Echo path detection: without an echo in the mic, AEC3 is not given the reference (see EchoPathDetector)."""


class EchoCanceller:
    """Removes the played audio (the reference) from the microphone signal.

    WebRTC processes exactly 10 ms at a time, so both streams are re-chunked; each cleaned capture frame
    keeps the input-timeline timestamp of its first sample.

    An EchoPathDetector watches both streams. While it finds no echo of the reference in the mic
    (headphones, a headless WAV run), AEC3 is fed silence as the reference instead of the played audio:
    it then has nothing to cancel and passes the mic with the other stages (noise suppression,
    high-pass filter) applied, instead of suppressing the user's voice while the bot talks. As soon as
    an echo shows up, AEC3 gets the real reference again. (Withholding the reference costs nothing and
    loses nothing: without an echo there is nothing for AEC3's filter to learn, and one APM runs, not
    two.) livekit's AudioProcessingModule exposes no AEC3 statistics (ERL, delay) or configuration to
    decide this from, hence the detector.
    """

    def __init__(self, settings: AecSettings) -> None:
        self.settings = settings
        self._apm = rtc.AudioProcessingModule(
            echo_cancellation=settings.echo_cancellation,
            noise_suppression=settings.noise_suppression,
            high_pass_filter=settings.high_pass_filter,
            auto_gain_control=settings.auto_gain_control,
        )
        self._reference_chunker = FrameChunker(FRAME_SAMPLES)
        self._capture_chunker = FrameChunker(FRAME_SAMPLES)
        self._capture_pending = 0
        self.echo_path_detector = EchoPathDetector(settings.echo_path)
        self._silence = np.zeros(FRAME_SAMPLES, dtype=np.int16)

    @property
    def echo_path_detected(self) -> bool:
        """Whether the reference currently reaches AEC3 (the mic hears the played audio, or not known yet)."""
        return self.echo_path_detector.hears_echo

    def add_reference(self, samples: np.ndarray) -> None:
        """Feed audio that went to the speaker (any length), in the order it was played."""
        for chunk in self._reference_chunker.push(samples):
            self.echo_path_detector.add_reference(chunk)
            played = chunk if self.echo_path_detected else self._silence
            self._apm.process_reverse_stream(_to_rtc_frame(played))

    def process_capture(self, samples: np.ndarray, timestamp_ms: int) -> list[tuple[int, np.ndarray]]:
        """Clean microphone samples starting at `timestamp_ms`; returns (timestamp_ms, 10 ms frame) pairs."""
        first_ms = timestamp_ms - self._capture_pending / SAMPLES_PER_MS
        self._capture_pending = (self._capture_pending + len(samples)) % FRAME_SAMPLES
        cleaned = []
        for index, chunk in enumerate(self._capture_chunker.push(samples)):
            self.echo_path_detector.add_capture(chunk)
            frame = _to_rtc_frame(chunk)
            if self.settings.echo_cancellation and self.settings.stream_delay_ms:
                self._apm.set_stream_delay_ms(self.settings.stream_delay_ms)
            self._apm.process_stream(frame)
            cleaned.append(
                (round(first_ms + index * FRAME_MS), np.frombuffer(bytes(frame.data), dtype=np.int16).copy())
            )
        return cleaned


def _to_rtc_frame(samples: np.ndarray) -> rtc.AudioFrame:
    return rtc.AudioFrame(samples.astype(np.int16).tobytes(), GRAPH_SAMPLE_RATE, 1, FRAME_SAMPLES)
