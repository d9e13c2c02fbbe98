"""CPU cost of one 10 ms tick of the audio I/O clocks, as % of real time.

wav: read + convert a 22.05 kHz stereo float WAV, play one slice, write the output WAV at 22.05 kHz.
device: a 48 kHz stereo microphone block to a 16 kHz frame, one slice resampled for a 48 kHz stereo
speaker and pulled by its callback. No audio device is needed: the device path is the same code the
PortAudio callbacks drive. Prints one JSON object as its last line.
"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.ten_select import ensure_ten_runtime  # noqa: E402

ensure_ten_runtime()  # voice_kit.pcm imports ten_runtime

from ten_packages.extension.sounddevice_io.duplex_clock import DeviceDuplexClock  # noqa: E402
from ten_packages.extension.sounddevice_io.speaker import SpeakerFeed  # noqa: E402
from ten_packages.extension.wav_file_io.wav_files import WavSink, WavSource  # noqa: E402
from ten_packages.system.voice_kit.capture import CaptureConverter  # noqa: E402
from ten_packages.system.voice_kit.playback import PlaybackBuffer  # noqa: E402
from ten_packages.system.voice_kit.testing.speech import conversation  # noqa: E402

TICK_S = 0.010
REPLY = (8000 * np.sin(2 * np.pi * 220 * np.arange(16000) / 16000)).astype(np.int16)


def summary(durations_s: list[float]) -> dict[str, float]:
    ordered = sorted(durations_s)
    return {
        "tick_us_p50": round(statistics.median(ordered) * 1e6, 1),
        "tick_us_p90": round(ordered[int(0.9 * (len(ordered) - 1))] * 1e6, 1),
        "pct_realtime_mean": round(100 * statistics.fmean(ordered) / TICK_S, 3),
    }


def bench_wav(workdir: Path) -> dict[str, float]:
    speech = conversation(["Hello, I would like to know the weather tomorrow.", 500] * 6, sample_rate=22050)
    stereo = np.stack([speech, speech], axis=1).astype(np.float32) / 32768
    soundfile.write(workdir / "in.wav", stereo, 22050, subtype="FLOAT")
    source, buffer = WavSource(str(workdir / "in.wav")), PlaybackBuffer()
    sink = WavSink(str(workdir / "out.wav"), 22050)
    frames = source.frames()
    durations = []
    for tick in range(len(speech) * 16000 // 22050 // 160 - 20):
        if tick % 200 == 0:
            buffer.push(f"reply-{tick}", REPLY)
        started = time.perf_counter()
        next(frames)
        sink.write(buffer.next_slice().samples)
        durations.append(time.perf_counter() - started)
    sink.close()
    return summary(durations)


def bench_device() -> dict[str, float]:
    speech = conversation(["Hello, I would like to know the weather tomorrow.", 500] * 6, sample_rate=48000)
    microphone = np.stack([speech, speech], axis=1).astype(np.float32) / 32768
    clock = DeviceDuplexClock(
        CaptureConverter(48000, quality="LQ"), PlaybackBuffer(), SpeakerFeed(48000, 2, max_buffered_ms=100)
    )
    speaker_block = np.empty((480, 2), np.float32)
    durations = []
    for tick, start in enumerate(range(0, len(microphone) - 480, 480)):
        if tick % 200 == 0:
            clock.playback.push(f"reply-{tick}", REPLY)
        started = time.perf_counter()
        clock.on_captured(microphone[start : start + 480])
        clock.speaker.fill(speaker_block)
        durations.append(time.perf_counter() - started)
    return summary(durations)


def main() -> None:
    with tempfile.TemporaryDirectory() as workdir:
        wav = bench_wav(Path(workdir))
    device = bench_device()
    result = {f"wav_{k}": v for k, v in wav.items()} | {f"device_{k}": v for k, v in device.items()}
    print(json.dumps(result))


if __name__ == "__main__":
    main()
