"""When is the user's turn over: the state machine between VAD pauses, model verdicts and the max pause.

Times are milliseconds on the input timeline (the capture timestamps), so the policy behaves the same
whether audio arrives in real time or as fast as a WAV file can be read.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class TurnState(str, Enum):
    """The verdicts of TEN's turn detection model, and of this extension."""

    FINISHED = "finished"
    UNFINISHED = "unfinished"
    WAIT = "wait"


@dataclass(frozen=True)
class TurnDecision:
    """One `turn_decision` message: what was decided about a turn, and when."""

    turn_id: int
    state: TurnState
    probability: float
    speech_end_ms: int
    decided_ms: int
    forced: bool = False


class _Phase(Enum):
    IDLE = "idle"  # no open turn: the last one finished (or none began)
    SPEAKING = "speaking"
    PAUSED = "paused"  # speech ended; verdict pending or "unfinished": the max pause applies
    WAITING = "waiting"  # verdict "wait": the bot stays quiet until the user speaks again


class TurnPolicy:
    """Turns VAD pauses and model verdicts into turn decisions.

    A verdict arriving after the user has spoken again is stale and dropped. A pause that stays
    unfinished (or undecided) for `max_pause_ms` ends the turn anyway, so a clipped sentence
    never leaves the bot silent forever; a `wait` verdict is never force-ended.
    """

    def __init__(self, max_pause_ms: int) -> None:
        if max_pause_ms <= 0:
            raise ValueError(f"max_pause_ms must be positive, got {max_pause_ms}")
        self.max_pause_ms = max_pause_ms
        self.turn_id = 0
        self._phase = _Phase.IDLE
        self._pause_id = 0
        self._speech_end_ms = 0
        self._last_probability = 0.0

    @property
    def is_idle(self) -> bool:
        """True when no turn is open: the next speech starts a new one."""
        return self._phase is _Phase.IDLE

    @property
    def current_pause_id(self) -> int:
        return self._pause_id

    @property
    def is_paused(self) -> bool:
        """True while a pause awaits its verdict or may still be force-ended."""
        return self._phase is _Phase.PAUSED

    def speech_started(self) -> None:
        """The user speaks: a new turn if the last one finished, else the same turn goes on."""
        if self._phase is _Phase.IDLE:
            self.turn_id += 1
            self._last_probability = 0.0
        self._phase = _Phase.SPEAKING
        self._pause_id += 1

    def speech_ended(self, speech_end_ms: int) -> int:
        """The user paused; returns the id of this pause, to pass back with its verdict."""
        if self._phase is _Phase.IDLE:
            self.turn_id += 1
            self._last_probability = 0.0
        self._phase = _Phase.PAUSED
        self._pause_id += 1
        self._speech_end_ms = speech_end_ms
        return self._pause_id

    def verdict(
        self, pause_id: int, state: TurnState, probability: float, now_ms: int | None
    ) -> TurnDecision | None:
        """Apply a model's verdict on a pause; None if it is stale (the user spoke since, or it was decided).

        `now_ms` None (no audio timeline known) dates the decision at the speech end.
        """
        if pause_id != self._pause_id or self._phase is not _Phase.PAUSED:
            return None
        self._last_probability = probability
        if state is TurnState.FINISHED:
            self._phase = _Phase.IDLE
        elif state is TurnState.WAIT:
            self._phase = _Phase.WAITING
        decided_ms = self._speech_end_ms if now_ms is None else now_ms
        return TurnDecision(self.turn_id, state, probability, self._speech_end_ms, decided_ms)

    def advance(self, now_ms: int) -> TurnDecision | None:
        """Time passes: end an unfinished (or undecided) turn once the pause reaches `max_pause_ms`."""
        if self._phase is not _Phase.PAUSED or now_ms - self._speech_end_ms < self.max_pause_ms:
            return None
        self._phase = _Phase.IDLE
        return TurnDecision(
            self.turn_id, TurnState.FINISHED, self._last_probability, self._speech_end_ms, now_ms, forced=True
        )
