"""The extension's properties, checked and grouped for the parts that use them."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from .spark_model import SamplingSettings, SparkVoice
from .streaming_decoder import ChunkSchedule

DEFAULT_MODEL = "mlx-community/Spark-TTS-0.5B-bf16"


@dataclass(frozen=True)
class SparkTTSConfig:
    model: str
    voice: SparkVoice
    sampling: SamplingSettings
    schedule: ChunkSchedule
    warm_up: bool = True

    @classmethod
    def from_properties(cls, properties: dict[str, Any]) -> SparkTTSConfig:
        """Build from the property.json object; raises ValueError naming the bad property."""

        def pick(kind: type) -> dict[str, Any]:
            names = {field.name for field in fields(kind)}
            return {name: value for name, value in properties.items() if name in names}

        model = properties.get("model", DEFAULT_MODEL)
        if not isinstance(model, str) or not model.strip():
            raise ValueError("property 'model' must be a Hugging Face repo id or a local folder")
        try:
            return cls(
                model=model.strip(),
                voice=SparkVoice(**pick(SparkVoice)),
                sampling=SamplingSettings(**pick(SamplingSettings)),
                schedule=ChunkSchedule(**pick(ChunkSchedule)),
                warm_up=bool(properties.get("warm_up", True)),
            )
        except TypeError as error:
            raise ValueError(f"bad property: {error}") from error
