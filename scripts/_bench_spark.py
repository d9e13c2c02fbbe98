"""Spark-TTS streaming figures, with a tiny random Spark model (real mlx-audio code paths) and scripted tokens.

* spark_first_audio_token_fraction: semantic tokens generated before the first audio is handed out, divided
  by the tokens of a 10 s utterance (500 at 50 tokens/s), with the extension's shipped chunk schedule.
* spark_join_max_abs_err: largest |streamed - one-shot BiCodec decode| of the same 500 tokens, away from the
  joins (outside each join's crossfade), with the shipped schedule; also given relative to the peak, and
  the largest error inside the crossfades.
* spark_first_audio_ms_p50 / _p90: time from the first token to the first audio (decoding only; the LM is
  scripted), tiny model on this CPU: says how much the schedule costs, not how fast a real Spark is.

`measure()` returns the figures; run as a script it prints them as one JSON object on the last line.
"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
from bench_stats import percentile  # noqa: E402

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

UTTERANCE_TOKENS = 500  # 10 s at 50 semantic tokens per second
TIMING_RUNS = 7


def measure() -> dict:
    from app.ten_select import ensure_ten_runtime

    ensure_ten_runtime()  # the extension package imports ten_runtime
    from ten_packages.extension.spark_tts_mlx.config import SparkTTSConfig
    from ten_packages.extension.spark_tts_mlx.spark_model import SparkModel
    from ten_packages.extension.spark_tts_mlx.streaming_decoder import StreamingBiCodecDecoder
    from ten_packages.extension.spark_tts_mlx.synthesizer import SparkStreamingSynthesizer
    from ten_packages.extension.spark_tts_mlx.testing import (
        build_tiny_spark_model,
        scripted_global_tokens,
        scripted_semantic_tokens,
    )
    from ten_packages.extension.spark_tts_mlx.token_source import ScriptedTokenSource

    defaults = json.loads((REPO_ROOT / "ten_packages/extension/spark_tts_mlx/property.json").read_text())
    schedule = SparkTTSConfig.from_properties(defaults).schedule
    speaker = scripted_global_tokens()
    semantic = scripted_semantic_tokens(UTTERANCE_TOKENS)

    with tempfile.TemporaryDirectory() as folder:
        model = SparkModel.load(str(build_tiny_spark_model(Path(folder) / "tiny_spark")))
    synthesizer = SparkStreamingSynthesizer(
        model.decode, model.samples_per_token, model.sample_rate, schedule, model.sample_rate
    )
    source = ScriptedTokenSource(speaker, semantic)
    model.decode(speaker, semantic[:20])  # warm-up

    first_audio_ms: list[float] = []
    tokens_before_first_audio = None
    for _ in range(TIMING_RUNS):
        stop = threading.Event()
        started = time.perf_counter()
        moments: list[float] = []

        def first_chunk(
            _pcm: np.ndarray, moments: list[float] = moments, stop: threading.Event = stop
        ) -> None:
            moments.append(time.perf_counter())
            stop.set()

        result = synthesizer.synthesize(source.open("ten seconds"), first_chunk, stop)
        first_audio_ms.append((moments[0] - started) * 1000)
        tokens_before_first_audio = result.tokens_before_first_audio

    one_shot = model.decode(speaker, semantic)
    decoder = StreamingBiCodecDecoder(
        lambda tokens: model.decode(speaker, tokens), model.samples_per_token, schedule
    )
    chunks = [chunk for token in semantic if (chunk := decoder.push(token)) is not None]
    streamed = np.concatenate([*chunks, decoder.finish()])
    error = np.abs(streamed - one_shot)
    fade = schedule.crossfade_tokens * model.samples_per_token
    in_crossfade = np.zeros(len(error), dtype=bool)
    for join in decoder.join_samples:
        in_crossfade[join : join + fade] = True
    peak = float(np.abs(one_shot).max())
    away = float(error[~in_crossfade].max())
    return {
        "spark_first_audio_token_fraction": round(tokens_before_first_audio / UTTERANCE_TOKENS, 4),
        "spark_tokens_before_first_audio": tokens_before_first_audio,
        "spark_join_max_abs_err": away,
        "spark_join_max_rel_err": away / peak,
        "spark_crossfade_max_abs_err": float(error[in_crossfade].max()) if in_crossfade.any() else 0.0,
        "spark_peak_abs": peak,
        "spark_joins": len(decoder.join_samples),
        "spark_first_audio_ms_p50": round(statistics.median(first_audio_ms), 1),
        "spark_first_audio_ms_p90": round(percentile(first_audio_ms, 0.9), 1),
        "spark_schedule": schedule.__dict__,
    }


if __name__ == "__main__":
    print(json.dumps(measure()))
