"""AsyncExtensionTester: runs one extension against a test double, the way TEN tests its own."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path
from typing import Any

from ._addon import AsyncExtension
from ._engine import GraphEngine, GraphStartError, NodeSpec
from ._env import AsyncTenEnv
from ._errors import TenError, TenErrorCode
from ._msg import AudioFrame, Cmd, Data, PropertyStore, VideoFrame
from ._packages import ConfigError, create_extension, find_extension, import_addon

TESTER_NODE = "ten_test_tester"
DEFAULT_TEST_TIMEOUT_S = 120.0


class AsyncTenEnvTester(AsyncTenEnv):
    """The tester's env: sends to the extension under test and can end the test."""

    def __init__(self, engine: GraphEngine, node_name: str, properties: PropertyStore) -> None:
        super().__init__(engine, node_name, properties)
        self.outcome: TenError | None = None

    def stop_test(self, error: TenError | None = None) -> None:
        self.outcome = error
        self._engine.request_stop()


class _TesterProxy(AsyncExtension):
    """Stands in the graph for the tester; forwards callbacks to it."""

    def __init__(self, tester: AsyncExtensionTester) -> None:
        super().__init__(TESTER_NODE)
        self._tester = tester
        self._start_task: asyncio.Task | None = None

    async def on_start(self, ten_env: AsyncTenEnvTester) -> None:  # type: ignore[override]
        # The tester starts once the extension has started, so run it after the start phase.
        self._start_task = asyncio.get_running_loop().create_task(self._start_after_graph(ten_env))

    async def _start_after_graph(self, ten_env: AsyncTenEnvTester) -> None:
        await asyncio.sleep(0)
        try:
            await self._tester.on_start(ten_env)
        except Exception as exc:
            ten_env.log_error(f"tester on_start raised {type(exc).__name__}: {exc}")
            ten_env.stop_test(TenError(TenErrorCode.ErrorCodeGeneric, f"tester on_start raised {exc!r}"))

    async def on_stop(self, ten_env: AsyncTenEnvTester) -> None:  # type: ignore[override]
        await self._tester.on_stop(ten_env)

    async def on_deinit(self, ten_env: AsyncTenEnvTester) -> None:  # type: ignore[override]
        await self._tester.on_deinit(ten_env)

    async def on_cmd(self, ten_env: AsyncTenEnvTester, cmd: Cmd) -> None:  # type: ignore[override]
        await self._tester.on_cmd(ten_env, cmd)

    async def on_data(self, ten_env: AsyncTenEnvTester, data: Data) -> None:  # type: ignore[override]
        await self._tester.on_data(ten_env, data)

    async def on_audio_frame(self, ten_env: AsyncTenEnvTester, audio_frame: AudioFrame) -> None:  # type: ignore[override]
        await self._tester.on_audio_frame(ten_env, audio_frame)

    async def on_video_frame(self, ten_env: AsyncTenEnvTester, video_frame: VideoFrame) -> None:  # type: ignore[override]
        await self._tester.on_video_frame(ten_env, video_frame)


def _find_app_root(addon: str) -> Path:
    """The folder holding ten_packages/extension/<addon>: cwd and its parents, then sys.path."""
    candidates = [Path.cwd(), *Path.cwd().parents, *(Path(p) for p in sys.path if p)]
    env_root = os.environ.get("TEN_APP_ROOT")
    if env_root:
        candidates.insert(0, Path(env_root))
    for root in candidates:
        if (root / "ten_packages" / "extension" / addon / "manifest.json").exists():
            return root.resolve()
    return Path.cwd()


class AsyncExtensionTester:
    """Subclass it, override on_start and the message callbacks, then call run()."""

    def __init__(self) -> None:
        self._addon: str | None = None
        self._property_json: str | None = None
        self._timeout_s: float | None = DEFAULT_TEST_TIMEOUT_S

    def set_test_mode_single(self, addon_name: str, property_json_str: str | None = None) -> TenError | None:
        self._addon = addon_name
        self._property_json = property_json_str
        return None

    def set_timeout(self, timeout_us: int) -> None:
        """Fail the run with a Timeout error if stop_test is not called within this time."""
        self._timeout_s = timeout_us / 1e6 if timeout_us else None

    async def on_start(self, ten_env_tester: AsyncTenEnvTester) -> None:
        pass

    async def on_stop(self, ten_env_tester: AsyncTenEnvTester) -> None:
        pass

    async def on_deinit(self, ten_env_tester: AsyncTenEnvTester) -> None:
        pass

    async def on_cmd(self, ten_env_tester: AsyncTenEnvTester, cmd: Cmd) -> None:
        pass

    async def on_data(self, ten_env_tester: AsyncTenEnvTester, data: Data) -> None:
        pass

    async def on_audio_frame(self, ten_env_tester: AsyncTenEnvTester, audio_frame: AudioFrame) -> None:
        pass

    async def on_video_frame(self, ten_env_tester: AsyncTenEnvTester, video_frame: VideoFrame) -> None:
        pass

    def run(self) -> TenError | None:
        """Run the extension with this tester until stop_test(); returns the error given to it, if any."""
        if not self._addon:
            return TenError(
                TenErrorCode.ErrorCodeInvalidArgument, "call set_test_mode_single(addon) before run()"
            )
        return asyncio.run(self.__run_single_extension())

    async def __run_single_extension(self) -> TenError | None:
        addon = self._addon
        try:
            app_root = _find_app_root(addon)
            package = find_extension(addon, app_root)
            overlay: dict[str, Any] = json.loads(self._property_json) if self._property_json else {}
            properties = package.resolve_properties(overlay, "set_test_mode_single(property_json)", "")
            extension = create_extension(import_addon(package, app_root), addon, package)
        except (ConfigError, json.JSONDecodeError) as exc:
            return TenError(TenErrorCode.ErrorCodeInvalidArgument, str(exc))
        engine = GraphEngine(
            "test",
            [
                NodeSpec(addon, extension, properties),
                NodeSpec(TESTER_NODE, _TesterProxy(self), {}, env_factory=AsyncTenEnvTester),
            ],
            routes={},
            wildcard_routes={addon: (TESTER_NODE,), TESTER_NODE: (addon,)},
        )
        try:
            await engine.start()
        except GraphStartError as exc:
            return TenError(TenErrorCode.ErrorCodeGeneric, str(exc))
        tester_env: AsyncTenEnvTester = engine._nodes[TESTER_NODE].env  # type: ignore[assignment]
        timed_out = False
        try:
            await asyncio.wait_for(engine.stop_requested.wait(), self._timeout_s)
        except TimeoutError:
            timed_out = True
        finally:
            await engine.stop()
        if timed_out:
            return TenError(
                TenErrorCode.ErrorCodeTimeout, f"the test of '{addon}' did not call stop_test in time"
            )
        return tester_env.outcome
