#!/usr/bin/env bash
# Spark-TTS on MLX (spark_tts_mlx): mlx + mlx-audio come from the extension's requirements.txt. The Spark
# weights exist only on the Hugging Face hub: on Apple Silicon they are fetched once here (with a progress
# bar, into the hub cache; skipped when the hub is unreachable, or with SPARK_TTS_PREFETCH=0), elsewhere the
# extension downloads them on first use. Tests never need them: they build a tiny random Spark model.
# Idempotent; run from the repo root after the venv exists.
set -euo pipefail

PYTHON=.venv/bin/python
MODEL="${SPARK_TTS_MODEL:-mlx-community/Spark-TTS-0.5B-bf16}"

"$PYTHON" -c "import mlx.core, mlx_audio.tts.models.spark.spark; print('spark-tts: mlx', mlx.core.__version__)"

if [ "$(uname -s)-$(uname -m)" != "Darwin-arm64" ] || [ "${SPARK_TTS_PREFETCH:-1}" = "0" ]; then
  echo "spark-tts: not prefetching $MODEL (Apple Silicon only; the extension downloads it on first use)"
  exit 0
fi

"$PYTHON" - "$MODEL" <<'PY' || echo "spark-tts: $MODEL not prefetched; the extension will retry on first use" >&2
import sys

from app.ten_select import ensure_ten_runtime

ensure_ten_runtime()
from ten_packages.extension.spark_tts_mlx.spark_model import resolve_model_path

print("spark-tts: model ready at", resolve_model_path(sys.argv[1]))
PY
