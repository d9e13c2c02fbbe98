"""The per-turn latency ledger entry: when each stage between the user's last word and the bot's first sound happened."""

from __future__ import annotations

from typing import Any

# In pipeline order. `wall_ms` is time.time() in ms when the stage happened (or was learned of);
# `input_ms` is the same moment on the input audio timeline, where the stage reports it.
STAGES = (
    "user_speech_end",
    "vad_end",
    "turn_decision",
    "asr_final",
    "llm_first_token",
    "first_clause_sent",
    "tts_first_audio",
    "first_sample_played",
)


class TurnLatency:
    """Collects stage times for one turn; each stage keeps its first record."""

    def __init__(self, turn_id: int) -> None:
        self.turn_id = turn_id
        self.emitted = False
        self._stages: dict[str, dict[str, int]] = {}

    def record(self, stage: str, wall_ms: int | None = None, input_ms: int | None = None) -> None:
        if stage not in STAGES:
            raise ValueError(f"unknown latency stage {stage!r}")
        times = self._stages.setdefault(stage, {})
        if wall_ms is not None:
            times.setdefault("wall_ms", int(wall_ms))
        if input_ms is not None:
            times.setdefault("input_ms", int(input_ms))

    def has(self, stage: str) -> bool:
        return stage in self._stages

    def stages(self) -> list[dict[str, Any]]:
        """Known stages in pipeline order, each {"stage", "wall_ms"?, "input_ms"?}."""
        return [{"stage": name, **self._stages[name]} for name in STAGES if name in self._stages]
