"""Benchmark of the listening front end: WebRTC AEC (+ echo guard) and TEN VAD on a simulated echo path.

`measure()` is imported by scripts/bench_listen.py; run alone it prints one JSON object as its last line.
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from ten_packages.extension.ten_vad_detector.speech_detector import SpeechDetector, VadSettings
from ten_packages.extension.webrtc_aec.echo_canceller import AecSettings, EchoCanceller
from ten_packages.extension.webrtc_aec.echo_guard import EchoGuard, EchoGuardSettings
from ten_packages.extension.webrtc_aec.simulated_echo import microphone, run_aec_and_guard
from ten_packages.system.voice_kit.pcm import FRAME_SAMPLES
from ten_packages.system.voice_kit.testing.speech import conversation

BOT_REPLY = [
    500,
    "Sure. The weather in Paris today is sunny with a light breeze, and tomorrow looks much the same.",
    300,
    "In the afternoon a few clouds may come in from the west, but it should stay dry until the weekend.",
    300,
    "If you are going out tonight, take a light jacket, because it gets cool after sunset.",
    800,
]


def erle_db(played: np.ndarray, mic: np.ndarray) -> float:
    """Echo return loss enhancement of the AEC alone (guard off, so its muting does not count)."""
    cleaned = run_aec_and_guard(played, mic, guard_settings=EchoGuardSettings(enabled=False))
    mic_energy = float(np.mean(np.square(mic[: len(cleaned)].astype(np.float64))))
    cleaned_energy = float(np.mean(np.square(cleaned.astype(np.float64))))
    return 10 * np.log10(mic_energy / max(cleaned_energy, 1.0))


def frame_costs_ms(played: np.ndarray, mic: np.ndarray) -> tuple[list[float], float]:
    """Wall time of AEC + guard + VAD per 10 ms tick, and the process CPU time of the whole run (s)."""
    canceller = EchoCanceller(AecSettings())
    guard = EchoGuard(EchoGuardSettings())
    detector = SpeechDetector(VadSettings())
    costs = []
    cpu_start = time.process_time()
    for first in range(0, len(mic) - FRAME_SAMPLES + 1, FRAME_SAMPLES):
        timestamp_ms = first // 16
        tick_start = time.perf_counter()
        canceller.add_reference(played[first : first + FRAME_SAMPLES])
        guard.note_playback(played[first : first + FRAME_SAMPLES], timestamp_ms)
        for frame_ms, cleaned in canceller.process_capture(mic[first : first + FRAME_SAMPLES], timestamp_ms):
            for out_ms, out in guard.filter(cleaned, frame_ms):
                detector.push(out, out_ms)
        costs.append((time.perf_counter() - tick_start) * 1000)
    return costs, time.process_time() - cpu_start


def measure() -> dict:
    played = conversation(BOT_REPLY)
    mic = microphone(played)
    costs, cpu_s = frame_costs_ms(played, mic)
    audio_s = len(costs) * FRAME_SAMPLES / 16000
    ordered = sorted(costs)
    return {
        "erle_db": round(erle_db(played, mic), 1),
        "aec_vad_cost_pct_realtime": round(100 * cpu_s / audio_s, 2),
        "aec_vad_frame_ms_p50": round(statistics.median(costs), 3),
        "aec_vad_frame_ms_p90": round(ordered[int(0.9 * (len(ordered) - 1))], 3),
        "audio_s": round(audio_s, 1),
    }


if __name__ == "__main__":
    print(json.dumps(measure()))
