"""Benchmark of the "thinking" half: ASR finalize latency and word error rate, LLM time to first token.

ASR: each test utterance (espeak-ng speech, 1-5 s) is streamed in real time, 10 ms frames, through the
faster_whisper_asr recogniser with the packaged tiny.en int8 model, with interim results on as in the
graph: VAD start, speech, 200 ms of trailing silence (the VAD's hangover), VAD end, and then at once
`asr_finalize` (no turn-detection delay is granted, the worst case for the pass started at the VAD end).
asr_finalize_ratio = time from finalize to the final result / speech duration.

Beside it, one plain pass per utterance with the short encoder window (the default) and with
faster-whisper's usual zero-padded 30 s window, for their speed and word error rate.

LLM: figures from scripts/_bench_llm.py `measure()`.

Prints one JSON object as its last line.
"""

from __future__ import annotations

import asyncio
import importlib
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import jiwer
import numpy as np
from bench_stats import percentile  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "scripts")]

FRAME_SAMPLES = 160
UTTERANCES = [
    "Hello there.",
    "What time is it?",
    "Play some relaxing music.",
    "Turn off the lights in the kitchen.",
    "Can you tell me a joke about cats?",
    "How far is the moon from the earth?",
    "Remind me to call my mother on Sunday afternoon.",
    "What is the capital city of France?",
    "I need a recipe for a quick vegetable soup.",
    "Please set an alarm for tomorrow morning.",
    "The weather today is sunny with a light breeze from the west.",
    "Could you explain how a rainbow forms after the rain?",
    "I would like to book a table for two people tomorrow evening at the Italian place.",
    "Tell me something interesting about the history of the printing press in Europe.",
]
WORDS_ONLY = jiwer.Compose(
    [
        jiwer.ToLowerCase(),
        jiwer.RemovePunctuation(),
        jiwer.RemoveMultipleSpaces(),
        jiwer.Strip(),
        jiwer.ReduceToListOfListOfWords(),
    ]
)


async def finalize_once(recognizer: Any, speech: np.ndarray, silence_ms: int = 200) -> Any:
    """Stream one utterance in real time as the graph would, then finalize right at the VAD end."""
    audio = np.concatenate([speech, np.zeros(16 * silence_ms, dtype=np.int16)])
    audio = np.pad(audio, (0, -len(audio) % FRAME_SAMPLES))
    recognizer.start_of_sentence()
    started = time.perf_counter()
    for index, start in enumerate(range(0, len(audio), FRAME_SAMPLES)):
        recognizer.push_audio(audio[start : start + FRAME_SAMPLES])
        await asyncio.sleep(max(0.0, started + (index + 1) * 0.01 - time.perf_counter()))
    recognizer.end_of_sentence()
    result = await recognizer.finalize()
    await recognizer.wait_idle()
    return result


def measure_asr() -> dict[str, Any]:
    from app.ten_select import ensure_ten_runtime

    ensure_ten_runtime()  # the extension package imports ten_runtime (the embedded one unless TEN's is installed)
    from ten_packages.extension.faster_whisper_asr.recognizer import StreamingRecognizer
    from ten_packages.extension.faster_whisper_asr.transcriber import UtteranceTranscriber, WhisperSettings
    from ten_packages.system.voice_kit.testing.speech import synthesize_speech

    transcriber = UtteranceTranscriber(WhisperSettings(model="packaged:tiny.en", compute_type="int8"))
    speeches = {text: synthesize_speech(text) for text in UTTERANCES}
    speeches = {text: audio for text, audio in speeches.items() if 16000 <= len(audio) <= 5 * 16000}

    async def run_all() -> list[tuple[str, Any, float]]:
        async def ignore_interim(_: Any) -> None:
            return None

        async def show_interim_error(error: Exception) -> None:
            print(f"interim pass failed: {error!r}", file=sys.stderr)

        recognizer = StreamingRecognizer(
            transcriber, ignore_interim, show_interim_error, language="en", interim_interval_ms=1000
        )
        await finalize_once(recognizer, next(iter(speeches.values())))  # warm-up, not counted
        runs = []
        for text, speech in speeches.items():
            runs.append((text, await finalize_once(recognizer, speech), len(speech) / 16.0))
        recognizer.close()
        return runs

    runs = asyncio.run(run_all())
    for text, result, speech_ms in runs:
        print(
            f"{speech_ms / 1000:4.1f} s speech, finalize {result.latency_ms:6.1f} ms: {text!r} -> {result.text!r}"
        )
    ratios = [result.latency_ms / speech_ms for _, result, speech_ms in runs]
    latencies = [result.latency_ms for _, result, _ in runs]
    return {
        "asr_finalize_ratio_p50": round(statistics.median(ratios), 3),
        "asr_finalize_ratio_p90": round(percentile(ratios, 0.9), 3),
        "asr_finalize_ms_p50": round(statistics.median(latencies), 1),
        "asr_finalize_ms_p90": round(percentile(latencies, 0.9), 1),
        "asr_wer": word_error_rate([text for text, _, _ in runs], [result.text for _, result, _ in runs]),
        "asr_utterances": len(runs),
        "asr_speech_s_min_max": [
            round(min(s for *_, s in runs) / 1000, 2),
            round(max(s for *_, s in runs) / 1000, 2),
        ],
        "asr_model": "packaged:tiny.en int8",
        **compare_windows(transcriber, speeches),
    }


def compare_windows(short_window: Any, speeches: dict[str, np.ndarray]) -> dict[str, Any]:
    """One plain pass per utterance with the short encoder window and with faster-whisper's 30 s one."""
    from ten_packages.extension.faster_whisper_asr.transcriber import UtteranceTranscriber, WhisperSettings

    full_window = UtteranceTranscriber(WhisperSettings(model="packaged:tiny.en", short_window=False))
    figures: dict[str, Any] = {}
    for name, transcriber in (("short_window", short_window), ("full_window", full_window)):
        transcripts = [transcriber.transcribe(speech) for speech in speeches.values()]
        figures[f"asr_pass_ms_p50_{name}"] = round(statistics.median(t.elapsed_ms for t in transcripts), 1)
        figures[f"asr_wer_{name}"] = word_error_rate(list(speeches), [t.text for t in transcripts])
    return figures


def word_error_rate(references: list[str], hypotheses: list[str]) -> float:
    """WER over all utterances, ignoring case and punctuation."""
    return round(
        jiwer.wer(
            references,
            [text or "<empty>" for text in hypotheses],
            reference_transform=WORDS_ONLY,
            hypothesis_transform=WORDS_ONLY,
        ),
        3,
    )


def measure_llm() -> dict[str, Any]:
    """The LLM figures, or why they are missing (scripts/_bench_llm.py belongs to the LLM client's work)."""
    try:
        bench_llm = importlib.import_module("_bench_llm")
        figures = bench_llm.measure()
    except Exception as exc:  # noqa: BLE001  (a missing or failing LLM bench must not hide the ASR figures)
        return {
            "llm_ttft_ms_p50": None,
            "llm_overhead_ms_p50": None,
            "llm_error": f"{type(exc).__name__}: {exc}",
        }
    return figures  # llm_ttft_ms_p50 and llm_overhead_ms_p50, with the figures they come from


def main() -> None:
    figures = measure_asr()
    figures.update(measure_llm())
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
