"""AsyncExtensionTester runs one extension the way TEN's own tests do."""

from __future__ import annotations

import json

import numpy as np
from ten_runtime import AsyncExtensionTester, AsyncTenEnvTester, AudioFrame, TenError, TenErrorCode


class CollectTone(AsyncExtensionTester):
    def __init__(self, frames_wanted: int) -> None:
        super().__init__()
        self.frames: list[AudioFrame] = []
        self.frames_wanted = frames_wanted

    async def on_audio_frame(self, ten_env_tester: AsyncTenEnvTester, audio_frame: AudioFrame) -> None:
        self.frames.append(audio_frame)
        if len(self.frames) == self.frames_wanted:
            ten_env_tester.stop_test()


def test_tester_runs_an_extension_with_overridden_properties():
    tester = CollectTone(frames_wanted=5)
    tester.set_test_mode_single(
        "tone_generator", json.dumps({"realtime": False, "duration_ms": 50, "stop_graph_when_done": False})
    )
    assert tester.run() is None
    first = tester.frames[0]
    assert first.get_sample_rate() == 16000 and first.get_samples_per_channel() == 160
    samples = np.frombuffer(first.get_buf(), dtype=np.int16)
    assert 0.25 * 32767 < np.abs(samples).max() <= 0.3 * 32767 + 1
    assert [f.get_timestamp() for f in tester.frames] == [0, 10, 20, 30, 40]


def test_stop_test_error_is_what_run_returns():
    class Failing(AsyncExtensionTester):
        async def on_start(self, ten_env_tester: AsyncTenEnvTester) -> None:
            ten_env_tester.stop_test(TenError.create(TenErrorCode.ErrorCodeGeneric, "expected failure"))

    tester = Failing()
    tester.set_test_mode_single("pcm_passthrough")
    err = tester.run()
    assert err is not None and err.error_message() == "expected failure"


def test_bad_property_json_is_reported_by_run():
    tester = CollectTone(frames_wanted=1)
    tester.set_test_mode_single("tone_generator", json.dumps({"duration_ms": "long"}))
    err = tester.run()
    assert err is not None and "duration_ms: expected an integer" in err.error_message()


def test_a_test_that_never_stops_times_out():
    tester = CollectTone(frames_wanted=10_000)
    tester.set_test_mode_single("pcm_passthrough")
    tester.set_timeout(200_000)
    err = tester.run()
    assert err is not None and err.error_code() == TenErrorCode.ErrorCodeTimeout
