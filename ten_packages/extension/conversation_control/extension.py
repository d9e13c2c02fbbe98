"""TEN adapter for the conversation controller (TEN's main_control role).

Translates graph messages into `ConversationController` events and the controller's actions into
messages. Actions leave in order through one outbox; the streamed `chat_completion` and the playback
`flush`, which wait for results, run as tasks that feed their results back into the controller.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import fields
from typing import Any

from ten_runtime import AsyncExtension, AsyncTenEnv, Cmd, CmdResult, Data, StatusCode

from ten_packages.system.voice_kit.events import send_error

from .actions import (
    AbortChat,
    Action,
    EmitTranscript,
    EmitTurnLatency,
    FlushPlayback,
    FlushTts,
    SendAsrFinalize,
    SendTtsText,
    StartChat,
)
from .controller import ControlConfig, ConversationController, TurnDecision
from .spoken_text import TimedText, TimedWord

MODULE = "conversation_control"


class PayloadError(ValueError):
    """A message whose properties do not match the graph contracts."""


def _field(payload: dict[str, Any], name: str, kind: type | tuple[type, ...], default: Any = ...) -> Any:
    """payload[name] checked against `kind` (bool is not accepted as a number)."""
    if name not in payload or payload[name] is None:
        if default is ...:
            raise PayloadError(f"missing property '{name}'")
        return default
    value = payload[name]
    kinds = kind if isinstance(kind, tuple) else (kind,)
    if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds):
        expected = " or ".join(k.__name__ for k in kinds)
        raise PayloadError(f"property '{name}' is {type(value).__name__}, expected {expected}")
    return value


def read_config(properties: dict[str, Any]) -> ControlConfig:
    """The controller's settings from the extension's properties, type-checked against the defaults."""
    values = {}
    for config_field in fields(ControlConfig):
        if config_field.name not in properties:
            continue
        default = getattr(ControlConfig(), config_field.name)
        kind: type | tuple[type, ...] = (int, float) if isinstance(default, float) else type(default)
        values[config_field.name] = _field(properties, config_field.name, kind)
    config = ControlConfig(**values)
    config.validate()
    return config


class ConversationControlExtension(AsyncExtension):
    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.controller = ConversationController(ControlConfig())
        self._outbox: asyncio.Queue[Action] = asyncio.Queue()
        self._tasks: set[asyncio.Task] = set()

    async def on_init(self, ten_env: AsyncTenEnv) -> None:
        properties_json, error = await ten_env.get_property_to_json(None)
        properties = json.loads(properties_json) if error is None and properties_json else {}
        try:
            config = read_config(properties)
        except (PayloadError, ValueError) as invalid:
            await send_error(ten_env, MODULE, f"bad property: {invalid}; using the defaults")
            config = ControlConfig()
        self.controller = ConversationController(config)
        ten_env.log_info(f"{MODULE}: {config}")

    async def on_start(self, ten_env: AsyncTenEnv) -> None:
        self._spawn(self._send_actions(ten_env))
        if self.controller.config.warm_up_llm:
            self._spawn(self._warm_up_llm(ten_env))

    async def _warm_up_llm(self, ten_env: AsyncTenEnv) -> None:
        """Ask the LLM for one token with the real system prompt before the user speaks: the server
        loads the model (LM Studio loads on first use) and caches the prompt's prefix, which took
        400 ms off the first answer's first token with the bundled llama.cpp server."""
        messages = [
            {"role": "system", "content": self.controller.config.system_prompt},
            {"role": "user", "content": "Hi"},
        ]
        cmd = _cmd(
            "chat_completion",
            {
                "request_id": "warm-up",
                "messages": messages,
                "streaming": False,
                "parameters": {"max_tokens": 1},
            },
        )
        _, error = await ten_env.send_cmd(cmd)
        if error is not None:
            ten_env.log_warn(f"{MODULE}: LLM warm-up failed: {error.error_message()}")

    async def on_stop(self, ten_env: AsyncTenEnv) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    # --- in --------------------------------------------------------------------------------------

    async def on_cmd(self, ten_env: AsyncTenEnv, cmd: Cmd) -> None:
        name = cmd.get_name()
        status, message = StatusCode.OK, ""
        try:
            payload = _payload(cmd)
            if name == "start_of_sentence":
                self._act(self.controller.on_start_of_sentence(*_sentence_times(payload)))
            elif name == "end_of_sentence":
                self._act(self.controller.on_end_of_sentence(*_sentence_times(payload)))
            else:
                status, message = StatusCode.ERROR, f"unknown cmd '{name}'"
        except PayloadError as bad:
            status, message = StatusCode.ERROR, f"cmd '{name}': {bad}"
        result = CmdResult.create(status, cmd)
        if message:
            result.set_property_string("message", message)
            await send_error(ten_env, MODULE, message)
        await ten_env.return_result(result)

    async def on_data(self, ten_env: AsyncTenEnv, data: Data) -> None:
        name = data.get_name()
        try:
            self._on_data(ten_env, name, _payload(data))
        except PayloadError as bad:
            await send_error(ten_env, MODULE, f"data '{name}': {bad}")

    def _on_data(self, ten_env: AsyncTenEnv, name: str, payload: dict[str, Any]) -> None:
        control = self.controller
        if name == "turn_decision":
            decision = TurnDecision(
                state=_field(payload, "state", str),
                probability=float(_field(payload, "probability", (int, float), 0.0)),
                speech_end_ms=_field(payload, "speech_end_ms", int),
                decided_ms=_field(payload, "decided_ms", int, 0),
                wall_ms=_field(payload, "wall_ms", int, 0),
            )
            self._act(control.on_turn_decision(decision))
        elif name == "asr_result":
            self._act(control.on_asr_result(_field(payload, "text", str), _field(payload, "final", bool)))
        elif name == "asr_finalize_end":
            self._act(control.on_asr_finalize_end(_field(payload, "finalize_id", str)))
        elif name == "tts_audio_start":
            self._act(control.on_tts_audio_start(_field(payload, "request_id", str)))
        elif name == "tts_text_result":
            self._act(control.on_tts_text_result(_field(payload, "request_id", str), _timed_text(payload)))
        elif name == "playback_start":
            request_id = _field(payload, "request_id", str)
            self._act(control.on_playback_start(request_id, _field(payload, "timestamp_ms", int, None)))
        elif name == "playback_end":
            self._act(
                control.on_playback_end(
                    _field(payload, "request_id", str),
                    _field(payload, "played_ms", int),
                    _field(payload, "interrupted", bool, False),
                )
            )
        elif name == "error":
            ten_env.log_warn(
                f"{MODULE}: error from {payload.get('module', '?')}: {payload.get('message', '')}"
            )
        elif name == "tts_audio_end":
            self._act(control.on_tts_audio_end(_field(payload, "request_id", str)))
        elif name in ("tts_flush_end", "metrics", "input_end"):
            ten_env.log_debug(f"{MODULE}: {name} {payload}")
        else:
            raise PayloadError("unknown data name")

    # --- out -------------------------------------------------------------------------------------

    def _act(self, actions: list[Action]) -> None:
        for action in actions:
            self._outbox.put_nowait(action)

    def _spawn(self, coroutine) -> None:
        task = asyncio.create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _send_actions(self, ten_env: AsyncTenEnv) -> None:
        while True:
            action = await self._outbox.get()
            try:
                await self._send(ten_env, action)
            except Exception as failure:  # noqa: BLE001 - one bad send must not stop the conversation
                ten_env.log_error(f"{MODULE}: sending {type(action).__name__} failed: {failure!r}")

    async def _send(self, ten_env: AsyncTenEnv, action: Action) -> None:
        if isinstance(action, SendTtsText):
            await _send_data(
                ten_env,
                "tts_text_input",
                {
                    "request_id": action.request_id,
                    "text": action.text,
                    "text_input_end": action.text_input_end,
                    "metadata": {"turn_id": action.turn_id},
                },
            )
        elif isinstance(action, SendAsrFinalize):
            await _send_data(ten_env, "asr_finalize", {"finalize_id": action.finalize_id})
            self._spawn(self._finalize_timeout(action))
        elif isinstance(action, StartChat):
            self._spawn(self._run_chat(ten_env, action))
        elif isinstance(action, AbortChat):
            cmd = _cmd("abort", {"request_id": action.request_id})
            self._spawn(self._send_cmd_logged(ten_env, cmd))
        elif isinstance(action, FlushTts):
            await _send_data(ten_env, "tts_flush", {"flush_id": action.flush_id})
        elif isinstance(action, FlushPlayback):
            self._spawn(self._flush_playback(ten_env, action.request_id))
        elif isinstance(action, EmitTranscript):
            transcript = {
                "role": action.role,
                "text": action.text,
                "turn_id": action.turn_id,
                "interrupted": action.interrupted,
            }
            transcript |= {
                k: v for k, v in (("start_ms", action.start_ms), ("end_ms", action.end_ms)) if v is not None
            }
            await _send_data(ten_env, "transcript", transcript)
        elif isinstance(action, EmitTurnLatency):
            await _send_data(ten_env, "turn_latency", {"turn_id": action.turn_id, "stages": action.stages})

    async def _finalize_timeout(self, action: SendAsrFinalize) -> None:
        await asyncio.sleep(action.timeout_ms / 1000)
        self._act(self.controller.on_asr_finalize_timeout(action.finalize_id))

    async def _send_cmd_logged(self, ten_env: AsyncTenEnv, cmd: Cmd) -> None:
        _, error = await ten_env.send_cmd(cmd)
        if error is not None:
            ten_env.log_warn(f"{MODULE}: cmd '{cmd.get_name()}' failed: {error.error_message()}")

    async def _flush_playback(self, ten_env: AsyncTenEnv, request_id: str) -> None:
        """Stop playback; its result says how much of the reply was heard (None if it cannot say)."""
        result, error = await ten_env.send_cmd(Cmd.create("flush"))
        played_ms = None
        if error is None and result is not None and result.get_status_code() == StatusCode.OK:
            flushed_request, request_error = result.get_property_string("request_id")
            played, played_error = result.get_property_int("played_ms")
            if played_error is None:
                # The audio I/O reports on the request it was playing; if that is another, ours was not heard.
                played_ms = played if request_error is not None or flushed_request in ("", request_id) else 0
        else:
            reason = error.error_message() if error is not None else "error result"
            ten_env.log_warn(f"{MODULE}: playback flush failed ({reason}); estimating what was heard")
        self._act(self.controller.on_playback_flushed(request_id, played_ms))

    async def _run_chat(self, ten_env: AsyncTenEnv, action: StartChat) -> None:
        """Stream one chat_completion, feeding deltas, the end or the failure into the controller."""
        request_id = action.request_id
        cmd = _cmd(
            "chat_completion",
            {"request_id": request_id, "messages": action.messages, "streaming": True, "parameters": {}},
        )
        control = self.controller
        try:
            async for result, error in ten_env.send_cmd_ex(cmd):
                if error is not None:
                    self._act(
                        control.on_llm_error(request_id, error.error_message() or "chat_completion failed")
                    )
                    return
                if result is None:
                    continue
                if result.get_status_code() != StatusCode.OK:
                    message, _ = result.get_property_string("message")
                    self._act(control.on_llm_error(request_id, message or "chat_completion failed"))
                    return
                payload = _payload(result)
                kind = payload.get("type")
                if kind == "message_content_delta":
                    self._act(control.on_llm_delta(request_id, str(payload.get("delta", ""))))
                elif kind == "message_content_done" and payload.get("finish_reason") == "error":
                    self._act(control.on_llm_error(request_id, str(payload.get("message", "LLM error"))))
                    return
                if result.is_completed():
                    break
            self._act(control.on_llm_done(request_id))
        except asyncio.CancelledError:
            raise
        except Exception as failure:  # noqa: BLE001 - any failure of the stream gets the apology
            ten_env.log_error(f"{MODULE}: chat_completion {request_id} broke: {failure!r}")
            self._act(control.on_llm_error(request_id, str(failure)))


def _payload(message: Cmd | Data | CmdResult) -> dict[str, Any]:
    text, error = message.get_property_to_json(None)
    if error is not None or not text:
        return {}
    try:
        payload = json.loads(text)
    except json.JSONDecodeError as bad:
        raise PayloadError(f"properties are not JSON: {bad}") from bad
    if not isinstance(payload, dict):
        raise PayloadError("properties are not an object")
    return payload


def _sentence_times(payload: dict[str, Any]) -> tuple[int, int | None]:
    return _field(payload, "timestamp_ms", int), _field(payload, "wall_ms", int, None)


def _timed_text(payload: dict[str, Any]) -> TimedText:
    words = []
    for word in _field(payload, "words", list, []):
        if not isinstance(word, dict):
            raise PayloadError("'words' items must be objects")
        words.append(
            TimedWord(
                _field(word, "word", str), _field(word, "start_ms", int), _field(word, "duration_ms", int)
            )
        )
    return TimedText(
        _field(payload, "text", str),
        _field(payload, "start_ms", int),
        _field(payload, "duration_ms", int),
        words,
    )


def _cmd(name: str, properties: dict[str, Any]) -> Cmd:
    cmd = Cmd.create(name)
    cmd.set_property_from_json(None, json.dumps(properties))
    return cmd


async def _send_data(ten_env: AsyncTenEnv, name: str, properties: dict[str, Any]) -> None:
    data = Data.create(name)
    data.set_property_from_json(None, json.dumps(properties))
    error = await ten_env.send_data(data)
    if error is not None:
        ten_env.log_warn(f"{MODULE}: data '{name}' not delivered: {error.error_message()}")
