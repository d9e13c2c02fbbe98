"""UtteranceTranscriber on real espeak-ng speech with the real packaged models."""

from __future__ import annotations

import subprocess
from pathlib import Path

import jiwer
import numpy as np
import pytest

from ten_packages.extension.faster_whisper_asr.model_source import APP_ROOT
from ten_packages.extension.faster_whisper_asr.tests.transcript_words import words_of
from ten_packages.extension.faster_whisper_asr.transcriber import (
    UtteranceTranscriber,
    WhisperSettings,
    _ends_in_repetition,
)
from ten_packages.system.voice_kit.testing.speech import conversation, silence, synthesize_speech

SENTENCES = [
    "Can you tell me a joke about cats?",
    "Remind me to call my mother on Sunday afternoon.",
    "The weather today is sunny with a light breeze from the west.",
]


def test_short_sentences_are_transcribed_with_few_errors(tiny_en: UtteranceTranscriber) -> None:
    hypotheses = [tiny_en.transcribe(conversation([200, text, 300])).text for text in SENTENCES]
    error_rate = jiwer.wer(
        [" ".join(words_of(t)) for t in SENTENCES], [" ".join(words_of(h)) for h in hypotheses]
    )
    assert error_rate <= 0.2, hypotheses


def test_short_window_agrees_with_the_full_window(tiny_en: UtteranceTranscriber) -> None:
    full_window = UtteranceTranscriber(WhisperSettings(short_window=False, cpu_threads=2))
    audio = synthesize_speech("Please turn off the radio in the kitchen.")
    short, full = tiny_en.transcribe(audio), full_window.transcribe(audio)
    assert jiwer.wer(" ".join(words_of(full.text)), " ".join(words_of(short.text))) <= 0.25, (short, full)
    assert short.language == full.language == "en"


def test_silence_and_noise_give_no_text(tiny_en: UtteranceTranscriber) -> None:
    noise = np.random.default_rng(7).normal(0, 300, 16000).astype(np.int16)
    assert tiny_en.transcribe(silence(1000)).text == ""
    assert tiny_en.transcribe(noise).text == ""


def test_word_timestamps_follow_the_speech(tiny_en: UtteranceTranscriber) -> None:
    with_words = UtteranceTranscriber(WhisperSettings(word_timestamps=True, cpu_threads=2))
    transcript = with_words.transcribe(conversation([1000, "Play some relaxing music."]))
    assert [w.lower().strip(".") for w in (word.word for word in transcript.words)][-2:] == [
        "relaxing",
        "music",
    ]
    last = transcript.words[-1]
    assert 1000 <= last.start_ms and last.start_ms + last.duration_ms <= transcript.audio_ms + 100
    starts = [word.start_ms for word in transcript.words]
    assert starts == sorted(starts)


def test_hotwords_and_initial_prompt_bring_in_rare_words(tiny_en: UtteranceTranscriber) -> None:
    audio = conversation([200, "I use Kubernetes and Terraform at work.", 200])
    assert "kubernetes" not in words_of(tiny_en.transcribe(audio).text)
    for hint in ({"hotwords": "Kubernetes Terraform"}, {"initial_prompt": "Kubernetes, Terraform."}):
        hinted = UtteranceTranscriber(WhisperSettings(cpu_threads=2, **hint)).transcribe(audio)
        # Once: with the prompt, the short window's decoder loops ("... at work. I use ...") and the
        # repetition guard hands the utterance to the 30 s window.
        assert words_of(hinted.text)[:3] == ["i", "use", "kubernetes"], hint
        assert words_of(hinted.text).count("use") == 1, hinted.text


def test_repetition_guard_spots_a_repeated_tail_only() -> None:
    assert _ends_in_repetition([1, 2, 3, 4, 5, 2, 3, 4, 5])
    assert not _ends_in_repetition([1, 2, 3, 4, 5, 6, 7, 8])
    assert not _ends_in_repetition([1, 9, 9, 9, 9])  # "very very very": short runs are speech


def test_english_only_model_refuses_another_language() -> None:
    with pytest.raises(ValueError, match="English-only"):
        UtteranceTranscriber(WhisperSettings(language="zh"))


@pytest.fixture(scope="module")
def whisper_base_dir() -> Path:
    """The multilingual base model, assembled from its two PyPI halves by the setup step."""
    setup = subprocess.run(
        ["bash", "scripts/setup.d/40-whisper.sh"], cwd=APP_ROOT, capture_output=True, text=True
    )
    assert setup.returncode == 0, setup.stderr
    return APP_ROOT / "models" / "whisper-base"


def test_multilingual_base_writes_chinese(whisper_base_dir: Path) -> None:
    base = UtteranceTranscriber(WhisperSettings(model="packaged:base", language="zh", cpu_threads=2))
    transcript = base.transcribe(
        synthesize_speech("wo3 xiang3 qu4 gong1 yuan2 san4 bu4", voice="cmn-latn-pinyin")
    )
    assert transcript.language == "zh"
    assert transcript.text.startswith("我想去"), transcript.text
    with pytest.raises(ValueError, match="unknown language"):
        UtteranceTranscriber(WhisperSettings(model="packaged:base", language="klingon"))
