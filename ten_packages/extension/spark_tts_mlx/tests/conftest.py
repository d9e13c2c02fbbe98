"""A tiny random Spark-TTS model folder, built once per test session and loaded through mlx-audio."""

from __future__ import annotations

from pathlib import Path

import pytest

from ten_packages.extension.spark_tts_mlx.spark_model import SparkModel
from ten_packages.extension.spark_tts_mlx.testing import build_tiny_spark_model


@pytest.fixture(scope="session")
def tiny_spark_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_spark_model(tmp_path_factory.mktemp("tiny_spark"))


@pytest.fixture(scope="session")
def tiny_spark_model(tiny_spark_dir: Path) -> SparkModel:
    return SparkModel.load(str(tiny_spark_dir))
