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

from app.ten_select import ensure_ten_runtime  # noqa: E402

ensure_ten_runtime()  # voice_kit's frame helpers import ten_runtime

from ten_packages.extension.ten_vad_detector.speech_detector import SpeechDetector, VadSettings  # noqa: E402
from ten_packages.extension.webrtc_aec.echo_canceller import AecSettings, EchoCanceller  # noqa: E402
from ten_packages.extension.webrtc_aec.echo_guard import EchoGuard, EchoGuardSettings  # noqa: E402
from ten_packages.extension.webrtc_aec.simulated_echo import microphone, run_aec_and_guard  # noqa: E402
from ten_packages.system.voice_kit.pcm import FRAME_SAMPLES  # noqa: E402
from ten_packages.system.voice_kit.testing.speech import conversation  # noqa: E402

BOT_REPLY = [
    500,
    "Sure. The weather in Paris today is sunny with a light breeze, and tomorrow looks much the same.",
    300,
    "In the afternoon a few clouds may come in from the west, but it should stay dry until the weekend.",
    300,
    "If you are going out tonight, take a light jacket, because it gets cool after sunset.",
    800,
]


def erle_db(played: np.ndarray, mic: np.ndarray, aec_settings: AecSettings) -> float:
    """Echo return loss enhancement of the WebRTC stages (guard off, so its muting does not count)."""
    cleaned = run_aec_and_guard(played, mic, aec_settings, EchoGuardSettings(enabled=False))
    mic_energy = float(np.mean(np.square(mic[: len(cleaned)].astype(np.float64))))
    cleaned_energy = float(np.mean(np.square(cleaned.astype(np.float64))))
    return float(10 * np.log10(mic_energy / max(cleaned_energy, 1.0)))


def tick_costs_ms(played: np.ndarray, mic: np.ndarray) -> tuple[list[float], list[float], float]:
    """Per 10 ms tick, the CPU time (this thread's; WebRTC and TEN VAD run on the caller's thread) of
    AEC + guard and of VAD, in ms; and the whole process's CPU time for the run, in s."""
    canceller = EchoCanceller(AecSettings())
    guard = EchoGuard(EchoGuardSettings())
    detector = SpeechDetector(VadSettings())
    aec_costs, vad_costs = [], []
    cpu_start = time.process_time()
    for first in range(0, len(mic) - FRAME_SAMPLES + 1, FRAME_SAMPLES):
        timestamp_ms = first // 16
        aec_start = time.thread_time()
        canceller.add_reference(played[first : first + FRAME_SAMPLES])
        guard.note_playback(played[first : first + FRAME_SAMPLES], timestamp_ms)
        guarded = []
        for frame_ms, cleaned in canceller.process_capture(mic[first : first + FRAME_SAMPLES], timestamp_ms):
            guarded += guard.filter(cleaned, frame_ms)
        vad_start = time.thread_time()
        for out_ms, out in guarded:
            detector.push(out, out_ms)
        vad_end = time.thread_time()
        aec_costs.append((vad_start - aec_start) * 1000)
        vad_costs.append((vad_end - vad_start) * 1000)
    return aec_costs, vad_costs, time.process_time() - cpu_start


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[round(fraction * (len(ordered) - 1))]


def measure() -> dict:
    """ERLE on the simulated echo path and the CPU cost of AEC + guard + VAD, as % of real time."""
    played = conversation(BOT_REPLY)
    mic = microphone(played)
    aec_costs, vad_costs, cpu_s = tick_costs_ms(played, mic)
    tick_costs = [aec + vad for aec, vad in zip(aec_costs, vad_costs, strict=True)]
    audio_ms = len(tick_costs) * FRAME_SAMPLES / 16
    return {
        "erle_db": round(erle_db(played, mic, AecSettings()), 1),
        "erle_db_without_noise_suppression": round(
            erle_db(played, mic, AecSettings(noise_suppression=False)), 1
        ),
        "aec_vad_cost_pct_realtime": round(100 * cpu_s * 1000 / audio_ms, 2),
        "aec_cost_pct_realtime": round(100 * sum(aec_costs) / audio_ms, 2),
        "vad_cost_pct_realtime": round(100 * sum(vad_costs) / audio_ms, 2),
        "aec_vad_tick_ms_p50": round(statistics.median(tick_costs), 3),
        "aec_vad_tick_ms_p90": round(percentile(tick_costs, 0.9), 3),
        "audio_s": round(audio_ms / 1000, 1),
    }


if __name__ == "__main__":
    print(json.dumps(measure()))
