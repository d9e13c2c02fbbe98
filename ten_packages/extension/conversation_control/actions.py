"""What the controller asks its extension to send; the extension turns each into a TEN message."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class SendAsrFinalize:
    """data `asr_finalize`: the user's turn is over, give the final transcript now."""

    finalize_id: str
    timeout_ms: int


@dataclass(frozen=True)
class StartChat:
    """cmd `chat_completion`, streamed."""

    request_id: str
    turn_id: int
    messages: list[dict[str, str]]


@dataclass(frozen=True)
class AbortChat:
    """cmd `abort`: stop generating this reply."""

    request_id: str


@dataclass(frozen=True)
class SendTtsText:
    """data `tts_text_input`: one piece of the reply to speak."""

    request_id: str
    turn_id: int
    text: str
    text_input_end: bool


@dataclass(frozen=True)
class FlushTts:
    """data `tts_flush`: drop all queued text and audio."""

    flush_id: str


@dataclass(frozen=True)
class FlushPlayback:
    """cmd `flush` to the audio I/O; its result tells how much of the reply was heard."""

    request_id: str


@dataclass(frozen=True)
class EmitTranscript:
    """data `transcript`: one utterance for the app's transcript."""

    role: str
    text: str
    turn_id: int
    interrupted: bool
    start_ms: int | None = None
    end_ms: int | None = None


@dataclass(frozen=True)
class EmitTurnLatency:
    """data `turn_latency`: the timing of one turn's stages for the latency ledger."""

    turn_id: int
    stages: list[dict[str, Any]] = field(default_factory=list)


Action = (
    SendAsrFinalize
    | StartChat
    | AbortChat
    | SendTtsText
    | FlushTts
    | FlushPlayback
    | EmitTranscript
    | EmitTurnLatency
)
