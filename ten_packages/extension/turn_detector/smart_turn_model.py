"""Smart Turn v3 (pipecat-ai): does the user's last 8 s of audio sound like a finished turn?"""

from __future__ import annotations

import os
import socket
from pathlib import Path
from urllib.parse import urlparse

import numpy as np
import onnxruntime
from transformers import WhisperFeatureExtractor

SAMPLE_RATE = 16000
WINDOW_SECONDS = 8
WINDOW_SAMPLES = SAMPLE_RATE * WINDOW_SECONDS
SETUP_HINT = (
    "run scripts/setup (scripts/setup.d/30-smart-turn.sh extracts it from the pipecat-ai==1.14.0 wheel), "
    "or set the property model_path to a smart-turn-v3 .onnx file"
)


class ModelNotFoundError(FileNotFoundError):
    """The Smart Turn ONNX file is neither on disk nor obtainable from the hub."""


def hub_reachable(timeout_s: float = 2.0) -> bool:
    """A quick look before asking huggingface_hub, which retries for ~25 s when the hub is unreachable."""
    if os.environ.get("HF_HUB_OFFLINE", "").lower() in ("1", "true", "yes", "on"):
        return False
    endpoint = urlparse(os.environ.get("HF_ENDPOINT") or "https://huggingface.co")
    try:
        with socket.create_connection((endpoint.hostname, endpoint.port or 443), timeout=timeout_s):
            return True
    except OSError:
        return False


def resolve_model_path(model_path: str, app_root: Path, hub_repo: str, hub_filename: str) -> Path:
    """The local model file: `model_path` (absolute, or relative to the app root), else a hub download.

    The hub download (with huggingface_hub's progress bar) is for machines that can reach it; here the
    model comes from setup. The error says how to get the model when both fail.
    """
    local = Path(model_path).expanduser()
    if not local.is_absolute():
        local = app_root / local
    if local.is_file():
        return local
    if not hub_repo:
        raise ModelNotFoundError(f"Smart Turn model not found at {local}: {SETUP_HINT}")
    if not hub_reachable():
        raise ModelNotFoundError(
            f"Smart Turn model not found at {local} and the hub is not reachable ({hub_repo}): {SETUP_HINT}"
        )
    try:
        from huggingface_hub import hf_hub_download

        return Path(hf_hub_download(repo_id=hub_repo, filename=hub_filename))
    except Exception as exc:  # any hub failure (offline, missing repo) ends in the same advice
        raise ModelNotFoundError(
            f"Smart Turn model not found at {local} and not downloadable from the hub "
            f"({hub_repo}/{hub_filename}: {type(exc).__name__}: {exc}): {SETUP_HINT}"
        ) from exc


class SmartTurnModel:
    """Whisper log-mel features (transformers' extractor) into the Smart Turn ONNX classifier.

    Not thread-safe: run every call on one worker thread.
    """

    def __init__(self, model_file: Path, threads: int = 1) -> None:
        options = onnxruntime.SessionOptions()
        options.execution_mode = onnxruntime.ExecutionMode.ORT_SEQUENTIAL
        options.inter_op_num_threads = 1
        options.intra_op_num_threads = threads
        options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
        self._session = onnxruntime.InferenceSession(
            str(model_file), sess_options=options, providers=["CPUExecutionProvider"]
        )
        self._input_name = self._session.get_inputs()[0].name
        self._features = WhisperFeatureExtractor(
            feature_size=80, sampling_rate=SAMPLE_RATE, chunk_length=WINDOW_SECONDS
        )

    def features(self, samples: np.ndarray) -> np.ndarray:
        """Log-mel [1, 80, 800] of the last 8 s of 16 kHz int16 `samples`, zero-padded in front."""
        audio = np.asarray(samples, dtype=np.int16)[-WINDOW_SAMPLES:].astype(np.float32) / 32768.0
        audio = np.pad(audio, (WINDOW_SAMPLES - len(audio), 0))
        extracted = self._features(audio, sampling_rate=SAMPLE_RATE, return_tensors="np", do_normalize=True)
        return extracted["input_features"].astype(np.float32)

    def completion_probability(self, samples: np.ndarray) -> float:
        """Probability (0..1) that the turn ending with `samples` is complete."""
        if len(samples) == 0:
            raise ValueError("no audio to judge: the turn has no samples")
        logits = self._session.run(None, {self._input_name: self.features(samples)})[0]
        return float(np.asarray(logits).reshape(-1)[0])
