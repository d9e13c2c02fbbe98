"""PiperStreamingSynthesizer with the real packaged voice: audio format, timeline, streaming, cancel."""

from __future__ import annotations

import itertools
import json

import numpy as np
import pytest
from piper import PiperVoice

from ten_packages.extension.piper_tts.piper_voice import StreamableVoice, VoiceLoadError, resolve_voice_path
from ten_packages.extension.piper_tts.streaming_synthesizer import (
    PiperStreamingSynthesizer,
    SpokenPiece,
    SynthesisSettings,
    chunk_spans,
    speakable_pieces,
)

TEN_WORDS = "The quick brown fox jumps over the lazy dog this morning."
# No noise: the same text always gives the same audio, so streamed and one-shot decodes can be compared.
DETERMINISTIC = {"noise_scale": 0.0, "noise_w": 0.0}


@pytest.fixture(scope="module")
def voice() -> StreamableVoice:
    return StreamableVoice.load("packaged:joe-us", verify_checksum=True)


def speak_all(
    synthesizer: PiperStreamingSynthesizer, texts: list[str]
) -> tuple[list[SpokenPiece], list[np.ndarray]]:
    request = synthesizer.start_request()
    pieces, blocks = [], []
    for text in texts:
        for event in request.speak(text):
            (pieces if isinstance(event, SpokenPiece) else blocks).append(event)
    blocks.append(request.finish())
    return pieces, blocks


def test_piper_tts_pieces_are_clean_sentences_and_nothing_is_dropped() -> None:
    text = "**Hello** there! 😀 This is [a link](http://x.y). " + "word " * 60
    pieces = speakable_pieces(text, max_chars=80)
    assert pieces[:2] == ["Hello there!", "This is a link."]
    assert all(len(piece) <= 80 for piece in pieces)
    assert " ".join(pieces[2:]).split() == ["word"] * 60
    assert speakable_pieces("🙂 **", max_chars=80) == []


def test_piper_tts_chunk_spans_cover_the_latent_and_grow_to_a_bound() -> None:
    spans = list(chunk_spans(300, first=8, largest=64))
    assert spans[0] == (0, 8)
    assert all(a[1] == b[0] for a, b in itertools.pairwise(spans))
    assert spans[-1][1] == 300
    sizes = [end - start for start, end in spans]
    assert sizes[:4] == [8, 16, 32, 64] and max(sizes) == 64


def test_piper_tts_speaks_a_sentence_as_16k_int16_streamed_within_it(voice: StreamableVoice) -> None:
    pieces, blocks = speak_all(PiperStreamingSynthesizer(voice, SynthesisSettings()), [TEN_WORDS])
    audio = np.concatenate(blocks)
    assert audio.dtype == np.int16
    seconds = len(audio) / 16000
    assert 1.5 < seconds < 6.0, seconds
    rms = np.sqrt(np.mean(audio.astype(np.float64) ** 2))
    assert rms > 500, rms
    # Speech, not a tone or noise: most 20 ms windows carry sound, some are pauses between words.
    windows = audio[: len(audio) // 320 * 320].reshape(-1, 320).astype(np.float64)
    loud = np.sqrt((windows**2).mean(axis=1)) > 300
    assert 0.5 < loud.mean() < 0.99, loud.mean()
    # Audio streams before the sentence is fully decoded: the first block is a small part of it.
    assert len(blocks) > 3
    assert len(blocks[0]) < len(audio) / 4
    assert [piece.text for piece in pieces] == [TEN_WORDS]
    assert pieces[0].start_ms == 0
    assert abs(pieces[0].duration_ms - seconds * 1000) <= 5


def test_piper_tts_timeline_runs_across_inputs_of_one_request(voice: StreamableVoice) -> None:
    settings = SynthesisSettings(sentence_silence_ms=200)
    texts = ["Hi, how are you?", "I am fine. Thanks for asking!"]
    pieces, blocks = speak_all(PiperStreamingSynthesizer(voice, settings), texts)
    assert [piece.text for piece in pieces] == ["Hi, how are you?", "I am fine.", "Thanks for asking!"]
    assert [piece.last_of_text for piece in pieces] == [True, False, True]
    for previous, following in itertools.pairwise(pieces):
        assert following.start_ms == pytest.approx(previous.start_ms + previous.duration_ms + 200, abs=1)
    total_ms = sum(len(block) for block in blocks) / 16
    assert abs(pieces[-1].start_ms + pieces[-1].duration_ms - total_ms) <= 5
    # The silence is really there: the 200 ms after the first piece are quiet.
    audio = np.concatenate(blocks)
    gap = audio[(pieces[0].start_ms + pieces[0].duration_ms + 20) * 16 : (pieces[1].start_ms - 20) * 16]
    assert len(gap) > 100 and np.abs(gap).max() < 1000


def test_piper_tts_streamed_audio_equals_the_whole_model_output(voice: StreamableVoice) -> None:
    streamed = PiperStreamingSynthesizer(voice, SynthesisSettings(**DETERMINISTIC))
    one_chunk = PiperStreamingSynthesizer(
        voice, SynthesisSettings(**DETERMINISTIC, first_chunk_frames=10_000, max_chunk_frames=10_000)
    )
    _, streamed_blocks = speak_all(streamed, [TEN_WORDS])
    _, one_chunk_blocks = speak_all(one_chunk, [TEN_WORDS])
    assert len(streamed_blocks) > len(one_chunk_blocks)
    streamed_audio, one_chunk_audio = np.concatenate(streamed_blocks), np.concatenate(one_chunk_blocks)
    assert len(streamed_audio) == len(one_chunk_audio)
    assert (
        np.abs(streamed_audio.astype(np.int32) - one_chunk_audio).max() <= 4
    )  # of 32767 (8 frames of context give ~40)

    # And the split graph decodes exactly what Piper's own, unsplit graph makes.
    whole = PiperVoice.load(voice.model_path)
    inputs = voice.model_inputs(voice.phoneme_ids(TEN_WORDS)[0], 1.0, 0.0, 0.0, 0)
    reference = whole.session.run(None, inputs)[0].reshape(-1)
    np.testing.assert_allclose(voice.decode(voice.encode(inputs)), reference, atol=1e-5)


def test_piper_tts_cancel_stops_within_one_chunk(voice: StreamableVoice) -> None:
    settings = SynthesisSettings(first_chunk_frames=8, max_chunk_frames=16)
    request = PiperStreamingSynthesizer(voice, settings).start_request()
    blocks = []
    for event in request.speak(TEN_WORDS + " " + TEN_WORDS):
        if isinstance(event, np.ndarray):
            blocks.append(event)
            if len(blocks) == 2:
                request.cancel.set()
    assert len(blocks) == 2
    assert request.audio_ms < 400


def test_piper_tts_voice_errors_are_clear(tmp_path) -> None:
    with pytest.raises(VoiceLoadError, match="unknown packaged voice"):
        resolve_voice_path("packaged:nobody")
    with pytest.raises(VoiceLoadError, match="not found"):
        resolve_voice_path(str(tmp_path / "missing.onnx"))
    broken = tmp_path / "broken.onnx"
    broken.write_bytes(b"not an onnx model")
    with pytest.raises(VoiceLoadError, match="config not found"):
        resolve_voice_path(str(broken))
    (tmp_path / "broken.onnx.json").write_text(json.dumps({"audio": {"sample_rate": 22050}}))
    with pytest.raises(VoiceLoadError, match="cannot load voice"):
        StreamableVoice.load(str(broken))


def test_piper_tts_settings_reject_nonsense() -> None:
    with pytest.raises(ValueError, match="length_scale"):
        SynthesisSettings(length_scale=0)
    with pytest.raises(ValueError, match="sample_rate_out"):
        SynthesisSettings(sample_rate_out=100)


def test_piper_tts_a_voice_without_a_separable_decoder_speaks_a_sentence_at_a_time(monkeypatch) -> None:
    from ten_packages.extension.piper_tts import piper_voice

    monkeypatch.setattr(piper_voice, "_split_at_decoder", lambda model_path: None)
    whole = StreamableVoice.load("packaged:joe-us")
    assert not whole.streams_within_sentence
    pieces, blocks = speak_all(
        PiperStreamingSynthesizer(whole, SynthesisSettings()), ["Hello there. Goodbye."]
    )
    assert [piece.text for piece in pieces] == ["Hello there.", "Goodbye."]
    audio_blocks = [block for block in blocks if len(block)]
    assert len(audio_blocks) == 3  # one per sentence, plus the resampler's tail
    total_ms = sum(len(block) for block in blocks) / 16
    assert abs(pieces[-1].start_ms + pieces[-1].duration_ms - total_ms) <= 5


def test_leading_quiet_is_dropped_but_never_more_than_the_cap():
    from ten_packages.extension.piper_tts.streaming_synthesizer import LEADING_QUIET_MAX_S, drop_leading_quiet

    rate = 22050
    quiet, loud = np.full(rate // 25, 0.0005, dtype=np.float32), np.full(100, 0.5, dtype=np.float32)
    assert np.array_equal(drop_leading_quiet(np.concatenate([quiet, loud]), rate), loud)
    all_quiet = np.zeros(rate, dtype=np.float32)
    assert len(drop_leading_quiet(all_quiet, rate)) == rate - int(rate * LEADING_QUIET_MAX_S)
