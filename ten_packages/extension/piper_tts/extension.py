"""TEN adapter of the Piper TTS: tts_text_input / tts_flush in, pcm_frame and TTS events out.

The logic lives in `streaming_synthesizer`; this class only turns messages into calls and results into
messages. Synthesis runs on one worker thread, one decoded chunk per hop, so the event loop stays free
and a flush lands within one chunk.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, fields
from typing import Any

import numpy as np
from ten_runtime import AsyncExtension, AsyncTenEnv, Data

from ten_packages.system.voice_kit.events import ERROR_FATAL, send_error, send_metrics
from ten_packages.system.voice_kit.pcm import make_pcm_frame

from .piper_voice import StreamableVoice, VoiceLoadError
from .streaming_synthesizer import PiperStreamingSynthesizer, RequestSynthesis, SpokenPiece, SynthesisSettings

MODULE = "tts"
VENDOR = "piper"
REASON_DONE = 1
REASON_FLUSHED = 2
MAX_FRAME_MS = 100
SETTING_NAMES = {item.name for item in fields(SynthesisSettings)}


@dataclass
class TextInput:
    request_id: str
    text: str
    text_input_end: bool
    metadata: dict[str, Any]
    received_at: float  # time.perf_counter()


@dataclass
class Reply:
    """The reply being spoken: one request_id, possibly many text inputs."""

    request_id: str
    metadata: dict[str, Any]
    synthesis: RequestSynthesis
    first_input_at: float
    first_audio_at: float | None = None
    samples_sent: int = 0


def load_synthesizer(voice: str, threads: int, settings: SynthesisSettings) -> PiperStreamingSynthesizer:
    synthesizer = PiperStreamingSynthesizer(StreamableVoice.load(voice, threads=threads), settings)
    synthesizer.warm_up()
    return synthesizer


class PiperTTSExtension(AsyncExtension):
    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.synthesizer: PiperStreamingSynthesizer | None = None
        self.unavailable_reason = "the voice is still loading"
        self.frame_samples = 0
        self.inbox: asyncio.Queue[TextInput] = asyncio.Queue()
        self.reply: Reply | None = None
        self.flushed_request_ids: set[str] = set()
        self.worker: asyncio.Task[None] | None = None
        # One thread: onnxruntime sessions and the per-reply resampler are used from it alone.
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="piper_tts")

    async def on_start(self, ten_env: AsyncTenEnv) -> None:
        properties_json, _ = await ten_env.get_property_to_json(None)
        properties: dict[str, Any] = json.loads(properties_json or "{}")
        try:
            settings = SynthesisSettings(**{k: v for k, v in properties.items() if k in SETTING_NAMES})
            frame_ms = int(properties.get("frame_ms", 20))
            if not 1 <= frame_ms <= MAX_FRAME_MS:
                raise ValueError(f"frame_ms must be within 1..{MAX_FRAME_MS}, got {frame_ms}")
            self.frame_samples = settings.sample_rate_out * frame_ms // 1000
            voice = str(properties.get("voice", "packaged:joe-us"))
            threads = int(properties.get("onnx_threads", 1))
            ten_env.log_info(f"loading Piper voice {voice}")
            loop = asyncio.get_running_loop()
            self.synthesizer = await loop.run_in_executor(
                self.executor, load_synthesizer, voice, threads, settings
            )
            ten_env.log_info(
                f"Piper voice ready (streams within sentences: {self.synthesizer.voice.streams_within_sentence})"
            )
        except (VoiceLoadError, ValueError, TypeError, RuntimeError) as error:  # bad voice or properties
            self.unavailable_reason = f"Piper TTS is not available: {error}"
            await send_error(ten_env, MODULE, self.unavailable_reason, code=ERROR_FATAL, vendor=VENDOR)
        self.worker = asyncio.create_task(self._speak_inputs(ten_env))

    async def on_stop(self, ten_env: AsyncTenEnv) -> None:
        await self._stop_worker()
        self.executor.shutdown(wait=False, cancel_futures=True)

    async def on_data(self, ten_env: AsyncTenEnv, data: Data) -> None:
        name = data.get_name()
        payload_json, _ = data.get_property_to_json(None)
        try:
            payload = json.loads(payload_json or "{}")
        except json.JSONDecodeError:
            payload = {}
        if name == "tts_text_input":
            await self._accept_text(ten_env, payload)
        elif name == "tts_flush":
            await self._flush(ten_env, str(payload.get("flush_id", "")))
        else:
            ten_env.log_warn(f"piper_tts: ignoring data '{name}'")

    async def _accept_text(self, ten_env: AsyncTenEnv, payload: dict[str, Any]) -> None:
        request_id, text = payload.get("request_id"), payload.get("text", "")
        if not isinstance(request_id, str) or not request_id or not isinstance(text, str):
            await send_error(
                ten_env,
                MODULE,
                "tts_text_input needs a non-empty string request_id and a string text",
                vendor=VENDOR,
            )
            return
        if request_id in self.flushed_request_ids:
            return
        metadata = payload.get("metadata") if isinstance(payload.get("metadata"), dict) else {}
        end = bool(payload.get("text_input_end", False))
        self.inbox.put_nowait(TextInput(request_id, text, end, metadata, time.perf_counter()))

    async def _speak_inputs(self, ten_env: AsyncTenEnv) -> None:
        """The worker: speaks queued inputs in order, one reply after another."""
        while True:
            item = await self.inbox.get()
            if item.request_id in self.flushed_request_ids:
                continue
            if self.synthesizer is None:
                await send_error(
                    ten_env, MODULE, self.unavailable_reason, request_id=item.request_id, vendor=VENDOR
                )
                continue
            if self.reply is not None and self.reply.request_id != item.request_id:
                await self._end_reply(ten_env, REASON_DONE)
            if self.reply is None:
                synthesis = self.synthesizer.start_request()
                self.reply = Reply(item.request_id, item.metadata, synthesis, item.received_at)
            try:
                await self._speak(ten_env, self.reply, item)
            except Exception as error:  # noqa: BLE001 - a synthesis failure ends the reply, not the extension
                await send_error(
                    ten_env, MODULE, f"synthesis failed: {error!r}", request_id=item.request_id, vendor=VENDOR
                )
                await self._end_reply(ten_env, REASON_DONE)

    async def _speak(self, ten_env: AsyncTenEnv, reply: Reply, item: TextInput) -> None:
        events = reply.synthesis.speak(item.text)
        while (event := await self._in_worker_thread(next, events, None)) is not None:
            if isinstance(event, SpokenPiece):
                await self._send_text_result(ten_env, reply, event, item.text_input_end)
            else:
                await self._send_audio(ten_env, reply, event)
        if item.text_input_end:
            await self._send_audio(ten_env, reply, await self._in_worker_thread(reply.synthesis.finish))
            await self._end_reply(ten_env, REASON_DONE)

    async def _in_worker_thread(self, function: Any, *args: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(self.executor, function, *args)

    async def _send_audio(self, ten_env: AsyncTenEnv, reply: Reply, samples: np.ndarray) -> None:
        if not len(samples):
            return
        if reply.first_audio_at is None:
            reply.first_audio_at = time.perf_counter()
            await self._send_event(ten_env, "tts_audio_start", reply, {})
            ttfb_ms = round((reply.first_audio_at - reply.first_input_at) * 1000)
            await send_metrics(ten_env, MODULE, VENDOR, {"ttfb_ms": ttfb_ms}, request_id=reply.request_id)
        rate = reply.synthesis.settings.sample_rate_out
        for frame_samples in frames_of(samples, self.frame_samples):
            frame = make_pcm_frame(frame_samples, rate, timestamp_ms=reply.samples_sent * 1000 // rate)
            frame.set_property_string("request_id", reply.request_id)
            if reply.metadata:
                frame.set_property_from_json("metadata", json.dumps(reply.metadata))
            reply.samples_sent += len(frame_samples)
            await ten_env.send_audio_frame(frame)

    async def _send_text_result(
        self, ten_env: AsyncTenEnv, reply: Reply, piece: SpokenPiece, text_input_end: bool
    ) -> None:
        result = {
            "text": piece.text,
            "start_ms": piece.start_ms,
            "duration_ms": piece.duration_ms,
            "words": [],
            "text_result_end": text_input_end and piece.last_of_text,
        }
        await self._send_event(ten_env, "tts_text_result", reply, result)

    async def _end_reply(self, ten_env: AsyncTenEnv, reason: int) -> None:
        """Close the current reply with tts_audio_end (after a tts_audio_start, even for a silent reply)."""
        reply, self.reply = self.reply, None
        if reply is None:
            return
        if reply.first_audio_at is None:
            await self._send_event(ten_env, "tts_audio_start", reply, {})
        interval_ms = round((time.perf_counter() - (reply.first_audio_at or reply.first_input_at)) * 1000)
        end = {
            "request_total_audio_duration_ms": reply.samples_sent
            * 1000
            // reply.synthesis.settings.sample_rate_out,
            "request_event_interval_ms": interval_ms,
            "reason": reason,
        }
        await self._send_event(ten_env, "tts_audio_end", reply, end)
        if reply.samples_sent:
            rtf = round(reply.synthesis.real_time_factor, 4)
            await send_metrics(ten_env, MODULE, VENDOR, {"rtf": rtf}, request_id=reply.request_id)

    async def _send_event(
        self, ten_env: AsyncTenEnv, name: str, reply: Reply, payload: dict[str, Any]
    ) -> None:
        data = Data.create(name)
        body = {"request_id": reply.request_id, **payload}
        if reply.metadata:
            body["metadata"] = reply.metadata
        data.set_property_from_json(None, json.dumps(body))
        await ten_env.send_data(data)

    async def _flush(self, ten_env: AsyncTenEnv, flush_id: str) -> None:
        """Drop queued text, stop the reply being spoken within one chunk, then answer tts_flush_end."""
        while not self.inbox.empty():
            self.flushed_request_ids.add(self.inbox.get_nowait().request_id)
        if self.reply is not None:
            self.flushed_request_ids.add(self.reply.request_id)
            self.reply.synthesis.cancel.set()
        worker_was_running = await self._stop_worker()
        await self._end_reply(ten_env, REASON_FLUSHED)
        flush_end = Data.create("tts_flush_end")
        flush_end.set_property_from_json(None, json.dumps({"flush_id": flush_id}))
        await ten_env.send_data(flush_end)
        if worker_was_running:
            self.worker = asyncio.create_task(self._speak_inputs(ten_env))

    async def _stop_worker(self) -> bool:
        """Cancel the worker (the chunk being decoded finishes in its thread); False if none ran."""
        if self.worker is None:
            return False
        self.worker.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self.worker
        self.worker = None
        return True


def frames_of(samples: np.ndarray, frame_samples: int) -> Iterator[np.ndarray]:
    """`samples` cut into frames of at most `frame_samples` (the last one may be shorter)."""
    for start in range(0, len(samples), frame_samples):
        yield samples[start : start + frame_samples]
