"""The latency ledger: per turn, when each stage happened after the user stopped speaking."""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from typing import Any

STAGE_LABELS = {
    "user_speech_end": "user speech end",
    "vad_end": "VAD end",
    "turn_decision": "turn decision",
    "asr_final": "ASR final",
    "llm_first_token": "LLM first token",
    "first_clause_sent": "first clause",
    "tts_first_audio": "TTS first audio",
    "first_sample_played": "first sample played",
}


@dataclass
class TurnTiming:
    """One turn: stage -> ms after the end of the user's speech (None where not known)."""

    turn_id: int
    after_speech_end_ms: dict[str, float | None] = field(default_factory=dict)

    @property
    def voice_to_voice_ms(self) -> float | None:
        return self.after_speech_end_ms.get("first_sample_played")


def _wall_offset(stages: list[dict[str, Any]]) -> float | None:
    """wall_ms - input_ms, from stages that carry both (the input is paced in real time)."""
    offsets = [s["wall_ms"] - s["input_ms"] for s in stages if "wall_ms" in s and "input_ms" in s]
    return statistics.median(offsets) if offsets else None


def time_turn(turn_id: int, stages: list[dict[str, Any]]) -> TurnTiming:
    """Put every stage on one clock, relative to the end of the user's speech.

    Stages report wall-clock ms, input-timeline ms, or both; input-timeline times are moved
    to the wall clock with the offset seen on stages that report both.
    """
    offset = _wall_offset(stages)
    wall: dict[str, float] = {}
    for stage in stages:
        if "wall_ms" in stage:
            wall[stage["stage"]] = stage["wall_ms"]
        elif "input_ms" in stage and offset is not None:
            wall[stage["stage"]] = stage["input_ms"] + offset
    by_input = {s["stage"]: s["input_ms"] for s in stages if "input_ms" in s}
    timing = TurnTiming(turn_id)
    if "user_speech_end" in by_input:
        # Prefer the input timeline where both ends have it: it is what a listener hears.
        origin_wall = wall.get("user_speech_end")
        for name in STAGE_LABELS:
            if name in by_input:
                timing.after_speech_end_ms[name] = by_input[name] - by_input["user_speech_end"]
            elif name in wall and origin_wall is not None:
                timing.after_speech_end_ms[name] = wall[name] - origin_wall
            else:
                timing.after_speech_end_ms[name] = None
    elif "user_speech_end" in wall:
        for name in STAGE_LABELS:
            timing.after_speech_end_ms[name] = wall[name] - wall["user_speech_end"] if name in wall else None
    return timing


def format_table(timing: TurnTiming) -> str:
    lines = [
        f"turn {timing.turn_id} latency (ms after the user stopped speaking)",
        f"  {'stage':<22}{'at':>8}{'step':>8}",
    ]
    previous = 0.0
    for name, label in STAGE_LABELS.items():
        value = timing.after_speech_end_ms.get(name)
        if value is None:
            lines.append(f"  {label:<22}{'-':>8}{'':>8}")
            continue
        lines.append(f"  {label:<22}{value:>8.0f}{value - previous:>8.0f}")
        previous = value
    return "\n".join(lines)


def summarize(turns: list[TurnTiming]) -> dict[str, Any]:
    """Median of every stage over the turns that have it, and voice-to-voice p50/p90."""
    summary: dict[str, Any] = {"turns": len(turns), "stages_ms_p50": {}}
    for name in STAGE_LABELS:
        values = [t.after_speech_end_ms[name] for t in turns if t.after_speech_end_ms.get(name) is not None]
        if values:
            summary["stages_ms_p50"][name] = round(statistics.median(values), 1)
    v2v = sorted(t.voice_to_voice_ms for t in turns if t.voice_to_voice_ms is not None)
    if v2v:
        summary["v2v_ms_p50"] = round(statistics.median(v2v), 1)
        summary["v2v_ms_p90"] = round(v2v[min(len(v2v) - 1, int(0.9 * len(v2v)))], 1)
    return summary
