"""The TEN side shared by the audio I/O extensions: bot audio in, flush, and what each tick sends out."""

from __future__ import annotations

import json

import numpy as np
from ten_runtime import AsyncExtension, AsyncTenEnv, AudioFrame, Cmd, CmdResult, Data, StatusCode

from ten_packages.system.voice_kit.events import send_error
from ten_packages.system.voice_kit.pcm import AudioFormatError, frame_to_mono_int16, make_pcm_frame
from ten_packages.system.voice_kit.playback import PlaybackBuffer, PlaybackEvent, PlaybackSlice

BOT_AUDIO_FRAME = "pcm_frame"
PLAYBACK_FRAME = "playback_frame"


class DuplexAudioExtension(AsyncExtension):
    """Base of an audio I/O extension: the transport subclass runs the clock and calls `send_tick`.

    Bot audio (`pcm_frame` with `request_id`) is buffered in a PlaybackBuffer; `flush` empties it and
    answers how much of the current reply was heard; `tts_audio_end` lets a reply end as soon as it is
    played out.
    """

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.module = name
        self.playback = PlaybackBuffer()

    async def on_init(self, ten_env: AsyncTenEnv) -> None:
        idle_end_ms, error = await ten_env.get_property_int("request_idle_end_ms")
        if error is None:
            self.playback = PlaybackBuffer(request_idle_end_ms=idle_end_ms)

    async def on_audio_frame(self, ten_env: AsyncTenEnv, audio_frame: AudioFrame) -> None:
        name = audio_frame.get_name()
        if name != BOT_AUDIO_FRAME:
            await send_error(
                ten_env, self.module, f"unexpected audio frame '{name}', expected '{BOT_AUDIO_FRAME}'"
            )
            return
        try:
            samples = frame_to_mono_int16(audio_frame)
        except AudioFormatError as error:
            await send_error(ten_env, self.module, f"{error}; bot audio must be 16 kHz mono s16 PCM")
            return
        request_id, _ = audio_frame.get_property_string("request_id")
        if not self.playback.push(request_id or "", samples):
            ten_env.log_debug(f"dropped late audio of flushed request '{request_id}'")

    async def on_data(self, ten_env: AsyncTenEnv, data: Data) -> None:
        if data.get_name() == "tts_audio_end":
            request_id, _ = data.get_property_string("request_id")
            self.playback.end_request(request_id or "")

    async def on_cmd(self, ten_env: AsyncTenEnv, cmd: Cmd) -> None:
        if cmd.get_name() != "flush":
            result = CmdResult.create(StatusCode.ERROR, cmd)
            result.set_property_string(
                "message", f"unknown cmd '{cmd.get_name()}'; this extension takes 'flush'"
            )
            await ten_env.return_result(result)
            return
        flushed = self.playback.flush()
        self.on_flushed()
        result = CmdResult.create(StatusCode.OK, cmd)
        result.set_property_string("request_id", flushed.request_id)
        result.set_property_int("played_ms", flushed.played_ms)
        await ten_env.return_result(result)
        for event in flushed.events:
            await self._send_event(ten_env, event)

    def on_flushed(self) -> None:
        """Hook for transports holding audio beyond the PlaybackBuffer (e.g. a device queue)."""

    async def send_tick(
        self, ten_env: AsyncTenEnv, capture: np.ndarray | None, played: PlaybackSlice
    ) -> None:
        """Send one tick: the captured frame (None after the input ended), the played slice, its events."""
        if capture is not None:
            await ten_env.send_audio_frame(make_pcm_frame(capture, timestamp_ms=played.timestamp_ms))
        await ten_env.send_audio_frame(
            make_pcm_frame(played.samples, timestamp_ms=played.timestamp_ms, name=PLAYBACK_FRAME)
        )
        for event in played.events:
            await self._send_event(ten_env, event)

    async def _send_event(self, ten_env: AsyncTenEnv, event: PlaybackEvent) -> None:
        data = Data.create(event.name)
        data.set_property_from_json(None, json.dumps(event.payload()))
        await ten_env.send_data(data)
