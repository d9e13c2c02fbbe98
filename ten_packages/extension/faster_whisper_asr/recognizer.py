"""Streaming recognition on top of a one-utterance-at-a-time transcriber: interim and final results.

Why it is shaped like this: the final result sits on the conversation's critical path, while interim
results are a nicety. So the model runs on one worker thread (never two passes at once), an interim
pass starts only when nothing else is queued, an interim whose utterance is gone is skipped, and at the
VAD's end of sentence a pass over the closed speech starts at once, so that `finalize()` usually finds
the final text already computed (or being computed) instead of starting from scratch. That pass is also
published as an interim result the moment it is done: the words at the pause, which the turn detector
reads to tell "Where is the nearest" from a finished question.

The VAD's end of sentence comes some 130-160 ms after the speech ends, so the recognizer also watches
the audio itself: once the frames inside an utterance have been quiet for `pause_hint_ms` and the
worker is idle, it starts that same pass on the audio so far (the "pause pass"). If the end of sentence
then comes with no loud frame after the pass's snapshot, that pass is the sentence-end pass (its text
is published at once, or when it is done); if speech came back first, the pass is stale and dropped.

"Quiet" is judged per frame against the utterance itself, so that it holds for any microphone gain:
a frame is quiet when its RMS is `QUIET_BELOW_PEAK_DB` under the utterance's running speech peak (a
peak hold that decays slowly, so one shout does not make the rest of the sentence "quiet") AND under
the absolute floor `QUIET_FLOOR_DBFS`. The relative test alone would call the soft tail of a word
quiet after a loud word; the absolute one alone would fail on a quiet talker or call a noisy room's
pause speech. Both together only err towards "not quiet", which costs nothing but the head start:
the end-of-sentence pass then runs as before. Any frame that is not quiet counts as loud, so a pause
pass is never used when anything but silence came after it.
"""

from __future__ import annotations

import asyncio
import itertools
import math
import uuid
from collections.abc import Awaitable, Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

import numpy as np

from .transcriber import Transcript, Word
from .utterance_audio import SAMPLE_RATE, UtteranceAudio, ms_to_samples, samples_to_ms

T = TypeVar("T")
# A frame is quiet when it is this far under the utterance's running speech peak ...
QUIET_BELOW_PEAK_DB = 22.0
# ... and under this absolute level (int16 full scale = 0 dBFS; -45 dBFS is an RMS of about 184).
QUIET_FLOOR_DBFS = -45.0
# How fast the running speech peak falls back between loud frames.
PEAK_DECAY_DB_PER_S = 6.0
# Interim passes on less speech than this mostly produce noise.
MIN_INTERIM_AUDIO_MS = 300


class Transcribes(Protocol):
    def transcribe(self, audio: np.ndarray) -> Transcript: ...


@dataclass(frozen=True)
class AsrResult:
    """One `asr_result` of TEN's ASR interface; interim ones have final=False."""

    id: str
    text: str
    final: bool
    start_ms: int
    duration_ms: int
    language: str
    words: list[Word] = field(default_factory=list)
    latency_ms: float = 0.0  # final: finalize request to result; interim: model time

    def payload(self, metadata: dict[str, Any]) -> dict[str, Any]:
        """The `asr_result` data's properties, as TEN's ASR interface names them."""
        return {
            "id": self.id,
            "text": self.text,
            "final": self.final,
            "start_ms": self.start_ms,
            "duration_ms": self.duration_ms,
            "language": self.language,
            "words": [
                {"word": w.word, "start_ms": w.start_ms, "duration_ms": w.duration_ms, "stable": self.final}
                for w in self.words
            ],
            "metadata": metadata,
        }


@dataclass(frozen=True)
class _Pass:
    """One transcription of a snapshot of an utterance's audio."""

    utterance: int
    samples: int
    task: asyncio.Task[Transcript | None]


class StreamingRecognizer:
    """Turns audio, VAD bounds and finalize requests into interim and final `AsrResult`s."""

    def __init__(
        self,
        transcriber: Transcribes,
        on_interim: Callable[[AsrResult], Awaitable[None]],
        on_interim_error: Callable[[Exception], Awaitable[None]],
        language: str,
        interim_interval_ms: int = 1000,
        pre_roll_ms: int = 300,
        max_utterance_ms: int = 60000,
        sentence_end_interim: bool = True,
        pause_hint_ms: int = 48,
    ) -> None:
        self._transcriber = transcriber
        self._on_interim = on_interim
        self._on_interim_error = on_interim_error
        self._language = language
        self._interim_interval_samples = ms_to_samples(interim_interval_ms)
        self._sentence_end_interim = sentence_end_interim
        self._pause_hint_samples = ms_to_samples(pause_hint_ms)  # 0 turns the pause pass off
        self._audio = UtteranceAudio(pre_roll_ms, max_utterance_ms)
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="whisper")
        self._utterances = itertools.count(1)
        self._utterance = next(self._utterances)
        self._utterance_id = uuid.uuid4().hex
        self._latest_pass: _Pass | None = None  # the pass queued last: the worker is busy until it is done
        self._closed_pass: _Pass | None = None  # a pass over all of the utterance's speech, if one exists
        self._interim_covered = 0  # samples the latest interim pass was started on
        self._speaking = False  # between the VAD's start and end of sentence
        self._peak_db: float | None = None  # the utterance's running speech peak (dBFS), once speech came
        self._quiet_samples = 0  # quiet audio since the last loud frame
        self._pause_pass: _Pass | None = None  # a pass started at a quiet stretch, no loud frame since
        self._finalizing = asyncio.Lock()
        self._tasks: set[asyncio.Task] = set()

    @property
    def utterance_audio(self) -> UtteranceAudio:
        return self._audio

    def push_audio(self, samples: np.ndarray, timestamp_ms: int | None = None) -> None:
        """Add captured audio; starts an interim pass when enough new speech has come in."""
        self._audio.append(samples, timestamp_ms)
        if self._pause_hint_samples > 0 and self._speaking:
            self._watch_for_pause(samples)
        if self._interim_interval_samples > 0 and self._audio.is_collecting and self._closed_pass is None:
            self._maybe_start_interim()

    def start_of_sentence(self, speech_start_ms: int | None = None) -> None:
        """The VAD heard speech start (at `speech_start_ms` on the input timeline, if known)."""
        self._audio.open(speech_start_ms)
        self._speaking = True
        self._closed_pass = None  # more speech: an earlier pass no longer covers all of it
        self._pause_pass, self._quiet_samples = None, 0

    def end_of_sentence(self) -> None:
        """The VAD heard speech end: transcribe the closed speech now, ahead of the finalize request, and
        publish the text as an interim result as soon as it is there (unless finalized first).

        A pause pass with nothing but quiet after its snapshot already is that transcription: it is used
        instead (published at once if done, else when it is)."""
        self._speaking = False
        if self._audio.is_open and self._closed_pass is None:
            pause_pass = self._pause_pass
            failed = pause_pass is not None and pause_pass.task.done() and pause_pass.task.exception()
            if pause_pass is not None and not failed:
                self._closed_pass = pause_pass
            else:
                self._closed_pass = self._latest_pass = self._start_pass(keep_if_stale=True)
            self._pause_pass = None
            if self._sentence_end_interim:
                # A failure is reported by the finalize that waits on the same pass, not twice.
                self._track(self._publish_interim(self._closed_pass, report_errors=False))

    async def finalize(self) -> AsrResult:
        """The final result for everything since the last final one; the audio is dropped afterwards."""
        async with self._finalizing:
            loop = asyncio.get_running_loop()
            requested = loop.time()
            utterance_id, closed_pass = self._utterance_id, self._closed_pass or self._pause_pass
            audio, start_ms = self._audio.take()
            self._utterance, self._utterance_id = next(self._utterances), uuid.uuid4().hex
            self._closed_pass, self._interim_covered = None, 0
            self._pause_pass, self._peak_db, self._quiet_samples = None, None, 0
            if self._speaking:  # finalized mid-speech: what the user says next is the next utterance
                self._audio.open()
            if closed_pass is not None:
                transcript = await closed_pass.task
            elif len(audio) == 0:
                transcript = None
            else:
                transcript = await self._run_on_worker(audio, lambda: True)
            return AsrResult(
                id=utterance_id,
                text=transcript.text if transcript else "",
                final=True,
                start_ms=start_ms,
                duration_ms=samples_to_ms(len(audio)),
                language=transcript.language if transcript else self._language,
                words=self._on_timeline(transcript, start_ms),
                latency_ms=(loop.time() - requested) * 1000,
            )

    async def wait_idle(self) -> None:
        """Until every pass and interim result under way is done (for tests and benchmarks)."""
        while self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    def close(self) -> None:
        """Stop the worker thread (a running pass finishes, queued ones are dropped)."""
        for task in self._tasks:
            task.cancel()
        self._worker.shutdown(wait=False, cancel_futures=True)

    def _watch_for_pause(self, samples: np.ndarray) -> None:
        """Track quiet frames inside the utterance; start the pause pass after `pause_hint_ms` of them."""
        level_db = _rms_dbfs(samples)
        frame_s = len(samples) / SAMPLE_RATE
        if self._peak_db is not None:
            self._peak_db -= PEAK_DECAY_DB_PER_S * frame_s
        quiet = (
            self._peak_db is not None
            and level_db < self._peak_db - QUIET_BELOW_PEAK_DB
            and level_db < QUIET_FLOOR_DBFS
        )
        if not quiet:
            if level_db >= QUIET_FLOOR_DBFS and (self._peak_db is None or level_db > self._peak_db):
                self._peak_db = level_db  # only speech-level frames set the peak, not a quiet pre-roll
            self._quiet_samples = 0
            self._pause_pass = None  # speech after its snapshot: that pass no longer covers the pause
            return
        self._quiet_samples += len(samples)
        busy = self._latest_pass is not None and not self._latest_pass.task.done()
        if (
            self._quiet_samples >= self._pause_hint_samples
            and self._pause_pass is None
            and self._closed_pass is None
            and self._audio.is_open
            and not busy
            and (self._latest_pass is None or self._latest_pass.samples < self._audio.sample_count)
        ):
            # Kept even if finalized before it runs: finalize may take it as the closed pass.
            self._pause_pass = self._latest_pass = self._start_pass(keep_if_stale=True)

    def _maybe_start_interim(self) -> None:
        busy = self._latest_pass is not None and not self._latest_pass.task.done()
        new_samples = self._audio.sample_count - self._interim_covered
        if (
            busy
            or self._audio.duration_ms < MIN_INTERIM_AUDIO_MS
            or new_samples < self._interim_interval_samples
        ):
            return
        interim = self._latest_pass = self._start_pass(keep_if_stale=False)
        self._interim_covered = interim.samples
        self._track(self._publish_interim(interim))

    def _start_pass(self, keep_if_stale: bool) -> _Pass:
        """Queue a transcription of the current utterance audio behind whatever the worker is doing."""
        utterance = self._utterance
        audio = self._audio.snapshot().copy()
        # An interim that has not started by the time its utterance is finalized is skipped.
        still_wanted = (lambda: True) if keep_if_stale else (lambda: self._utterance == utterance)
        return _Pass(utterance, len(audio), self._track(self._run_on_worker(audio, still_wanted)))

    def _track(self, coroutine: Coroutine[Any, Any, T]) -> asyncio.Task[T]:
        task = asyncio.get_running_loop().create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _run_on_worker(self, audio: np.ndarray, still_wanted: Callable[[], bool]) -> Transcript | None:
        def run() -> Transcript | None:
            return self._transcriber.transcribe(audio) if still_wanted() else None

        return await asyncio.get_running_loop().run_in_executor(self._worker, run)

    async def _publish_interim(self, interim: _Pass, report_errors: bool = True) -> None:
        try:
            transcript = await interim.task
        except Exception as exc:  # noqa: BLE001  (reported; the final pass gets its own chance)
            if report_errors:
                await self._on_interim_error(exc)
            return
        if transcript is None or interim.utterance != self._utterance or not transcript.text:
            return
        await self._on_interim(
            AsrResult(
                id=self._utterance_id,
                text=transcript.text,
                final=False,
                start_ms=self._audio.start_ms,
                duration_ms=samples_to_ms(interim.samples),
                language=transcript.language,
                words=self._on_timeline(transcript, self._audio.start_ms),
                latency_ms=transcript.elapsed_ms,
            )
        )

    @staticmethod
    def _on_timeline(transcript: Transcript | None, start_ms: int) -> list[Word]:
        if transcript is None:
            return []
        return [Word(w.word, start_ms + w.start_ms, w.duration_ms) for w in transcript.words]


def _rms_dbfs(samples: np.ndarray) -> float:
    """A frame's RMS level in dB relative to int16 full scale (digital silence is -120)."""
    if len(samples) == 0:
        return -120.0
    mean_square = float(np.mean(np.square(samples, dtype=np.float64)))
    return max(-120.0, 10 * math.log10(mean_square / 32768.0**2)) if mean_square > 0 else -120.0
