"""app/local_llm.py: fallback to the bundled llama.cpp server, and its managed lifecycle."""

from __future__ import annotations

import socket
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.local_llm import (
    LocalLlmError,
    LocalLlmServer,
    endpoint_answers,
    ensure_llm_endpoint,
    stop_local_llm_server,
)


def _closed_port_url() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{probe.getsockname()[1]}/v1"


@pytest.fixture(scope="module")
def fallback_url() -> Iterator[str]:
    """The URL ensure_llm_endpoint falls back to when the configured one (LM Studio) is down."""
    yield ensure_llm_endpoint(_closed_port_url(), allow_local_fallback=True)
    stop_local_llm_server()


def test_local_llm_fallback_starts_the_bundled_server_once(fallback_url: str) -> None:
    assert fallback_url.startswith("http://127.0.0.1:") and fallback_url.endswith("/v1")
    with urllib.request.urlopen(f"{fallback_url}/models", timeout=5) as response:
        assert b"SmolLM2" in response.read()
    assert ensure_llm_endpoint(_closed_port_url(), allow_local_fallback=True) == fallback_url


def test_local_llm_answering_endpoint_is_kept(fallback_url: str) -> None:
    assert ensure_llm_endpoint(fallback_url, allow_local_fallback=True) == fallback_url


def test_local_llm_no_fallback_returns_configured_url() -> None:
    down = _closed_port_url()
    assert ensure_llm_endpoint(down, allow_local_fallback=False) == down
    assert not endpoint_answers(down)


def test_local_llm_server_reports_startup_failure(tmp_path: Path) -> None:
    not_a_model = tmp_path / "broken.gguf"
    not_a_model.write_bytes(b"this is not a GGUF file")
    server = LocalLlmServer(model_path=not_a_model, startup_timeout_s=30)
    with pytest.raises(LocalLlmError, match=r"exited at startup(.|\n)*Failed to load model from file"):
        server.start()
    assert not server.running


def test_local_llm_context_manager_stops_the_process() -> None:
    with LocalLlmServer() as server:
        assert server.running and endpoint_answers(server.base_url)
    assert not server.running
    assert not endpoint_answers(server.base_url)
