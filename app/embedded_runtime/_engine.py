"""The graph engine: routes messages between nodes, tracks cmd results, runs the lifecycle.

Every callback runs as its own asyncio task, as in TEN, but started eagerly (Python 3.12's
``eager_start``): a callback that finishes without waiting costs no scheduling round trip,
which keeps a 10 ms audio frame's trip through a chain of extensions in the microseconds.
"""

from __future__ import annotations

import asyncio
import traceback
from collections import deque
from collections.abc import AsyncGenerator, Callable
from dataclasses import dataclass, field
from typing import Any

from ._addon import AsyncExtension
from ._env import AsyncTenEnv, logger
from ._errors import StatusCode, TenError, TenErrorCode
from ._msg import Cmd, CmdResult, Data, Loc, Msg, PropertyStore, StopGraphCmd

MAX_EAGER_DEPTH = 64
STOP_CALLBACK_TIMEOUT_S = 10.0


class GraphStartError(RuntimeError):
    """An extension failed in on_configure/on_init/on_start; the graph was stopped again."""


@dataclass
class NodeSpec:
    """A graph node ready to instantiate: its extension object and resolved properties."""

    name: str
    extension: AsyncExtension
    properties: dict[str, Any]
    env_factory: Callable[[GraphEngine, str, PropertyStore], AsyncTenEnv] | None = None


@dataclass
class _Node:
    name: str
    extension: AsyncExtension
    env: AsyncTenEnv
    loc: Loc
    deferred: deque = field(default_factory=deque)
    drain_scheduled: bool = False


class _PendingCmd:
    """Results of one sent cmd, possibly fanned out to several receivers."""

    def __init__(self, loop: asyncio.AbstractEventLoop, receivers: int, name: str) -> None:
        self.name = name
        self.open_receivers = receivers
        self.results: deque[tuple[CmdResult | None, TenError | None]] = deque()
        self.waiter: asyncio.Future | None = None
        self.loop = loop
        self.done = False
        self.cmd_ids: list[int] = []

    def push(self, result: CmdResult | None, error: TenError | None, final: bool) -> None:
        if self.done:
            return
        if final:
            self.open_receivers -= 1
            if self.open_receivers <= 0:
                self.done = True
                if result is not None:
                    result._completed = True
        self.results.append((result, error))
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_result(None)

    def fail(self, error: TenError) -> None:
        if not self.done:
            self.open_receivers = 0
            self.push(None, error, True)

    async def next(self, timeout_s: float | None) -> tuple[CmdResult | None, TenError | None]:
        while not self.results:
            self.waiter = self.loop.create_future()
            timer = self.loop.call_later(timeout_s, self._expire) if timeout_s else None
            try:
                await self.waiter
            finally:
                if timer:
                    timer.cancel()
                self.waiter = None
        return self.results.popleft()

    def _expire(self) -> None:
        self.fail(TenError(TenErrorCode.ErrorCodeTimeout, f"cmd '{self.name}' got no result in time"))


class GraphEngine:
    """Runs one graph of extensions on the current event loop."""

    def __init__(
        self,
        graph_name: str,
        nodes: list[NodeSpec],
        routes: dict[tuple[str, str, str], tuple[str, ...]],
        cmd_timeout_s: float | None = 30.0,
        wildcard_routes: dict[str, tuple[str, ...]] | None = None,
        app_uri: str = "localhost",
    ) -> None:
        self.graph_name = graph_name
        self.app_uri = app_uri
        self.cmd_timeout_s = cmd_timeout_s
        self._routes = routes
        self._wildcard = wildcard_routes or {}
        self._specs = nodes
        self._nodes: dict[str, _Node] = {}
        self._pending: dict[int, _PendingCmd] = {}
        self._tasks: set[asyncio.Task] = set()
        self._flowing = False
        self._closed = False
        self._depth = 0
        self._held: list[tuple[_Node, str, Msg]] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self.stop_requested: asyncio.Event | None = None
        self.failures: list[str] = []
        self.on_failure: Callable[[str, str], None] | None = None

    # ---- lifecycle -------------------------------------------------------------------------------

    async def start(self) -> None:
        """on_configure, on_init, on_start for every node, then let messages flow."""
        self._loop = asyncio.get_running_loop()
        self.stop_requested = asyncio.Event()
        for spec in self._specs:
            store = PropertyStore(spec.properties)
            factory = spec.env_factory or AsyncTenEnv
            env = factory(self, spec.name, store)
            loc = Loc(self.app_uri, self.graph_name, spec.name)
            self._nodes[spec.name] = _Node(spec.name, spec.extension, env, loc)
        for phase in ("on_configure", "on_init", "on_start"):
            failed = await self._run_phase(phase, timeout_s=None)
            if failed:
                await self.stop()
                raise GraphStartError(f"graph '{self.graph_name}' did not start: {'; '.join(failed)}")
        self._flowing = True
        held, self._held = self._held, []
        for node, kind, msg in held:
            self._deliver(node, kind, msg)

    async def stop(self) -> None:
        """on_stop then on_deinit for every node; pending cmds are answered with TenIsClosed."""
        if self._closed:
            return
        await self._run_phase("on_stop", timeout_s=STOP_CALLBACK_TIMEOUT_S)
        self._closed = True
        self._flowing = False
        for pending in list(self._pending.values()):
            pending.fail(TenError(TenErrorCode.ErrorCodeTenIsClosed, "the graph is stopping"))
        tasks = [t for t in self._tasks if not t.done()]
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks, timeout=STOP_CALLBACK_TIMEOUT_S)
        await self._run_phase("on_deinit", timeout_s=STOP_CALLBACK_TIMEOUT_S)

    async def _run_phase(self, phase: str, timeout_s: float | None) -> list[str]:
        async def call(node: _Node) -> str | None:
            try:
                await asyncio.wait_for(getattr(node.extension, phase)(node.env), timeout_s)
            except TimeoutError:
                message = f"{node.name}.{phase} did not finish within {timeout_s:.0f} s"
                self._record_failure(node.name, message)
                return message
            except Exception as exc:  # an extension's fault must not take the graph down
                message = f"{node.name}.{phase} raised {type(exc).__name__}: {exc}"
                self._record_failure(node.name, message, traceback.format_exc())
                return message
            return None

        results = await asyncio.gather(*(call(node) for node in self._nodes.values()))
        return [r for r in results if r]

    def request_stop(self) -> None:
        if self.stop_requested is not None:
            self.stop_requested.set()

    # ---- routing ---------------------------------------------------------------------------------

    def _destinations(self, src: str, kind: str, msg: Msg) -> list[_Node]:
        if msg._dests:
            return [self._nodes[d.extension_name] for d in msg._dests if d.extension_name in self._nodes]
        names = self._routes.get((src, kind, msg._name)) or self._wildcard.get(src, ())
        return [self._nodes[n] for n in names]

    def send_message(self, src: str, kind: str, msg: Msg) -> TenError | None:
        if self._closed:
            return TenError(TenErrorCode.ErrorCodeTenIsClosed, "the graph has stopped")
        dests = self._destinations(src, kind, msg)
        if not dests:
            return TenError(
                TenErrorCode.ErrorCodeMsgNotConnected,
                f"{kind} '{msg._name}' from '{src}' is not connected to any extension",
            )
        msg._source = self._nodes[src].loc
        for i, node in enumerate(dests):
            self._deliver(node, kind, msg if i == len(dests) - 1 else msg.clone())
        return None

    def _deliver(self, node: _Node, kind: str, msg: Msg) -> None:
        if not self._flowing:
            if not self._closed:
                self._held.append((node, kind, msg))
            return
        if node.deferred or self._depth >= MAX_EAGER_DEPTH:
            node.deferred.append((kind, msg))
            if not node.drain_scheduled:
                node.drain_scheduled = True
                self._loop.call_soon(self._drain, node)
            return
        self._depth += 1
        try:
            task = asyncio.Task(self._callback(node, kind, msg), loop=self._loop, eager_start=True)
        finally:
            self._depth -= 1
        if not task.done():
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    def _drain(self, node: _Node) -> None:
        node.drain_scheduled = False
        items, node.deferred = node.deferred, deque()
        for kind, msg in items:
            self._deliver(node, kind, msg)

    async def _callback(self, node: _Node, kind: str, msg: Msg) -> None:
        ext = node.extension
        try:
            if kind == "audio_frame":
                await ext.on_audio_frame(node.env, msg)
            elif kind == "data":
                await ext.on_data(node.env, msg)
            elif kind == "cmd":
                await ext.on_cmd(node.env, msg)
            else:
                await ext.on_video_frame(node.env, msg)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # isolate the fault: log, report, answer the cmd, keep running
            where = f"{node.name}.on_{kind}('{msg._name}')"
            self._record_failure(
                node.name, f"{where} raised {type(exc).__name__}: {exc}", traceback.format_exc()
            )
            if kind == "cmd":
                pending = self._pending.get(msg._cmd_id)
                if pending is not None:
                    result = CmdResult.create(StatusCode.ERROR, msg)
                    result.set_property_string("detail", f"{where} failed: {exc}")
                    pending.push(result, None, True)
                    self._forget(msg._cmd_id, pending)
            await self._report_error_data(node, f"{where} failed: {type(exc).__name__}: {exc}")

    def _record_failure(self, node_name: str, message: str, trace: str = "") -> None:
        self.failures.append(message)
        logger.error("[%s] %s%s", node_name, message, ("\n" + trace.rstrip()) if trace else "")
        if self.on_failure is not None:
            self.on_failure(node_name, message)

    async def _report_error_data(self, node: _Node, message: str) -> None:
        data = Data.create("error")
        data.set_property_string("module", node.name)
        data.set_property_int("code", 1)
        data.set_property_string("message", message)
        self.send_message(node.name, "data", data)

    # ---- cmds ------------------------------------------------------------------------------------

    def _post_cmd(self, src: str, cmd: Cmd) -> tuple[_PendingCmd | None, TenError | None]:
        if self._closed:
            return None, TenError(TenErrorCode.ErrorCodeTenIsClosed, "the graph has stopped")
        if isinstance(cmd, StopGraphCmd):
            pending = _PendingCmd(self._loop, 1, cmd._name)
            pending.push(CmdResult.create(StatusCode.OK, cmd), None, True)
            self.request_stop()
            return pending, None
        dests = self._destinations(src, "cmd", cmd)
        if not dests:
            return None, TenError(
                TenErrorCode.ErrorCodeMsgNotConnected,
                f"cmd '{cmd._name}' from '{src}' is not connected to any extension",
            )
        pending = _PendingCmd(self._loop, len(dests), cmd._name)
        cmd._source = self._nodes[src].loc
        copies = [cmd if i == len(dests) - 1 else cmd.clone() for i in range(len(dests))]
        for copy_ in copies:
            self._pending[copy_._cmd_id] = pending
            pending.cmd_ids.append(copy_._cmd_id)
        for node, copy_ in zip(dests, copies, strict=True):
            self._deliver(node, "cmd", copy_)
        return pending, None

    async def send_cmd(self, src: str, cmd: Cmd) -> tuple[CmdResult | None, TenError | None]:
        pending, err = self._post_cmd(src, cmd)
        if err:
            return None, err
        outcome: tuple[CmdResult | None, TenError | None] = (None, None)
        while not (pending.done and not pending.results):
            result, error = await pending.next(self.cmd_timeout_s)
            if error is not None:
                self._discard(pending)
                return None, error
            if result is not None and (result._final or result._completed):
                if outcome[0] is None or result._status == StatusCode.ERROR:
                    outcome = (result, None)
        return outcome

    async def send_cmd_ex(
        self, src: str, cmd: Cmd
    ) -> AsyncGenerator[tuple[CmdResult | None, TenError | None], None]:
        pending, err = self._post_cmd(src, cmd)
        if err:
            yield None, err
            return
        while not (pending.done and not pending.results):
            result, error = await pending.next(self.cmd_timeout_s)
            if error is not None:
                self._discard(pending)
            yield result, error
            if error is not None:
                return

    def return_result(self, src: str, result: CmdResult) -> TenError | None:
        pending = self._pending.get(result._target_id)
        if pending is None:
            return TenError(
                TenErrorCode.ErrorCodeGeneric,
                f"'{src}' returned a result for cmd '{result._name}' that is no longer waiting (done or timed out)",
            )
        result._source = self._nodes[src].loc if src in self._nodes else Loc()
        pending.push(result, None, result._final)
        if result._final:
            self._forget(result._target_id, pending)
        return None

    def _forget(self, cmd_id: int, pending: _PendingCmd) -> None:
        if self._pending.get(cmd_id) is pending:
            del self._pending[cmd_id]

    def _discard(self, pending: _PendingCmd) -> None:
        for cmd_id in pending.cmd_ids:
            self._forget(cmd_id, pending)
