"""The TEN adapter, run by the TEN extension tester standing in for every neighbour in the graph.

The tester plays VAD, turn detector, ASR, LLM (answering chat_completion with streamed CmdResults),
TTS and audio I/O, and records everything the controller sends.
"""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

from ten_runtime import (
    AsyncExtensionTester,
    AsyncTenEnvTester,
    Cmd,
    CmdResult,
    Data,
    StatusCode,
)

from ten_packages.extension.conversation_control.controller import ControlConfig

EXTENSION_DIR = Path(__file__).resolve().parents[1]
# The TEN 0.11 schemas the app validates with (a copy of TEN's, kept in the repo).
TEST_TIMEOUT_US = 10_000_000


def payload_of(message) -> dict[str, Any]:
    text, error = message.get_property_to_json(None)
    assert error is None
    return json.loads(text) if text else {}


class ScriptedNeighbours(AsyncExtensionTester):
    """One user turn ("What's the weather?") and a streamed reply, with hooks for faults and barge-in."""

    user_text = "What's the weather?"
    reply_deltas: tuple[str, ...] = ("Sure", ",", " it is", " sunny", " today", ".", " Take", " a hat", "!")

    def __init__(self) -> None:
        super().__init__()
        self.data: list[tuple[str, dict[str, Any]]] = []
        self.cmds: list[tuple[str, dict[str, Any]]] = []
        self._aborted = asyncio.Event()
        self._tasks: list[asyncio.Task] = []

    def data_named(self, name: str) -> list[dict[str, Any]]:
        return [payload for data_name, payload in self.data if data_name == name]

    def cmds_named(self, name: str) -> list[dict[str, Any]]:
        return [payload for cmd_name, payload in self.cmds if cmd_name == name]

    async def on_start(self, ten_env: AsyncTenEnvTester) -> None:
        await self.before_turn(ten_env)
        await self.user_turn(ten_env)

    async def before_turn(self, ten_env: AsyncTenEnvTester) -> None:
        """Hook: anything to send before the user speaks."""

    async def user_turn(self, ten_env: AsyncTenEnvTester, start_ms: int = 1000, end_ms: int = 2000) -> None:
        await self.send_vad(ten_env, "start_of_sentence", start_ms)
        await self.send_vad(ten_env, "end_of_sentence", end_ms)
        await self.send_data(
            ten_env,
            "turn_decision",
            {
                "turn_id": 1,
                "state": "finished",
                "probability": 0.93,
                "speech_end_ms": end_ms,
                "decided_ms": end_ms + 120,
                "wall_ms": int(time.time() * 1000),
                "mode": "smart_turn",
            },
        )

    async def send_vad(self, ten_env: AsyncTenEnvTester, name: str, timestamp_ms: int) -> None:
        cmd = Cmd.create(name)
        cmd.set_property_int("timestamp_ms", timestamp_ms)
        cmd.set_property_int("wall_ms", int(time.time() * 1000))
        result, error = await ten_env.send_cmd(cmd)
        assert error is None and result.get_status_code() == StatusCode.OK

    @staticmethod
    async def send_data(ten_env: AsyncTenEnvTester, name: str, payload: dict[str, Any]) -> None:
        data = Data.create(name)
        data.set_property_from_json(None, json.dumps(payload))
        await ten_env.send_data(data)

    # --- what the controller sends -----------------------------------------------------------

    async def on_data(self, ten_env: AsyncTenEnvTester, data: Data) -> None:
        name, payload = data.get_name(), payload_of(data)
        self.data.append((name, payload))
        if name == "asr_finalize":
            await self.send_data(
                ten_env,
                "asr_result",
                {
                    "id": "u1",
                    "text": self.user_text,
                    "final": True,
                    "start_ms": 1000,
                    "duration_ms": 1000,
                    "language": "en",
                },
            )
            await self.send_data(ten_env, "asr_finalize_end", {"finalize_id": payload["finalize_id"]})
        elif name == "tts_text_input":
            await self.on_tts_text(ten_env, payload)
        elif name == "transcript" and payload["role"] == "assistant":
            self.finish(ten_env)
        elif name == "error":
            await self.on_error_data(ten_env, payload)

    async def on_tts_text(self, ten_env: AsyncTenEnvTester, payload: dict[str, Any]) -> None:
        """Play TTS and audio I/O: speak each piece for 100 ms per word; play it all at the end."""
        request_id = payload["request_id"]
        pieces = [p for n, p in self.data if n == "tts_text_input" and p["request_id"] == request_id]
        if len(pieces) == 1:
            await self.send_data(ten_env, "tts_audio_start", {"request_id": request_id})
            await self.send_data(ten_env, "playback_start", {"request_id": request_id, "timestamp_ms": 2500})
        start_ms = sum(100 * len(p["text"].split()) for p in pieces[:-1])
        if payload["text"]:
            await self.send_data(
                ten_env,
                "tts_text_result",
                {
                    "request_id": request_id,
                    "text": payload["text"],
                    "start_ms": start_ms,
                    "duration_ms": 100 * len(payload["text"].split()),
                    "words": [],
                },
            )
        if payload["text_input_end"]:
            total_ms = start_ms + 100 * len(payload["text"].split())
            await self.send_data(
                ten_env,
                "tts_audio_end",
                {"request_id": request_id, "request_total_audio_duration_ms": total_ms, "reason": 1},
            )
            await self.send_data(
                ten_env,
                "playback_end",
                {"request_id": request_id, "played_ms": total_ms, "interrupted": False},
            )

    async def on_error_data(self, ten_env: AsyncTenEnvTester, payload: dict[str, Any]) -> None:
        """Hook: the controller reported bad input."""

    async def on_cmd(self, ten_env: AsyncTenEnvTester, cmd: Cmd) -> None:
        name, payload = cmd.get_name(), payload_of(cmd)
        self.cmds.append((name, payload))
        if name == "chat_completion":
            self._tasks.append(asyncio.create_task(self.answer_chat(ten_env, cmd, payload)))
            return
        result = CmdResult.create(StatusCode.OK, cmd)
        if name == "abort":
            self._aborted.set()
        elif name == "flush":
            result.set_property_int("played_ms", self.flush_played_ms())
            result.set_property_string("request_id", self.cmds_named("chat_completion")[-1]["request_id"])
        await ten_env.return_result(result)

    def flush_played_ms(self) -> int:
        return 0

    async def answer_chat(self, ten_env: AsyncTenEnvTester, cmd: Cmd, payload: dict[str, Any]) -> None:
        """Play the LLM: stream the scripted deltas as partial results, then the final one."""
        content = ""
        for delta in self.reply_deltas:
            if self._aborted.is_set():
                break
            content += delta
            await self.return_partial(
                ten_env,
                cmd,
                {
                    "response_id": payload["request_id"],
                    "type": "message_content_delta",
                    "delta": delta,
                    "content": content,
                    "created": 0,
                },
            )
            await self.between_deltas(ten_env)
        final = CmdResult.create(StatusCode.OK, cmd)
        final.set_property_from_json(
            None,
            json.dumps(
                {
                    "response_id": payload["request_id"],
                    "type": "message_content_done",
                    "content": content,
                    "finish_reason": "aborted" if self._aborted.is_set() else "stop",
                }
            ),
        )
        await ten_env.return_result(final)

    @staticmethod
    async def return_partial(ten_env: AsyncTenEnvTester, cmd: Cmd, properties: dict[str, Any]) -> None:
        result = CmdResult.create(StatusCode.OK, cmd)
        result.set_final(False)
        result.set_property_from_json(None, json.dumps(properties))
        await ten_env.return_result(result)

    async def between_deltas(self, ten_env: AsyncTenEnvTester) -> None:
        await asyncio.sleep(0.005)

    def finish(self, ten_env: AsyncTenEnvTester) -> None:
        for task in self._tasks:
            task.cancel()
        ten_env.stop_test()


def run(tester: ScriptedNeighbours, **properties) -> ScriptedNeighbours:
    tester.set_test_mode_single(
        "conversation_control", json.dumps({"system_prompt": "Be brief.", "warm_up_llm": False, **properties})
    )
    tester.set_timeout(TEST_TIMEOUT_US)
    error = tester.run()
    assert error is None, f"{error.error_message()}; saw data {tester.data}, cmds {tester.cmds}"
    return tester


def test_a_whole_turn_through_the_graph_messages():
    tester = run(ScriptedNeighbours())
    (finalize,) = tester.data_named("asr_finalize")
    assert finalize["finalize_id"]
    (chat,) = tester.cmds_named("chat_completion")
    assert chat["streaming"] is True
    assert chat["messages"] == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "What's the weather?"},
    ]
    pieces = tester.data_named("tts_text_input")
    assert [p["text"] for p in pieces] == ["Sure,", "it is sunny today.", "Take a hat!"]
    assert [p["text_input_end"] for p in pieces] == [False, False, True]
    assert {p["request_id"] for p in pieces} == {chat["request_id"]}
    user, assistant = tester.data_named("transcript")
    assert user == {
        "role": "user",
        "text": "What's the weather?",
        "start_ms": 1000,
        "end_ms": 2000,
        "turn_id": 1,
        "interrupted": False,
    }
    assert assistant["text"] == "Sure, it is sunny today. Take a hat!"
    assert assistant["start_ms"] == 2500 and assistant["interrupted"] is False
    (latency,) = tester.data_named("turn_latency")
    stages = {s["stage"]: s for s in latency["stages"]}
    assert set(stages) == {
        "user_speech_end",
        "vad_end",
        "turn_decision",
        "asr_final",
        "llm_first_token",
        "first_clause_sent",
        "tts_first_audio",
        "first_sample_played",
    }
    assert stages["first_sample_played"]["input_ms"] == 2500
    assert stages["llm_first_token"]["wall_ms"] <= stages["first_clause_sent"]["wall_ms"]
    assert not tester.data_named("error")


class BargeIn(ScriptedNeighbours):
    """The user speaks while the reply is being played and the LLM is still streaming."""

    reply_deltas: tuple[str, ...] = (
        "Once",
        " upon",
        " a time",
        ",",
        " there",
        " was",
        " a king",
        ".",
        " He",
        " ruled",
        ".",
    ) * 3

    def __init__(self) -> None:
        super().__init__()
        self.barged = False

    async def on_tts_text(self, ten_env: AsyncTenEnvTester, payload: dict[str, Any]) -> None:
        await super().on_tts_text(ten_env, payload)
        if not self.barged:
            self.barged = True
            await self.send_vad(ten_env, "start_of_sentence", 2800)

    async def between_deltas(self, ten_env: AsyncTenEnvTester) -> None:
        await asyncio.sleep(0.05)

    def flush_played_ms(self) -> int:
        return 250  # "Once upon a time," is 4 words = 400 ms: "Once upon a" were heard


def test_barge_in_stops_llm_tts_and_playback_and_reports_what_was_heard():
    tester = run(BargeIn())
    (chat,) = tester.cmds_named("chat_completion")
    assert tester.cmds_named("abort") == [{"request_id": chat["request_id"]}]
    assert len(tester.data_named("tts_flush")) == 1
    assert len(tester.cmds_named("flush")) == 1
    assert [p["text"] for p in tester.data_named("tts_text_input")] == ["Once upon a time,"]
    assistant = tester.data_named("transcript")[-1]
    assert assistant["role"] == "assistant" and assistant["interrupted"] is True
    assert assistant["text"] == "Once upon a"
    assert assistant["end_ms"] - assistant["start_ms"] == 250


class LlmFails(ScriptedNeighbours):
    async def answer_chat(self, ten_env: AsyncTenEnvTester, cmd: Cmd, payload: dict[str, Any]) -> None:
        result = CmdResult.create(StatusCode.ERROR, cmd)
        result.set_property_string("message", "connection refused")
        await ten_env.return_result(result)


def test_llm_failure_is_answered_with_the_spoken_apology():
    tester = run(LlmFails(), apology_text="Sorry, no answer now.")
    assert [(p["text"], p["text_input_end"]) for p in tester.data_named("tts_text_input")] == [
        ("Sorry, no answer now.", True)
    ]
    assert tester.data_named("transcript")[-1]["text"] == "Sorry, no answer now."


class BadInputFirst(ScriptedNeighbours):
    """Malformed messages before the turn: each gets an error, and the turn still works."""

    async def before_turn(self, ten_env: AsyncTenEnvTester) -> None:
        await self.send_data(ten_env, "asr_result", {"text": 5, "final": True})
        await self.send_data(ten_env, "playback_end", {"request_id": "x"})
        bogus = Cmd.create("make_coffee")
        result, _ = await ten_env.send_cmd(bogus)
        self.bogus_status = result.get_status_code()
        no_time = Cmd.create("start_of_sentence")
        result, _ = await ten_env.send_cmd(no_time)
        self.missing_time_status = result.get_status_code()


def test_bad_input_gets_an_error_and_the_conversation_goes_on():
    tester = run(BadInputFirst())
    messages = [e["message"] for e in tester.data_named("error")]
    assert any("asr_result" in m and "'text'" in m for m in messages)
    assert any("playback_end" in m and "played_ms" in m for m in messages)
    assert any("make_coffee" in m for m in messages)
    assert tester.bogus_status == StatusCode.ERROR
    assert tester.missing_time_status == StatusCode.ERROR
    assert tester.data_named("transcript")[-1]["text"] == "Sure, it is sunny today. Take a hat!"


def test_bad_property_is_reported_and_defaults_are_used():
    tester = run(ScriptedNeighbours(), max_history_turns=0)
    assert any("max_history_turns" in e["message"] for e in tester.data_named("error"))
    assert tester.data_named("transcript")[-1]["role"] == "assistant"


def test_every_setting_is_a_typed_property_with_a_default():
    from dataclasses import asdict

    manifest = json.loads((EXTENSION_DIR / "manifest.json").read_text())
    defaults = json.loads((EXTENSION_DIR / "property.json").read_text())
    assert defaults == asdict(ControlConfig())
    assert set(manifest["api"]["property"]["properties"]) == set(defaults)


class WarmUpWatcher(AsyncExtensionTester):
    """Answers the first chat_completion and ends the test."""

    def __init__(self) -> None:
        super().__init__()
        self.request: dict = {}

    async def on_cmd(self, ten_env: AsyncTenEnvTester, cmd: Cmd) -> None:
        payload, _ = cmd.get_property_to_json(None)
        self.request = json.loads(payload)
        await ten_env.return_result(CmdResult.create(StatusCode.OK, cmd))
        ten_env.stop_test()


def test_warm_up_asks_the_llm_for_one_token_with_the_system_prompt():
    tester = WarmUpWatcher()
    tester.set_test_mode_single("conversation_control", json.dumps({"system_prompt": "Be brief."}))
    tester.set_timeout(TEST_TIMEOUT_US)
    assert tester.run() is None
    assert tester.request["messages"][0] == {"role": "system", "content": "Be brief."}
    assert tester.request["parameters"] == {"max_tokens": 1}
