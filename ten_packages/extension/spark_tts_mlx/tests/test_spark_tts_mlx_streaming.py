"""Streaming BiCodec decoding against a one-shot decode, with the tiny Spark model's real BiCodec."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from ten_packages.extension.spark_tts_mlx.spark_model import SparkModel
from ten_packages.extension.spark_tts_mlx.streaming_decoder import ChunkSchedule, StreamingBiCodecDecoder
from ten_packages.extension.spark_tts_mlx.synthesizer import SparkStreamingSynthesizer, float_to_int16
from ten_packages.extension.spark_tts_mlx.testing import scripted_global_tokens, scripted_semantic_tokens
from ten_packages.extension.spark_tts_mlx.token_source import ScriptedTokenSource

# The tiny model's decoder sees about 17 tokens either side: context and lookahead cover it.
EXACT_SCHEDULE = ChunkSchedule(
    first_chunk_tokens=8, chunk_growth=2.0, max_chunk_tokens=40, left_context_tokens=20, lookahead_tokens=18
)


def test_schedule_grows_to_its_maximum_and_rejects_bad_settings() -> None:
    schedule = ChunkSchedule(first_chunk_tokens=10, chunk_growth=2.0, max_chunk_tokens=50)
    assert [schedule.chunk_tokens(i) for i in range(4)] == [10, 20, 40, 50]
    with pytest.raises(ValueError, match="lookahead_tokens"):
        ChunkSchedule(lookahead_tokens=1, crossfade_tokens=2)
    with pytest.raises(ValueError, match="chunk_growth"):
        ChunkSchedule(chunk_growth=0.5)


def test_streamed_audio_matches_one_shot_decode_away_from_the_joins(tiny_spark_model: SparkModel) -> None:
    speaker = scripted_global_tokens()
    semantic = scripted_semantic_tokens(120)
    one_shot = tiny_spark_model.decode(speaker, semantic)
    decoder = StreamingBiCodecDecoder(
        lambda tokens: tiny_spark_model.decode(speaker, tokens),
        tiny_spark_model.samples_per_token,
        EXACT_SCHEDULE,
    )
    chunks = [chunk for token in semantic if (chunk := decoder.push(token)) is not None]
    chunks.append(decoder.finish())
    streamed = np.concatenate(chunks)

    assert len(chunks) >= 4 and len(decoder.join_samples) == len(chunks) - 1
    assert len(streamed) == len(one_shot) == 120 * tiny_spark_model.samples_per_token
    fade = EXACT_SCHEDULE.crossfade_tokens * tiny_spark_model.samples_per_token
    away_from_joins = np.ones(len(streamed), dtype=bool)
    for join in decoder.join_samples:
        away_from_joins[join : join + fade] = False
    peak = np.abs(one_shot).max()
    assert peak > 0
    assert np.abs(streamed - one_shot)[away_from_joins].max() <= 1e-4 * peak
    assert np.abs(streamed - one_shot).max() <= 1e-3 * peak  # the crossfades blend near-identical audio


def test_too_little_context_shows_at_the_joins(tiny_spark_model: SparkModel) -> None:
    """The comparison above can fail: without context the chunk edges differ from the one-shot decode."""
    speaker = scripted_global_tokens()
    semantic = scripted_semantic_tokens(60)
    one_shot = tiny_spark_model.decode(speaker, semantic)
    no_context = ChunkSchedule(
        first_chunk_tokens=20,
        chunk_growth=1.0,
        max_chunk_tokens=20,
        left_context_tokens=0,
        lookahead_tokens=0,
        crossfade_tokens=0,
    )
    decoder = StreamingBiCodecDecoder(
        lambda tokens: tiny_spark_model.decode(speaker, tokens),
        tiny_spark_model.samples_per_token,
        no_context,
    )
    chunks = [chunk for token in semantic if (chunk := decoder.push(token)) is not None]
    streamed = np.concatenate([*chunks, decoder.finish()])
    assert np.abs(streamed - one_shot).max() > 1e-2 * np.abs(one_shot).max()


def test_first_audio_comes_long_before_the_last_token(tiny_spark_model: SparkModel) -> None:
    source = ScriptedTokenSource(scripted_global_tokens(), scripted_semantic_tokens(150))
    synthesizer = SparkStreamingSynthesizer(
        tiny_spark_model.decode,
        tiny_spark_model.samples_per_token,
        tiny_spark_model.sample_rate,
        EXACT_SCHEDULE,
        16000,
    )
    stream = source.open("hello")
    tokens_at_each_chunk: list[int] = []
    pieces: list[np.ndarray] = []

    def on_audio(pcm: np.ndarray) -> None:
        tokens_at_each_chunk.append(stream.tokens_generated)
        pieces.append(pcm)

    result = synthesizer.synthesize(stream, on_audio, threading.Event())

    first_chunk = EXACT_SCHEDULE.first_chunk_tokens + EXACT_SCHEDULE.lookahead_tokens
    assert result.tokens_before_first_audio == tokens_at_each_chunk[0] == first_chunk < 150
    assert result.tokens_generated == 150 and not result.cancelled
    pcm = np.concatenate(pieces)
    assert pcm.dtype == np.int16 and len(pcm) == result.audio_samples == 150 * 320
    expected = float_to_int16(tiny_spark_model.decode(source.global_tokens, source.semantic_tokens))
    assert np.abs(pcm.astype(np.int32) - expected).max() <= 2


def test_cancel_stops_generation_and_audio(tiny_spark_model: SparkModel) -> None:
    source = ScriptedTokenSource(scripted_global_tokens(), scripted_semantic_tokens(200))
    synthesizer = SparkStreamingSynthesizer(
        tiny_spark_model.decode,
        tiny_spark_model.samples_per_token,
        tiny_spark_model.sample_rate,
        EXACT_SCHEDULE,
        16000,
    )
    cancelled = threading.Event()
    chunks: list[np.ndarray] = []

    def on_audio(pcm: np.ndarray) -> None:
        chunks.append(pcm)
        cancelled.set()

    result = synthesizer.synthesize(source.open("hello"), on_audio, cancelled)
    assert result.cancelled and len(chunks) == 1
    assert result.tokens_generated < 40 and source.opened[0].tokens_generated == result.tokens_generated
