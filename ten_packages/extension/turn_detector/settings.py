"""The turn detector's properties, checked once so that a bad value fails with the property's name."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

MODES = ("smart_turn", "ten_text", "silence")


@dataclass(frozen=True)
class TurnDetectorSettings:
    """Defaults mirror property.json."""

    mode: str = "smart_turn"
    max_pause_ms: int = 1500
    finished_threshold: float = 0.5
    text_wait_ms: int = 250
    sure_threshold: float = 0.95
    pre_speech_ms: int = 500
    model_path: str = "models/smart_turn/smart-turn-v3.2-cpu.onnx"
    hub_repo: str = "pipecat-ai/smart-turn-v3"
    hub_filename: str = "smart-turn-v3.2-cpu.onnx"
    model_threads: int = 1
    base_url: str = "http://localhost:8000/v1"
    api_key: str = ""
    model: str = "TEN-framework/TEN_Turn_Detection"
    temperature: float = 0.1
    top_p: float = 0.1
    timeout_ms: int = 2000

    @classmethod
    def from_properties(cls, properties: dict[str, Any]) -> TurnDetectorSettings:
        """Settings from the property object (unknown keys ignored); ValueError names a bad property."""
        values: dict[str, Any] = {}
        for field in fields(cls):
            if field.name not in properties:
                continue
            value = properties[field.name]
            expected = type(field.default)
            if expected is float and isinstance(value, int) and not isinstance(value, bool):
                value = float(value)
            if type(value) is not expected:
                raise ValueError(f"property {field.name}={value!r}: expected {expected.__name__}")
            values[field.name] = value
        settings = cls(**values)
        settings.validate()
        return settings

    def validate(self) -> None:
        if self.mode not in MODES:
            raise ValueError(f"property mode={self.mode!r}: expected one of {', '.join(MODES)}")
        if self.max_pause_ms <= 0:
            raise ValueError(f"property max_pause_ms={self.max_pause_ms}: expected > 0")
        if not 0.0 < self.finished_threshold < 1.0:
            raise ValueError(
                f"property finished_threshold={self.finished_threshold}: expected between 0 and 1"
            )
        if not 0.0 < self.sure_threshold <= 1.0:
            raise ValueError(f"property sure_threshold={self.sure_threshold}: expected above 0, at most 1")
        if not 0 <= self.text_wait_ms < self.max_pause_ms:
            raise ValueError(
                f"property text_wait_ms={self.text_wait_ms}: expected >= 0 and below max_pause_ms"
            )
        if self.pre_speech_ms < 0 or self.timeout_ms <= 0 or self.model_threads <= 0:
            raise ValueError("properties pre_speech_ms >= 0, timeout_ms > 0 and model_threads > 0 expected")
