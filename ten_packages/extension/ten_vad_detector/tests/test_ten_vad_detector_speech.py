"""The VAD state machine and TEN VAD on real speech (espeak-ng) and silence."""

from __future__ import annotations

import numpy as np
import pytest

from ten_packages.extension.ten_vad_detector import speech_detector
from ten_packages.extension.ten_vad_detector.speech_detector import SpeechDetector, VadSettings
from ten_packages.extension.ten_vad_detector.vad_state import VadEventKind, VadStateMachine
from ten_packages.system.voice_kit.testing.speech import silence, synthesize_speech

START = VadEventKind.START_OF_SENTENCE
END = VadEventKind.END_OF_SENTENCE


def detect(signal: np.ndarray, settings: VadSettings | None = None, frame_samples: int = 160):
    detector = SpeechDetector(settings or VadSettings())
    events = []
    for first in range(0, len(signal), frame_samples):
        events += detector.push(signal[first : first + frame_samples], first // 16)
    return events


def test_state_machine_needs_whole_runs_and_reports_speech_bounds():
    machine = VadStateMachine(vad_threshold=0.5, hop_ms=16, prefix_padding_ms=40, silence_duration_ms=40)
    probabilities = [0.1, 0.9, 0.2, 0.9, 0.9, 0.9, 0.4, 0.9, 0.1, 0.1, 0.1]
    events = [machine.update(p, index * 16) for index, p in enumerate(probabilities)]
    fired = [(index, event) for index, event in enumerate(events) if event]
    assert [(index, event.kind, event.timestamp_ms, event.decided_ms) for index, event in fired] == [
        (5, START, 48, 96),  # three voiced hops from 48 ms; the lone voiced hop at 16 ms did not start
        (10, END, 128, 176),  # the unvoiced hop at 96 ms did not end it; last voiced sample at 128 ms
    ]


def test_one_utterance_starts_near_its_onset_and_ends_soon_after_it():
    speech = synthesize_speech("What is the weather like in Paris today")
    speech_start_ms, speech_end_ms = 600, 600 + len(speech) // 16
    events = detect(np.concatenate([silence(600), speech, silence(1200)]))
    assert [event.kind for event in events] == [START, END]
    start, end = events
    assert abs(start.timestamp_ms - speech_start_ms) <= 50
    assert start.decided_ms - speech_start_ms <= 250
    assert 0 <= end.timestamp_ms - speech_end_ms <= 80
    assert end.decided_ms - speech_end_ms <= 220, "VAD end must come within ~200 ms of silence"


def test_silence_and_room_noise_never_start_a_sentence():
    noise = np.random.default_rng(1).normal(0, 60, 16000 * 3).astype(np.int16)
    assert detect(np.concatenate([silence(1000), noise])) == []


def test_two_utterances_give_two_sentences_whatever_the_frame_size():
    signal = np.concatenate(
        [
            silence(400),
            synthesize_speech("Hello there"),
            silence(900),
            synthesize_speech("Are you there?"),
            silence(900),
        ]
    )
    by_frame_size = {size: detect(signal, frame_samples=size) for size in (160, 320, 48)}
    assert [event.kind for event in by_frame_size[160]] == [START, END, START, END]
    assert by_frame_size[320] == by_frame_size[160] == by_frame_size[48]


def test_longer_silence_duration_waits_longer():
    signal = np.concatenate([silence(300), synthesize_speech("Good morning"), silence(1500)])
    quick = detect(signal, VadSettings(silence_duration_ms=128))[-1]
    patient = detect(signal, VadSettings(silence_duration_ms=640))[-1]
    assert quick.kind == patient.kind == END
    assert patient.decided_ms - quick.decided_ms == pytest.approx(512, abs=16)


@pytest.mark.parametrize(
    ("settings", "named"),
    [
        (VadSettings(hop_size_ms=20), "hop_size_ms"),
        (VadSettings(vad_threshold=1.5), "vad_threshold"),
        (VadSettings(silence_duration_ms=-1), "silence_duration_ms"),
        (VadSettings(prefix_padding_ms="100"), "prefix_padding_ms"),
    ],
)
def test_bad_settings_are_refused_by_name(settings, named):
    with pytest.raises((ValueError, TypeError), match=named):
        SpeechDetector(settings)


def test_a_missing_native_library_says_how_to_install_it(monkeypatch):
    def unloadable(**_):
        raise OSError("libc++.so.1: cannot open shared object file")

    monkeypatch.setattr(speech_detector, "TenVad", unloadable)
    with pytest.raises(RuntimeError, match="apt-get install libc\\+\\+1"):
        SpeechDetector(VadSettings())
