"""The `error` and `metrics` data messages of TEN's ASR/LLM/TTS interfaces."""

from __future__ import annotations

import json
from typing import Any

from ten_runtime import AsyncTenEnv, Data

ERROR_FATAL = -1000
ERROR_NON_FATAL = 1000


async def send_error(
    ten_env: AsyncTenEnv,
    module: str,
    message: str,
    code: int = ERROR_NON_FATAL,
    request_id: str = "",
    vendor: str = "",
) -> None:
    """Log and send `error` data (module, code, message) so the controller can react."""
    ten_env.log_error(f"{module}: {message}")
    payload: dict[str, Any] = {"id": request_id, "module": module, "code": code, "message": message}
    if vendor:
        payload["vendor_info"] = {"vendor": vendor, "code": str(code), "message": message}
    data = Data.create("error")
    data.set_property_from_json(None, json.dumps(payload))
    await ten_env.send_data(data)


async def send_metrics(
    ten_env: AsyncTenEnv, module: str, vendor: str, metrics: dict[str, Any], request_id: str = ""
) -> None:
    """Send `metrics` data, e.g. {"ttfb": 120} or {"ttft_ms": 80, "tokens_per_s": 41.5}."""
    data = Data.create("metrics")
    data.set_property_from_json(
        None, json.dumps({"id": request_id, "module": module, "vendor": vendor, "metrics": metrics})
    )
    await ten_env.send_data(data)
