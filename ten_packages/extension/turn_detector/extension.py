"""TEN adapter: VAD pauses, user audio and transcripts in; `turn_decision` data out."""

from __future__ import annotations

import asyncio
import json
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
from ten_runtime import AsyncExtension, AsyncTenEnv, AudioFrame, Cmd, CmdResult, Data, StatusCode

from ten_packages.system.voice_kit.events import ERROR_FATAL, send_error, send_metrics
from ten_packages.system.voice_kit.pcm import AudioFormatError, frame_to_mono_int16

from .input_clock import InputClock
from .recent_audio import SAMPLES_PER_MS, RecentAudio
from .settings import TurnDetectorSettings
from .smart_turn_model import WINDOW_SAMPLES, WINDOW_SECONDS, SmartTurnModel, resolve_model_path
from .text_turn_client import TextTurnClient, TextTurnError
from .turn_policy import Reason, TurnDecision, TurnPolicy, TurnState

MODULE = "turn_detector"
TICK_S = 0.02


class TurnDetectorExtension(AsyncExtension):
    def __init__(self, name: str) -> None:
        super().__init__(name)
        self._apply(TurnDetectorSettings())
        self.clock = InputClock()
        self.turn_start_ms = 0
        self.turn_texts: list[str] = []
        self.text_unjudged = False  # a final transcript came in while the user was still speaking
        self.model: SmartTurnModel | None = None
        self.text_client: TextTurnClient | None = None
        self.model_thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="smart_turn")
        self.tasks: set[asyncio.Task] = set()
        self.format_error_sent = False

    async def on_start(self, ten_env: AsyncTenEnv) -> None:
        properties_json, _ = await ten_env.get_property_to_json(None)
        try:
            self._apply(TurnDetectorSettings.from_properties(json.loads(properties_json or "{}")))
        except ValueError as exc:
            await send_error(ten_env, MODULE, f"{exc}; using the defaults", ERROR_FATAL)
        if self.mode == "smart_turn":
            await self._load_model(ten_env)
        elif self.mode == "ten_text":
            s = self.settings
            self.text_client = TextTurnClient(
                s.base_url, s.api_key, s.model, s.temperature, s.top_p, s.timeout_ms
            )
        self._spawn(self._tick(ten_env))
        ten_env.log_info(
            f"turn_detector: mode {self.mode}, max pause {self.settings.max_pause_ms} ms, "
            f"waits {self.policy.text_wait_ms} ms for words"
        )

    def _apply(self, settings: TurnDetectorSettings) -> None:
        self.settings = settings
        self.mode = settings.mode
        # Words weigh in on Smart Turn's verdicts only: TEN's text model reads them itself.
        text_wait_ms = settings.text_wait_ms if settings.mode == "smart_turn" else 0
        self.policy = TurnPolicy(settings.max_pause_ms, text_wait_ms, settings.sure_threshold)
        self.audio = RecentAudio(keep_ms=WINDOW_SECONDS * 1000 + settings.pre_speech_ms)

    async def _load_model(self, ten_env: AsyncTenEnv) -> None:
        """Load and warm the model off the loop; without it, fall back to VAD silence with a clear error."""
        s = self.settings

        def load() -> SmartTurnModel:
            model_file = resolve_model_path(s.model_path, Path.cwd(), s.hub_repo, s.hub_filename)
            model = SmartTurnModel(model_file, s.model_threads)
            model.completion_probability(np.zeros(WINDOW_SAMPLES, dtype=np.int16))  # the first run is slow
            return model

        try:
            self.model = await asyncio.get_running_loop().run_in_executor(self.model_thread, load)
        except Exception as exc:  # a missing or corrupt model must not take the app down
            self.mode = "silence"
            self.policy.text_wait_ms = 0
            await send_error(ten_env, MODULE, f"{exc} (falling back to mode silence)", ERROR_FATAL)

    async def on_stop(self, ten_env: AsyncTenEnv) -> None:
        for task in list(self.tasks):
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        if self.text_client:
            await self.text_client.close()
        self.model_thread.shutdown(wait=False, cancel_futures=True)

    async def on_audio_frame(self, ten_env: AsyncTenEnv, audio_frame: AudioFrame) -> None:
        if audio_frame.get_name() != "pcm_frame":
            return
        try:
            samples = frame_to_mono_int16(audio_frame)
        except AudioFormatError as exc:
            if not self.format_error_sent:  # once, not 100 times a second
                self.format_error_sent = True
                await send_error(ten_env, MODULE, str(exc))
            return
        timestamp_ms = audio_frame.get_timestamp()
        self.audio.append(timestamp_ms, samples)
        self.clock.frame_arrived(timestamp_ms + len(samples) // SAMPLES_PER_MS, time.monotonic())
        await self._advance(ten_env)

    async def on_cmd(self, ten_env: AsyncTenEnv, cmd: Cmd) -> None:
        name = cmd.get_name()
        timestamp_ms, error = cmd.get_property_int("timestamp_ms")
        if name in ("start_of_sentence", "end_of_sentence") and error is not None:
            timestamp_ms = self.clock.now_ms(time.monotonic()) or 0
            ten_env.log_warn(f"turn_detector: {name} without timestamp_ms, using {timestamp_ms}")
        if name == "start_of_sentence":
            self._speech_started(timestamp_ms)
        elif name == "end_of_sentence":
            self._speech_ended(ten_env, timestamp_ms)
        else:
            await send_error(ten_env, MODULE, f"unknown cmd {name!r}")
            await ten_env.return_result(CmdResult.create(StatusCode.ERROR, cmd))
            return
        await ten_env.return_result(CmdResult.create(StatusCode.OK, cmd))

    async def on_data(self, ten_env: AsyncTenEnv, data: Data) -> None:
        if data.get_name() != "asr_result":
            return
        final, _ = data.get_property_bool("final")
        text, _ = data.get_property_string("text")
        language, _ = data.get_property_string("language")
        start_ms, start_error = data.get_property_int("start_ms")
        duration_ms, _ = data.get_property_int("duration_ms")
        if not (text or "").strip():
            return
        if start_error is None:  # interim or final, the newest words of the turn so far
            end_ms = start_ms + (duration_ms or 0)
            now_ms = self.clock.now_ms(time.monotonic())
            decision = self.policy.transcript(text, language or "", end_ms, now_ms)
            if decision:
                await self._emit(ten_env, decision)
        if not final:
            return
        if start_error is None and start_ms + (duration_ms or 0) < self.turn_start_ms:
            return  # a late transcript of the previous turn
        self.turn_texts.append(text.strip())
        if self.mode == "ten_text":
            self.text_unjudged = True
            if self.policy.is_paused:
                self._judge_text(ten_env)

    def _speech_started(self, timestamp_ms: int) -> None:
        if self.policy.is_idle:
            self.turn_start_ms = timestamp_ms - self.settings.pre_speech_ms
            self.turn_texts = []
        self.policy.speech_started()

    def _speech_ended(self, ten_env: AsyncTenEnv, speech_end_ms: int) -> None:
        if self.policy.is_idle:  # an end without a start: the turn began at the oldest audio kept
            self.turn_start_ms = speech_end_ms - WINDOW_SECONDS * 1000
            self.turn_texts = []
        pause_id = self.policy.speech_ended(speech_end_ms, self.clock.now_ms(time.monotonic()))
        if self.mode == "smart_turn":  # the audio as it stands at the VAD's end, however busy the loop
            self._spawn(self._judge_audio(ten_env, pause_id, self.audio.since(self.turn_start_ms)))
        elif self.mode == "ten_text" and self.text_unjudged:  # the transcript beat the VAD's end
            self._judge_text(ten_env)
        elif self.mode == "silence":
            self._spawn(self._apply_verdict(ten_env, pause_id, TurnState.FINISHED, 1.0, Reason.SILENCE))

    async def _judge_audio(self, ten_env: AsyncTenEnv, pause_id: int, samples: np.ndarray) -> None:
        if len(samples) == 0:
            await send_error(ten_env, MODULE, "end_of_sentence but no pcm_frame audio received to judge")
            return
        started = time.perf_counter()
        try:
            probability = await asyncio.get_running_loop().run_in_executor(
                self.model_thread, self.model.completion_probability, samples
            )
        except Exception as exc:  # the max pause still ends the turn
            await send_error(ten_env, MODULE, f"smart turn inference failed: {type(exc).__name__}: {exc}")
            return
        inference_ms = (time.perf_counter() - started) * 1000
        await send_metrics(ten_env, MODULE, "smart_turn", {"inference_ms": round(inference_ms, 1)})
        state = (
            TurnState.FINISHED if probability >= self.settings.finished_threshold else TurnState.UNFINISHED
        )
        await self._apply_verdict(ten_env, pause_id, state, probability)

    def _judge_text(self, ten_env: AsyncTenEnv) -> None:
        self.text_unjudged = False
        self._spawn(self._classify_text(ten_env, self.policy.current_pause_id, " ".join(self.turn_texts)))

    async def _classify_text(self, ten_env: AsyncTenEnv, pause_id: int, text: str) -> None:
        try:
            state = await self.text_client.classify(text)
        except TextTurnError as exc:  # the max pause still ends the turn
            await send_error(ten_env, MODULE, str(exc), vendor="ten_turn_detection")
            return
        probability = 1.0 if state is TurnState.FINISHED else 0.0
        await self._apply_verdict(ten_env, pause_id, state, probability)

    async def _apply_verdict(
        self,
        ten_env: AsyncTenEnv,
        pause_id: int,
        state: TurnState,
        probability: float,
        reason: Reason = Reason.MODEL,
    ) -> None:
        now_ms = self.clock.now_ms(time.monotonic())  # None without audio: decided at the speech end
        decision = self.policy.verdict(pause_id, state, probability, now_ms, reason)
        if decision:
            await self._emit(ten_env, decision)

    async def _advance(self, ten_env: AsyncTenEnv) -> None:
        now_ms = self.clock.now_ms(time.monotonic())
        decision = self.policy.advance(now_ms) if now_ms is not None else None
        if decision:
            await self._emit(ten_env, decision)

    async def _tick(self, ten_env: AsyncTenEnv) -> None:
        """Let the max pause expire even when no audio frames arrive."""
        while True:
            await asyncio.sleep(TICK_S)
            await self._advance(ten_env)

    async def _emit(self, ten_env: AsyncTenEnv, decision: TurnDecision) -> None:
        payload = {
            "turn_id": decision.turn_id,
            "state": decision.state.value,
            "probability": round(decision.probability, 4),
            "speech_end_ms": decision.speech_end_ms,
            "decided_ms": decision.decided_ms,
            "wall_ms": int(time.time() * 1000),
            "mode": self.mode,
            "reason": decision.reason.value,
        }
        words = (
            f" on {decision.transcript!r} ({decision.words_rule or 'can end'})" if decision.transcript else ""
        )
        ten_env.log_info(f"turn_detector: turn {decision.turn_id} {decision.state.value}{words}: {payload}")
        data = Data.create("turn_decision")
        data.set_property_from_json(None, json.dumps(payload))
        await ten_env.send_data(data)

    def _spawn(self, coroutine) -> None:
        task = asyncio.create_task(coroutine)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
