"""``python -m app doctor``: one line per check, with the fix when it fails."""

from __future__ import annotations

import ctypes.util
import importlib.util
import platform
import shutil
import sys
import urllib.request
from collections.abc import Callable
from pathlib import Path

from app import config
from app.embedded_runtime._graph import predefined_graphs

Check = tuple[bool, str, str]  # ok, what was found, how to fix it


def _python() -> Check:
    ok = sys.version_info[:2] == (3, 12)
    return (
        ok,
        f"Python {platform.python_version()} on {platform.system()} {platform.machine()}",
        "run scripts/setup (it builds .venv with Python 3.12)",
    )


def _library(name: str, debian: str) -> Callable[[], Check]:
    def check() -> Check:
        found = ctypes.util.find_library(name)
        return (
            bool(found),
            f"lib{name}: {found or 'not found'}",
            f"sudo apt-get install {debian} (or run scripts/setup)",
        )

    return check


def _program(name: str, debian: str) -> Callable[[], Check]:
    def check() -> Check:
        found = shutil.which(name)
        return bool(found), f"{name}: {found or 'not found'}", f"sudo apt-get install {debian}"

    return check


def _audio_devices() -> Check:
    try:
        import sounddevice

        devices = sounddevice.query_devices()
    except Exception as exc:  # PortAudio missing or broken
        return (
            False,
            f"audio devices: {exc}",
            "sudo apt-get install libportaudio2 (Linux) / brew install portaudio (Mac)",
        )
    inputs = [d["name"] for d in devices if d["max_input_channels"] > 0]
    outputs = [d["name"] for d in devices if d["max_output_channels"] > 0]
    detail = f"audio devices: {len(inputs)} input, {len(outputs)} output"
    return (
        bool(inputs and outputs),
        detail,
        "no microphone/speaker: use `python -m app run --input conversation.wav --output reply.wav`",
    )


def _module(name: str, what: str) -> Callable[[], Check]:
    def check() -> Check:
        found = importlib.util.find_spec(name) is not None
        return found, f"{what} ({name}): {'installed' if found else 'missing'}", "run scripts/setup"

    return check


def _file(path: Path, what: str) -> Callable[[], Check]:
    def check() -> Check:
        return (
            path.exists(),
            f"{what}: {path if path.exists() else 'missing: ' + str(path)}",
            "run scripts/setup (it fetches the packaged models)",
        )

    return check


def _llm_endpoints(property_path: Path) -> list[Callable[[], Check]]:
    doc = config.load_property_file(property_path)
    urls = set()
    for graph in predefined_graphs(doc, property_path):
        for node in graph.get("graph", {}).get("nodes", []):
            base = (node.get("property") or {}).get("base_url")
            if node.get("addon") == "openai_chat_llm" and isinstance(base, str) and not base.startswith("${"):
                urls.add(base)
    checks = []
    for url in sorted(urls or {"http://localhost:1234/v1"}):

        def check(url: str = url) -> Check:
            try:
                with urllib.request.urlopen(f"{url.rstrip('/')}/models", timeout=1.5) as reply:
                    return reply.status == 200, f"LLM endpoint {url}: answers", ""
            except Exception as exc:
                return (
                    False,
                    f"LLM endpoint {url}: no answer ({type(exc).__name__})",
                    "start LM Studio's server (Developer tab > Start Server) or keep local_fallback on: "
                    "the app then starts the bundled SmolLM2 server itself",
                )

        checks.append(check)
    return checks


def run_checks(property_path: Path) -> int:
    root = config.APP_ROOT
    checks: list[Callable[[], Check]] = [
        _python,
        _library("c++", "libc++1 libc++abi1"),
        _library("portaudio", "libportaudio2"),
        _program("espeak-ng", "espeak-ng"),
        _audio_devices,
        _module("ten_vad", "TEN VAD"),
        _module("livekit", "WebRTC AEC"),
        _module("faster_whisper", "faster-whisper"),
        _module("piper", "Piper TTS"),
        _module("llama_cpp", "bundled LLM server"),
        _module("mlx", "MLX"),
        _module("mlx_audio", "mlx-audio (Spark-TTS)"),
        _file(root / "models" / "smart_turn" / "smart-turn-v3.2-cpu.onnx", "Smart Turn model"),
        *_llm_endpoints(property_path),
    ]
    failures = 0
    for check in checks:
        ok, detail, fix = check()
        failures += not ok
        print(f"{'ok  ' if ok else 'FAIL'} {detail}" + ("" if ok or not fix else f"\n     fix: {fix}"))
    print(f"{len(checks) - failures} ok, {failures} to fix")
    return 0 if failures == 0 else 1
