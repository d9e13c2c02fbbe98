"""TEN adapter for the streaming faster-whisper recogniser (TEN's ASR interface plus VAD sentence bounds)."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

from ten_runtime import AsyncExtension, AsyncTenEnv, AudioFrame, Cmd, CmdResult, Data, StatusCode

from ten_packages.system.voice_kit.events import ERROR_FATAL, send_error, send_metrics
from ten_packages.system.voice_kit.pcm import AudioFormatError, frame_to_mono_int16

from .config import AsrConfig
from .recognizer import AsrResult, StreamingRecognizer
from .transcriber import UtteranceTranscriber

MODULE = "asr"
VENDOR = "faster_whisper"


class FasterWhisperAsrExtension(AsyncExtension):
    def __init__(self, name: str) -> None:
        super().__init__(name)
        self._ten_env: AsyncTenEnv | None = None
        self._config = AsrConfig()
        self._recognizer: StreamingRecognizer | None = None
        self._model_name = ""
        self._reported_formats: set[str] = set()
        self._finalizes: set[asyncio.Task[None]] = set()

    async def on_init(self, ten_env: AsyncTenEnv) -> None:
        self._ten_env = ten_env
        try:
            properties_json, _ = await ten_env.get_property_to_json(None)
            self._config = AsrConfig.from_properties(json.loads(properties_json or "{}"))
            loading_started = time.perf_counter()
            transcriber = await asyncio.to_thread(UtteranceTranscriber, self._config.whisper)
        except Exception as exc:  # noqa: BLE001  (bad property or unloadable model: report, stay up)
            await send_error(ten_env, MODULE, f"cannot start: {exc}", code=ERROR_FATAL, vendor=VENDOR)
            return
        self._model_name = self._config.whisper.model
        ten_env.log_info(
            f"faster_whisper_asr: model {self._model_name} from {transcriber.model_path} "
            f"loaded in {time.perf_counter() - loading_started:.1f} s"
        )
        self._recognizer = StreamingRecognizer(
            transcriber,
            on_interim=self._send_result,
            on_interim_error=self._report_interim_failure,
            language=self._config.whisper.language,
            interim_interval_ms=self._config.interim_interval_ms,
            pre_roll_ms=self._config.pre_roll_ms,
            max_utterance_ms=self._config.max_utterance_ms,
            sentence_end_interim=self._config.sentence_end_interim,
            pause_hint_ms=self._config.pause_hint_ms,
        )

    async def on_stop(self, ten_env: AsyncTenEnv) -> None:
        for task in self._finalizes:
            task.cancel()
        if self._recognizer is not None:
            self._recognizer.close()

    async def on_audio_frame(self, ten_env: AsyncTenEnv, audio_frame: AudioFrame) -> None:
        if self._recognizer is None:
            return
        try:
            samples = frame_to_mono_int16(audio_frame)
        except AudioFormatError as exc:
            if str(exc) not in self._reported_formats:  # once per kind of bad frame, not 100 times a second
                self._reported_formats.add(str(exc))
                await send_error(ten_env, MODULE, str(exc), vendor=VENDOR)
            return
        self._recognizer.push_audio(samples, audio_frame.get_timestamp())

    async def on_cmd(self, ten_env: AsyncTenEnv, cmd: Cmd) -> None:
        name = cmd.get_name()
        if name not in ("start_of_sentence", "end_of_sentence"):
            result = CmdResult.create(StatusCode.ERROR, cmd)
            result.set_property_string("message", f"faster_whisper_asr does not handle cmd '{name}'")
            await ten_env.return_result(result)
            return
        if self._recognizer is not None:
            if name == "start_of_sentence":
                speech_start_ms, error = cmd.get_property_int("timestamp_ms")
                self._recognizer.start_of_sentence(None if error else speech_start_ms)
            else:
                self._recognizer.end_of_sentence()
        await ten_env.return_result(CmdResult.create(StatusCode.OK, cmd))

    async def on_data(self, ten_env: AsyncTenEnv, data: Data) -> None:
        if data.get_name() != "asr_finalize":
            return
        finalize_id, _ = data.get_property_string("finalize_id")
        metadata_json, error = data.get_property_to_json("metadata")
        metadata = json.loads(metadata_json) if not error and metadata_json else {}
        # Run as a task: audio and VAD cmds keep flowing in while the final pass runs.
        task = asyncio.get_running_loop().create_task(self._finalize(ten_env, finalize_id or "", metadata))
        self._finalizes.add(task)
        task.add_done_callback(self._finalizes.discard)

    async def _finalize(self, ten_env: AsyncTenEnv, finalize_id: str, metadata: dict[str, Any]) -> None:
        if self._recognizer is None:
            await send_error(ten_env, MODULE, "asr_finalize before the model loaded (see the earlier error)")
        else:
            try:
                result = await self._recognizer.finalize()
            except Exception as exc:  # noqa: BLE001  (the controller must be answered whatever failed)
                await send_error(ten_env, MODULE, f"final transcription failed: {exc}", vendor=VENDOR)
            else:
                await self._send_result(result, metadata)
                await send_metrics(
                    ten_env,
                    MODULE,
                    VENDOR,
                    {"finalize_ms": round(result.latency_ms, 1), "audio_ms": result.duration_ms},
                    request_id=result.id,
                )
        end = Data.create("asr_finalize_end")
        end.set_property_from_json(None, json.dumps({"finalize_id": finalize_id, "metadata": metadata}))
        await ten_env.send_data(end)

    async def _report_interim_failure(self, error: Exception) -> None:
        await send_error(self._ten_env, MODULE, f"interim transcription failed: {error}", vendor=VENDOR)

    async def _send_result(self, result: AsrResult, metadata: dict[str, Any] | None = None) -> None:
        payload = result.payload(
            {
                **(metadata or {}),
                "asr_info": {"model": self._model_name, "latency_ms": round(result.latency_ms, 1)},
            }
        )
        data = Data.create("asr_result")
        data.set_property_from_json(None, json.dumps(payload))
        await self._ten_env.send_data(data)
