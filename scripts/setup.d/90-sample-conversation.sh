#!/usr/bin/env bash
# The bundled sample conversation that the demo plays when there is no microphone.
set -euo pipefail
OUT=models/samples/conversation.wav
[ -s "$OUT" ] && [ -s "${OUT%.wav}.json" ] && exit 0
.venv/bin/python -m app.samples "$OUT"
