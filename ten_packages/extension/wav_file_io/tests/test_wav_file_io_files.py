"""WavSource conversion, WavSink alignment and the WAV clock, on real speech made by espeak-ng."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile
import soxr

from ten_packages.extension.wav_file_io.wav_clock import WavDuplexClock
from ten_packages.extension.wav_file_io.wav_files import AudioFileError, WavSink, WavSource
from ten_packages.system.voice_kit.playback import PlaybackBuffer
from ten_packages.system.voice_kit.testing.speech import synthesize_speech

INPUT_RATE = 22050


def write_stereo_float_speech(path: Path) -> np.ndarray:
    """Speech at 22.05 kHz, stereo float (right channel at half level); returns the mono mix as float."""
    speech = synthesize_speech("Hello there, how are you today?", sample_rate=INPUT_RATE) / 32768.0
    stereo = np.stack([speech, 0.5 * speech], axis=1).astype(np.float32)
    soundfile.write(path, stereo, INPUT_RATE, subtype="FLOAT")
    return stereo.mean(axis=1)


def tone(samples: int, rate: int = 16000, hz: float = 500.0) -> np.ndarray:
    return (10000 * np.sin(2 * np.pi * hz * np.arange(samples) / rate)).astype(np.int16)


def onset(samples: np.ndarray, threshold: int = 2000) -> int:
    return int(np.flatnonzero(np.abs(samples.astype(np.int32)) > threshold)[0])


def test_any_rate_channels_and_format_become_16k_mono_s16_frames(tmp_path: Path) -> None:
    path = tmp_path / "speech.wav"
    mono_mix = write_stereo_float_speech(path)
    source = WavSource(str(path))
    assert "22050 Hz, 2 ch, FLOAT" in source.describe()
    frames = list(source.frames())
    assert all(f.dtype == np.int16 and len(f) == 160 for f in frames)
    converted = np.concatenate(frames)
    expected = soxr.resample(mono_mix, INPUT_RATE, 16000)
    assert source.duration_ms == len(expected) * 1000 // 16000
    assert len(converted) == -(-len(expected) // 160) * 160
    correlation = np.corrcoef(converted[: len(expected)], expected)[0, 1]
    assert correlation > 0.999


def test_8_bit_8_khz_input_is_converted_too(tmp_path: Path) -> None:
    path = tmp_path / "phone.wav"
    speech = synthesize_speech("one two three", sample_rate=8000)
    soundfile.write(path, speech, 8000, subtype="PCM_U8")
    converted = np.concatenate(list(WavSource(str(path)).frames()))
    expected = soxr.resample(speech, 8000, 16000)
    assert np.corrcoef(converted[: len(expected)], expected)[0, 1] > 0.98


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [("missing.wav", None, "does not exist"), ("notes.wav", b"not audio at all", "is not readable audio")],
)
def test_unreadable_input_is_a_clear_error(
    tmp_path: Path, name: str, content: bytes | None, message: str
) -> None:
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(AudioFileError, match=message):
        WavSource(str(path))
    with pytest.raises(AudioFileError, match="input_path"):
        WavSource("")


@pytest.mark.parametrize("output_rate", [16000, 22050, 48000])
def test_sink_puts_a_tone_at_its_tick_on_the_output_rate_timeline(tmp_path: Path, output_rate: int) -> None:
    path = tmp_path / "out.wav"
    sink = WavSink(str(path), output_rate)
    buffer = PlaybackBuffer()
    for tick in range(100):
        if tick == 42:
            buffer.push("r", tone(3200))
        sink.write(buffer.next_slice().samples)
    sink.close()
    written, rate = soundfile.read(path, dtype="int16")
    assert rate == output_rate
    assert len(written) == output_rate  # 100 ticks of 10 ms
    assert abs(onset(written) - onset(tone(3200), 2000) * output_rate // 16000 - 42 * output_rate // 100) <= 2


def run_clock(clock: WavDuplexClock, bot_reply_at_tick: int) -> tuple[list, list[int]]:
    """Run the clock; a bot tone arrives in time to start playing at tick `bot_reply_at_tick` (0-based).

    Returns every tick's (capture, played) and the input_end timestamps."""
    ticks: list = []
    ends: list[int] = []

    async def on_tick(capture: np.ndarray | None, played) -> None:
        ticks.append((capture, played))
        if len(ticks) == bot_reply_at_tick:
            clock.buffer.push("reply", tone(4000))
            clock.buffer.end_request("reply")

    async def on_input_end(timestamp_ms: int) -> None:
        ends.append(timestamp_ms)

    asyncio.run(clock.run(on_tick, on_input_end))
    return ticks, ends


def test_clock_lines_the_bot_up_with_the_input_and_waits_a_quiet_tail(tmp_path: Path) -> None:
    write_stereo_float_speech(tmp_path / "in.wav")
    source = WavSource(str(tmp_path / "in.wav"))
    sink = WavSink(str(tmp_path / "out.wav"), INPUT_RATE)
    clock = WavDuplexClock(source, PlaybackBuffer(), sink, realtime=False, tail_ms=150)
    input_ticks = -(-soundfile.info(str(tmp_path / "in.wav")).frames * 16000 // INPUT_RATE // 160)
    reply_tick = input_ticks - 5  # the 250 ms reply runs past the input's end
    ticks, ends = run_clock(clock, bot_reply_at_tick=reply_tick)
    sink.close()

    assert ends == [source.duration_ms]
    captured = [c for c, _ in ticks if c is not None]
    assert len(captured) == input_ticks
    assert all(c is None for c, _ in ticks[input_ticks:])
    assert [p.timestamp_ms for _, p in ticks] == [10 * i for i in range(len(ticks))]
    events = [e for _, p in ticks for e in p.events]
    assert [(e.name, e.timestamp_ms) for e in events] == [
        ("playback_start", 10 * reply_tick),
        ("playback_end", 10 * reply_tick + 250),
    ]
    assert len(ticks) == reply_tick + 25 + 15  # reply (250 ms) then 150 ms of quiet

    written, rate = soundfile.read(tmp_path / "out.wav", dtype="int16")
    input_frames = soundfile.info(str(tmp_path / "in.wav")).frames
    assert rate == INPUT_RATE and len(written) > input_frames
    expected_onset = reply_tick * INPUT_RATE // 100 + onset(tone(4000)) * INPUT_RATE // 16000
    assert abs(onset(written) - expected_onset) <= 2


def test_realtime_paces_the_input_at_its_duration(tmp_path: Path) -> None:
    path = tmp_path / "half_second.wav"
    soundfile.write(path, np.zeros(8000, np.int16), 16000)
    clock = WavDuplexClock(WavSource(str(path)), PlaybackBuffer(), None, realtime=True, tail_ms=0)
    started = time.monotonic()
    ticks, _ = run_clock(clock, bot_reply_at_tick=-1)
    assert len(ticks) == 50
    assert time.monotonic() - started >= 0.48
