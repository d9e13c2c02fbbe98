"""The embedded runtime: a pure-Python asyncio implementation of TEN 0.11's ``ten_runtime`` API.

Extensions import it as ``ten_runtime`` (see app/ten_select.py); when the real ``ten_runtime``
is importable, that one is used instead.
"""

from ._addon import Addon, AsyncExtension, Extension, register_addon_as_extension
from ._app import App
from ._engine import GraphEngine, GraphStartError, NodeSpec
from ._env import AsyncTenEnv, TenEnv
from ._errors import LogLevel, StatusCode, TenError, TenErrorCode
from ._msg import (
    AudioFrame,
    AudioFrameDataFmt,
    Cmd,
    CmdResult,
    Data,
    Loc,
    PixelFmt,
    SendOptions,
    StartGraphCmd,
    StopGraphCmd,
    VideoFrame,
)
from ._tester import AsyncExtensionTester, AsyncTenEnvTester

__all__ = [
    "Addon",
    "App",
    "AsyncExtension",
    "AsyncExtensionTester",
    "AsyncTenEnv",
    "AsyncTenEnvTester",
    "AudioFrame",
    "AudioFrameDataFmt",
    "Cmd",
    "CmdResult",
    "Data",
    "Extension",
    "GraphEngine",
    "GraphStartError",
    "Loc",
    "LogLevel",
    "NodeSpec",
    "PixelFmt",
    "SendOptions",
    "StartGraphCmd",
    "StatusCode",
    "StopGraphCmd",
    "TenEnv",
    "TenError",
    "TenErrorCode",
    "VideoFrame",
    "register_addon_as_extension",
]
