"""Addons and extensions: the classes extension code subclasses, and the addon registry."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._env import AsyncTenEnv
    from ._msg import AudioFrame, Cmd, Data, VideoFrame

_registry: dict[str, tuple[type[Addon], str | None]] = {}


class Addon:
    """Makes extension instances; subclasses end on_create_instance with on_create_instance_done."""

    def on_init(self, ten_env: Any) -> None:
        pass

    def on_deinit(self, ten_env: Any) -> None:
        pass

    def on_create_instance(self, ten_env: Any, name: str, context: Any) -> None:
        raise NotImplementedError


def register_addon_as_extension(
    name: str, base_dir: str | None = None
) -> Callable[[type[Addon]], type[Addon]]:
    """Class decorator registering an Addon under ``name`` (the node's ``addon`` in a graph)."""

    def decorate(cls: type[Addon]) -> type[Addon]:
        _registry[name] = (cls, base_dir)
        return cls

    return decorate


def registered_addon(name: str) -> type[Addon] | None:
    entry = _registry.get(name)
    return entry[0] if entry else None


class Extension:
    """TEN's synchronous extension base. The embedded runtime runs AsyncExtension only."""

    def __init__(self, name: str) -> None:
        self._ext_name = name


class AsyncExtension:
    """Base class of asyncio extensions; each callback is awaited by the runtime."""

    def __init__(self, name: str) -> None:
        self._ext_name = name

    async def on_configure(self, ten_env: AsyncTenEnv) -> None:
        pass

    async def on_init(self, ten_env: AsyncTenEnv) -> None:
        pass

    async def on_start(self, ten_env: AsyncTenEnv) -> None:
        pass

    async def on_stop(self, ten_env: AsyncTenEnv) -> None:
        pass

    async def on_deinit(self, ten_env: AsyncTenEnv) -> None:
        pass

    async def on_cmd(self, ten_env: AsyncTenEnv, cmd: Cmd) -> None:
        pass

    async def on_data(self, ten_env: AsyncTenEnv, data: Data) -> None:
        pass

    async def on_audio_frame(self, ten_env: AsyncTenEnv, audio_frame: AudioFrame) -> None:
        pass

    async def on_video_frame(self, ten_env: AsyncTenEnv, video_frame: VideoFrame) -> None:
        pass
