"""The bundled sample conversation: user turns spoken by espeak-ng, with room for the bot's replies."""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import soundfile

from ten_packages.system.voice_kit.pcm import GRAPH_SAMPLE_RATE
from ten_packages.system.voice_kit.testing.speech import silence, synthesize_speech

SAMPLE_TURNS = (
    "Hello! What is the capital of France?",
    "Can you name three colors of the rainbow?",
    "Thank you, that is all. Goodbye!",
)


@dataclass
class UserTurn:
    text: str
    start_ms: int
    end_ms: int


def write_conversation(
    path: Path, turns: tuple[str, ...] | list[str] = SAMPLE_TURNS, lead_ms: int = 800, gap_ms: int = 9000
) -> list[UserTurn]:
    """Write the user's side of a conversation as a 16 kHz WAV; returns where each turn lies.

    The gaps leave the bot time to answer; a JSON file beside the WAV keeps the turn times.
    """
    pieces = [silence(lead_ms)]
    cursor = lead_ms
    placed = []
    for text in turns:
        speech = synthesize_speech(text)
        duration = len(speech) * 1000 // GRAPH_SAMPLE_RATE
        placed.append(UserTurn(text, cursor, cursor + duration))
        pieces += [speech, silence(gap_ms)]
        cursor += duration + gap_ms
    path.parent.mkdir(parents=True, exist_ok=True)
    soundfile.write(path, np.concatenate(pieces), GRAPH_SAMPLE_RATE, subtype="PCM_16")
    path.with_suffix(".json").write_text(json.dumps([asdict(t) for t in placed], indent=2))
    return placed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("output", type=Path)
    parser.add_argument("--gap-ms", type=int, default=9000)
    args = parser.parse_args()
    turns = write_conversation(args.output, gap_ms=args.gap_ms)
    print(f"wrote {args.output}: {len(turns)} user turns")


if __name__ == "__main__":
    main()
