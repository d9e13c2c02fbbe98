#!/usr/bin/env bash
# Smart Turn v3.2 (pipecat-ai) for the turn_detector extension, without a model hub: the ONNX file
# ships inside the pipecat-ai 1.14.0 wheel. Downloaded once (no dependencies, not installed),
# extracted to models/smart_turn/ and sha256-checked. Idempotent: a verified model is left alone.
set -euo pipefail
cd "$(dirname "$0")/../.."

PYTHON=.venv/bin/python
PIPECAT_VERSION=1.14.0
MODEL_NAME=smart-turn-v3.2-cpu.onnx
MODEL_SHA256=2bb026316b14a660486a75b1733cd3fbab8c2fd0314dc9af7be49f8cca967e4f
MODEL_DIR=models/smart_turn
MODEL_FILE="$MODEL_DIR/$MODEL_NAME"

if [[ -f "$MODEL_FILE" ]] && echo "$MODEL_SHA256  $MODEL_FILE" | sha256sum --check --quiet 2>/dev/null; then
    echo "smart turn model ready: $MODEL_FILE"
    exit 0
fi

download_dir=$(mktemp -d)
trap 'rm -rf "$download_dir"' EXIT
"$PYTHON" -m pip download --quiet --no-deps "pipecat-ai==$PIPECAT_VERSION" -d "$download_dir"
mkdir -p "$MODEL_DIR"
"$PYTHON" - "$download_dir"/pipecat_ai-"$PIPECAT_VERSION"-*.whl "$MODEL_FILE.partial" "$MODEL_NAME" <<'PY'
import shutil, sys, zipfile

wheel, target, name = sys.argv[1:4]
with zipfile.ZipFile(wheel) as archive, archive.open(f"pipecat/audio/turn/smart_turn/data/{name}") as source:
    with open(target, "wb") as sink:
        shutil.copyfileobj(source, sink)
PY
echo "$MODEL_SHA256  $MODEL_FILE.partial" | sha256sum --check --quiet
mv "$MODEL_FILE.partial" "$MODEL_FILE"
echo "smart turn model ready: $MODEL_FILE"
