"""UtteranceAudio: what audio an utterance keeps, and where it sits on the input timeline."""

from __future__ import annotations

import numpy as np

from ten_packages.extension.faster_whisper_asr.utterance_audio import UtteranceAudio

FRAME = 160  # 10 ms


def feed(buffer: UtteranceAudio, first_ms: int, count: int, value: int = 0) -> None:
    for i in range(count):
        buffer.append(np.full(FRAME, value, dtype=np.int16), first_ms + 10 * i)


def test_utterance_keeps_pre_roll_before_the_reported_speech_start() -> None:
    buffer = UtteranceAudio(pre_roll_ms=200, max_ms=10000)
    buffer.open()  # a VAD exists: from now on audio outside utterances is only history
    buffer.take()
    feed(buffer, 0, 300)  # 3 s of input
    buffer.open(speech_start_ms=2500)  # decided late, speech started at 2.5 s
    feed(buffer, 3000, 50)
    audio, start_ms = buffer.take()
    assert start_ms == 2300
    assert len(audio) == (3500 - 2300) * 16


def test_without_a_speech_start_only_the_pre_roll_is_kept() -> None:
    buffer = UtteranceAudio(pre_roll_ms=300, max_ms=10000)
    buffer.open()
    buffer.take()
    feed(buffer, 0, 200)
    buffer.open()
    assert (buffer.start_ms, buffer.duration_ms) == (1700, 300)


def test_history_outside_utterances_is_bounded() -> None:
    buffer = UtteranceAudio(pre_roll_ms=300, max_ms=10000)
    buffer.open()
    buffer.take()
    feed(buffer, 0, 1000)  # 10 s of silence between utterances
    assert buffer.duration_ms == 1300  # pre-roll plus the VAD's decision lag
    assert buffer.end_ms == 10000


def test_without_vad_everything_is_kept_up_to_the_limit() -> None:
    buffer = UtteranceAudio(pre_roll_ms=300, max_ms=2000)
    feed(buffer, 0, 150)
    assert buffer.is_collecting and buffer.duration_ms == 1500
    feed(buffer, 1500, 100)
    assert buffer.duration_ms == 2000 and buffer.start_ms == 500  # the oldest 500 ms went


def test_a_second_start_in_the_same_utterance_keeps_everything() -> None:
    buffer = UtteranceAudio(pre_roll_ms=100, max_ms=10000)
    buffer.open(speech_start_ms=0)
    feed(buffer, 0, 100, value=1)
    buffer.open(speech_start_ms=900)
    audio, start_ms = buffer.take()
    assert start_ms == 0 and len(audio) == 16000 and not buffer.is_open


def test_timestamps_that_do_not_advance_fall_back_to_counting_samples() -> None:
    buffer = UtteranceAudio(pre_roll_ms=100, max_ms=10000)
    for _ in range(10):
        buffer.append(np.zeros(FRAME, dtype=np.int16), 0)
    assert buffer.end_ms == 100 and buffer.start_ms == 0
