"""Benchmark of the listening half: echo cancellation + VAD cost (scripts/_bench_aec_vad.py) and turn detection.

Turn detection: the turn_detector extension (mode smart_turn, its shipped property.json, Smart Turn v3.2)
runs in TEN's extension tester, fed in real time with 10 ms frames of espeak-ng speech; TEN VAD
(ten_vad_detector's SpeechDetector, default settings) runs on the same frames and sends
start_of_sentence / end_of_sentence as the VAD extension would, and faster_whisper_asr's
StreamingRecognizer (its shipped property.json: tiny.en, in this process as in the app) hears the same
frames and cmds and sends its `asr_result`s to the detector, which checks a "finished" against the words
at the pause. After each `finished` the recognizer is finalized, as conversation_control would.
`--model-only` leaves the ASR out: Smart Turn alone, as before the words were used.
- turn_decision_ms_p50/_p90: over complete utterances, wall time from sending the frame that holds the
  last speech sample to receiving the `finished` decision (a complete utterance the model misjudges as
  unfinished is only finished at the max pause, and counts with that time).
  A `finished` decided before the speech is over (the VAD ended a sentence at a comma) is a cut-off:
  counted in complete_cut_off, not as a latency.
- first_decision_ms_p50/_p90: over all utterances, end of speech to the first decision of any state (VAD
  pause + Smart Turn inference + runtime): how fast the detector answers, right or wrong.
- clipped_turns_ended_early: clipped utterances ("I was wondering if you could...") that got `finished`
  before the max pause.
- complete_vetoed_by_words / clipped_vetoed_by_words: first decisions that were the words overruling
  Smart Turn's "finished" (for complete utterances, a wrong veto); pause_text_ms_p50/_p90: end of
  speech to the transcript covering it reaching the detector.
- threshold_sweep: what other `finished_threshold` values would have decided at the first pause, from the
  same run's probabilities. Per-utterance results go to stderr. Prints one JSON object as its last line.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "scripts")]

from app.ten_select import ensure_ten_runtime  # noqa: E402

ensure_ten_runtime()

from _bench_aec_vad import measure  # noqa: E402
from bench_stats import percentile  # noqa: E402
from ten_runtime import AsyncExtensionTester, AsyncTenEnvTester, Cmd, Data  # noqa: E402

from ten_packages.extension.faster_whisper_asr.config import AsrConfig  # noqa: E402
from ten_packages.extension.faster_whisper_asr.recognizer import AsrResult, StreamingRecognizer  # noqa: E402
from ten_packages.extension.faster_whisper_asr.transcriber import UtteranceTranscriber  # noqa: E402
from ten_packages.extension.ten_vad_detector.speech_detector import SpeechDetector, VadSettings  # noqa: E402
from ten_packages.system.voice_kit.pcm import FRAME_MS, FRAME_SAMPLES, make_pcm_frame  # noqa: E402
from ten_packages.system.voice_kit.testing.speech import silence, synthesize_speech  # noqa: E402

COMPLETE = [
    "What is the weather like in Paris today?",
    "Can you tell me a joke about cats?",
    "Please set a timer for ten minutes.",
    "I would like to book a table for two.",
    "How far away is the moon?",
    "Thank you, that was really helpful.",
    "What time is it in Tokyo right now?",
    "Tell me a story about a dragon.",
    "Could you turn off the lights in the kitchen?",
    "Where is the nearest train station?",
    "Remind me to call my mother tomorrow.",
    "I'd like a cup of coffee, please.",
]
CLIPPED = [
    "I was wondering if you could",
    "So what I want to know is",
    "Can you tell me about the",
    "My favourite thing to do on weekends is",
    "I think that we should",
    "Could you please",
    "I need to go to the",
    "What if we tried to",
    "Could you turn off the",
    "Where is the nearest",
    "Remind me to call my",
    "I'd like a cup of",
]
LEAD_MS = 400
GAP_MS = 300
PROPERTIES = json.loads((REPO / "ten_packages/extension/turn_detector/property.json").read_text())
ASR_PROPERTIES = json.loads((REPO / "ten_packages/extension/faster_whisper_asr/property.json").read_text())


class RealTimeListener(AsyncExtensionTester):
    """Plays each utterance in real time into the turn detector, with TEN VAD sending the sentence cmds."""

    def __init__(
        self, utterances: list[tuple[str, str]], transcriber: UtteranceTranscriber | None, vad: VadSettings
    ) -> None:
        super().__init__()
        self.utterances = utterances
        self.results: list[dict[str, Any]] = []
        self.decisions: list[tuple[float, dict[str, Any]]] = []
        self.transcripts: list[tuple[float, AsrResult]] = []  # (wall time sent, result)
        self.vad = SpeechDetector(vad)
        self.transcriber = transcriber
        self.recognizer: StreamingRecognizer | None = None
        self.ten_env: AsyncTenEnvTester | None = None
        self.timeline_ms = 0
        self.started_s = 0.0
        self.vad_end_sent_s: float | None = None
        self._task: asyncio.Task | None = None
        self._finalizes: set[asyncio.Task] = set()

    async def on_start(self, ten_env: AsyncTenEnvTester) -> None:
        self.ten_env = ten_env
        if self.transcriber is not None:
            config = AsrConfig.from_properties(ASR_PROPERTIES)
            self.recognizer = StreamingRecognizer(
                self.transcriber,
                on_interim=self._send_transcript,
                on_interim_error=self._interim_failed,
                language=config.whisper.language,
                interim_interval_ms=config.interim_interval_ms,
                pre_roll_ms=config.pre_roll_ms,
                max_utterance_ms=config.max_utterance_ms,
                sentence_end_interim=config.sentence_end_interim,
            )
        self._task = asyncio.create_task(self._play_all(ten_env))

    async def _send_transcript(self, result: AsrResult) -> None:
        """What faster_whisper_asr sends as `asr_result`."""
        payload = result.payload({})
        data = Data.create("asr_result")
        data.set_property_from_json(None, json.dumps(payload))
        self.transcripts.append((time.perf_counter(), result))
        await self.ten_env.send_data(data)

    async def _interim_failed(self, error: Exception) -> None:
        print(f"interim transcription failed: {error}", file=sys.stderr)

    async def _finalize(self) -> None:
        """The turn is over: the final transcript, as conversation_control's asr_finalize would get."""
        await self._send_transcript(await self.recognizer.finalize())

    async def on_data(self, ten_env: AsyncTenEnvTester, data: Data) -> None:
        if data.get_name() == "turn_decision":
            self.decisions.append((time.perf_counter(), json.loads(data.get_property_to_json(None)[0])))

    async def _play_all(self, ten_env: AsyncTenEnvTester) -> None:
        self.started_s = time.perf_counter()
        for kind, text in self.utterances:
            await self._play_one(ten_env, kind, text)
        await asyncio.gather(*self._finalizes)
        if self.recognizer is not None:
            self.recognizer.close()
        ten_env.stop_test()

    async def _tick(self, ten_env: AsyncTenEnvTester, frame: np.ndarray) -> float:
        """Send one 10 ms frame when it would have been captured; returns the wall time it was sent."""
        frame_end_s = self.started_s + (self.timeline_ms + FRAME_MS) / 1000
        await asyncio.sleep(max(0.0, frame_end_s - time.perf_counter()))
        sent_s = time.perf_counter()
        await ten_env.send_audio_frame(make_pcm_frame(frame, timestamp_ms=self.timeline_ms))
        if self.recognizer is not None:
            self.recognizer.push_audio(frame, self.timeline_ms)
        for event in self.vad.push(frame, self.timeline_ms):
            cmd = Cmd.create(event.kind.value)
            cmd.set_property_int("timestamp_ms", event.timestamp_ms)
            cmd.set_property_int("wall_ms", int(time.time() * 1000))
            if self.recognizer is not None:  # the VAD's cmds reach the ASR as well
                if event.kind.value == "start_of_sentence":
                    self.recognizer.start_of_sentence(event.timestamp_ms)
                else:
                    self.recognizer.end_of_sentence()
            if event.kind.value == "end_of_sentence":
                self.vad_end_sent_s = time.perf_counter()
            await ten_env.send_cmd(cmd)
        self.timeline_ms += FRAME_MS
        return sent_s

    async def _play_one(self, ten_env: AsyncTenEnvTester, kind: str, text: str) -> None:
        speech = np.concatenate([silence(LEAD_MS), synthesize_speech(text)])
        speech = np.pad(speech, (0, -len(speech) % FRAME_SAMPLES))
        speech_end_ms = self.timeline_ms + LEAD_MS + len(synthesize_speech(text)) // 16
        seen = len(self.decisions)
        heard = len(self.transcripts)
        speech_end_sent_s = 0.0
        for start in range(0, len(speech), FRAME_SAMPLES):
            speech_end_sent_s = await self._tick(ten_env, speech[start : start + FRAME_SAMPLES])
        finished = None
        deadline_ms = speech_end_ms + PROPERTIES["max_pause_ms"] + 1500
        while finished is None and self.timeline_ms < deadline_ms:
            await self._tick(ten_env, silence(FRAME_MS))
            finished = next((d for d in self.decisions[seen:] if d[1]["state"] == "finished"), None)
        if self.recognizer is not None:
            task = asyncio.create_task(self._finalize())
            self._finalizes.add(task)
            task.add_done_callback(self._finalizes.discard)
        pause_text = next(
            (
                (sent_s, r)
                for sent_s, r in self.transcripts[heard:]
                if not r.final and r.start_ms + r.duration_ms >= speech_end_ms
            ),
            None,
        )
        for _ in range(GAP_MS // FRAME_MS):
            await self._tick(ten_env, silence(FRAME_MS))
        first_s, first = self.decisions[seen] if len(self.decisions) > seen else (None, None)
        self.results.append(
            {
                "kind": kind,
                "text": text,
                "first_state": first["state"] if first else None,
                "reason": first.get("reason") if first else None,
                "probability": first["probability"] if first else None,
                "pause_text": pause_text[1].text if pause_text else None,
                "pause_text_ms": round((pause_text[0] - speech_end_sent_s) * 1000, 1) if pause_text else None,
                "asr_pass_ms": round(pause_text[1].latency_ms, 1) if pause_text else None,
                "vad_end_ms": round((self.vad_end_sent_s - speech_end_sent_s) * 1000, 1)
                if self.vad_end_sent_s
                else None,
                "first_decision_ms": round((first_s - speech_end_sent_s) * 1000, 1) if first else None,
                "finished_ms": round((finished[0] - speech_end_sent_s) * 1000, 1) if finished else None,
                "finished_after_pause_ms": finished[1]["decided_ms"] - speech_end_ms if finished else None,
            }
        )


def measure_turns(with_words: bool, vad: VadSettings | None = None) -> dict[str, Any]:
    transcriber = None
    if with_words:
        transcriber = UtteranceTranscriber(AsrConfig.from_properties(ASR_PROPERTIES).whisper)
        transcriber.transcribe(synthesize_speech("Hello there."))  # the first pass is slow
    utterances = [("complete", t) for t in COMPLETE] + [("clipped", t) for t in CLIPPED]
    listener = RealTimeListener(utterances, transcriber, vad or VadSettings())
    listener.set_test_mode_single("turn_detector", json.dumps({"mode": "smart_turn"}))
    listener.set_timeout(600 * 1_000_000)
    error = listener.run()
    if error is not None:
        raise RuntimeError(f"turn detector run failed: {error.error_message()}")
    for result in listener.results:
        print(json.dumps(result), file=sys.stderr)
    complete = [r for r in listener.results if r["kind"] == "complete"]
    clipped = [r for r in listener.results if r["kind"] == "clipped"]
    max_pause_ms = PROPERTIES["max_pause_ms"]
    first_latencies = [
        r["first_decision_ms"] for r in listener.results if (r["first_decision_ms"] or -1) >= 0
    ]
    latencies = [r["finished_ms"] for r in complete if r["finished_ms"] is not None and r["finished_ms"] >= 0]
    text_latencies = [r["pause_text_ms"] for r in listener.results if r["pause_text_ms"] is not None]
    return {
        "turn_decision_ms_p50": round(statistics.median(latencies), 1),
        "turn_decision_ms_p90": round(percentile(latencies, 0.9), 1),
        "first_decision_ms_p50": round(statistics.median(first_latencies), 1),
        "first_decision_ms_p90": round(percentile(first_latencies, 0.9), 1),
        "complete_turns": len(complete),
        "complete_finished_at_first_pause": sum(r["first_state"] == "finished" for r in complete),
        "complete_cut_off": sum(r["finished_ms"] is not None and r["finished_ms"] < 0 for r in complete),
        "complete_never_finished": sum(r["finished_ms"] is None for r in complete),
        "clipped_turns": len(clipped),
        "clipped_turns_ended_early": sum(
            r["finished_after_pause_ms"] is not None and r["finished_after_pause_ms"] < max_pause_ms
            for r in clipped
        ),
        "complete_vetoed_by_words": sum(r["reason"] == "words" for r in complete),
        "clipped_vetoed_by_words": sum(r["reason"] == "words" for r in clipped),
        "pause_text_ms_p50": round(statistics.median(text_latencies), 1) if text_latencies else None,
        "pause_text_ms_p90": round(percentile(text_latencies, 0.9), 1) if text_latencies else None,
        "words": with_words,
        "max_pause_ms": max_pause_ms,
        "finished_threshold": PROPERTIES["finished_threshold"],
        "sure_threshold": PROPERTIES["sure_threshold"],
        "text_wait_ms": PROPERTIES["text_wait_ms"],
        "threshold_sweep": {
            str(threshold): {
                "complete_finished_at_first_pause": sum(
                    (r["probability"] or 0) >= threshold for r in complete
                ),
                "clipped_ended_early": sum((r["probability"] or 0) >= threshold for r in clipped),
            }
            for threshold in (0.5, 0.7, 0.8, 0.9)
        },
        "turn_speech": "espeak-ng en-us 165 wpm",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model-only", action="store_true", help="no ASR: Smart Turn alone decides")
    parser.add_argument(
        "--vad-silence-ms",
        type=int,
        default=None,
        help="the VAD's silence_duration_ms (default: the VAD's own)",
    )
    args = parser.parse_args()
    vad = VadSettings(silence_duration_ms=args.vad_silence_ms) if args.vad_silence_ms else VadSettings()
    figures = {**measure(), **measure_turns(with_words=not args.model_only, vad=vad)}
    figures["vad_silence_duration_ms"] = vad.silence_duration_ms
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
