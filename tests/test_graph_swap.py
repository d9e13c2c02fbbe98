"""Swapping an extension is a property.json edit: ASR and TTS swapped in a copy, then run."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import soundfile

from app.headless import APP_ROOT, run_headless
from app.samples import write_conversation
from ten_packages.extension.spark_tts_mlx.testing import build_tiny_spark_model


def test_a_copy_with_other_asr_and_tts_runs(tmp_path: Path):
    doc = json.loads((APP_ROOT / "property.json").read_text())
    graph = next(g for g in doc["ten"]["predefined_graphs"] if g["name"] == "voice_chat")
    nodes = {n["name"]: n for n in graph["graph"]["nodes"]}
    # The multilingual base model instead of tiny.en; Spark-TTS (a tiny random model: it makes
    # noise, not words, but runs the real MLX streaming path) instead of Piper.
    nodes["asr"]["property"] = {"model": "packaged:base", "language": "en"}
    nodes["tts"]["addon"] = "spark_tts_mlx"
    nodes["tts"]["property"] = {"model": str(build_tiny_spark_model(tmp_path / "spark")), "max_tokens": 120}
    swapped = tmp_path / "property.json"
    swapped.write_text(json.dumps(doc))

    turns = write_conversation(tmp_path / "in.wav", ["What is the capital of France?"], gap_ms=6000)
    run, done = run_headless(tmp_path / "in.wav", tmp_path, property_path=swapped, timeout_s=240)
    assert done.returncode == 0, done.stderr[-3000:]
    lines = [json.loads(line) for line in run.transcript.read_text().splitlines()]
    users = [line["text"].lower() for line in lines if line["role"] == "user"]
    assert users and "capital" in users[0]
    reply, _ = soundfile.read(run.reply, dtype="int16")
    after_question = reply[turns[0].end_ms * 16 :]
    assert np.abs(after_question.astype(np.int32)).max() > 0, "Spark-TTS sent no audio"
