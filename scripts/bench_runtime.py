"""Runtime benchmark: 10 ms 16 kHz pcm_frames through a chain of 6 pass-through extensions.

Prints one JSON object as its last line: frames_per_s (as fast as possible), chain_latency_us_p50/_p90
(one frame in flight, head to tail) and cmd_roundtrip_us_p50 (send_cmd -> return_result, two nodes).
Usage: .venv/bin/python scripts/bench_runtime.py [--frames 20000] [--rounds 3000]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.ten_select import ensure_ten_runtime  # noqa: E402

ensure_ten_runtime()

import numpy as np  # noqa: E402
from bench_stats import percentile  # noqa: E402
from ten_runtime import AsyncExtension, AsyncTenEnv, AudioFrame, Cmd, GraphEngine, NodeSpec  # noqa: E402

from ten_packages.extension.pcm_passthrough.extension import PcmPassthroughExtension  # noqa: E402
from ten_packages.system.voice_kit.pcm import FRAME_SAMPLES, make_pcm_frame  # noqa: E402

CHAIN = 6


class Tail(AsyncExtension):
    """Counts arriving frames and wakes the waiting benchmark when the expected number is in."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.count = 0
        self.expected = 0
        self.arrived: asyncio.Future | None = None

    async def on_audio_frame(self, ten_env: AsyncTenEnv, audio_frame: AudioFrame) -> None:
        self.count += 1
        if self.count >= self.expected and self.arrived and not self.arrived.done():
            self.arrived.set_result(time.perf_counter())


async def run(frames: int, rounds: int) -> dict:
    head = AsyncExtension("head")
    tail = Tail("tail")
    names = [f"pass{i}" for i in range(CHAIN)]
    specs = [NodeSpec("head", head, {}), *(NodeSpec(n, PcmPassthroughExtension(n), {}) for n in names)]
    specs.append(NodeSpec("tail", tail, {}))
    order = ["head", *names, "tail"]
    routes = {(a, "audio_frame", "pcm_frame"): (b,) for a, b in zip(order, order[1:], strict=False)}
    routes[("head", "cmd", "ping")] = ("pass0",)
    engine = GraphEngine("bench", specs, routes)
    await engine.start()
    env = engine._nodes["head"].env
    loop = asyncio.get_running_loop()
    batch = [
        make_pcm_frame(np.zeros(FRAME_SAMPLES, dtype=np.int16), timestamp_ms=i * 10) for i in range(frames)
    ]

    throughput = []
    for _ in range(3):
        tail.count, tail.expected, tail.arrived = 0, frames, loop.create_future()
        start = time.perf_counter()
        for frame in batch:
            await env.send_audio_frame(frame)
        end = await tail.arrived
        throughput.append(frames / (end - start))

    latencies = []
    for i in range(rounds):
        tail.count, tail.expected, tail.arrived = 0, 1, loop.create_future()
        start = time.perf_counter()
        await env.send_audio_frame(batch[i % frames])
        latencies.append((await tail.arrived - start) * 1e6)

    roundtrips = []
    for _ in range(rounds):
        start = time.perf_counter()
        result, err = await env.send_cmd(Cmd.create("ping"))
        roundtrips.append((time.perf_counter() - start) * 1e6)
        assert err is None and result is not None
    await engine.stop()
    return {
        "chain": CHAIN,
        "frames_per_s": round(statistics.median(throughput)),
        "chain_latency_us_p50": round(percentile(latencies, 0.5), 1),
        "chain_latency_us_p90": round(percentile(latencies, 0.9), 1),
        "cmd_roundtrip_us_p50": round(percentile(roundtrips, 0.5), 1),
        "cmd_roundtrip_us_p90": round(percentile(roundtrips, 0.9), 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--frames", type=int, default=20000)
    parser.add_argument("--rounds", type=int, default=3000)
    args = parser.parse_args()
    print(json.dumps(asyncio.run(run(args.frames, args.rounds))))


if __name__ == "__main__":
    main()
