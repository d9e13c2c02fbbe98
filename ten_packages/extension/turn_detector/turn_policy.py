"""When is the user's turn over: the state machine between VAD pauses, model verdicts, words and the max pause.

Times are milliseconds on the input timeline (the capture timestamps), so the policy behaves the same
whether audio arrives in real time or as fast as a WAV file can be read.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from .turn_words import Ending, EndingVerdict, judge_ending


class TurnState(str, Enum):
    """The verdicts of TEN's turn detection model, and of this extension."""

    FINISHED = "finished"
    UNFINISHED = "unfinished"
    WAIT = "wait"


@dataclass(frozen=True)
class Reason(str, Enum):
    """What decided: the model (Smart Turn or TEN's text model), the transcript's last words, the max
    pause (an unfinished or undecided pause force-ended), or the VAD's silence alone."""

    MODEL = "model"
    WORDS = "words"
    MAX_PAUSE = "max_pause"
    SILENCE = "silence"


@dataclass(frozen=True)
class TurnDecision:
    """One `turn_decision` message: what was decided about a turn, and when."""

    turn_id: int
    state: TurnState
    probability: float
    speech_end_ms: int
    decided_ms: int
    reason: Reason = Reason.MODEL
    transcript: str = ""  # the text the words were judged on ("" when none was), for logs
    words_rule: str = ""  # the ending that vetoed or weighed in, for logs

    @property
    def forced(self) -> bool:
        return self.reason is Reason.MAX_PAUSE


class _Phase(Enum):
    IDLE = "idle"  # no open turn: the last one finished (or none began)
    SPEAKING = "speaking"
    PAUSED = "paused"  # speech ended; verdict pending or "unfinished": the max pause applies
    WAITING = "waiting"  # verdict "wait": the bot stays quiet until the user speaks again


class TurnPolicy:
    """Turns VAD pauses, model verdicts and transcripts into turn decisions.

    A verdict arriving after the user has spoken again is stale and dropped. A pause that stays
    unfinished (or undecided) for `max_pause_ms` ends the turn anyway, so a clipped sentence
    never leaves the bot silent forever; a `wait` verdict is never force-ended.

    Words (`text_wait_ms` > 0): a "finished" verdict is checked against the transcript of the pause, i.e.
    a transcript covering the audio up to the speech end (the ASR transcribes at the VAD's end of
    sentence). If none has come yet, the verdict is held until it does, or until `text_wait_ms` after
    the VAD's end, when the model decides alone. A transcript whose last words cannot end an utterance
    turns the verdict into "unfinished" (reason words; the max pause still applies); one whose last words
    rarely end one does so unless the probability reaches `sure_threshold`. Until any transcript has
    arrived (no ASR in the graph), nothing is held.
    """

    def __init__(self, max_pause_ms: int, text_wait_ms: int = 0, sure_threshold: float = 1.0) -> None:
        if max_pause_ms <= 0:
            raise ValueError(f"max_pause_ms must be positive, got {max_pause_ms}")
        if not 0 <= text_wait_ms < max_pause_ms:
            raise ValueError(f"text_wait_ms must be >= 0 and below max_pause_ms, got {text_wait_ms}")
        self.max_pause_ms = max_pause_ms
        self.text_wait_ms = text_wait_ms
        self.sure_threshold = sure_threshold
        self.turn_id = 0
        self._phase = _Phase.IDLE
        self._pause_id = 0
        self._speech_end_ms = 0
        self._text_deadline_ms = 0
        self._last_probability = 0.0
        self._held: float | None = None  # the probability of a "finished" held for the transcript
        self._text = ""
        self._text_language = ""
        self._text_end_ms = -1  # input-timeline end of the audio the newest transcript covers
        self._transcripts_seen = False

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

    @property
    def is_holding(self) -> bool:
        """True while a "finished" verdict waits for the transcript of its pause."""
        return self._held is not None

    def speech_started(self) -> None:
        """The user speaks: a new turn if the last one finished, else the same turn goes on."""
        if self._phase is _Phase.IDLE:
            self.turn_id += 1
            self._last_probability = 0.0
        self._phase = _Phase.SPEAKING
        self._pause_id += 1
        self._held = None

    def speech_ended(self, speech_end_ms: int, now_ms: int | None = None) -> int:
        """The user paused (the VAD says so at `now_ms`, default the speech end); returns the id of this
        pause, to pass back with its verdict."""
        if self._phase is _Phase.IDLE:
            self.turn_id += 1
            self._last_probability = 0.0
        self._phase = _Phase.PAUSED
        self._pause_id += 1
        self._speech_end_ms = speech_end_ms
        self._text_deadline_ms = max(speech_end_ms, now_ms or speech_end_ms) + self.text_wait_ms
        self._held = None
        return self._pause_id

    def transcript(self, text: str, language: str, end_ms: int, now_ms: int | None) -> TurnDecision | None:
        """A transcript of the user's speech up to `end_ms` (input timeline; interim or final).

        Returns the decision on a held "finished" verdict once this transcript covers the pause.
        """
        if not text.strip():
            return None
        self._transcripts_seen = True
        if end_ms >= self._text_end_ms:
            self._text, self._text_language, self._text_end_ms = text.strip(), language, end_ms
        if self._held is not None and self._has_pause_text():
            return self._judge_words(self._held, now_ms)
        return None

    def verdict(
        self,
        pause_id: int,
        state: TurnState,
        probability: float,
        now_ms: int | None,
        reason: Reason = Reason.MODEL,
    ) -> TurnDecision | None:
        """Apply a model's verdict on a pause; None if it is stale (the user spoke since, or it was
        decided) or held for the pause's transcript.

        `now_ms` None (no audio timeline known) dates the decision at the speech end.
        """
        if pause_id != self._pause_id or self._phase is not _Phase.PAUSED or self._held is not None:
            return None
        self._last_probability = probability
        if state is TurnState.FINISHED and self.text_wait_ms > 0 and self._transcripts_seen:
            if self._has_pause_text():
                return self._judge_words(probability, now_ms)
            if now_ms is not None and now_ms < self._text_deadline_ms:
                self._held = probability
                return None
        return self._decide(state, probability, now_ms, reason)

    def advance(self, now_ms: int) -> TurnDecision | None:
        """Time passes: a held verdict is decided on the model alone once the wait for words is over; an
        unfinished (or undecided) turn ends once the pause reaches `max_pause_ms`."""
        if self._phase is not _Phase.PAUSED:
            return None
        if self._held is not None and now_ms >= self._text_deadline_ms:
            probability, self._held = self._held, None
            return self._decide(TurnState.FINISHED, probability, now_ms, Reason.MODEL)
        if now_ms - self._speech_end_ms < self.max_pause_ms:
            return None
        self._held = None
        return self._decide(TurnState.FINISHED, self._last_probability, now_ms, Reason.MAX_PAUSE)

    def _has_pause_text(self) -> bool:
        return self._text_end_ms >= self._speech_end_ms

    def _judge_words(self, probability: float, now_ms: int | None) -> TurnDecision:
        self._held = None
        words = judge_ending(self._text, self._text_language)
        vetoed = words.ending is Ending.CANNOT_END or (
            words.ending is Ending.RARELY_ENDS and probability < self.sure_threshold
        )
        state = TurnState.UNFINISHED if vetoed else TurnState.FINISHED
        return self._decide(state, probability, now_ms, Reason.WORDS if vetoed else Reason.MODEL, words)

    def _decide(
        self,
        state: TurnState,
        probability: float,
        now_ms: int | None,
        reason: Reason,
        words: EndingVerdict | None = None,
    ) -> TurnDecision:
        if state is TurnState.FINISHED:
            self._phase = _Phase.IDLE
        elif state is TurnState.WAIT:
            self._phase = _Phase.WAITING
        decided_ms = self._speech_end_ms if now_ms is None else now_ms
        return TurnDecision(
            self.turn_id,
            state,
            probability,
            self._speech_end_ms,
            decided_ms,
            reason,
            transcript=self._text if words is not None else "",
            words_rule=words.rule if words is not None else "",
        )
