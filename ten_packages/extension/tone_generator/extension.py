"""Sends a sine tone as pcm_frames, paced in real time or as fast as possible, then stops the graph."""

from __future__ import annotations

import asyncio
import time

from ten_runtime import AsyncExtension, AsyncTenEnv, StopGraphCmd

from ten_packages.system.voice_kit.pcm import FRAME_MS, GRAPH_SAMPLE_RATE, make_pcm_frame

from .tone import ToneFrames


class ToneGeneratorExtension(AsyncExtension):
    def __init__(self, name: str) -> None:
        super().__init__(name)
        self._task: asyncio.Task | None = None

    async def on_start(self, ten_env: AsyncTenEnv) -> None:
        frequency, _ = await ten_env.get_property_float("frequency_hz")
        amplitude, _ = await ten_env.get_property_float("amplitude")
        duration_ms, _ = await ten_env.get_property_int("duration_ms")
        realtime, _ = await ten_env.get_property_bool("realtime")
        stop_when_done, _ = await ten_env.get_property_bool("stop_graph_when_done")
        tone = ToneFrames(frequency, amplitude, GRAPH_SAMPLE_RATE, FRAME_MS)
        self._task = asyncio.get_running_loop().create_task(
            self._play(ten_env, tone, duration_ms // FRAME_MS, realtime, stop_when_done)
        )

    async def _play(
        self, ten_env: AsyncTenEnv, tone: ToneFrames, frames: int, realtime: bool, stop_when_done: bool
    ) -> None:
        start = time.monotonic()
        for i in range(frames):
            if realtime:
                await asyncio.sleep(max(0.0, start + i * FRAME_MS / 1000 - time.monotonic()))
            await ten_env.send_audio_frame(make_pcm_frame(tone.next_frame(), timestamp_ms=i * FRAME_MS))
        ten_env.log_info(f"sent {frames} frames")
        if stop_when_done:
            await ten_env.send_cmd(StopGraphCmd.create())

    async def on_stop(self, ten_env: AsyncTenEnv) -> None:
        if self._task:
            self._task.cancel()
