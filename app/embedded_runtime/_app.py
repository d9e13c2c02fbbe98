"""App: runs the app folder's auto-start graph (what a TEN app's main does)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from ._graph import instantiate, plan_graph
from ._packages import load_json_file


class App:
    """Loads ``property.json`` from the app folder and runs its auto-start graph until it stops."""

    def __init__(self, app_root: str | Path | None = None) -> None:
        self.app_root = Path(app_root or Path.cwd()).resolve()

    def run(self, run_in_background: bool = False) -> None:
        asyncio.run(self._run())

    async def _run(self) -> None:
        file = self.app_root / "property.json"
        plan = plan_graph(self.app_root, load_json_file(file), file)
        engine = instantiate(plan, self.app_root)
        await engine.start()
        try:
            await engine.stop_requested.wait()
        finally:
            await engine.stop()
