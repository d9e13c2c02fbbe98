"""The shipped voice_chat graph, end to end, on conversations spoken at test time.

Each test plays a WAV through the real graph in real time (TEN VAD, Smart Turn, faster-whisper,
the bundled llama.cpp LLM, Piper) and reads what came out: the bot's audio on the input's
timeline, the JSONL transcript and the latency ledger.
"""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path

import numpy as np
import pytest
import soundfile

from app.audio_analysis import WINDOW_MS, audible_windows, first_audible_ms, last_audible_ms
from app.headless import run_headless
from app.samples import UserTurn, write_conversation


def run_conversation(
    work: Path, turns: list[str], gap_ms: int = 7000, overrides: tuple[str, ...] = ()
) -> tuple[list[UserTurn], np.ndarray, list[dict]]:
    placed = write_conversation(work / "conversation.wav", turns, gap_ms=gap_ms)
    run, done = run_headless(work / "conversation.wav", work, overrides=overrides, timeout_s=240)
    assert done.returncode == 0, done.stderr[-3000:]
    audible, _ = audible_windows(run.reply)
    transcript = [json.loads(line) for line in run.transcript.read_text().splitlines()]
    return placed, audible, transcript


@cache
def _whisper():
    from faster_whisper import WhisperModel

    from ten_packages.extension.faster_whisper_asr.model_source import resolve_model

    return WhisperModel(str(resolve_model("packaged:tiny.en")), device="cpu", compute_type="int8")


def transcribe(path: Path, start_ms: int, end_ms: int) -> str:
    samples, rate = soundfile.read(path, dtype="float32")
    assert rate == 16000
    segments, _ = _whisper().transcribe(samples[start_ms * 16 : end_ms * 16], language="en", beam_size=1)
    return " ".join(s.text.strip() for s in segments).strip()


def test_every_question_gets_a_spoken_english_answer(tmp_path: Path):
    placed, audible, transcript = run_conversation(
        tmp_path, ["What is the capital of France?", "How many days are there in a week?"]
    )
    users = [t for t in transcript if t["role"] == "user"]
    bots = [t for t in transcript if t["role"] == "assistant"]
    assert len(users) == 2 and "france" in users[0]["text"].lower() and "week" in users[1]["text"].lower()
    assert len(bots) == 2 and all(b["text"].strip() for b in bots)
    for i, turn in enumerate(placed):
        window_end = placed[i + 1].start_ms if i + 1 < len(placed) else None
        start = first_audible_ms(audible, turn.end_ms, window_end)
        assert start is not None, f"no spoken answer after question {i + 1}"
        end = last_audible_ms(audible, start, window_end)
        heard = transcribe(tmp_path / "reply.wav", start, end)
        assert re.search(r"[A-Za-z]{2,}", heard), f"answer {i + 1} is not English speech: {heard!r}"
    ledger = json.loads((tmp_path / "ledger.json").read_text())
    assert ledger["summary"]["turns"] >= 2 and ledger["summary"]["v2v_ms_p50"] > 0


def test_barge_in_stops_the_bot_quickly_and_the_next_answer_follows(tmp_path: Path):
    story = "Please tell me a long story about a brave little dragon."
    interruption = "Stop. What is two plus two?"
    long_replies = "control.system_prompt=Tell long, detailed stories in plain English sentences."
    # The user talks over the bot 4 s after the question (the bot answers in about 1-3 s here).
    wav_turns = [story, interruption]
    placed, audible, transcript = run_conversation(
        tmp_path, wav_turns, gap_ms=4000, overrides=(long_replies,)
    )
    question, cut_in = placed
    assert audible[(cut_in.start_ms - 300) // WINDOW_MS : cut_in.start_ms // WINDOW_MS].any(), (
        "the bot was not speaking when the user cut in, so this run could not test barge-in"
    )
    stopped_at = last_audible_ms(audible, question.end_ms, cut_in.end_ms)
    assert stopped_at - cut_in.start_ms <= 200 + WINDOW_MS, (
        f"the bot went on for {stopped_at - cut_in.start_ms} ms"
    )
    assert first_audible_ms(audible, cut_in.end_ms) is not None, "no answer after the interruption"
    bots = [t for t in transcript if t["role"] == "assistant"]
    assert bots[0]["interrupted"] is True and bots[-1]["interrupted"] is False


@pytest.mark.parametrize("echo_gain", [0.5])
def test_the_bots_own_echo_causes_no_turn(tmp_path: Path, echo_gain: float):
    echo = (f"audio_io.echo_gain={echo_gain}", "audio_io.echo_delay_ms=60")
    placed, audible, transcript = run_conversation(
        tmp_path, ["What color is the sky on a clear day?"], overrides=echo
    )
    users = [t for t in transcript if t["role"] == "user"]
    bots = [t for t in transcript if t["role"] == "assistant"]
    assert len(users) == 1, f"the echo of the bot's voice was taken for the user: {users}"
    assert len(bots) == 1 and bots[0]["interrupted"] is False
    assert first_audible_ms(audible, placed[0].end_ms) is not None
