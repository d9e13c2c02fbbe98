#!/usr/bin/env bash
# Echo cancellation and VAD: both ship inside their pip wheels (livekit's WebRTC APM, TEN VAD's
# libten_vad), so there is nothing to download; check that they load, since TEN VAD needs Debian's
# libc++1/libc++abi1 (macOS ships its own framework in the wheel).
set -euo pipefail
.venv/bin/python - <<'PY'
import sys

import numpy as np

try:
    from ten_vad import TenVad
    TenVad(hop_size=256).process(np.zeros(256, dtype=np.int16))
except OSError as error:
    sys.exit(f"TEN VAD cannot load its library ({error}); on Debian/Ubuntu: apt-get install libc++1 libc++abi1")
from livekit import rtc

rtc.AudioProcessingModule(echo_cancellation=True, noise_suppression=True, high_pass_filter=True)
print("aec-vad: TEN VAD and WebRTC AudioProcessingModule load")
PY
