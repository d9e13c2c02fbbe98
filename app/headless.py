"""A headless run of a graph on a WAV, as a subprocess: what the e2e tests and bench_e2e drive."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

APP_ROOT = Path(__file__).resolve().parents[1]


@dataclass
class HeadlessRun:
    """The files a headless run writes into its folder."""

    folder: Path

    @property
    def reply(self) -> Path:
        return self.folder / "reply.wav"

    @property
    def transcript(self) -> Path:
        return self.folder / "turns.jsonl"

    @property
    def ledger(self) -> Path:
        return self.folder / "ledger.json"


def run_headless(
    conversation: Path,
    folder: Path,
    graph: str = "voice_chat",
    overrides: tuple[str, ...] | list[str] = (),
    property_path: Path | None = None,
    timeout_s: float = 600,
) -> tuple[HeadlessRun, subprocess.CompletedProcess]:
    """``python -m app run`` on ``conversation`` in real time; returns the output files and the process."""
    run = HeadlessRun(folder)
    command = [
        sys.executable, "-m", "app", "run", "--graph", graph, "--input", str(conversation),
        "--output", str(run.reply), "--transcript", str(run.transcript), "--ledger", str(run.ledger),
        "--log-level", "warning",
    ]  # fmt: skip
    if property_path:
        command += ["--property", str(property_path)]
    for assignment in overrides:
        command += ["--set", assignment]
    done = subprocess.run(command, cwd=APP_ROOT, capture_output=True, text=True, timeout=timeout_s)
    return run, done
