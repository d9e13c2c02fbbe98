"""sounddevice_io: microphone capture and speaker playback through PortAudio, on one clock."""

from __future__ import annotations

import asyncio
from typing import Any

import numpy as np
from ten_runtime import AsyncTenEnv

from ten_packages.system.voice_kit.capture import CaptureConverter
from ten_packages.system.voice_kit.duplex_io import DuplexAudioExtension
from ten_packages.system.voice_kit.events import ERROR_FATAL, send_error

from .devices import AudioDeviceError, default_device_index, list_devices, portaudio, resolve_device
from .duplex_clock import DeviceDuplexClock
from .speaker import SpeakerFeed


class SounddeviceIoExtension(DuplexAudioExtension):
    """Opens the chosen microphone and speaker at their own rates; PortAudio callbacks only hand blocks
    over, the tick work runs on the event loop."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self._streams: list[Any] = []  # sounddevice.InputStream / OutputStream
        self._captured: asyncio.Queue[np.ndarray] = asyncio.Queue()
        self._speaker: SpeakerFeed | None = None
        self._clock_task: asyncio.Task[None] | None = None
        self._overflows = 0

    async def on_start(self, ten_env: AsyncTenEnv) -> None:
        input_spec, _ = await ten_env.get_property_string("input_device")
        output_spec, _ = await ten_env.get_property_string("output_device")
        max_buffered_ms, _ = await ten_env.get_property_int("output_buffer_max_ms")
        try:
            devices = list_devices()
            microphone = resolve_device(input_spec or "", "input", devices, default_device_index("input"))
            speaker = resolve_device(output_spec or "", "output", devices, default_device_index("output"))
            clock = self._start_streams(microphone, speaker, max_buffered_ms or 100)
        except AudioDeviceError as error:
            self._close_streams()
            await send_error(ten_env, self.module, f"audio device unavailable: {error}", code=ERROR_FATAL)
            return
        self._clock_task = asyncio.create_task(self._run_clock(ten_env, clock))
        ten_env.log_info(f"microphone '{microphone['name']}', speaker '{speaker['name']}'")

    async def on_stop(self, ten_env: AsyncTenEnv) -> None:
        self._close_streams()
        if self._clock_task:
            self._clock_task.cancel()
            await asyncio.gather(self._clock_task, return_exceptions=True)
        if self._speaker:
            ten_env.log_info(
                f"speaker underruns: {self._speaker.underrun_samples} samples; capture overflows: {self._overflows}"
            )

    def on_flushed(self) -> None:
        if self._speaker:
            self._speaker.clear()

    def _start_streams(
        self, microphone: dict[str, Any], speaker: dict[str, Any], max_buffered_ms: int
    ) -> DeviceDuplexClock:
        """Start both streams at the devices' own rates; the clock converts to and from 16 kHz."""
        sounddevice = portaudio()
        input_rate = int(microphone["default_samplerate"])
        output_rate = int(speaker["default_samplerate"])
        self._speaker = SpeakerFeed(output_rate, min(2, speaker["max_output_channels"]), max_buffered_ms)
        clock = DeviceDuplexClock(CaptureConverter(input_rate, quality="LQ"), self.playback, self._speaker)
        loop = asyncio.get_running_loop()

        def on_input_block(block: np.ndarray, frames: int, time: Any, status: Any) -> None:
            if status.input_overflow:
                self._overflows += 1
            loop.call_soon_threadsafe(self._captured.put_nowait, block.copy())

        def on_output_block(out: np.ndarray, frames: int, time: Any, status: Any) -> None:
            self._speaker.fill(out)

        streams = [
            (
                sounddevice.InputStream,
                microphone,
                input_rate,
                min(2, microphone["max_input_channels"]),
                on_input_block,
            ),
            (sounddevice.OutputStream, speaker, output_rate, self._speaker.channels, on_output_block),
        ]
        for stream_type, device, rate, channels, callback in streams:
            try:
                stream = stream_type(
                    device=device["index"],
                    samplerate=rate,
                    channels=channels,
                    dtype="float32",
                    blocksize=rate // 100,
                    latency="low",
                    callback=callback,
                )
                self._streams.append(stream)
                stream.start()
            except sounddevice.PortAudioError as error:
                raise AudioDeviceError(
                    f"cannot open '{device['name']}' at {rate} Hz, {channels} ch: {error}"
                ) from error
        return clock

    def _close_streams(self) -> None:
        for stream in self._streams:
            stream.stop()
            stream.close()
        self._streams = []

    async def _run_clock(self, ten_env: AsyncTenEnv, clock: DeviceDuplexClock) -> None:
        while True:
            block = await self._captured.get()
            for capture, played in clock.on_captured(block):
                await self.send_tick(ten_env, capture, played)
