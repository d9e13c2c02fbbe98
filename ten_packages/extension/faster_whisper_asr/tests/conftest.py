"""Shared fixtures: the real packaged tiny.en model, loaded once per test session."""

from __future__ import annotations

import pytest

from ten_packages.extension.faster_whisper_asr.transcriber import UtteranceTranscriber, WhisperSettings


@pytest.fixture(scope="session")
def tiny_en() -> UtteranceTranscriber:
    return UtteranceTranscriber(WhisperSettings(model="packaged:tiny.en", cpu_threads=2))
