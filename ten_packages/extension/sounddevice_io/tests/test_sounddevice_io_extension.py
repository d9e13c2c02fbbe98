"""sounddevice_io under TEN's AsyncExtensionTester: a missing device is a clear error, not a crash."""

from __future__ import annotations

import json
from typing import Any

import pytest
from ten_runtime import AsyncExtensionTester, AsyncTenEnvTester, Cmd, Data, StatusCode

from ten_packages.extension.sounddevice_io.devices import list_devices


class FlushesAfterTheError(AsyncExtensionTester):
    """Waits for the device error, then checks the extension still answers a flush."""

    def __init__(self) -> None:
        super().__init__()
        self.errors: list[dict[str, Any]] = []
        self.flush_result: dict[str, Any] = {}

    async def on_data(self, ten_env: AsyncTenEnvTester, data: Data) -> None:
        if data.get_name() != "error":
            return
        payload, _ = data.get_property_to_json(None)
        self.errors.append(json.loads(payload))
        result, error = await ten_env.send_cmd(Cmd.create("flush"))
        if error is None and result.get_status_code() == StatusCode.OK:
            payload, _ = result.get_property_to_json(None)
            self.flush_result = json.loads(payload)
        ten_env.stop_test()


@pytest.mark.parametrize("device", ["Studio Microphone", "7"])
def test_a_missing_device_lists_the_available_ones_and_the_extension_keeps_running(device: str) -> None:
    if list_devices():
        pytest.skip("this machine has audio devices")
    tester = FlushesAfterTheError()
    tester.set_test_mode_single("sounddevice_io", json.dumps({"input_device": device}))
    error = tester.run()
    assert error is None, error.error_message()
    (device_error,) = tester.errors
    assert device_error["module"] == "sounddevice_io"
    assert f"input device '{device}' was not found" in device_error["message"]
    assert "'input_device' property" in device_error["message"]
    assert "(none: no audio device found)" in device_error["message"]
    assert tester.flush_result == {"request_id": "", "played_ms": 0}
