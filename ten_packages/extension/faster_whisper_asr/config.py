"""The extension's properties, checked once so that a typo gives one clear error instead of odd behaviour."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from .transcriber import WhisperSettings


@dataclass(frozen=True)
class AsrConfig:
    whisper: WhisperSettings = field(default_factory=WhisperSettings)
    interim_interval_ms: int = 1000  # 0 turns interim results off
    pre_roll_ms: int = 300
    max_utterance_ms: int = 60000
    sentence_end_interim: bool = True  # publish the end-of-sentence pass as an interim result
    pause_hint_ms: int = 48  # quiet audio after which the sentence-end pass starts early; 0 = off

    @classmethod
    def from_properties(cls, properties: dict[str, Any]) -> AsrConfig:
        """Build from the property object; raises ValueError naming each bad or unknown property."""
        whisper_fields = {f.name: f for f in dataclasses.fields(WhisperSettings)}
        own_fields = {f.name: f for f in dataclasses.fields(cls) if f.name != "whisper"}
        whisper_values: dict[str, Any] = {}
        own_values: dict[str, Any] = {}
        problems = []
        for name, value in properties.items():
            target = whisper_values if name in whisper_fields else own_values if name in own_fields else None
            if target is None:
                continue  # properties for the runtime or other tools (e.g. TEN's "dump") are not ours
            expected = _default_of(whisper_fields.get(name) or own_fields[name]).__class__
            if expected is int and isinstance(value, float) and value.is_integer():
                value = int(value)
            if not isinstance(value, expected) or (expected is int and isinstance(value, bool)):
                problems.append(f"'{name}' must be {expected.__name__}, got {value!r}")
                continue
            target[name] = value
        for name in ("interim_interval_ms", "pre_roll_ms", "pause_hint_ms"):
            if own_values.get(name, 0) < 0:
                problems.append(f"'{name}' must be >= 0")
        if own_values.get("max_utterance_ms", cls.max_utterance_ms) < 1000:
            problems.append("'max_utterance_ms' must be >= 1000")
        if whisper_values.get("beam_size", 1) < 1:
            problems.append("'beam_size' must be >= 1")
        if problems:
            raise ValueError("bad faster_whisper_asr properties: " + "; ".join(problems))
        return cls(whisper=WhisperSettings(**whisper_values), **own_values)


def _default_of(spec: dataclasses.Field) -> Any:
    return spec.default_factory() if spec.default is dataclasses.MISSING else spec.default
