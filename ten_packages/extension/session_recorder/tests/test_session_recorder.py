"""The ledger's clock arithmetic, and the recorder writing transcript and ledger files."""

from __future__ import annotations

import json
from pathlib import Path

from ten_runtime import AsyncExtensionTester, AsyncTenEnvTester, Data

from ten_packages.extension.session_recorder.ledger import format_table, summarize, time_turn

STAGES = [
    {"stage": "user_speech_end", "input_ms": 5000},
    {"stage": "vad_end", "wall_ms": 100_200, "input_ms": 5200},  # wall = input + 95_000
    {"stage": "turn_decision", "wall_ms": 100_230},
    {"stage": "asr_final", "wall_ms": 100_400},
    {"stage": "llm_first_token", "wall_ms": 100_480},
    {"stage": "first_clause_sent", "wall_ms": 100_520},
    {"stage": "tts_first_audio", "wall_ms": 100_600},
    {"stage": "first_sample_played", "input_ms": 5640, "wall_ms": 100_640},
]


def test_stages_are_put_on_one_clock_from_the_end_of_speech():
    timing = time_turn(3, STAGES)
    assert timing.after_speech_end_ms["vad_end"] == 200
    assert timing.after_speech_end_ms["turn_decision"] == 230
    assert timing.after_speech_end_ms["tts_first_audio"] == 600
    assert timing.voice_to_voice_ms == 640


def test_missing_stages_show_as_gaps_and_are_left_out_of_medians():
    timing = time_turn(1, [s for s in STAGES if s["stage"] != "asr_final"])
    assert timing.after_speech_end_ms["asr_final"] is None
    assert "ASR final" in format_table(timing)
    summary = summarize([timing, time_turn(2, STAGES)])
    assert summary["stages_ms_p50"]["asr_final"] == 400 and summary["turns"] == 2
    assert summary["v2v_ms_p50"] == 640


class FeedRecorder(AsyncExtensionTester):
    async def on_start(self, ten_env_tester: AsyncTenEnvTester) -> None:
        for name, payload in [
            (
                "transcript",
                {"role": "user", "text": "Hello there", "start_ms": 1000, "end_ms": 5000, "turn_id": 1},
            ),
            (
                "transcript",
                {"role": "assistant", "text": "Hi!", "start_ms": 5640, "end_ms": 6400, "turn_id": 1},
            ),
            ("turn_latency", {"turn_id": 1, "stages": STAGES}),
        ]:
            data = Data.create(name)
            data.set_property_from_json(None, json.dumps(payload))
            await ten_env_tester.send_data(data)
        ten_env_tester.stop_test()


def test_recorder_writes_jsonl_transcript_and_json_ledger(tmp_path: Path):
    tester = FeedRecorder()
    transcript, ledger = tmp_path / "turns.jsonl", tmp_path / "ledger.json"
    tester.set_test_mode_single(
        "session_recorder", json.dumps({"transcript_path": str(transcript), "ledger_path": str(ledger)})
    )
    assert tester.run() is None
    lines = [json.loads(line) for line in transcript.read_text().splitlines()]
    assert [(line["role"], line["text"]) for line in lines] == [("user", "Hello there"), ("assistant", "Hi!")]
    saved = json.loads(ledger.read_text())
    assert saved["summary"]["v2v_ms_p50"] == 640
    assert saved["turns"][0]["after_speech_end_ms"]["asr_final"] == 400
