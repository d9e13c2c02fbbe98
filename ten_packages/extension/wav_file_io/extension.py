"""wav_file_io: a WAV file as the microphone, and a WAV file of what the bot said, on the input's timeline."""

from __future__ import annotations

import asyncio
import json

import numpy as np
from ten_runtime import AsyncTenEnv, Data, StopGraphCmd

from ten_packages.system.voice_kit.duplex_io import DuplexAudioExtension
from ten_packages.system.voice_kit.events import ERROR_FATAL, send_error
from ten_packages.system.voice_kit.playback import PlaybackSlice

from .echo_path import SimulatedEchoPath
from .wav_clock import WavDuplexClock
from .wav_files import AudioFileError, WavSink, WavSource


class WavFileIoExtension(DuplexAudioExtension):
    """Runs the input file through the graph tick by tick, then stops the graph once the bot is done."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self._source: WavSource | None = None
        self._sink: WavSink | None = None
        self._clock_task: asyncio.Task[None] | None = None
        self._echo: SimulatedEchoPath | None = None

    async def on_start(self, ten_env: AsyncTenEnv) -> None:
        input_path, _ = await ten_env.get_property_string("input_path")
        output_path, _ = await ten_env.get_property_string("output_path")
        realtime, _ = await ten_env.get_property_bool("realtime")
        tail_ms, _ = await ten_env.get_property_int("tail_ms")
        output_rate, _ = await ten_env.get_property_int("output_sample_rate")
        echo_gain, _ = await ten_env.get_property_float("echo_gain")
        echo_delay_ms, _ = await ten_env.get_property_int("echo_delay_ms")
        try:
            if echo_gain > 0:
                self._echo = SimulatedEchoPath(echo_gain, echo_delay_ms, self.playback.sample_rate)
        except ValueError as error:
            await send_error(ten_env, self.module, f"bad property: {error}")
        try:
            self._source = WavSource(input_path)
            if output_path:
                self._sink = WavSink(output_path, output_rate or self._source.source_rate)
        except AudioFileError as error:
            await send_error(ten_env, self.module, str(error), code=ERROR_FATAL)
            await self._stop_graph(ten_env)
            return
        ten_env.log_info(f"input {self._source.describe()}; output {output_path or '(none)'}")
        clock = WavDuplexClock(self._source, self.playback, self._sink, realtime, tail_ms)
        self._clock_task = asyncio.create_task(self._run_clock(ten_env, clock))

    async def on_stop(self, ten_env: AsyncTenEnv) -> None:
        if self._clock_task:
            self._clock_task.cancel()
            await asyncio.gather(self._clock_task, return_exceptions=True)
        self._close_files()

    async def _run_clock(self, ten_env: AsyncTenEnv, clock: WavDuplexClock) -> None:
        async def on_tick(capture: np.ndarray | None, played: PlaybackSlice) -> None:
            if self._echo is not None and capture is not None:
                capture = self._echo.mix(capture, played.samples)
            await self.send_tick(ten_env, capture, played)

        async def on_input_end(timestamp_ms: int) -> None:
            ten_env.log_info(f"input ended at {timestamp_ms} ms; waiting for the bot to be quiet")
            data = Data.create("input_end")
            data.set_property_from_json(None, json.dumps({"timestamp_ms": timestamp_ms}))
            await ten_env.send_data(data)

        try:
            await clock.run(on_tick, on_input_end)
        except (OSError, RuntimeError) as error:  # a failing disk must still end the run cleanly
            await send_error(ten_env, self.module, f"audio file I/O failed: {error}", code=ERROR_FATAL)
        self._close_files()
        ten_env.log_info(f"bot quiet for {clock.tail_ms} ms after the input: stopping the graph")
        await self._stop_graph(ten_env)

    async def _stop_graph(self, ten_env: AsyncTenEnv) -> None:
        _, error = await ten_env.send_cmd(StopGraphCmd.create())
        if error is not None:
            ten_env.log_error(f"stopping the graph failed: {error.error_message()}")

    def _close_files(self) -> None:
        if self._sink:
            self._sink.close()
        if self._source:
            self._source.close()
