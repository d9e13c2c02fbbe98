"""TEN adapter for streaming Spark-TTS on MLX: TEN's TTS interface in, 16 kHz pcm_frames out.

Text arrives in pieces; it is cut into clauses and spoken one clause at a time by a single worker task. All
MLX work (loading, warm-up, generation, decoding) runs on one dedicated thread, the executor owned here.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from ten_runtime import AsyncExtension, AsyncTenEnv, Cmd, CmdResult, Data, StatusCode

from ten_packages.system.voice_kit.events import ERROR_FATAL, send_error, send_metrics
from ten_packages.system.voice_kit.pcm import GRAPH_SAMPLE_RATE, FrameChunker, make_pcm_frame
from ten_packages.system.voice_kit.text import StreamingClauseSplitter, clean_for_speech

from .config import SparkTTSConfig
from .spark_model import SparkModel
from .synthesizer import SparkStreamingSynthesizer, SynthesisResult
from .token_source import TokenSource

MODULE = "tts"
VENDOR = "spark_tts_mlx"
FRAME_SAMPLES = GRAPH_SAMPLE_RATE * 20 // 1000
REASON_DONE = 1
REASON_FLUSHED = 2


def language_model_tokens(model: SparkModel, config: SparkTTSConfig) -> TokenSource:
    return model.token_source(config.voice, config.sampling)


@dataclass
class RequestState:
    request_id: str
    metadata: dict[str, Any]
    received_at: float = field(default_factory=time.perf_counter)
    splitter: StreamingClauseSplitter = field(default_factory=StreamingClauseSplitter)
    audio_started: bool = False
    sent_samples: int = 0
    synthesis_seconds: float = 0.0
    flushed: bool = False


@dataclass
class Segment:
    request: RequestState
    text: str
    last: bool


@dataclass
class RequestEnd:
    request: RequestState


class SparkTTSExtension(AsyncExtension):
    # Where semantic tokens come from; tests swap in scripted tokens (a random LM makes no speech).
    token_source_factory: Callable[[SparkModel, SparkTTSConfig], TokenSource] = staticmethod(
        language_model_tokens
    )

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self._mlx_thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="spark-mlx")
        self._config: SparkTTSConfig | None = None
        self._synthesizer: SparkStreamingSynthesizer | None = None
        self._token_source: TokenSource | None = None
        self._load_error: str | None = None
        self._ready = asyncio.Event()
        self._loader: asyncio.Task[None] | None = None
        self._requests: dict[str, RequestState] = {}
        self._flushed_ids: set[str] = set()
        self._queue: asyncio.Queue[Segment | RequestEnd] = asyncio.Queue()
        self._cancel_current = threading.Event()
        self._idle = asyncio.Event()
        self._idle.set()
        self._worker: asyncio.Task[None] | None = None

    async def on_start(self, ten_env: AsyncTenEnv) -> None:
        properties_json, error = await ten_env.get_property_to_json(None)
        try:
            self._config = SparkTTSConfig.from_properties(json.loads(properties_json) if not error else {})
        except ValueError as bad:
            await self._fail(ten_env, str(bad))
            return
        self._worker = asyncio.create_task(self._speak_queued(ten_env))
        self._loader = asyncio.create_task(self._load(ten_env))

    async def _load(self, ten_env: AsyncTenEnv) -> None:
        """Load in the background (text that arrives meanwhile waits in the queue), then warm up."""
        assert self._config is not None
        ten_env.log_info(f"{VENDOR}: loading {self._config.model}")
        try:
            seconds = await asyncio.get_running_loop().run_in_executor(
                self._mlx_thread, self._load_on_mlx_thread
            )
        except Exception as failure:  # noqa: BLE001 - any load failure leaves the extension up, answering errors
            await self._fail(ten_env, f"Spark-TTS model unavailable: {failure}")
            return
        ten_env.log_info(f"{VENDOR}: {self._config.model} ready in {seconds:.1f} s")
        self._ready.set()

    def _load_on_mlx_thread(self) -> float:
        assert self._config is not None
        started = time.perf_counter()
        model = SparkModel.load(self._config.model)
        token_source = self.token_source_factory(model, self._config)
        if self._config.warm_up:
            model.warm_up(self._config.voice, self._config.sampling)
        self._synthesizer = SparkStreamingSynthesizer(
            model.decode, model.samples_per_token, model.sample_rate, self._config.schedule, GRAPH_SAMPLE_RATE
        )
        self._token_source = token_source
        return time.perf_counter() - started

    async def _fail(self, ten_env: AsyncTenEnv, reason: str) -> None:
        self._load_error = reason
        self._ready.set()
        await send_error(ten_env, MODULE, reason, ERROR_FATAL, vendor=VENDOR)

    async def on_stop(self, ten_env: AsyncTenEnv) -> None:
        self._cancel_current.set()
        for task in (self._loader, self._worker):
            if task is not None:
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
        await asyncio.get_running_loop().run_in_executor(None, self._mlx_thread.shutdown, True)

    async def on_cmd(self, ten_env: AsyncTenEnv, cmd: Cmd) -> None:
        result = CmdResult.create(StatusCode.ERROR, cmd)
        result.set_property_string("message", f"{VENDOR} takes no cmd '{cmd.get_name()}'")
        await ten_env.return_result(result)

    async def on_data(self, ten_env: AsyncTenEnv, data: Data) -> None:
        name = data.get_name()
        if name == "tts_text_input":
            await self._on_text_input(ten_env, data)
        elif name == "tts_flush":
            flush_id, _ = data.get_property_string("flush_id")
            await self._flush(ten_env, flush_id or "")
        else:
            ten_env.log_warn(f"{VENDOR}: ignoring data '{name}'")

    async def _on_text_input(self, ten_env: AsyncTenEnv, data: Data) -> None:
        payload_json, _ = data.get_property_to_json(None)
        payload = json.loads(payload_json or "{}")
        request_id, text = payload.get("request_id"), payload.get("text", "")
        if not isinstance(request_id, str) or not request_id or not isinstance(text, str):
            await send_error(
                ten_env, MODULE, "tts_text_input needs a string request_id and a string text", vendor=VENDOR
            )
            return
        if self._load_error is not None:
            await send_error(ten_env, MODULE, self._load_error, request_id=request_id, vendor=VENDOR)
            return
        if request_id in self._flushed_ids:
            ten_env.log_info(f"{VENDOR}: dropping text for flushed request {request_id}")
            return
        metadata = payload.get("metadata") if isinstance(payload.get("metadata"), dict) else {}
        request = self._requests.setdefault(request_id, RequestState(request_id, metadata))
        clauses = request.splitter.push(text)
        ended = bool(payload.get("text_input_end", False))
        if ended:
            clauses.append(request.splitter.flush())
        spoken = [clean for clause in clauses if (clean := clean_for_speech(clause))]
        for index, clause in enumerate(spoken):
            self._queue.put_nowait(Segment(request, clause, last=ended and index == len(spoken) - 1))
        if ended:
            self._queue.put_nowait(RequestEnd(request))

    async def _speak_queued(self, ten_env: AsyncTenEnv) -> None:
        await self._ready.wait()
        while True:
            item = await self._queue.get()
            self._idle.clear()
            try:
                if isinstance(item, Segment):
                    await self._speak(ten_env, item)
                elif not item.request.flushed:
                    await self._finish_request(ten_env, item.request, REASON_DONE)
            except Exception as failure:  # noqa: BLE001 - one bad segment must not stop the speaker
                await send_error(
                    ten_env,
                    MODULE,
                    f"synthesis failed: {failure}",
                    request_id=item.request.request_id,
                    vendor=VENDOR,
                )
            finally:
                if self._queue.empty():
                    self._idle.set()

    async def _speak(self, ten_env: AsyncTenEnv, segment: Segment) -> None:
        request = segment.request
        if request.flushed:
            return
        if self._load_error is not None:
            raise RuntimeError(self._load_error)
        loop = asyncio.get_running_loop()
        audio: asyncio.Queue[np.ndarray | None] = asyncio.Queue()
        self._cancel_current = cancel = threading.Event()

        def run() -> SynthesisResult:
            assert self._synthesizer is not None and self._token_source is not None
            try:
                stream = self._token_source.open(segment.text)
                return self._synthesizer.synthesize(
                    stream, lambda pcm: loop.call_soon_threadsafe(audio.put_nowait, pcm), cancel
                )
            finally:
                loop.call_soon_threadsafe(audio.put_nowait, None)

        synthesis = loop.run_in_executor(self._mlx_thread, run)
        start_samples = request.sent_samples
        chunker = FrameChunker(FRAME_SAMPLES)
        while (pcm := await audio.get()) is not None:
            if not cancel.is_set():
                for frame in chunker.push(pcm):
                    await self._send_audio(ten_env, request, frame)
        result = await synthesis
        if cancel.is_set() or request.flushed:
            return
        if len(rest := chunker.flush()):
            await self._send_audio(ten_env, request, rest)
        request.synthesis_seconds += result.seconds
        await self._send_data(
            ten_env,
            "tts_text_result",
            {
                "request_id": request.request_id,
                "text": segment.text,
                "start_ms": start_samples * 1000 // GRAPH_SAMPLE_RATE,
                "duration_ms": (request.sent_samples - start_samples) * 1000 // GRAPH_SAMPLE_RATE,
                "words": [],
                "text_result_end": segment.last,
                "metadata": request.metadata,
            },
        )

    async def _send_audio(self, ten_env: AsyncTenEnv, request: RequestState, samples: np.ndarray) -> None:
        if not request.audio_started:
            request.audio_started = True
            await self._send_data(
                ten_env, "tts_audio_start", {"request_id": request.request_id, "metadata": request.metadata}
            )
            ttfb_ms = round((time.perf_counter() - request.received_at) * 1000)
            await send_metrics(ten_env, MODULE, VENDOR, {"ttfb_ms": ttfb_ms}, request.request_id)
        frame = make_pcm_frame(samples, GRAPH_SAMPLE_RATE, request.sent_samples * 1000 // GRAPH_SAMPLE_RATE)
        frame.set_property_string("request_id", request.request_id)
        if request.metadata:
            frame.set_property_from_json("metadata", json.dumps(request.metadata))
        request.sent_samples += len(samples)
        await ten_env.send_audio_frame(frame)

    async def _finish_request(self, ten_env: AsyncTenEnv, request: RequestState, reason: int) -> None:
        self._requests.pop(request.request_id, None)
        duration_ms = request.sent_samples * 1000 // GRAPH_SAMPLE_RATE
        await self._send_data(
            ten_env,
            "tts_audio_end",
            {
                "request_id": request.request_id,
                "request_total_audio_duration_ms": duration_ms,
                "reason": reason,
                "metadata": request.metadata,
            },
        )
        if reason == REASON_DONE and duration_ms:
            rtf = request.synthesis_seconds / (duration_ms / 1000)
            await send_metrics(ten_env, MODULE, VENDOR, {"rtf": round(rtf, 3)}, request.request_id)

    async def _flush(self, ten_env: AsyncTenEnv, flush_id: str) -> None:
        """Drop queued text, stop the clause being spoken (within one token or chunk), end every open request."""
        flushed = list(self._requests.values())
        for request in flushed:
            request.flushed = True
            self._flushed_ids.add(request.request_id)
        while not self._queue.empty():
            self._queue.get_nowait()
        self._cancel_current.set()
        await self._idle.wait()
        for request in flushed:
            await self._finish_request(ten_env, request, REASON_FLUSHED)
        await self._send_data(ten_env, "tts_flush_end", {"flush_id": flush_id})

    @staticmethod
    async def _send_data(ten_env: AsyncTenEnv, name: str, payload: dict[str, Any]) -> None:
        data = Data.create(name)
        data.set_property_from_json(None, json.dumps(payload))
        await ten_env.send_data(data)
