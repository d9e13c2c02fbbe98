"""Device choice, device-format conversion both ways and flushing, without an audio device."""

from __future__ import annotations

import numpy as np
import pytest
import soxr

from ten_packages.extension.sounddevice_io.devices import (
    AudioDeviceError,
    default_device_index,
    list_devices,
    resolve_device,
)
from ten_packages.extension.sounddevice_io.duplex_clock import DeviceDuplexClock
from ten_packages.extension.sounddevice_io.speaker import SpeakerFeed
from ten_packages.system.voice_kit.capture import CaptureConverter
from ten_packages.system.voice_kit.playback import PlaybackBuffer
from ten_packages.system.voice_kit.testing.speech import synthesize_speech

DEVICES = [
    {"index": 0, "name": "MacBook Pro Microphone", "max_input_channels": 1, "max_output_channels": 0,
     "default_samplerate": 48000.0},
    {"index": 1, "name": "MacBook Pro Speakers", "max_input_channels": 0, "max_output_channels": 2,
     "default_samplerate": 48000.0},
    {"index": 2, "name": "USB Headset", "max_input_channels": 1, "max_output_channels": 2,
     "default_samplerate": 44100.0},
]  # fmt: skip


@pytest.mark.parametrize(
    ("spec", "kind", "expected"),
    [
        ("", "input", 0),
        ("", "output", 1),
        ("2", "input", 2),
        ("usb", "output", 2),
        ("MACBOOK PRO MICROPHONE", "input", 0),
        ("speakers", "output", 1),
    ],
)
def test_device_by_name_index_or_default(spec: str, kind: str, expected: int) -> None:
    default = {"input": 0, "output": 1}[kind]
    assert resolve_device(spec, kind, DEVICES, default)["index"] == expected


@pytest.mark.parametrize(
    ("spec", "kind", "problem"),
    [("Studio Mic", "input", "was not found"), ("1", "input", "was not found"), ("e", "output", None)],
)
def test_a_missing_device_lists_the_available_ones(spec: str, kind: str, problem: str | None) -> None:
    with pytest.raises(AudioDeviceError) as raised:
        resolve_device(spec, kind, DEVICES, -1)
    message = str(raised.value)
    assert f"'{kind}_device' property" in message
    if problem:  # every device usable for that direction is listed
        assert problem in message
        assert "0: MacBook Pro Microphone (1 ch, 48000 Hz)" in message and "2: USB Headset" in message
        assert "Speakers" not in message
    else:  # only the devices an ambiguous name matched
        assert "matches several" in message and "1: MacBook Pro Speakers" in message
        assert "2: USB Headset" in message and "Microphone" not in message


def test_this_machine_without_audio_devices_says_there_are_none() -> None:
    devices = list_devices()
    if devices:
        pytest.skip("this machine has audio devices")
    with pytest.raises(
        AudioDeviceError, match=r"input device 'default'.*\n  \(none: no audio device found\)"
    ):
        resolve_device("", "input", devices, default_device_index("input"))


def tone(samples: int, rate: int, hz: float = 300.0) -> np.ndarray:
    return (12000 * np.sin(2 * np.pi * hz * np.arange(samples) / rate)).astype(np.int16)


def make_clock(mic_rate: int, speaker_rate: int, speaker_channels: int = 2) -> DeviceDuplexClock:
    speaker = SpeakerFeed(speaker_rate, speaker_channels, max_buffered_ms=1000)
    return DeviceDuplexClock(CaptureConverter(mic_rate, quality="LQ"), PlaybackBuffer(), speaker)


def test_44k1_stereo_microphone_becomes_10ms_16k_frames_matching_the_speech() -> None:
    speech = synthesize_speech("Testing the microphone path", sample_rate=44100).astype(np.float32) / 32768
    stereo = np.stack([speech, speech], axis=1)
    clock = make_clock(44100, 48000)
    frames = []
    for start in range(0, len(stereo), 441):  # PortAudio-sized 10 ms blocks
        frames += [frame for frame, _ in clock.on_captured(stereo[start : start + 441])]
    assert all(len(f) == 160 and f.dtype == np.int16 for f in frames)
    captured = np.concatenate(frames)
    expected = soxr.resample(speech, 44100, 16000) * 32767
    held_back = len(expected) - len(captured)
    assert 0 <= held_back <= 160 + 16000 * 25 // 1000  # a partial frame plus the resampler's delay
    assert np.corrcoef(captured, expected[: len(captured)])[0, 1] > 0.999


def test_bot_audio_reaches_the_speaker_at_its_rate_on_both_channels_one_slice_per_tick() -> None:
    clock = make_clock(48000, 44100)
    bot = tone(1600, 16000)
    clock.playback.push("r1", bot)
    silence_block = np.zeros((480, 1), np.float32)
    ticks = [t for _ in range(20) for t in clock.on_captured(silence_block)]
    assert len(ticks) >= 18 and [p.timestamp_ms for _, p in ticks] == [10 * i for i in range(len(ticks))]
    out = np.empty((441 * 20, 2), np.float32)
    clock.speaker.fill(out)
    np.testing.assert_array_equal(out[:, 0], out[:, 1])
    expected = soxr.resample(bot.astype(np.float32) / 32768, 16000, 44100)
    assert np.corrcoef(out[: len(expected), 0], expected)[0, 1] > 0.99
    assert np.abs(out[len(expected) + 20 :]).max() < 1e-3  # only the resampler's filter ringing


def test_flush_leaves_at_most_one_frame_in_flight() -> None:
    clock = make_clock(16000, 16000, speaker_channels=1)
    clock.playback.push("r1", tone(16000, 16000))
    for _ in range(5):
        clock.on_captured(np.zeros((160, 1), np.float32))
    result = clock.playback.flush()
    clock.speaker.clear()
    assert result.played_ms == 50
    out = np.empty((1600, 1), np.float32)
    clock.on_captured(np.zeros((160, 1), np.float32))
    clock.speaker.fill(out)
    assert not out.any()


def test_speaker_queue_is_capped_so_clock_drift_cannot_build_latency() -> None:
    speaker = SpeakerFeed(48000, 1, max_buffered_ms=50)
    for _ in range(20):
        speaker.push(tone(160, 16000))
    assert speaker.buffered_ms <= 50
    out = np.empty((4800, 1), np.float32)
    speaker.fill(out)
    assert speaker.buffered_ms == 0 and speaker.underrun_samples >= 4800 - 2400
