"""TEN adapter: chat_completion / abort / retrieve_prompt cmds in, streamed CmdResults, metrics and
error data out. The request logic lives in chat_client.py."""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from typing import Any

from ten_runtime import AsyncExtension, AsyncTenEnv, Cmd, CmdResult, StatusCode

from ten_packages.system.voice_kit.events import ERROR_FATAL, send_error, send_metrics

from .chat_client import ChatClient, LlmRequestError, LlmSettings, ReplyStream, validate_messages

MODULE = "llm"
VENDOR = "openai_compatible"
ABORT_WAIT_S = 1.0


class OpenAiChatLlmExtension(AsyncExtension):
    def __init__(self, name: str) -> None:
        super().__init__(name)
        self._client: ChatClient | None = None
        self._settings_problem = "not initialised"
        self._replies: dict[str, asyncio.Task[None]] = {}

    async def on_init(self, ten_env: AsyncTenEnv) -> None:
        properties_json, _ = await ten_env.get_property_to_json()
        try:
            settings = LlmSettings.from_properties(json.loads(properties_json or "{}"))
        except (TypeError, ValueError) as problem:
            self._settings_problem = f"invalid properties: {problem}"
            await send_error(ten_env, MODULE, self._settings_problem, code=ERROR_FATAL)
            return
        self._client = ChatClient(settings)
        ten_env.log_info(f"LLM endpoint {settings.base_url}, model {settings.model or '(first listed)'}")

    async def on_stop(self, ten_env: AsyncTenEnv) -> None:
        await self._cancel_replies(list(self._replies.values()))
        if self._client is not None:
            await self._client.aclose()

    async def on_cmd(self, ten_env: AsyncTenEnv, cmd: Cmd) -> None:
        name = cmd.get_name()
        payload = _cmd_payload(cmd)
        if name == "chat_completion":
            await self._start_reply(ten_env, cmd, payload)
        elif name == "abort":
            request_id = str(payload.get("request_id") or "")
            targets = [self._replies[request_id]] if request_id in self._replies else []
            await self._cancel_replies(targets if request_id else list(self._replies.values()))
            await ten_env.return_result(CmdResult.create(StatusCode.OK, cmd))
        elif name == "retrieve_prompt":
            result = CmdResult.create(StatusCode.OK, cmd)
            result.set_property_string("prompt", self._client.settings.system_prompt if self._client else "")
            await ten_env.return_result(result)
        else:
            await self._fail(ten_env, cmd, "", f"unsupported cmd '{name}'")

    async def _start_reply(self, ten_env: AsyncTenEnv, cmd: Cmd, payload: dict[str, Any]) -> None:
        request_id = str(payload.get("request_id") or uuid.uuid4().hex)
        try:
            if self._client is None:
                raise ValueError(self._settings_problem)
            messages = validate_messages(payload.get("messages"))
            parameters = payload.get("parameters") or {}
            if not isinstance(parameters, dict):
                raise TypeError("'parameters' must be an object")
        except (TypeError, ValueError) as problem:
            await self._fail(ten_env, cmd, request_id, f"bad chat_completion: {problem}")
            return
        if request_id in self._replies:  # a repeated request_id supersedes the running reply
            await self._cancel_replies([self._replies[request_id]])
        reply = self._client.reply(messages, parameters)
        streaming = payload.get("streaming") is not False
        self._replies[request_id] = asyncio.create_task(
            self._stream_reply(ten_env, cmd, request_id, reply, streaming), name=f"llm-reply-{request_id}"
        )

    async def _stream_reply(
        self, ten_env: AsyncTenEnv, cmd: Cmd, request_id: str, reply: ReplyStream, streaming: bool
    ) -> None:
        try:
            try:
                # aclosing: a cancel that lands while a partial result is being returned must still
                # close the HTTP stream now, not whenever the generator is garbage-collected.
                async with contextlib.aclosing(aiter(reply)) as deltas:
                    async for delta in deltas:
                        if streaming:
                            await self._return(ten_env, cmd, False, _delta_payload(reply, request_id, delta))
                finish_reason = reply.finish_reason
            except asyncio.CancelledError:
                finish_reason = "aborted"  # abort or shutdown: the reply ends here, by design
            except LlmRequestError as failure:
                await self._fail(
                    ten_env, cmd, request_id, str(failure), _done_payload(reply, request_id, "error")
                )
                return
            await self._return(ten_env, cmd, True, _done_payload(reply, request_id, finish_reason))
            await self._send_reply_metrics(ten_env, request_id, reply)
        finally:
            if self._replies.get(request_id) is asyncio.current_task():
                del self._replies[request_id]

    async def _cancel_replies(self, tasks: list[asyncio.Task[None]]) -> None:
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks, timeout=ABORT_WAIT_S)

    async def _send_reply_metrics(self, ten_env: AsyncTenEnv, request_id: str, reply: ReplyStream) -> None:
        metrics = {"ttft_ms": reply.ttft_ms, "tokens_per_s": reply.tokens_per_s}
        measured = {name: round(value, 1) for name, value in metrics.items() if value is not None}
        if measured:
            await send_metrics(ten_env, MODULE, VENDOR, measured, request_id=request_id)

    async def _return(self, ten_env: AsyncTenEnv, cmd: Cmd, final: bool, payload: dict[str, Any]) -> None:
        result = CmdResult.create(StatusCode.OK, cmd)
        result.set_final(final)
        result.set_property_from_json(None, json.dumps(payload))
        await ten_env.return_result(result)

    async def _fail(
        self,
        ten_env: AsyncTenEnv,
        cmd: Cmd,
        request_id: str,
        message: str,
        payload: dict[str, Any] | None = None,
    ) -> None:
        """The contract's failure: a final ERROR CmdResult with `message`, plus `error` data."""
        result = CmdResult.create(StatusCode.ERROR, cmd)
        result.set_property_from_json(None, json.dumps({**(payload or {}), "message": message}))
        await ten_env.return_result(result)
        await send_error(ten_env, MODULE, message, request_id=request_id)


def _cmd_payload(cmd: Cmd) -> dict[str, Any]:
    payload_json, _ = cmd.get_property_to_json()
    try:
        payload = json.loads(payload_json or "{}")
    except ValueError:
        return {}
    return payload if isinstance(payload, dict) else {}


def _delta_payload(reply: ReplyStream, request_id: str, delta: str) -> dict[str, Any]:
    return {
        "response_id": reply.response_id or request_id,
        "type": "message_content_delta",
        "delta": delta,
        "content": reply.content,
        "created": reply.created,
    }


def _done_payload(reply: ReplyStream, request_id: str, finish_reason: str) -> dict[str, Any]:
    return {
        "response_id": reply.response_id or request_id,
        "type": "message_content_done",
        "content": reply.content,
        "finish_reason": finish_reason,
    }
