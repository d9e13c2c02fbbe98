"""The turn_detector extension in TEN's tester: VAD cmds, real speech frames and transcripts in,
`turn_decision` out, in each mode; bad input gets an `error` and the extension carries on."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any

import numpy as np
from ten_runtime import AsyncExtensionTester, AsyncTenEnvTester, AudioFrame, Cmd, Data, TenError, TenErrorCode

from ten_packages.system.voice_kit.pcm import FRAME_SAMPLES, make_pcm_frame
from ten_packages.system.voice_kit.testing.speech import conversation, silence, synthesize_speech

Scenario = Callable[["TurnTester", AsyncTenEnvTester], Awaitable[None]]
MAX_PAUSE_MS = 800
VAD_SILENCE_MS = 150


class TurnTester(AsyncExtensionTester):
    """Runs a scenario against the extension and records every decision and error it sends."""

    def __init__(self, scenario: Scenario) -> None:
        super().__init__()
        self.scenario = scenario
        self.decisions: list[dict[str, Any]] = []
        self.errors: list[dict[str, Any]] = []
        self.next_ms = 0  # input timeline of the next audio frame
        self._task: asyncio.Task | None = None

    async def on_start(self, ten_env: AsyncTenEnvTester) -> None:
        self._task = asyncio.create_task(self._play(ten_env))

    async def _play(self, ten_env: AsyncTenEnvTester) -> None:
        try:
            await asyncio.wait_for(self.scenario(self, ten_env), timeout=30)
            ten_env.stop_test()
        except Exception as exc:
            ten_env.stop_test(TenError.create(TenErrorCode.ErrorCodeGeneric, f"{type(exc).__name__}: {exc}"))

    async def on_data(self, ten_env: AsyncTenEnvTester, data: Data) -> None:
        payload = json.loads(data.get_property_to_json(None)[0])
        if data.get_name() == "turn_decision":
            self.decisions.append(payload)
        elif data.get_name() == "error":
            self.errors.append(payload)

    async def send_audio(self, ten_env: AsyncTenEnvTester, samples: np.ndarray) -> None:
        """Send 10 ms capture frames continuing the input timeline."""
        for start in range(0, len(samples), FRAME_SAMPLES):
            frame = samples[start : start + FRAME_SAMPLES]
            await ten_env.send_audio_frame(make_pcm_frame(frame, timestamp_ms=self.next_ms))
            self.next_ms += len(frame) * 1000 // 16000

    async def send_vad(self, ten_env: AsyncTenEnvTester, name: str, timestamp_ms: int) -> None:
        cmd = Cmd.create(name)
        cmd.set_property_int("timestamp_ms", timestamp_ms)
        cmd.set_property_int("wall_ms", 0)
        result, error = await ten_env.send_cmd(cmd)
        assert error is None and result.get_status_code() == 0, f"{name} not accepted"

    async def send_transcript(
        self, ten_env: AsyncTenEnvTester, text: str, start_ms: int, duration_ms: int, final: bool = True
    ) -> None:
        data = Data.create("asr_result")
        fields = {"id": "1", "text": text, "final": final, "start_ms": start_ms, "duration_ms": duration_ms}
        data.set_property_from_json(
            None, json.dumps({**fields, "language": "en", "words": [], "metadata": {}})
        )
        await ten_env.send_data(data)

    async def wait_for(self, count: int, timeout_s: float = 10) -> None:
        """Until `count` decisions have arrived."""
        async with asyncio.timeout(timeout_s):
            while len(self.decisions) < count:
                await asyncio.sleep(0.01)

    async def say(self, ten_env: AsyncTenEnvTester, speech: np.ndarray) -> int:
        """Speech framed by the VAD's cmds (end after VAD_SILENCE_MS of pause); returns the speech end."""
        await self.send_vad(ten_env, "start_of_sentence", self.next_ms)
        await self.send_audio(ten_env, speech)
        speech_end_ms = self.next_ms
        await self.send_audio(ten_env, silence(VAD_SILENCE_MS))
        await self.send_vad(ten_env, "end_of_sentence", speech_end_ms)
        return speech_end_ms


def run(scenario: Scenario, **properties: Any) -> TurnTester:
    tester = TurnTester(scenario)
    tester.set_test_mode_single("turn_detector", json.dumps({"max_pause_ms": MAX_PAUSE_MS, **properties}))
    error = tester.run()
    assert error is None, error.error_message()
    return tester


def test_smart_turn_finishes_a_complete_utterance_at_once():
    async def scenario(t: TurnTester, env: AsyncTenEnvTester) -> None:
        await t.send_audio(env, silence(500))
        t.speech_end_ms = await t.say(env, synthesize_speech("Please set a timer for ten minutes."))
        await t.wait_for(1)

    tester = run(scenario)
    [decision] = tester.decisions
    assert decision["state"] == "finished" and decision["mode"] == "smart_turn" and decision["turn_id"] == 1
    assert decision["reason"] == "model"
    assert decision["probability"] >= 0.5 and decision["speech_end_ms"] == tester.speech_end_ms
    assert decision["decided_ms"] - tester.speech_end_ms < MAX_PAUSE_MS
    assert not tester.errors


def test_smart_turn_holds_a_clipped_utterance_until_the_max_pause():
    async def scenario(t: TurnTester, env: AsyncTenEnvTester) -> None:
        await t.send_audio(env, silence(500))
        t.speech_end_ms = await t.say(env, synthesize_speech("I was wondering if you could"))
        await t.wait_for(1)
        await t.send_audio(env, silence(MAX_PAUSE_MS))
        await t.wait_for(2)

    tester = run(scenario)
    unfinished, forced = tester.decisions
    assert unfinished["state"] == "unfinished" and unfinished["probability"] < 0.5
    assert forced["state"] == "finished" and forced["turn_id"] == unfinished["turn_id"] == 1
    assert forced["decided_ms"] - tester.speech_end_ms >= MAX_PAUSE_MS
    assert (unfinished["reason"], forced["reason"]) == ("model", "max_pause")


def test_user_going_on_after_a_pause_continues_the_same_turn():
    async def scenario(t: TurnTester, env: AsyncTenEnvTester) -> None:
        await t.send_audio(env, silence(300))
        await t.say(env, synthesize_speech("I was wondering if you could"))
        await t.wait_for(1)
        await t.say(env, conversation([200, "remind me to call my mother tomorrow."]))
        await t.wait_for(2)

    tester = run(scenario)
    assert [d["turn_id"] for d in tester.decisions] == [1, 1]
    assert [d["state"] for d in tester.decisions] == ["unfinished", "finished"]


def test_silence_mode_ends_the_turn_at_the_vad_pause():
    async def scenario(t: TurnTester, env: AsyncTenEnvTester) -> None:
        await t.send_vad(env, "start_of_sentence", 100)
        await t.send_vad(env, "end_of_sentence", 1200)
        await t.wait_for(1)
        await t.send_vad(env, "start_of_sentence", 2000)
        await t.send_vad(env, "end_of_sentence", 2600)
        await t.wait_for(2)

    tester = run(scenario, mode="silence")
    first, second = tester.decisions
    assert (first["state"], first["probability"], first["speech_end_ms"], first["mode"]) == (
        "finished",
        1.0,
        1200,
        "silence",
    )
    assert second["turn_id"] == 2 and second["speech_end_ms"] == 2600
    assert first["reason"] == second["reason"] == "silence"


async def say_with_words(
    t: TurnTester, env: AsyncTenEnvTester, text: str, heard: str, delay_s: float
) -> None:
    """One utterance as the graph plays it: an earlier transcript (the ASR is there), the speech, and
    `delay_s` after the VAD's end the ASR's transcript `heard` covering the pause."""
    await t.send_audio(env, silence(300))
    await t.send_transcript(env, "Hello.", 0, 300)
    t.speech_start_ms = t.next_ms
    t.speech_end_ms = await t.say(env, synthesize_speech(text))
    await asyncio.sleep(delay_s)
    await t.send_transcript(env, heard, t.speech_start_ms, t.next_ms - t.speech_start_ms, final=False)


def test_words_that_cannot_end_veto_smart_turns_finished():
    async def scenario(t: TurnTester, env: AsyncTenEnvTester) -> None:
        await say_with_words(t, env, "Where is the nearest", "Where is the nearest?", delay_s=0.1)
        await t.wait_for(1)
        await t.send_audio(env, silence(MAX_PAUSE_MS))
        await t.wait_for(2)

    tester = run(scenario)
    vetoed, forced = tester.decisions
    # Smart Turn hears espeak's "Where is the nearest" as finished; the words say otherwise.
    assert (vetoed["state"], vetoed["reason"]) == ("unfinished", "words") and vetoed["probability"] >= 0.5
    assert (forced["state"], forced["reason"]) == ("finished", "max_pause")
    assert forced["decided_ms"] - tester.speech_end_ms >= MAX_PAUSE_MS


def test_finished_waits_for_the_words_of_the_pause_then_stands():
    async def scenario(t: TurnTester, env: AsyncTenEnvTester) -> None:
        await say_with_words(
            t, env, "Please set a timer for ten minutes.", "Please set a timer for 10 minutes.", 0.15
        )
        t.words_sent_at = asyncio.get_running_loop().time()
        await t.wait_for(1)
        t.decided_at = asyncio.get_running_loop().time()

    tester = run(scenario)
    [decision] = tester.decisions
    assert (decision["state"], decision["reason"]) == ("finished", "model")
    assert tester.decided_at >= tester.words_sent_at  # held until the words came


def test_without_words_in_time_smart_turn_decides_alone():
    async def scenario(t: TurnTester, env: AsyncTenEnvTester) -> None:
        await say_with_words(t, env, "Please set a timer for ten minutes.", "Please set a timer for", 1.0)
        await t.wait_for(1)

    tester = run(scenario, text_wait_ms=200)
    [decision] = tester.decisions  # the late "...for" changes nothing: the turn was already decided
    assert (decision["state"], decision["reason"]) == ("finished", "model")
    assert 200 <= decision["decided_ms"] - tester.speech_end_ms < MAX_PAUSE_MS


def test_ten_text_asks_with_the_turn_so_far_and_follows_the_answers(turn_server):
    turn_server.script = [(200, "unfinished", 0.0), (200, "finished", 0.0), (200, "wait", 0.0)]

    async def scenario(t: TurnTester, env: AsyncTenEnvTester) -> None:
        await t.send_vad(env, "start_of_sentence", 0)
        await t.send_vad(env, "end_of_sentence", 1000)
        await t.send_transcript(env, "I was wondering if you could", 0, 1000)
        await t.wait_for(1)
        await t.send_vad(env, "start_of_sentence", 1500)
        await t.send_vad(env, "end_of_sentence", 2500)
        await t.send_transcript(env, "help me with my homework.", 1500, 1000)
        await t.wait_for(2)
        await t.send_vad(env, "start_of_sentence", 4000)
        await t.send_transcript(env, "Hold on a second.", 4000, 500)  # before the VAD's end this time
        await t.send_vad(env, "end_of_sentence", 4500)
        await t.wait_for(3)

    tester = run(scenario, mode="ten_text", base_url=turn_server.base_url, model="ten-turn")
    assert [(d["turn_id"], d["state"]) for d in tester.decisions] == [
        (1, "unfinished"),
        (1, "finished"),
        (2, "wait"),
    ]
    asked = [request["body"]["messages"][0]["content"] for request in turn_server.requests]
    assert asked == [
        "I was wondering if you could",
        "I was wondering if you could help me with my homework",
        "Hold on a second",
    ]


def test_ten_text_endpoint_failure_is_reported_and_the_max_pause_ends_the_turn(turn_server):
    turn_server.script = [(500, "model crashed", 0.0)]

    async def scenario(t: TurnTester, env: AsyncTenEnvTester) -> None:
        await t.send_audio(env, silence(10))  # starts the input timeline
        await t.send_vad(env, "start_of_sentence", 0)
        await t.send_vad(env, "end_of_sentence", 0)
        await t.send_transcript(env, "Book a table", 0, 500)
        await t.wait_for(1, timeout_s=MAX_PAUSE_MS / 1000 + 5)

    tester = run(scenario, mode="ten_text", base_url=turn_server.base_url)
    assert any("request failed" in error["message"] for error in tester.errors)
    [forced] = tester.decisions
    assert forced["state"] == "finished" and forced["decided_ms"] >= MAX_PAUSE_MS


def test_bad_audio_format_is_an_error_and_the_extension_carries_on():
    async def scenario(t: TurnTester, env: AsyncTenEnvTester) -> None:
        frame = AudioFrame.create("pcm_frame")
        frame.set_sample_rate(16000)
        frame.set_bytes_per_sample(4)
        frame.set_number_of_channels(1)
        frame.set_samples_per_channel(160)
        frame.alloc_buf(640)
        await env.send_audio_frame(frame)
        await t.send_audio(env, silence(300))
        await t.say(env, synthesize_speech("Please set a timer for ten minutes."))
        await t.wait_for(1)

    tester = run(scenario)
    assert any("expected 2 (s16 PCM)" in error["message"] for error in tester.errors)
    assert tester.decisions[0]["state"] == "finished"


def test_missing_model_says_how_to_get_it_and_falls_back_to_silence():
    async def scenario(t: TurnTester, env: AsyncTenEnvTester) -> None:
        await t.send_vad(env, "start_of_sentence", 0)
        await t.send_vad(env, "end_of_sentence", 900)
        await t.wait_for(1)

    tester = run(scenario, model_path="/nonexistent/smart-turn.onnx", hub_repo="")
    assert any("scripts/setup" in error["message"] for error in tester.errors)
    assert tester.decisions[0]["mode"] == "silence" and tester.decisions[0]["state"] == "finished"


def test_smart_turn_without_audio_says_so():
    async def scenario(t: TurnTester, env: AsyncTenEnvTester) -> None:
        await t.send_vad(env, "start_of_sentence", 0)
        await t.send_vad(env, "end_of_sentence", 900)
        async with asyncio.timeout(10):
            while not t.errors:
                await asyncio.sleep(0.01)

    tester = run(scenario)
    assert "no pcm_frame audio" in tester.errors[0]["message"] and not tester.decisions
