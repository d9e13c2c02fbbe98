"""Streaming chat completions from an OpenAI-compatible server (LM Studio, llama.cpp), with the
first-token timeout, stall detection and retry policy a voice reply needs."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field, fields
from typing import Any

import openai

from .reasoning_filter import ReasoningFilter

# Request fields the extension sets itself; `parameters` and `extra_params` must not override them.
_RESERVED_REQUEST_FIELDS = {"messages", "stream", "stream_options"}


@dataclass(frozen=True)
class LlmSettings:
    """The extension's properties that shape a request (see property.json for the defaults)."""

    base_url: str = "http://localhost:1234/v1"
    api_key: str = "lm-studio"
    model: str = ""
    temperature: float = 0.7
    max_tokens: int = 512
    first_token_timeout_ms: int = 8000
    chunk_timeout_ms: int = 10000
    max_retries: int = 2
    retry_backoff_ms: int = 250
    system_prompt: str = ""
    extra_params: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_properties(cls, properties: dict[str, Any]) -> LlmSettings:
        """Build settings from the extension's property object; unknown keys are ignored.

        Raises TypeError/ValueError naming the property when a value has the wrong type or range.
        """
        values: dict[str, Any] = {}
        for setting in fields(cls):
            if setting.name not in properties:
                continue
            value = properties[setting.name]
            expected = {"str": str, "float": (int, float), "int": int, "dict[str, Any]": dict}[
                str(setting.type)
            ]
            if isinstance(value, bool) or not isinstance(value, expected):
                raise TypeError(f"property '{setting.name}' must be of type {setting.type}, got {value!r}")
            values[setting.name] = float(value) if setting.type == "float" else value
        settings = cls(**values)
        for name in ("max_tokens", "first_token_timeout_ms", "chunk_timeout_ms"):
            if getattr(settings, name) <= 0:
                raise ValueError(f"property '{name}' must be > 0, got {getattr(settings, name)}")
        for name in ("max_retries", "retry_backoff_ms"):
            if getattr(settings, name) < 0:
                raise ValueError(f"property '{name}' must be >= 0, got {getattr(settings, name)}")
        if not settings.base_url.startswith(("http://", "https://")):
            raise ValueError(f"property 'base_url' must be an http(s) URL, got {settings.base_url!r}")
        return settings


class LlmRequestError(Exception):
    """A chat completion failed; `retryable` says whether trying again may help."""

    def __init__(self, message: str, retryable: bool) -> None:
        super().__init__(message)
        self.retryable = retryable


def validate_messages(raw_messages: Any) -> list[dict[str, Any]]:
    """Check the `messages` of a chat_completion cmd; raise TypeError/ValueError saying what is wrong."""
    if not isinstance(raw_messages, list) or not raw_messages:
        raise ValueError("'messages' must be a non-empty array of {role, content} objects")
    for index, message in enumerate(raw_messages):
        if not isinstance(message, dict):
            raise TypeError(f"messages[{index}] must be an object, got {message!r}")
        if message.get("role") not in ("system", "user", "assistant", "tool", "developer"):
            raise ValueError(
                f"messages[{index}].role must be system/user/assistant/tool/developer, got {message.get('role')!r}"
            )
        if not isinstance(message.get("content"), (str, list)):
            raise TypeError(f"messages[{index}].content must be a string or an array of parts")
    return raw_messages


class ChatClient:
    """One AsyncOpenAI client per extension; hands out a `ReplyStream` per request."""

    def __init__(self, settings: LlmSettings) -> None:
        self.settings = settings
        # Timeouts and retries are ours (they must know whether a token was already spoken), so the
        # client's own are only a backstop.
        backstop_s = max(settings.first_token_timeout_ms, settings.chunk_timeout_ms) / 1000 + 5
        self._openai = openai.AsyncOpenAI(
            base_url=settings.base_url, api_key=settings.api_key, max_retries=0, timeout=backstop_s
        )
        self._served_model = settings.model

    def reply(self, messages: list[dict[str, Any]], parameters: dict[str, Any] | None = None) -> ReplyStream:
        """Start describing one streamed reply; nothing is sent until it is iterated."""
        if self.settings.system_prompt and messages[0].get("role") != "system":
            messages = [{"role": "system", "content": self.settings.system_prompt}, *messages]
        return ReplyStream(self, messages, parameters or {})

    async def model_name(self) -> str:
        """The configured model, or (when empty) the first one the server lists, asked once."""
        if not self._served_model:
            models = await self._openai.models.list()
            if not models.data:
                raise LlmRequestError(
                    f"LLM server at {self.settings.base_url} lists no models", retryable=False
                )
            self._served_model = models.data[0].id
        return self._served_model

    async def aclose(self) -> None:
        await self._openai.close()

    def request_body(
        self, model: str, messages: list[dict[str, Any]], parameters: dict[str, Any]
    ) -> dict[str, Any]:
        """Settings, then `extra_params`, then per-request `parameters` (last one wins)."""
        body: dict[str, Any] = {
            "model": model,
            "temperature": self.settings.temperature,
            "max_tokens": self.settings.max_tokens,
            **self.settings.extra_params,
            **parameters,
        }
        for reserved in _RESERVED_REQUEST_FIELDS:
            body.pop(reserved, None)
        return {**body, "messages": messages, "stream": True}

    async def open_stream(self, body: dict[str, Any]) -> openai.AsyncStream:
        """POST the request; known fields go as arguments, anything else (top_k, …) as extra_body."""
        known = {"model", "messages", "stream", "temperature", "max_tokens", "top_p", "stop", "seed"}
        arguments = {key: value for key, value in body.items() if key in known}
        extra_body = {key: value for key, value in body.items() if key not in known}
        return await self._openai.chat.completions.create(**arguments, extra_body=extra_body or None)


class ReplyStream:
    """One streamed reply: iterate for the visible text deltas; afterwards read the outcome and metrics.

    Retries (with exponential backoff) happen only while nothing has been yielded, so a listener never
    hears a reply twice. Cancelling the iterating task closes the HTTP stream at once.
    """

    def __init__(
        self, client: ChatClient, messages: list[dict[str, Any]], parameters: dict[str, Any]
    ) -> None:
        self._client = client
        self._messages = messages
        self._parameters = parameters
        self._started_at = time.monotonic()
        self.response_id = ""
        self.created = 0
        self.content = ""
        self.finish_reason = ""
        self.ttft_ms: float | None = None
        self.token_count = 0
        self._first_token_at = 0.0
        self._last_token_at = 0.0

    @property
    def tokens_per_s(self) -> float | None:
        """Streamed tokens (one per chunk, reasoning included) per second after the first one."""
        elapsed = self._last_token_at - self._first_token_at
        return (self.token_count - 1) / elapsed if self.token_count > 1 and elapsed > 0 else None

    async def __aiter__(self) -> AsyncIterator[str]:
        settings = self._client.settings
        for attempt in range(settings.max_retries + 1):
            try:
                async for delta in self._attempt():
                    yield delta
                return
            except LlmRequestError as error:
                if self.content or not error.retryable or attempt == settings.max_retries:
                    attempts = f" (after {attempt + 1} attempts)" if attempt else ""
                    raise LlmRequestError(f"{error}{attempts}", error.retryable) from error
            await asyncio.sleep(settings.retry_backoff_ms / 1000 * 2**attempt)

    async def _attempt(self) -> AsyncIterator[str]:
        settings = self._client.settings
        loop = asyncio.get_running_loop()
        first_token_deadline = loop.time() + settings.first_token_timeout_ms / 1000
        reasoning = ReasoningFilter()
        tokens_seen = 0
        try:
            async with asyncio.timeout_at(first_token_deadline):
                model = await self._client.model_name()
                stream = await self._client.open_stream(
                    self._client.request_body(model, self._messages, self._parameters)
                )
            async with stream:
                chunks = aiter(stream)
                while True:
                    deadline = (
                        first_token_deadline
                        if tokens_seen == 0
                        else loop.time() + settings.chunk_timeout_ms / 1000
                    )
                    async with asyncio.timeout_at(deadline):
                        chunk = await anext(chunks, None)
                    if chunk is None:
                        break
                    self.response_id = self.response_id or chunk.id or ""
                    self.created = self.created or chunk.created or 0
                    if not chunk.choices:
                        continue
                    choice = chunk.choices[0]
                    raw_text = choice.delta.content or ""
                    if raw_text or _reasoning_text(choice.delta):
                        tokens_seen += 1
                        self._count_token()
                    visible = reasoning.feed(raw_text)
                    if visible:
                        yield self._emit(visible)
                    if choice.finish_reason:
                        self.finish_reason = "length" if choice.finish_reason == "length" else "stop"
            if not self.finish_reason:
                raise LlmRequestError(
                    f"LLM stream from {settings.base_url} ended before the reply was finished "
                    f"(after {tokens_seen} tokens)",
                    retryable=True,
                )
            rest = reasoning.flush()
            if rest:
                yield self._emit(rest)
        except LlmRequestError:
            raise
        except TimeoutError:
            if tokens_seen == 0:
                raise LlmRequestError(
                    f"LLM server at {settings.base_url} sent no first token within {settings.first_token_timeout_ms} ms",
                    retryable=True,
                ) from None
            raise LlmRequestError(
                f"LLM stream from {settings.base_url} stalled: nothing for {settings.chunk_timeout_ms} ms "
                f"after {tokens_seen} tokens",
                retryable=True,
            ) from None
        except openai.APIStatusError as error:
            raise LlmRequestError(
                f"LLM server at {settings.base_url} answered HTTP {error.status_code}: "
                f"{error.message.removeprefix(f'Error code: {error.status_code} - ')}",
                retryable=error.status_code >= 500 or error.status_code == 429,
            ) from error
        except openai.APIConnectionError as error:
            if tokens_seen:
                raise _broken_stream_error(
                    settings.base_url, tokens_seen, error.__cause__ or error
                ) from error
            raise LlmRequestError(
                f"cannot reach LLM server at {settings.base_url}: {error.__cause__ or error}", retryable=True
            ) from error
        except openai.APIError as error:
            raise LlmRequestError(
                f"LLM server at {settings.base_url} reported: {error.message}", True
            ) from error
        except ValueError as error:
            raise LlmRequestError(
                f"LLM server at {settings.base_url} sent a malformed stream: {error}", retryable=True
            ) from error
        except Exception as error:
            # Transport errors in the middle of a stream may also come from the HTTP library unwrapped.
            raise _broken_stream_error(settings.base_url, tokens_seen, error) from error

    def _count_token(self) -> None:
        now = time.monotonic()
        self._first_token_at = self._first_token_at or now
        self._last_token_at = now
        self.token_count += 1

    def _emit(self, visible: str) -> str:
        if self.ttft_ms is None:
            self.ttft_ms = (time.monotonic() - self._started_at) * 1000
        self.content += visible
        return visible


def _broken_stream_error(base_url: str, tokens_seen: int, cause: BaseException) -> LlmRequestError:
    return LlmRequestError(
        f"LLM stream from {base_url} broke after {tokens_seen} tokens: {type(cause).__name__}: {cause}",
        retryable=True,
    )


def _reasoning_text(delta: Any) -> str:
    """Reasoning that servers stream beside the content (LM Studio, DeepSeek, vLLM name it differently)."""
    extra = delta.model_extra or {}
    return extra.get("reasoning_content") or extra.get("reasoning") or ""
