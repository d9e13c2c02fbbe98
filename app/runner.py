"""Running a planned graph until it stops: Ctrl-C/SIGTERM, end of input, or a failed start."""

from __future__ import annotations

import asyncio
import logging
import signal
from pathlib import Path

from app.embedded_runtime import GraphStartError
from app.embedded_runtime._graph import GraphPlan, instantiate

log = logging.getLogger("ten.app")


async def provide_llm_endpoints(plan: GraphPlan) -> None:
    """LLM nodes with local_fallback get the bundled local server when their endpoint does not answer."""
    from app.local_llm import LocalLlmError, ensure_llm_endpoint

    for node in plan.nodes:
        if node.addon != "openai_chat_llm" or not node.properties.get("local_fallback"):
            continue
        configured = node.properties.get("base_url", "")
        try:
            url = await asyncio.to_thread(ensure_llm_endpoint, configured, True)
        except LocalLlmError as exc:
            log.error(
                "[app] %s: no LLM at %s and the bundled one did not start: %s", node.name, configured, exc
            )
            continue
        if url != configured:
            log.info(
                "[app] %s: %s does not answer; using the bundled local LLM at %s", node.name, configured, url
            )
            node.properties["base_url"] = url
            node.properties["model"] = ""


async def run_plan(plan: GraphPlan, app_root: Path, cmd_timeout_s: float = 30.0) -> int:
    """Start every node, wait for a stop request, stop every node. Returns the process exit code."""
    from app.local_llm import stop_local_llm_server

    try:
        await provide_llm_endpoints(plan)
        return await _run_engine(plan, app_root, cmd_timeout_s)
    finally:
        stop_local_llm_server()


async def _run_engine(plan: GraphPlan, app_root: Path, cmd_timeout_s: float) -> int:
    engine = instantiate(plan, app_root, cmd_timeout_s=cmd_timeout_s)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, engine.request_stop)
    try:
        log.info("[app] starting graph '%s' (%d nodes)", plan.name, len(plan.nodes))
        try:
            await engine.start()
        except GraphStartError as exc:
            log.error("[app] %s", exc)
            return 1
        log.info("[app] graph '%s' running; Ctrl-C stops it", plan.name)
        try:
            await engine.stop_requested.wait()
        finally:
            log.info("[app] stopping graph '%s'", plan.name)
            await engine.stop()
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
    if engine.failures:
        log.warning("[app] %d extension failure(s) during the run; see the log above", len(engine.failures))
    return 0


def configure_logging(level: str) -> None:
    logging.basicConfig(
        level=getattr(logging, level.upper(), logging.INFO),
        format="%(asctime)s.%(msecs)03d %(levelname)-5s %(message)s",
        datefmt="%H:%M:%S",
    )
