"""Writes the conversation's transcript (JSONL) and latency ledger (JSON), and logs a table per turn."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ten_runtime import AsyncExtension, AsyncTenEnv, Data

from .ledger import TurnTiming, format_table, summarize, time_turn


class SessionRecorderExtension(AsyncExtension):
    def __init__(self, name: str) -> None:
        super().__init__(name)
        self._transcript: Path | None = None
        self._ledger: Path | None = None
        self._print = True
        self._turns: list[TurnTiming] = []
        self._raw: list[dict[str, Any]] = []
        self._metrics: list[dict[str, Any]] = []

    async def on_start(self, ten_env: AsyncTenEnv) -> None:
        transcript, _ = await ten_env.get_property_string("transcript_path")
        ledger, _ = await ten_env.get_property_string("ledger_path")
        self._print, _ = await ten_env.get_property_bool("print_ledger")
        self._transcript = Path(transcript) if transcript else None
        self._ledger = Path(ledger) if ledger else None
        for path in (self._transcript, self._ledger):
            if path:
                path.parent.mkdir(parents=True, exist_ok=True)
        if self._transcript:
            self._transcript.write_text("")

    async def on_data(self, ten_env: AsyncTenEnv, data: Data) -> None:
        payload_json, _ = data.get_property_to_json(None)
        payload = json.loads(payload_json or "{}")
        name = data.get_name()
        if name == "transcript":
            line = {
                k: payload.get(k) for k in ("role", "text", "start_ms", "end_ms", "turn_id", "interrupted")
            }
            ten_env.log_info(f"{line['role']}: {line['text']}")
            if self._transcript:
                with self._transcript.open("a", encoding="utf-8") as out:
                    out.write(json.dumps(line, ensure_ascii=False) + "\n")
        elif name == "turn_latency":
            timing = time_turn(int(payload.get("turn_id", 0)), payload.get("stages", []))
            self._turns.append(timing)
            self._raw.append(payload)
            if self._print:
                ten_env.log_info("\n" + format_table(timing))
            self._save_ledger()
        elif name == "metrics":
            self._metrics.append(payload)
        elif name == "error":
            ten_env.log_warn(f"error from {payload.get('module', '?')}: {payload.get('message', '')}")

    async def on_stop(self, ten_env: AsyncTenEnv) -> None:
        self._save_ledger()
        if self._turns and self._print:
            ten_env.log_info("ledger summary: " + json.dumps(summarize(self._turns)))

    def _save_ledger(self) -> None:
        if not self._ledger:
            return
        document = {
            "summary": summarize(self._turns),
            "turns": [
                {"turn_id": t.turn_id, "after_speech_end_ms": t.after_speech_end_ms} for t in self._turns
            ],
            "raw_stages": self._raw,
            "metrics": self._metrics,
        }
        self._ledger.write_text(json.dumps(document, indent=2))
