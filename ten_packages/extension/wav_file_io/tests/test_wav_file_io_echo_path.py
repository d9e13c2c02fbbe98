"""The simulated echo path delays and attenuates the played audio into the capture."""

import numpy as np
import pytest

from ten_packages.extension.wav_file_io.echo_path import SimulatedEchoPath


def test_played_audio_returns_delayed_and_attenuated():
    path = SimulatedEchoPath(gain=0.5, delay_ms=20, sample_rate=16000)
    played = [np.full(160, 1000 * (i + 1), dtype=np.int16) for i in range(4)]
    captured = [path.mix(np.zeros(160, dtype=np.int16), p) for p in played]
    assert not captured[0].any() and not captured[1].any()  # 20 ms of travel
    assert (captured[2] == 500).all() and (captured[3] == 1000).all()


def test_echo_adds_to_the_users_voice_and_clips():
    path = SimulatedEchoPath(gain=1.0, delay_ms=0, sample_rate=16000)
    mixed = path.mix(np.full(160, 30000, dtype=np.int16), np.full(160, 10000, dtype=np.int16))
    assert (mixed == 32767).all()


def test_bad_settings_are_refused():
    with pytest.raises(ValueError, match="echo_gain"):
        SimulatedEchoPath(gain=-1, delay_ms=0, sample_rate=16000)
