"""StreamingRecognizer with the real tiny.en model: interim and final results, utterance bounds, faults."""

from __future__ import annotations

import asyncio
import threading

import jiwer
import numpy as np
import pytest

from ten_packages.extension.faster_whisper_asr.recognizer import AsrResult, StreamingRecognizer
from ten_packages.extension.faster_whisper_asr.tests.transcript_words import words_of
from ten_packages.extension.faster_whisper_asr.transcriber import Transcript, UtteranceTranscriber
from ten_packages.system.voice_kit.testing.speech import silence, synthesize_speech

FRAME = 160
LONG_SENTENCE = "I would like to book a table for two people tomorrow evening at the Italian place."


class CountingTranscriber:
    """The real transcriber, counting its passes; optionally held at the start of a pass or failing."""

    def __init__(self, real: UtteranceTranscriber) -> None:
        self.real = real
        self.calls = 0
        self.hold = threading.Event()
        self.hold.set()
        self.fail_with: Exception | None = None

    def transcribe(self, audio: np.ndarray) -> Transcript:
        self.calls += 1
        self.hold.wait(timeout=30)
        if self.fail_with is not None:
            raise self.fail_with
        return self.real.transcribe(audio)


class Session:
    """Feeds a recognizer frame by frame on a running clock, collecting interim results and failures."""

    def __init__(
        self,
        transcriber: CountingTranscriber,
        interim_interval_ms: int = 1000,
        sentence_end_interim: bool = True,
        pause_hint_ms: int = 48,
    ) -> None:
        self.interims: list[AsrResult] = []
        self.interims_at: list[float] = []  # loop time each interim arrived
        self.interim_errors: list[Exception] = []
        self.recognizer = StreamingRecognizer(
            transcriber,
            self._collect,
            self._collect_error,
            language="en",
            interim_interval_ms=interim_interval_ms,
            pre_roll_ms=200,
            sentence_end_interim=sentence_end_interim,
            pause_hint_ms=pause_hint_ms,
        )
        self.clock_ms = 0

    async def _collect(self, result: AsrResult) -> None:
        self.interims.append(result)
        self.interims_at.append(asyncio.get_running_loop().time())

    async def _collect_error(self, error: Exception) -> None:
        self.interim_errors.append(error)

    async def play(self, audio: np.ndarray, pace_s: float = 0.0) -> None:
        audio = np.pad(audio, (0, -len(audio) % FRAME))  # whole 10 ms frames, as a capture device sends
        for start in range(0, len(audio), FRAME):
            self.recognizer.push_audio(audio[start : start + FRAME], self.clock_ms)
            self.clock_ms += 10
            await asyncio.sleep(pace_s)


def word_error_rate(reference: str, hypothesis: str) -> float:
    return jiwer.wer(" ".join(words_of(reference)), " ".join(words_of(hypothesis)) or "<empty>")


@pytest.fixture
def counting(tiny_en: UtteranceTranscriber) -> CountingTranscriber:
    return CountingTranscriber(tiny_en)


def test_interim_results_while_speaking_then_one_final(counting: CountingTranscriber) -> None:
    async def scenario() -> AsrResult:
        session = Session(counting)
        await session.play(silence(500))
        session.recognizer.start_of_sentence(speech_start_ms=500)
        await session.play(synthesize_speech(LONG_SENTENCE), pace_s=0.003)
        await session.play(silence(300))
        session.recognizer.end_of_sentence()
        final = await session.recognizer.finalize()
        assert session.recognizer.utterance_audio.duration_ms == 0  # the audio went with the final result
        assert session.interims, "no interim result while speaking"
        assert all(not r.final and r.id == final.id and r.text for r in session.interims)
        first_words = words_of(session.interims[0].text)
        assert first_words and first_words[0] in words_of(LONG_SENTENCE)
        return final

    final = asyncio.run(scenario())
    assert final.final and final.language == "en"
    assert word_error_rate(LONG_SENTENCE, final.text) <= 0.2, final.text
    assert final.start_ms == 300  # VAD start minus 200 ms pre-roll


def test_final_reuses_the_pass_started_at_end_of_sentence(counting: CountingTranscriber) -> None:
    async def scenario() -> tuple[AsrResult, int]:
        session = Session(counting, interim_interval_ms=0)
        session.recognizer.start_of_sentence()
        await session.play(synthesize_speech("Play some relaxing music."))
        session.recognizer.end_of_sentence()
        await session.recognizer.wait_idle()
        await session.play(silence(400))  # the turn detector takes its time; only silence comes in
        final = await session.recognizer.finalize()
        return final, counting.calls

    final, calls = asyncio.run(scenario())
    assert calls == 1
    assert words_of(final.text) == ["play", "some", "relaxing", "music"]
    assert final.duration_ms >= 1400  # the final result covers the trailing silence too


def test_the_end_of_sentence_pass_is_published_at_once_as_an_interim(counting: CountingTranscriber) -> None:
    """The words at the pause, for the turn detector: published when the pass is done, before any finalize."""

    async def scenario() -> tuple[Session, AsrResult, float, int]:
        session = Session(counting, interim_interval_ms=0)
        await session.play(silence(300))
        session.recognizer.start_of_sentence(speech_start_ms=300)
        await session.play(synthesize_speech("Where is the nearest"))
        speech_end_ms = session.clock_ms
        await session.play(silence(150))
        session.recognizer.end_of_sentence()
        ended_at = asyncio.get_running_loop().time()
        async with asyncio.timeout(10):
            while not session.interims:
                await asyncio.sleep(0.005)
        waited_s = session.interims_at[0] - ended_at
        final = await session.recognizer.finalize()
        return session, final, waited_s, speech_end_ms

    session, final, waited_s, speech_end_ms = asyncio.run(scenario())
    [interim] = session.interims
    assert not interim.final and interim.id == final.id and interim.text == final.text
    assert words_of(interim.text)[-2:] == ["the", "nearest"], interim.text
    assert interim.start_ms + interim.duration_ms >= speech_end_ms  # it covers the pause
    assert counting.calls == 1 and waited_s < 2.0  # one pass serves both; no finalize needed to see it


def test_the_end_of_sentence_interim_can_be_turned_off(counting: CountingTranscriber) -> None:
    async def scenario() -> Session:
        session = Session(counting, interim_interval_ms=0, sentence_end_interim=False)
        session.recognizer.start_of_sentence()
        await session.play(synthesize_speech("Play some relaxing music."))
        session.recognizer.end_of_sentence()
        await session.recognizer.wait_idle()
        await session.recognizer.finalize()
        return session

    assert asyncio.run(scenario()).interims == []


def test_speech_after_an_end_of_sentence_joins_the_same_final(counting: CountingTranscriber) -> None:
    async def scenario() -> AsrResult:
        session = Session(counting, interim_interval_ms=0)
        session.recognizer.start_of_sentence()
        await session.play(synthesize_speech("Turn on the lights."))
        session.recognizer.end_of_sentence()
        await session.play(silence(300))
        session.recognizer.start_of_sentence()  # the user went on: the pass above is no longer complete
        await session.play(synthesize_speech("And close the window."))
        session.recognizer.end_of_sentence()
        return await session.recognizer.finalize()

    final = asyncio.run(scenario())
    assert word_error_rate("Turn on the lights. And close the window.", final.text) <= 0.2, final.text


def test_speech_after_a_finalize_in_mid_sentence_makes_the_next_utterance(
    counting: CountingTranscriber,
) -> None:
    async def scenario() -> tuple[AsrResult, AsrResult]:
        session = Session(counting, interim_interval_ms=0)
        session.recognizer.start_of_sentence()
        await session.play(synthesize_speech("Turn on the lights."))
        first = await session.recognizer.finalize()  # e.g. the controller gave up waiting
        await session.play(np.concatenate([silence(300), synthesize_speech("And close the window.")]))
        session.recognizer.end_of_sentence()
        return first, await session.recognizer.finalize()

    first, second = asyncio.run(scenario())
    assert word_error_rate("Turn on the lights.", first.text) <= 0.25, first.text
    assert word_error_rate("And close the window.", second.text) <= 0.25, second.text


def test_without_vad_finalize_transcribes_everything_since_the_last_final(
    counting: CountingTranscriber,
) -> None:
    async def scenario() -> tuple[AsrResult, AsrResult]:
        session = Session(counting, interim_interval_ms=0)
        await session.play(
            np.concatenate([silence(300), synthesize_speech("What time is it?"), silence(300)])
        )
        first = await session.recognizer.finalize()
        return first, await session.recognizer.finalize()

    first, second = asyncio.run(scenario())
    assert words_of(first.text) == ["what", "time", "is", "it"]
    assert (first.start_ms, second.text, second.duration_ms) == (0, "", 0)
    assert first.id != second.id


def test_an_interim_outlived_by_its_utterance_is_not_published(counting: CountingTranscriber) -> None:
    async def scenario() -> tuple[Session, AsrResult]:
        session = Session(counting, interim_interval_ms=500)
        session.recognizer.start_of_sentence()
        counting.hold.clear()  # the first interim pass is stuck in the model
        await session.play(synthesize_speech("Please read me the news."))
        finalizing = asyncio.get_running_loop().create_task(session.recognizer.finalize())
        await asyncio.sleep(0.05)
        counting.hold.set()
        final = await finalizing
        await session.recognizer.wait_idle()
        return session, final

    session, final = asyncio.run(scenario())
    assert session.interims == []
    assert counting.calls == 2  # the stuck interim, then the final pass
    assert "news" in words_of(final.text)


def test_a_failing_model_fails_one_finalize_and_the_next_one_works(counting: CountingTranscriber) -> None:
    async def scenario() -> AsrResult:
        session = Session(counting, interim_interval_ms=0)
        await session.play(synthesize_speech("Hello there."))
        counting.fail_with = RuntimeError("model exploded")
        with pytest.raises(RuntimeError, match="model exploded"):
            await session.recognizer.finalize()
        counting.fail_with = None
        await session.play(np.concatenate([silence(200), synthesize_speech("What time is it?")]))
        return await session.recognizer.finalize()

    assert words_of(asyncio.run(scenario()).text) == ["what", "time", "is", "it"]


def test_a_failing_interim_pass_is_reported_and_the_final_still_comes(counting: CountingTranscriber) -> None:
    async def scenario() -> tuple[Session, AsrResult]:
        session = Session(counting, interim_interval_ms=500)
        session.recognizer.start_of_sentence()
        counting.fail_with = RuntimeError("out of memory")
        await session.play(synthesize_speech("Open the garage door."))
        await session.recognizer.wait_idle()
        counting.fail_with = None
        session.recognizer.end_of_sentence()
        return session, await session.recognizer.finalize()

    session, final = asyncio.run(scenario())
    assert session.interim_errors and {str(error) for error in session.interim_errors} == {"out of memory"}
    assert session.interims == []
    assert "garage" in words_of(final.text)


REAL_TIME_S = 0.01  # one 10 ms frame per 10 ms, as captured


async def _sentence_end_text_delay(session: Session, counting: CountingTranscriber) -> tuple[float, int]:
    """Speech, then 150 ms of silence in real time (as long as a VAD takes to call the end), then the
    end of sentence; returns how long after it the sentence-end text came, and the passes run by then."""
    await session.play(silence(300))
    session.recognizer.start_of_sentence(speech_start_ms=300)
    await session.play(synthesize_speech("Where is the nearest"))
    await session.play(silence(150), pace_s=REAL_TIME_S)
    passes_at_end = counting.calls
    session.recognizer.end_of_sentence()
    ended_at = asyncio.get_running_loop().time()
    async with asyncio.timeout(10):
        while not session.interims:
            await asyncio.sleep(0.002)
    return session.interims_at[0] - ended_at, passes_at_end


def test_the_pause_pass_publishes_the_sentence_end_text_sooner(counting: CountingTranscriber) -> None:
    """Quiet frames start the pass before the VAD's end of sentence, which then only publishes it."""

    async def scenario(pause_hint_ms: int) -> tuple[float, int, Session, AsrResult]:
        session = Session(counting, interim_interval_ms=0, pause_hint_ms=pause_hint_ms)
        counting.calls = 0
        delay_s, passes_at_end = await _sentence_end_text_delay(session, counting)
        final = await session.recognizer.finalize()
        assert counting.calls == 1  # the one pass served the sentence-end text and the final result
        return delay_s, passes_at_end, session, final

    asyncio.run(scenario(0))  # warm the model up so that both timed runs are alike
    without_hint_s, passes_without_hint, _, _ = asyncio.run(scenario(0))
    with_hint_s, passes_with_hint, session, final = asyncio.run(scenario(48))
    assert passes_without_hint == 0 and passes_with_hint == 1  # the pass started during the silence
    [interim] = session.interims
    assert words_of(interim.text)[-2:] == ["the", "nearest"], interim.text
    assert interim.text == final.text and interim.id == final.id
    assert with_hint_s < without_hint_s - 0.03, (with_hint_s, without_hint_s)


def test_speech_resuming_after_a_pause_pass_makes_it_stale(counting: CountingTranscriber) -> None:
    """A short pause (no end of sentence from the VAD) starts a pause pass; the user goes on, so the text
    at the real end of sentence must hold the whole sentence, not the words before the short pause."""

    async def scenario() -> tuple[Session, AsrResult]:
        session = Session(counting, interim_interval_ms=0)
        session.recognizer.start_of_sentence()
        await session.play(synthesize_speech("Turn on the lights"))
        await session.play(silence(250), pace_s=REAL_TIME_S)  # long enough for the pause pass to finish
        assert counting.calls == 1
        await session.play(synthesize_speech("and close the window"))
        await session.play(silence(150), pace_s=REAL_TIME_S)
        session.recognizer.end_of_sentence()
        await session.recognizer.wait_idle()
        return session, await session.recognizer.finalize()

    session, final = asyncio.run(scenario())
    [interim] = session.interims  # the stale pass was not published
    assert "window" in words_of(interim.text), interim.text
    assert interim.text == final.text
    assert word_error_rate("Turn on the lights and close the window.", final.text) <= 0.2, final.text


def test_a_noisy_pause_is_not_taken_for_quiet(counting: CountingTranscriber) -> None:
    """Background noise above the absolute floor: no pause pass, the end of sentence starts it as before."""

    async def scenario() -> tuple[int, AsrResult]:
        session = Session(counting, interim_interval_ms=0)
        rng = np.random.default_rng(7)
        noise = (rng.standard_normal(16000 * 300 // 1000) * 1000).astype(np.int16)  # about -30 dBFS
        session.recognizer.start_of_sentence()
        await session.play(synthesize_speech("Play some relaxing music."))
        await session.play(noise, pace_s=REAL_TIME_S)
        passes_at_end = counting.calls
        session.recognizer.end_of_sentence()
        return passes_at_end, await session.recognizer.finalize()

    passes_at_end, final = asyncio.run(scenario())
    assert passes_at_end == 0
    assert words_of(final.text) == ["play", "some", "relaxing", "music"]
