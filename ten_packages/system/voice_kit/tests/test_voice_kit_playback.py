"""PlaybackBuffer: one slice per tick, request events, flush within one frame, timeline alignment."""

from __future__ import annotations

import numpy as np

from ten_packages.system.voice_kit.playback import PLAYBACK_END, PLAYBACK_START, PlaybackBuffer

FRAME = 160


def tone(samples: int, hz: float = 440.0, rate: int = 16000) -> np.ndarray:
    t = np.arange(samples) / rate
    return (8000 * np.sin(2 * np.pi * hz * t)).astype(np.int16)


def play(buffer: PlaybackBuffer, ticks: int) -> tuple[np.ndarray, list]:
    slices = [buffer.next_slice() for _ in range(ticks)]
    return np.concatenate([s.samples for s in slices]), [e for s in slices for e in s.events]


def test_every_tick_is_one_full_frame_with_timestamps_on_the_input_timeline() -> None:
    buffer = PlaybackBuffer()
    buffer.push("r1", tone(250))  # not a multiple of the frame length
    slices = [buffer.next_slice() for _ in range(4)]
    assert [s.timestamp_ms for s in slices] == [0, 10, 20, 30]
    assert all(len(s.samples) == FRAME and s.samples.dtype == np.int16 for s in slices)
    played = np.concatenate([s.samples for s in slices])
    np.testing.assert_array_equal(played[:250], tone(250))
    assert not played[250:].any()


def test_tone_pushed_at_a_known_tick_appears_at_that_sample_offset() -> None:
    buffer = PlaybackBuffer()
    silent, _ = play(buffer, 37)
    buffer.push("r1", tone(1000))
    rest, events = play(buffer, 20)
    output = np.concatenate([silent, rest])
    onset = int(np.flatnonzero(output)[0])
    assert onset == 37 * FRAME + 1  # the tone's first sample is sin(0) = 0
    np.testing.assert_array_equal(output[37 * FRAME : 37 * FRAME + 1000], tone(1000))
    assert events[0].name == PLAYBACK_START and events[0].timestamp_ms == 370


def test_start_and_end_events_carry_request_timestamps_and_played_ms() -> None:
    buffer = PlaybackBuffer()
    buffer.next_slice()
    buffer.push("a", tone(800))  # 50 ms
    buffer.push("b", tone(400))  # 25 ms, starts mid-slice right after a
    buffer.end_request("b")
    _, events = play(buffer, 10)
    summary = [(e.name, e.request_id, e.timestamp_ms, e.played_ms, e.interrupted) for e in events]
    assert summary == [
        (PLAYBACK_START, "a", 10, 0, False),
        (PLAYBACK_END, "a", 60, 50, False),
        (PLAYBACK_START, "b", 60, 0, False),
        (PLAYBACK_END, "b", 85, 25, False),
    ]
    assert buffer.is_quiet


def test_an_unannounced_end_waits_for_the_idle_timeout_and_survives_slow_tts() -> None:
    buffer = PlaybackBuffer(request_idle_end_ms=100)
    buffer.push("slow", tone(FRAME))
    _, events = play(buffer, 5)  # 40 ms underrun: the request stays open
    assert [e.name for e in events] == [PLAYBACK_START]
    assert not buffer.is_quiet and buffer.quiet_ms == 0
    buffer.push("slow", tone(FRAME))
    _, events = play(buffer, 12)
    assert [e.name for e in events] == [PLAYBACK_END]
    assert events[0].played_ms == 20 and not events[0].interrupted


def test_flush_drops_everything_within_one_frame_and_reports_played_ms() -> None:
    buffer = PlaybackBuffer()
    buffer.push("r1", tone(16000))
    buffer.push("r2", tone(1600))
    play(buffer, 23)
    result = buffer.flush()
    assert (result.request_id, result.played_ms) == ("r1", 230)
    assert [(e.request_id, e.played_ms, e.interrupted) for e in result.events] == [
        ("r1", 230, True),
        ("r2", 0, True),
    ]
    after = buffer.next_slice()
    assert not after.samples.any() and not after.events
    assert buffer.is_quiet


def test_late_audio_of_a_flushed_request_is_refused_but_a_new_request_plays() -> None:
    buffer = PlaybackBuffer()
    buffer.push("r1", tone(3200))
    play(buffer, 2)
    buffer.flush()
    assert buffer.push("r1", tone(3200)) is False
    assert buffer.push("r2", tone(FRAME)) is True
    samples, events = play(buffer, 1)
    np.testing.assert_array_equal(samples, tone(FRAME))
    assert events[0].request_id == "r2"


def test_flush_when_idle_reports_the_last_request_heard() -> None:
    buffer = PlaybackBuffer()
    assert buffer.flush().played_ms == 0
    buffer.push("r1", tone(480))
    buffer.end_request("r1")
    play(buffer, 5)
    result = buffer.flush()
    assert (result.request_id, result.played_ms, result.events) == ("r1", 30, [])


def test_quiet_ms_counts_from_the_last_bot_sample() -> None:
    buffer = PlaybackBuffer()
    play(buffer, 3)
    assert buffer.quiet_ms == 30
    buffer.push("r1", tone(240))
    buffer.end_request("r1")
    play(buffer, 2)
    assert buffer.quiet_ms == 5  # the last bot sample was 15 ms into the 20 ms played since
    play(buffer, 10)
    assert buffer.quiet_ms == 105


def test_other_sample_rates_and_frame_lengths() -> None:
    buffer = PlaybackBuffer(sample_rate=48000, frame_samples=480)
    buffer.push("r", tone(960, rate=48000))
    first = buffer.next_slice()
    assert len(first.samples) == 480 and buffer.position_ms == 10
    assert first.events[0].timestamp_ms == 0
