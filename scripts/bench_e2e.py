"""Voice-to-voice latency of a graph over a fixed multi-turn conversation, measured on the audio.

The conversation (user turns spoken by espeak-ng) is played in real time through the graph,
headless; the bot's audio is written on the input's timeline. For each user turn,
voice-to-voice = first audible reply sample in the output - end of the user's speech in the input.
The ledger's per-stage medians come from the run's own latency ledger.

Prints one JSON object as its last line: v2v_ms_p50, v2v_ms_p90, turns, answered, stages_ms_p50.
Usage: .venv/bin/python scripts/bench_e2e.py [--graph voice_chat] [--set node.prop=value ...]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench_stats import percentile  # noqa: E402

from app.audio_analysis import audible_windows, first_audible_ms  # noqa: E402
from app.headless import run_headless  # noqa: E402
from app.samples import write_conversation  # noqa: E402

BENCH_TURNS = (
    "What is the capital of France?",
    "How many days are there in a week?",
    "What color is the sky on a clear day?",
    "Name a large animal that lives in Africa.",
    "What do bees make?",
    "Which planet do we live on?",
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--graph", default="voice_chat")
    parser.add_argument("--gap-ms", type=int, default=7000)
    parser.add_argument("--set", action="append", default=[])
    parser.add_argument("--keep", type=Path, help="keep the run's files in this folder")
    args = parser.parse_args()

    work = args.keep or Path(tempfile.mkdtemp(prefix="bench_e2e_"))
    work.mkdir(parents=True, exist_ok=True)
    conversation = work / "conversation.wav"
    turns = write_conversation(conversation, BENCH_TURNS, gap_ms=args.gap_ms)
    run, done = run_headless(conversation, work, graph=args.graph, overrides=args.set)
    if done.returncode != 0:
        sys.exit(f"the run failed:\n{done.stderr[-3000:]}")

    audible, _ = audible_windows(run.reply)
    v2v = []
    for i, turn in enumerate(turns):
        next_start = turns[i + 1].start_ms if i + 1 < len(turns) else None
        heard = first_audible_ms(audible, turn.end_ms, next_start)
        if heard is not None:
            v2v.append(heard - turn.end_ms)
    ledger = json.loads(run.ledger.read_text())
    result = {
        "graph": args.graph,
        "turns": len(turns),
        "answered": len(v2v),
        "v2v_ms_p50": round(statistics.median(v2v), 1) if v2v else None,
        "v2v_ms_p90": round(percentile(v2v, 0.9), 1) if v2v else None,
        "v2v_ms_all": v2v,
        "stages_ms_p50": ledger.get("summary", {}).get("stages_ms_p50", {}),
        "files": str(work),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
