"""AsyncTenEnv: what an extension sees of the runtime (properties, sending, logging)."""

from __future__ import annotations

import logging
from collections.abc import AsyncGenerator
from typing import TYPE_CHECKING, Any

from ._errors import LogLevel, TenError
from ._msg import AudioFrame, Cmd, CmdResult, Data, PropertyStore, SendOptions, VideoFrame, _PropertyAccess

if TYPE_CHECKING:
    from ._engine import GraphEngine

_PY_LEVELS = {
    LogLevel.VERBOSE: logging.DEBUG,
    LogLevel.DEBUG: logging.DEBUG,
    LogLevel.INFO: logging.INFO,
    LogLevel.WARN: logging.WARNING,
    LogLevel.ERROR: logging.ERROR,
    LogLevel.FATAL: logging.CRITICAL,
}

logger = logging.getLogger("ten")


class AsyncTenEnv(_PropertyAccess):
    """One node's handle on the graph; all sends are async and return errors, never raise."""

    def __init__(self, engine: GraphEngine, node_name: str, properties: PropertyStore) -> None:
        self._engine = engine
        self._node_name = node_name
        self._props = properties

    async def send_cmd(
        self, cmd: Cmd, options: SendOptions | None = None
    ) -> tuple[CmdResult | None, TenError | None]:
        return await self._engine.send_cmd(self._node_name, cmd)

    async def send_cmd_ex(
        self, cmd: Cmd, options: SendOptions | None = None
    ) -> AsyncGenerator[tuple[CmdResult | None, TenError | None], None]:
        async for item in self._engine.send_cmd_ex(self._node_name, cmd):
            yield item

    async def send_data(self, data: Data, options: SendOptions | None = None) -> TenError | None:
        return self._engine.send_message(self._node_name, "data", data)

    async def send_audio_frame(
        self, audio_frame: AudioFrame, options: SendOptions | None = None
    ) -> TenError | None:
        return self._engine.send_message(self._node_name, "audio_frame", audio_frame)

    async def send_video_frame(
        self, video_frame: VideoFrame, options: SendOptions | None = None
    ) -> TenError | None:
        return self._engine.send_message(self._node_name, "video_frame", video_frame)

    async def return_result(self, result: CmdResult, options: SendOptions | None = None) -> TenError | None:
        return self._engine.return_result(self._node_name, result)

    async def is_property_exist(self, path: str) -> tuple[bool, TenError | None]:
        _, err = self._props.lookup(path)
        return err is None, None

    async def init_property_from_json(self, json_str: str) -> TenError | None:
        return self._props.from_json(None, json_str)

    # Property getters/setters are coroutines on AsyncTenEnv, as in TEN.
    async def get_property_to_json(self, path: str | None = None) -> tuple[str, TenError | None]:  # type: ignore[override]
        return super().get_property_to_json(path)

    async def set_property_from_json(self, path: str | None, json_str: str) -> TenError | None:  # type: ignore[override]
        return super().set_property_from_json(path, json_str)

    async def get_property_int(self, path: str) -> tuple[int, TenError | None]:  # type: ignore[override]
        return super().get_property_int(path)

    async def get_property_float(self, path: str) -> tuple[float, TenError | None]:  # type: ignore[override]
        return super().get_property_float(path)

    async def get_property_string(self, path: str) -> tuple[str, TenError | None]:  # type: ignore[override]
        return super().get_property_string(path)

    async def get_property_bool(self, path: str) -> tuple[bool, TenError | None]:  # type: ignore[override]
        return super().get_property_bool(path)

    async def set_property_int(self, path: str, value: int) -> TenError | None:  # type: ignore[override]
        return super().set_property_int(path, value)

    async def set_property_float(self, path: str, value: float) -> TenError | None:  # type: ignore[override]
        return super().set_property_float(path, value)

    async def set_property_string(self, path: str, value: str) -> TenError | None:  # type: ignore[override]
        return super().set_property_string(path, value)

    async def set_property_bool(self, path: str, value: bool) -> TenError | None:  # type: ignore[override]
        return super().set_property_bool(path, value)

    def log(
        self, level: LogLevel, msg: str, category: str | None = None, fields: Any = None, option: Any = None
    ) -> TenError | None:
        prefix = f"[{self._node_name}]" + (f" [{category}]" if category else "")
        logger.log(_PY_LEVELS.get(LogLevel(level), logging.INFO), "%s %s", prefix, msg)
        return None

    def log_debug(
        self, msg: str, category: str | None = None, fields: Any = None, option: Any = None
    ) -> TenError | None:
        return self.log(LogLevel.DEBUG, msg, category)

    def log_info(
        self, msg: str, category: str | None = None, fields: Any = None, option: Any = None
    ) -> TenError | None:
        return self.log(LogLevel.INFO, msg, category)

    def log_warn(
        self, msg: str, category: str | None = None, fields: Any = None, option: Any = None
    ) -> TenError | None:
        return self.log(LogLevel.WARN, msg, category)

    def log_error(
        self, msg: str, category: str | None = None, fields: Any = None, option: Any = None
    ) -> TenError | None:
        return self.log(LogLevel.ERROR, msg, category)


class TenEnv(AsyncTenEnv):
    """Name kept for imports; the embedded runtime hands every extension an AsyncTenEnv."""
