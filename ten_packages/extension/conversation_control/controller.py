"""The conversation's state machine: whose turn it is, and what to send when that changes.

Plain Python with no TEN imports: each `on_*` method takes one event from the graph and returns the
actions (see `actions.py`) the extension must send, in order. Time comes from an injected clock.
"""

from __future__ import annotations

import enum
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from ten_packages.system.voice_kit.text import StreamingClauseSplitter, clean_for_speech

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
from .history import ChatHistory, HistoryEntry, join_speech
from .latency import TurnLatency
from .spoken_text import SpokenTextTracker, TimedText


def wall_clock_ms() -> int:
    return int(time.time() * 1000)


class State(enum.Enum):
    IDLE = "idle"
    USER_SPEAKING = "user_speaking"
    THINKING = "thinking"
    BOT_SPEAKING = "bot_speaking"


@dataclass(frozen=True)
class ControlConfig:
    system_prompt: str = (
        "You are a helpful voice assistant. Always answer in English, in one or two short spoken sentences, "
        "without lists or markdown."
    )
    warm_up_llm: bool = True
    max_history_turns: int = 8
    max_history_chars: int = 4000
    apology_text: str = "Sorry, I can't answer right now. Please try again in a moment."
    first_clause_min_words: int = 1
    first_clause_max_words: int = 6
    max_clause_chars: int = 200
    use_turn_detector: bool = True
    asr_finalize_timeout_ms: int = 2000
    speculative_llm: bool = False
    speculative_min_probability: float = 0.8

    def validate(self) -> None:
        """Raise ValueError naming the first setting out of range."""
        if self.max_history_turns < 1 or self.max_history_chars < 1:
            raise ValueError("max_history_turns and max_history_chars must be at least 1")
        if not 1 <= self.first_clause_min_words <= self.first_clause_max_words:
            raise ValueError("need 1 <= first_clause_min_words <= first_clause_max_words")
        if self.max_clause_chars < 20:
            raise ValueError("max_clause_chars must be at least 20")
        if self.asr_finalize_timeout_ms < 1:
            raise ValueError("asr_finalize_timeout_ms must be positive")
        if not 0 <= self.speculative_min_probability <= 1:
            raise ValueError("speculative_min_probability must be within 0..1")
        if not self.apology_text.strip():
            raise ValueError("apology_text must not be empty")


@dataclass(frozen=True)
class TurnDecision:
    """A `turn_decision` from the turn detector (`*_ms` on the input timeline except wall_ms)."""

    state: str
    probability: float
    speech_end_ms: int
    decided_ms: int
    wall_ms: int


@dataclass
class UserTurn:
    """What the user said in the current turn, across pauses and ASR segments."""

    turn_id: int
    start_ms: int
    end_ms: int | None = None
    last_speech_start_ms: int = 0
    final_texts: list[str] = field(default_factory=list)
    interim_text: str = ""
    finalize_id: str | None = None
    finalize_count: int = 0

    def text(self, include_interim: bool = False) -> str:
        text = ""
        for piece in self.final_texts + ([self.interim_text] if include_interim else []):
            text = join_speech(text, piece)
        return text


@dataclass
class Reply:
    """One bot reply: an LLM request, the pieces sent to TTS, and what became of its audio."""

    request_id: str
    turn_id: int
    user_text: str
    latency: TurnLatency
    speculative: bool
    history_entry: HistoryEntry | None = None
    held_pieces: list[str] = field(default_factory=list)
    spoken: SpokenTextTracker = field(default_factory=SpokenTextTracker)
    first_token_wall_ms: int | None = None
    llm_done: bool = False
    input_end_sent: bool = False
    tts_done: bool = False
    audio_started: bool = False
    playback_start_ms: int | None = None
    playback_start_wall_ms: int | None = None


def _normalized(text: str) -> str:
    """Text compared for speculation: case, punctuation and spacing do not matter."""
    return " ".join(re.sub(r"[^\w\s]", " ", text.lower()).split())


class ConversationController:
    """idle → user_speaking → thinking → bot_speaking → idle, with barge-in from thinking and bot_speaking.

    * The VAD opens a user turn; the turn detector's "finished" decision (or the VAD's end of speech
      when `use_turn_detector` is off) ends it: `asr_finalize`, then on `asr_finalize_end` the final
      text goes to the LLM with the bounded history; an empty transcript goes back to idle.
    * The reply streams through the clause splitter into `tts_text_input`, one request id per reply,
      `text_input_end` on the last piece; an LLM failure is answered with a spoken apology.
    * Speech start while thinking or speaking is a barge-in: abort the LLM, flush TTS and playback,
      and cut the bot's message in history to what was heard.
    * With `speculative_llm`, a confident "finished" decision starts the LLM on the interim
      transcript at once; its pieces are held until the final transcript confirms the text.
    """

    def __init__(self, config: ControlConfig, clock: Callable[[], int] = wall_clock_ms) -> None:
        self.config = config
        self.clock = clock
        self.state = State.IDLE
        self.history = ChatHistory(config.max_history_turns, config.max_history_chars)
        self._splitter = StreamingClauseSplitter(
            config.first_clause_min_words, config.first_clause_max_words, config.max_clause_chars
        )
        self._turn_count = 0
        self._request_count = 0
        self._turn: UserTurn | None = None
        self._latency: TurnLatency | None = None
        self._reply: Reply | None = None
        # Interrupted replies waiting to learn how much of them was played.
        self._interrupted: dict[str, Reply] = {}

    # --- listening -------------------------------------------------------------------------------

    def on_start_of_sentence(self, timestamp_ms: int, wall_ms: int | None = None) -> list[Action]:
        actions: list[Action] = []
        if self.state != State.IDLE and self._turn is not None:
            # Still the user's turn (its transcript is not final yet): the user goes on speaking.
            actions += self._drop_speculative_reply()
            self._turn.last_speech_start_ms = timestamp_ms
            self._turn.end_ms = None
            self.state = State.USER_SPEAKING
            return actions
        if self._reply is not None:
            actions += self._interrupt_reply()
        self._turn_count += 1
        self._turn = UserTurn(self._turn_count, start_ms=timestamp_ms, last_speech_start_ms=timestamp_ms)
        self._latency = TurnLatency(self._turn_count)
        self.state = State.USER_SPEAKING
        return actions

    def on_end_of_sentence(self, timestamp_ms: int, wall_ms: int | None = None) -> list[Action]:
        if self.state != State.USER_SPEAKING or self._turn is None or self._latency is None:
            return []
        self._turn.end_ms = timestamp_ms
        self._latency = TurnLatency(self._turn.turn_id)
        self._latency.record("user_speech_end", input_ms=timestamp_ms)
        self._latency.record("vad_end", wall_ms=wall_ms if wall_ms is not None else self.clock())
        if not self.config.use_turn_detector:
            return self._end_user_turn(None)
        return []

    def on_turn_decision(self, decision: TurnDecision) -> list[Action]:
        if self.state != State.USER_SPEAKING or self._turn is None or self._latency is None:
            return []
        if decision.state != "finished" or decision.speech_end_ms < self._turn.last_speech_start_ms:
            return []  # not over yet, or about a pause the user has since spoken through
        if self._turn.end_ms is None:
            self._turn.end_ms = decision.speech_end_ms
            self._latency.record("user_speech_end", input_ms=decision.speech_end_ms)
        self._latency.record("turn_decision", wall_ms=decision.wall_ms, input_ms=decision.decided_ms)
        return self._end_user_turn(decision)

    def on_asr_result(self, text: str, final: bool) -> list[Action]:
        turn = self._turn
        if turn is None:
            return []
        if final:
            if text.strip():
                turn.final_texts.append(text.strip())
            turn.interim_text = ""
        else:
            turn.interim_text = text.strip()
        return []

    def on_asr_finalize_end(self, finalize_id: str) -> list[Action]:
        turn = self._turn
        if self.state == State.THINKING and turn is not None and turn.finalize_id == finalize_id:
            return self._answer_turn()
        return []

    def on_asr_finalize_timeout(self, finalize_id: str) -> list[Action]:
        """The ASR never confirmed the finalize: answer with the transcript so far rather than hang."""
        return self.on_asr_finalize_end(finalize_id)

    def _end_user_turn(self, decision: TurnDecision | None) -> list[Action]:
        turn = self._turn
        assert turn is not None
        turn.finalize_count += 1
        turn.finalize_id = f"turn-{turn.turn_id}-{turn.finalize_count}"
        self.state = State.THINKING
        actions: list[Action] = [SendAsrFinalize(turn.finalize_id, self.config.asr_finalize_timeout_ms)]
        speculative_text = turn.text(include_interim=True)
        if (
            self.config.speculative_llm
            and decision is not None
            and decision.probability >= self.config.speculative_min_probability
            and speculative_text
        ):
            actions += self._start_reply(speculative_text, speculative=True)
        return actions

    def _answer_turn(self) -> list[Action]:
        turn, latency = self._turn, self._latency
        assert turn is not None and latency is not None
        latency.record("asr_final", wall_ms=self.clock())
        text = turn.text()
        self._turn = None
        if not text:
            actions = self._drop_speculative_reply()
            self.state = State.IDLE
            return actions
        actions: list[Action] = [
            EmitTranscript("user", text, turn.turn_id, False, start_ms=turn.start_ms, end_ms=turn.end_ms)
        ]
        reply = self._reply
        if reply is not None and reply.speculative and _normalized(reply.user_text) == _normalized(text):
            self.history.add("user", text)
            reply.history_entry = self.history.add("assistant", reply.spoken.full_text())
            reply.speculative = False
            if reply.first_token_wall_ms is not None:
                reply.latency.record("llm_first_token", wall_ms=reply.first_token_wall_ms)
            return actions + self._release_held_pieces(reply)
        actions += self._drop_speculative_reply()
        self.history.add("user", text)
        actions += self._start_reply(text, speculative=False)
        return actions

    # --- thinking --------------------------------------------------------------------------------

    def _start_reply(self, user_text: str, speculative: bool) -> list[Action]:
        assert self._latency is not None
        self._request_count += 1
        turn_id = self._latency.turn_id
        request_id = f"reply-{turn_id}-{self._request_count}"
        messages = self.history.messages(self.config.system_prompt, user_text if speculative else None)
        self._reply = Reply(request_id, turn_id, user_text, self._latency, speculative)
        if not speculative:
            self._reply.history_entry = self.history.add("assistant", "")
        self._splitter.reset()
        self.state = State.THINKING
        return [StartChat(request_id, turn_id, messages)]

    def _release_held_pieces(self, reply: Reply) -> list[Action]:
        """A speculative reply was confirmed: send what it has generated so far."""
        held, reply.held_pieces = reply.held_pieces, []
        if not reply.llm_done:
            return [self._tts_piece(reply, piece, end=False) for piece in held]
        if not held:
            return self._end_reply_text(reply, "")
        reply.input_end_sent = True
        return [self._tts_piece(reply, piece, end=i == len(held) - 1) for i, piece in enumerate(held)]

    def _drop_speculative_reply(self) -> list[Action]:
        reply = self._reply
        if reply is None or not reply.speculative:
            return []
        self._reply = None
        self._splitter.reset()
        return [] if reply.llm_done else [AbortChat(reply.request_id)]

    def _current(self, request_id: str) -> Reply | None:
        reply = self._reply
        return reply if reply is not None and reply.request_id == request_id else None

    def on_llm_delta(self, request_id: str, delta: str) -> list[Action]:
        reply = self._current(request_id)
        if reply is None or reply.llm_done:
            return []
        if reply.first_token_wall_ms is None:
            reply.first_token_wall_ms = self.clock()
            if not reply.speculative:  # a speculative reply's timing counts only once it is confirmed
                reply.latency.record("llm_first_token", wall_ms=reply.first_token_wall_ms)
        return [action for piece in self._splitter.push(delta) for action in self._send_piece(reply, piece)]

    def on_llm_done(self, request_id: str) -> list[Action]:
        reply = self._current(request_id)
        if reply is None or reply.llm_done:
            return []
        reply.llm_done = True
        rest = clean_for_speech(self._splitter.flush())
        if reply.speculative:
            if rest:
                reply.held_pieces.append(rest)
                reply.spoken.add_sent_text(rest)
            return []
        return self._end_reply_text(reply, rest)

    def on_llm_error(self, request_id: str, message: str) -> list[Action]:
        """The LLM failed: say the apology instead (after whatever was already said)."""
        reply = self._current(request_id)
        if reply is None or reply.llm_done:
            return []
        reply.llm_done = True
        self._splitter.reset()
        if reply.speculative:
            self._reply = None  # the final transcript will start a normal request
            return []
        return self._end_reply_text(reply, self.config.apology_text)

    def _send_piece(self, reply: Reply, piece: str) -> list[Action]:
        text = clean_for_speech(piece)
        if not text:
            return []
        reply.spoken.add_sent_text(text)
        if reply.speculative:
            reply.held_pieces.append(text)
            return []
        return [self._tts_piece(reply, text, end=False)]

    def _tts_piece(self, reply: Reply, text: str, end: bool) -> SendTtsText:
        if not reply.latency.has("first_clause_sent"):
            reply.latency.record("first_clause_sent", wall_ms=self.clock())
        if reply.history_entry is not None:
            reply.history_entry.content = reply.spoken.full_text()
        return SendTtsText(reply.request_id, reply.turn_id, text, end)

    def _end_reply_text(self, reply: Reply, rest: str) -> list[Action]:
        """Send the last piece with text_input_end; a reply with nothing to say ends the turn at once."""
        if rest:
            reply.spoken.add_sent_text(rest)
        if not reply.spoken.sent_texts:
            if reply.history_entry is not None:
                reply.history_entry.content = ""
            self._reply = None
            self.state = State.IDLE
            return self._emit_latency(reply)
        reply.input_end_sent = True
        return [self._tts_piece(reply, rest, end=True)]

    # --- speaking --------------------------------------------------------------------------------

    def on_tts_audio_start(self, request_id: str) -> list[Action]:
        reply = self._current(request_id)
        if reply is None or reply.speculative:
            return []
        reply.audio_started = True
        reply.latency.record("tts_first_audio", wall_ms=self.clock())
        if self.state == State.THINKING:
            self.state = State.BOT_SPEAKING
        return []

    def on_tts_audio_end(self, request_id: str) -> list[Action]:
        reply = self._current(request_id)
        if reply is not None and reply.input_end_sent:
            reply.tts_done = True
        return []

    def on_tts_text_result(self, request_id: str, timed_text: TimedText) -> list[Action]:
        reply = self._current(request_id) or self._interrupted.get(request_id)
        if reply is not None:
            reply.spoken.add_timed_text(timed_text)
        return []

    def on_playback_start(self, request_id: str, timestamp_ms: int | None) -> list[Action]:
        reply = self._current(request_id)
        if reply is None or reply.speculative or reply.playback_start_wall_ms is not None:
            return []
        reply.audio_started = True
        reply.playback_start_ms = timestamp_ms
        reply.playback_start_wall_ms = self.clock()
        reply.latency.record(
            "first_sample_played", wall_ms=reply.playback_start_wall_ms, input_ms=timestamp_ms
        )
        if self.state == State.THINKING:
            self.state = State.BOT_SPEAKING
        return self._emit_latency(reply)

    def on_playback_end(self, request_id: str, played_ms: int, interrupted: bool) -> list[Action]:
        if request_id in self._interrupted:
            return self._settle_interrupted(request_id, played_ms)
        reply = self._current(request_id)
        if reply is None or not reply.tts_done:
            return []  # a gap in the audio of a reply that is still being generated or synthesized
        self._reply = None
        self.state = State.IDLE
        text = reply.spoken.full_text() if not interrupted else reply.spoken.heard_text(played_ms)
        if reply.history_entry is not None:
            reply.history_entry.content = text
        return self._emit_latency(reply) + [self._bot_transcript(reply, text, played_ms, interrupted)]

    def on_playback_flushed(self, request_id: str, played_ms: int | None) -> list[Action]:
        """The audio I/O's answer to `flush`: how much was heard (None if it could not say)."""
        if request_id not in self._interrupted:
            return []
        return self._settle_interrupted(request_id, played_ms)

    def _interrupt_reply(self) -> list[Action]:
        reply = self._reply
        assert reply is not None
        self._reply = None
        self._splitter.reset()
        actions: list[Action] = [] if reply.llm_done else [AbortChat(reply.request_id)]
        actions += [FlushTts(f"flush-{reply.request_id}"), FlushPlayback(reply.request_id)]
        self._interrupted[reply.request_id] = reply
        # Until the audio I/O says how much was heard, history holds the best estimate.
        if reply.history_entry is not None:
            reply.history_entry.content = reply.spoken.heard_text(self._estimated_played_ms(reply))
        return actions

    def _estimated_played_ms(self, reply: Reply) -> int:
        if reply.playback_start_wall_ms is None:
            return 0
        return max(0, self.clock() - reply.playback_start_wall_ms)

    def _settle_interrupted(self, request_id: str, played_ms: int | None) -> list[Action]:
        reply = self._interrupted.pop(request_id)
        if played_ms is None:
            played_ms = self._estimated_played_ms(reply)
        text = reply.spoken.heard_text(played_ms)
        if reply.history_entry is not None:
            reply.history_entry.content = text
        actions = self._emit_latency(reply)
        if text:
            actions.append(self._bot_transcript(reply, text, played_ms, interrupted=True))
        return actions

    def _bot_transcript(self, reply: Reply, text: str, played_ms: int, interrupted: bool) -> EmitTranscript:
        start = reply.playback_start_ms
        end = start + played_ms if start is not None else None
        return EmitTranscript("assistant", text, reply.turn_id, interrupted, start_ms=start, end_ms=end)

    def _emit_latency(self, reply: Reply) -> list[Action]:
        if reply.latency.emitted:
            return []
        reply.latency.emitted = True
        return [EmitTurnLatency(reply.turn_id, reply.latency.stages())]
