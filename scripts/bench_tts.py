"""TTS figures: Piper's time to first audio and real-time factor through the piper_tts extension (under the
TEN runtime), and the Spark-TTS streaming figures from scripts/_bench_spark.py.

Piper: after one warm-up reply, each run sends one 10-word sentence as a whole reply (tts_text_input with
text_input_end) and times tts_text_input -> first pcm_frame (TTFB) as seen by the tester. The real-time
factor is the extension's own `rtf` metric (compute seconds per audio second); the wall-clock factor (first
input to tts_audio_end, per second of audio), the whole process's CPU seconds per audio second (which other
processes' load barely changes) and the 1-minute load average are reported too. Prints one JSON object as
its last line.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from bench_stats import percentile  # noqa: E402

from app.ten_select import ensure_ten_runtime  # noqa: E402

ensure_ten_runtime()  # the extension package imports ten_runtime (the embedded one unless TEN's is installed)

SENTENCES = [
    "The quick brown fox jumps over the lazy dog this morning.",
    "Please remind me to call my sister before dinner tonight.",
    "The weather should be sunny and warm for most of tomorrow.",
    "I found three good places to eat near the train station.",
    "Your meeting with the design team starts in twenty minutes.",
]


def measure_piper(runs: int) -> dict:
    from ten_runtime import AsyncExtensionTester, Data

    ttfb_ms: list[float] = []
    rtf: list[float] = []
    wall_rtf: list[float] = []
    audio_seconds: list[float] = []
    cpu_seconds: list[float] = []
    failures: list[str] = []

    class BenchTester(AsyncExtensionTester):
        def __init__(self) -> None:
            super().__init__()
            self.first_frame_at: dict[str, float] = {}
            self.ended: dict[str, asyncio.Future] = {}

        async def on_start(self, ten_env_tester) -> None:
            self._task = asyncio.create_task(self._bench(ten_env_tester))

        async def _reply(self, ten_env_tester, request_id: str, text: str) -> tuple[float, float, dict]:
            """Speak one reply; (sent at, ended at, tts_audio_end payload)."""
            self.ended[request_id] = asyncio.get_running_loop().create_future()
            data = Data.create("tts_text_input")
            data.set_property_from_json(
                None, json.dumps({"request_id": request_id, "text": text, "text_input_end": True})
            )
            sent_at = time.perf_counter()
            await ten_env_tester.send_data(data)
            end = await asyncio.wait_for(self.ended[request_id], timeout=60)
            return sent_at, time.perf_counter(), end

        async def _bench(self, ten_env_tester) -> None:
            try:
                await self._reply(ten_env_tester, "warm-up", "Hello there, this is a warm-up.")
                cpu_started = time.process_time()
                for run in range(runs):
                    request_id = f"bench-{run}"
                    sent_at, ended_at, end = await self._reply(
                        ten_env_tester, request_id, SENTENCES[run % len(SENTENCES)]
                    )
                    ttfb_ms.append((self.first_frame_at[request_id] - sent_at) * 1000)
                    audio_s = end["request_total_audio_duration_ms"] / 1000
                    wall_rtf.append((ended_at - sent_at) / audio_s)
                    audio_seconds.append(audio_s)
                cpu_seconds.append(time.process_time() - cpu_started)
            except Exception as error:  # noqa: BLE001 - reported in the JSON, the run still ends
                failures.append(repr(error))
            ten_env_tester.stop_test()

        async def on_audio_frame(self, ten_env_tester, audio_frame) -> None:
            request_id, _ = audio_frame.get_property_string("request_id")
            self.first_frame_at.setdefault(request_id, time.perf_counter())

        async def on_data(self, ten_env_tester, data) -> None:
            payload = json.loads(data.get_property_to_json(None)[0] or "{}")
            name = data.get_name()
            if name == "tts_audio_end" and payload.get("request_id") in self.ended:
                self.ended[payload["request_id"]].set_result(payload)
            elif name == "metrics" and "rtf" in payload.get("metrics", {}) and payload["id"] != "warm-up":
                rtf.append(payload["metrics"]["rtf"])
            elif name == "error":
                failures.append(payload.get("message", ""))

    tester = BenchTester()
    tester.set_test_mode_single("piper_tts", json.dumps({"voice": "packaged:joe-us"}))
    error = tester.run()
    if error is not None:
        failures.append(error.error_message())
    if failures or not ttfb_ms:
        return {"piper_error": "; ".join(failures) or "no runs completed"}
    return {
        "piper_ttfb_ms_p50": round(statistics.median(ttfb_ms), 1),
        "piper_ttfb_ms_p90": round(percentile(ttfb_ms, 0.9), 1),
        "piper_rtf": round(statistics.median(rtf), 4),
        "piper_rtf_p90": round(percentile(rtf, 0.9), 4),
        "piper_wall_rtf_p50": round(statistics.median(wall_rtf), 4),
        "piper_process_cpu_rtf": round(sum(cpu_seconds) / sum(audio_seconds), 4),
        "load_average_1m": round(os.getloadavg()[0], 2),
        "piper_runs": len(ttfb_ms),
    }


def measure_piper_cpu_ttfb(runs: int) -> dict:
    """CPU milliseconds the synthesizer spends before its first audio block (same sentences, same thread).

    onnxruntime runs on the calling thread with one intra-op thread, so thread CPU time is the work itself:
    the TTFB an idle core would give, whatever the load of the machine.
    """
    import numpy as np

    from ten_packages.extension.piper_tts.piper_voice import StreamableVoice
    from ten_packages.extension.piper_tts.streaming_synthesizer import (
        PiperStreamingSynthesizer,
        SynthesisSettings,
    )

    synthesizer = PiperStreamingSynthesizer(StreamableVoice.load("packaged:joe-us"), SynthesisSettings())
    synthesizer.warm_up()
    cpu_ms = []
    for run in range(runs):
        request = synthesizer.start_request()
        started = time.thread_time()
        for event in request.speak(SENTENCES[run % len(SENTENCES)]):
            if isinstance(event, np.ndarray):  # the first audio block
                cpu_ms.append((time.thread_time() - started) * 1000)
                break
    return {"piper_ttfb_cpu_ms_p50": round(statistics.median(cpu_ms), 1)}


def measure_spark() -> dict:
    """The Spark-TTS figures from the Spark engineer's scripts/_bench_spark.py, or why they are missing."""
    try:
        from scripts._bench_spark import measure
    except ImportError as error:
        return {"spark_error": f"scripts/_bench_spark.py is not importable: {error}"}
    try:
        figures = measure()
    except Exception as error:  # noqa: BLE001 - reported in the JSON beside the Piper figures
        return {"spark_error": f"scripts/_bench_spark.py measure() failed: {error!r}"}
    return {key: figures.get(key) for key in ("spark_first_audio_token_fraction", "spark_join_max_abs_err")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=15, help="measured Piper replies")
    parser.add_argument("--skip-spark", action="store_true", help="Piper figures only")
    args = parser.parse_args()
    figures = {
        **measure_piper(args.runs),
        **measure_piper_cpu_ttfb(args.runs),
        "piper_ttfb_target_ms": 100,
        "piper_rtf_target": 0.1,
    }
    if not args.skip_spark:
        figures.update(measure_spark())
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
