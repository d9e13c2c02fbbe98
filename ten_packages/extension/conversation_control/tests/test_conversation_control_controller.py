"""The conversation state machine, driven by scripted graph events."""

from __future__ import annotations

import pytest

from ten_packages.extension.conversation_control.actions import (
    AbortChat,
    EmitTranscript,
    EmitTurnLatency,
    FlushPlayback,
    FlushTts,
    SendAsrFinalize,
    SendTtsText,
    StartChat,
)
from ten_packages.extension.conversation_control.controller import (
    ControlConfig,
    ConversationController,
    State,
    TurnDecision,
)
from ten_packages.extension.conversation_control.latency import STAGES
from ten_packages.extension.conversation_control.spoken_text import TimedText, TimedWord


class FakeClock:
    """Wall time that advances 10 ms per reading, so stage times are strictly ordered."""

    def __init__(self) -> None:
        self.now = 1_000_000

    def __call__(self) -> int:
        self.now += 10
        return self.now


def of_type(actions, kind):
    return [a for a in actions if isinstance(a, kind)]


def make(**config) -> ConversationController:
    return ConversationController(ControlConfig(system_prompt="Be brief.", **config), clock=FakeClock())


def finished(speech_end_ms: int, probability: float = 0.9) -> TurnDecision:
    return TurnDecision("finished", probability, speech_end_ms, speech_end_ms + 150, 2_000_000)


def user_turn(control: ConversationController, text: str, start_ms: int = 1000, end_ms: int = 2000) -> list:
    """The user says `text`: VAD, turn decision, ASR final; returns the actions of the finalize end."""
    assert control.on_start_of_sentence(start_ms, 0) == []
    assert control.on_end_of_sentence(end_ms, 1) == []
    finalize = of_type(control.on_turn_decision(finished(end_ms)), SendAsrFinalize)
    assert len(finalize) == 1
    assert control.state == State.THINKING
    control.on_asr_result(text, final=True)
    return control.on_asr_finalize_end(finalize[0].finalize_id)


def stream_reply(control: ConversationController, request_id: str, deltas: list[str]) -> list[SendTtsText]:
    sent = []
    for delta in deltas:
        sent += of_type(control.on_llm_delta(request_id, delta), SendTtsText)
    return sent + of_type(control.on_llm_done(request_id), SendTtsText)


REPLY = ["Sure", ",", " the", " weather", " is", " sunny", " today", ".", " Take", " a", " hat", "!"]


def test_a_whole_turn():
    control = make()
    actions = user_turn(control, "What's the weather?")
    assert of_type(actions, EmitTranscript) == [
        EmitTranscript("user", "What's the weather?", 1, False, start_ms=1000, end_ms=2000)
    ]
    (chat,) = of_type(actions, StartChat)
    assert chat.messages == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "What's the weather?"},
    ]
    sent = stream_reply(control, chat.request_id, REPLY)
    assert [s.text for s in sent] == ["Sure,", "the weather is sunny today.", "Take a hat!"]
    assert [s.text_input_end for s in sent] == [False, False, True]
    assert {s.request_id for s in sent} == {chat.request_id}
    assert control.state == State.THINKING

    control.on_tts_audio_start(chat.request_id)
    assert control.state == State.BOT_SPEAKING
    (latency,) = of_type(control.on_playback_start(chat.request_id, 2600), EmitTurnLatency)
    assert [s["stage"] for s in latency.stages] == list(STAGES)
    walls = [s["wall_ms"] for s in latency.stages if "wall_ms" in s and s["stage"] != "turn_decision"]
    assert walls == sorted(walls)
    by_stage = {s["stage"]: s for s in latency.stages}
    assert by_stage["user_speech_end"]["input_ms"] == 2000
    assert by_stage["turn_decision"]["input_ms"] == 2150
    assert by_stage["first_sample_played"]["input_ms"] == 2600

    # A gap in the audio before the TTS is done is not the end of the reply.
    assert control.on_playback_end(chat.request_id, 1200, interrupted=False) == []
    assert control.state == State.BOT_SPEAKING
    control.on_tts_audio_end(chat.request_id)
    actions = control.on_playback_end(chat.request_id, 3000, interrupted=False)
    assert of_type(actions, EmitTranscript) == [
        EmitTranscript(
            "assistant", "Sure, the weather is sunny today. Take a hat!", 1, False, start_ms=2600, end_ms=5600
        )
    ]
    assert control.state == State.IDLE
    (next_chat,) = of_type(user_turn(control, "Thanks", 7000, 7500), StartChat)
    assert next_chat.messages[1:] == [
        {"role": "user", "content": "What's the weather?"},
        {"role": "assistant", "content": "Sure, the weather is sunny today. Take a hat!"},
        {"role": "user", "content": "Thanks"},
    ]
    assert next_chat.request_id != chat.request_id


def test_markdown_and_emoji_never_reach_tts():
    control = make()
    (chat,) = of_type(user_turn(control, "List two fruits"), StartChat)
    sent = stream_reply(control, chat.request_id, ["**Fruits** 🍎:\n", "- Apple\n", "- *Pear*"])
    assert [s.text for s in sent] == ["Fruits:", "Apple", "Pear"]


def test_unfinished_and_stale_decisions_do_not_end_the_turn():
    control = make()
    control.on_start_of_sentence(1000)
    control.on_end_of_sentence(1500)
    assert control.on_turn_decision(TurnDecision("unfinished", 0.2, 1500, 1600, 0)) == []
    assert control.on_turn_decision(TurnDecision("wait", 0.1, 1500, 1600, 0)) == []
    control.on_start_of_sentence(1800)  # the user goes on
    assert control.on_turn_decision(finished(1500)) == []  # about the old pause
    assert control.state == State.USER_SPEAKING
    control.on_end_of_sentence(2500)
    assert of_type(control.on_turn_decision(finished(2500)), SendAsrFinalize)


def test_empty_transcript_goes_back_to_idle():
    control = make()
    actions = user_turn(control, "   ")
    assert actions == []
    assert control.state == State.IDLE


def test_vad_alone_ends_the_turn_without_a_turn_detector():
    control = make(use_turn_detector=False)
    control.on_start_of_sentence(100)
    (finalize,) = control.on_end_of_sentence(900)
    assert isinstance(finalize, SendAsrFinalize)
    control.on_asr_result("hello", final=True)
    assert of_type(control.on_asr_finalize_end(finalize.finalize_id), StartChat)


def test_asr_finalize_timeout_answers_with_the_text_so_far():
    control = make()
    control.on_start_of_sentence(100)
    control.on_end_of_sentence(900)
    (finalize,) = control.on_turn_decision(finished(900))
    control.on_asr_result("hello there", final=True)
    assert control.on_asr_finalize_end("some-other-id") == []
    (chat,) = of_type(control.on_asr_finalize_timeout(finalize.finalize_id), StartChat)
    assert chat.messages[-1]["content"] == "hello there"
    assert control.on_asr_finalize_end(finalize.finalize_id) == []  # late: already answered


def test_interim_results_are_replaced_and_finals_joined():
    control = make()
    control.on_start_of_sentence(100)
    control.on_asr_result("what is", final=False)
    control.on_asr_result("what is the", final=True)
    control.on_asr_result("whether", final=False)
    control.on_asr_result("weather like", final=True)
    control.on_end_of_sentence(900)
    (finalize,) = control.on_turn_decision(finished(900))
    (chat,) = of_type(control.on_asr_finalize_end(finalize.finalize_id), StartChat)
    assert chat.messages[-1]["content"] == "what is the weather like"


def test_llm_failure_is_answered_with_the_apology():
    control = make(apology_text="Sorry, try again.")
    (chat,) = of_type(user_turn(control, "Hello"), StartChat)
    sent = of_type(control.on_llm_error(chat.request_id, "connection refused"), SendTtsText)
    assert [(s.text, s.text_input_end) for s in sent] == [("Sorry, try again.", True)]


def test_llm_failure_mid_stream_drops_the_broken_sentence_and_apologises():
    control = make(apology_text="Sorry, try again.")
    (chat,) = of_type(user_turn(control, "Hello"), StartChat)
    first = of_type(control.on_llm_delta(chat.request_id, "Well, I think that"), SendTtsText)
    assert [s.text for s in first] == ["Well,"]
    sent = of_type(control.on_llm_error(chat.request_id, "stream dropped"), SendTtsText)
    assert [(s.text, s.text_input_end) for s in sent] == [("Sorry, try again.", True)]
    assert control.on_llm_delta(chat.request_id, " more") == []


def test_empty_llm_reply_ends_the_turn():
    control = make()
    (chat,) = of_type(user_turn(control, "Hello"), StartChat)
    actions = control.on_llm_done(chat.request_id)
    assert of_type(actions, SendTtsText) == []
    assert of_type(actions, EmitTurnLatency)
    assert control.state == State.IDLE


def test_stale_llm_results_are_ignored():
    control = make()
    user_turn(control, "Hello")
    assert control.on_llm_delta("reply-unknown", "Hi there, friend") == []
    assert control.on_llm_done("reply-unknown") == []


# --- barge-in in every state ----------------------------------------------------------------------


def test_speech_start_when_idle_opens_a_turn():
    control = make()
    assert control.on_start_of_sentence(100) == []
    assert control.state == State.USER_SPEAKING


def test_speech_start_while_user_speaking_continues_the_turn():
    control = make()
    control.on_start_of_sentence(100)
    control.on_asr_result("one", final=True)
    control.on_end_of_sentence(500)
    assert control.on_start_of_sentence(800) == []
    control.on_asr_result("two", final=True)
    control.on_end_of_sentence(1200)
    (finalize,) = control.on_turn_decision(finished(1200))
    actions = control.on_asr_finalize_end(finalize.finalize_id)
    assert of_type(actions, EmitTranscript)[0].text == "one two"
    assert of_type(actions, EmitTranscript)[0].start_ms == 100


def test_speech_start_while_waiting_for_the_transcript_continues_the_turn():
    control = make()
    control.on_start_of_sentence(100)
    control.on_end_of_sentence(900)
    (first,) = control.on_turn_decision(finished(900))
    assert control.on_start_of_sentence(1100) == []  # nothing was asked of the LLM: nothing to stop
    assert control.state == State.USER_SPEAKING
    control.on_asr_result("what is the", final=True)
    assert control.on_asr_finalize_end(first.finalize_id) == []  # the turn is still open
    control.on_end_of_sentence(1600)
    (second,) = control.on_turn_decision(finished(1600))
    assert second.finalize_id != first.finalize_id
    control.on_asr_result("weather", final=True)
    (chat,) = of_type(control.on_asr_finalize_end(second.finalize_id), StartChat)
    assert chat.messages[-1]["content"] == "what is the weather"


def test_barge_in_while_thinking_stops_llm_tts_and_playback():
    control = make()
    (chat,) = of_type(user_turn(control, "Tell me a story"), StartChat)
    control.on_llm_delta(chat.request_id, "Once upon a time, there")
    actions = control.on_start_of_sentence(3000)
    assert actions == [
        AbortChat(chat.request_id),
        FlushTts(f"flush-{chat.request_id}"),
        FlushPlayback(chat.request_id),
    ]
    assert control.state == State.USER_SPEAKING
    assert control.on_llm_delta(chat.request_id, " was a king.") == []
    settled = control.on_playback_flushed(chat.request_id, 0)
    assert of_type(settled, EmitTranscript) == []  # nothing was heard: no bot transcript
    assert [s["stage"] for s in of_type(settled, EmitTurnLatency)[0].stages][-1] == "first_clause_sent"
    assert control.on_playback_flushed(chat.request_id, 0) == []  # settled once
    control.on_end_of_sentence(3500)
    (finalize,) = control.on_turn_decision(finished(3500))
    control.on_asr_result("about dragons", final=True)
    (next_chat,) = of_type(control.on_asr_finalize_end(finalize.finalize_id), StartChat)
    # Nothing of the first reply was heard: the user's words are one message.
    assert next_chat.messages[1:] == [{"role": "user", "content": "Tell me a story about dragons"}]


def test_barge_in_while_bot_speaking_cuts_history_to_what_was_heard():
    control = make()
    (chat,) = of_type(user_turn(control, "Tell me a story"), StartChat)
    stream_reply(control, chat.request_id, ["Once upon a time, ", "there was a king. ", "He ruled wisely."])
    control.on_tts_audio_start(chat.request_id)
    control.on_tts_text_result(chat.request_id, TimedText("Once upon a time,", 0, 1000))
    words = [
        TimedWord("there", 1000, 200),
        TimedWord("was", 1200, 200),
        TimedWord("a", 1400, 100),
        TimedWord("king.", 1500, 400),
    ]
    control.on_tts_text_result(chat.request_id, TimedText("there was a king.", 1000, 900, words))
    control.on_tts_text_result(chat.request_id, TimedText("He ruled wisely.", 1900, 1200))
    control.on_playback_start(chat.request_id, 2500)
    assert control.state == State.BOT_SPEAKING

    actions = control.on_start_of_sentence(3900)
    assert of_type(actions, FlushTts) and of_type(actions, FlushPlayback)
    assert not of_type(actions, AbortChat)  # the LLM had already finished
    assert control.state == State.USER_SPEAKING
    settled = control.on_playback_flushed(chat.request_id, 1300)
    assert of_type(settled, EmitTranscript) == [
        EmitTranscript("assistant", "Once upon a time, there was", 1, True, start_ms=2500, end_ms=3800)
    ]
    assert control.on_playback_end(chat.request_id, 1300, interrupted=True) == []  # already settled
    control.on_end_of_sentence(4500)
    (finalize,) = control.on_turn_decision(finished(4500))
    control.on_asr_result("Stop, please.", final=True)
    (next_chat,) = of_type(control.on_asr_finalize_end(finalize.finalize_id), StartChat)
    assert next_chat.messages[1:] == [
        {"role": "user", "content": "Tell me a story"},
        {"role": "assistant", "content": "Once upon a time, there was"},
        {"role": "user", "content": "Stop, please."},
    ]


def test_barge_in_while_streaming_and_speaking_aborts_the_llm_too():
    control = make()
    (chat,) = of_type(user_turn(control, "Go on"), StartChat)
    control.on_llm_delta(chat.request_id, "First part, and ")
    control.on_tts_audio_start(chat.request_id)
    control.on_playback_start(chat.request_id, 2400)
    actions = control.on_start_of_sentence(2600)
    assert actions[0] == AbortChat(chat.request_id)


def test_played_time_without_tts_timing_or_flush_result_is_estimated():
    clock = FakeClock()
    control = ConversationController(ControlConfig(), clock=clock)
    (chat,) = of_type(user_turn(control, "Hi"), StartChat)
    stream_reply(control, chat.request_id, ["Hello there, my good friend. ", "How are you doing today?"])
    control.on_playback_start(chat.request_id, 2500)
    clock.now += 2000  # two seconds heard: about 30 characters at a typical speaking rate
    control.on_start_of_sentence(4500)
    (transcript,) = of_type(control.on_playback_flushed(chat.request_id, None), EmitTranscript)
    assert transcript.text.startswith("Hello there, my good friend.")
    assert "today" not in transcript.text


def test_flush_before_any_audio_leaves_no_bot_message():
    control = make()
    (chat,) = of_type(user_turn(control, "Hi"), StartChat)
    control.on_llm_delta(chat.request_id, "Hello, friend")
    control.on_start_of_sentence(2600)
    assert of_type(control.on_playback_flushed(chat.request_id, 0), EmitTranscript) == []


def test_flush_answer_for_an_unknown_request_is_ignored():
    assert make().on_playback_flushed("nope", 100) == []


# --- speculative LLM ---------------------------------------------------------------------------


def speculative_turn(control: ConversationController, interim: str):
    control.on_start_of_sentence(1000)
    control.on_asr_result(interim, final=False)
    control.on_end_of_sentence(2000)
    actions = control.on_turn_decision(finished(2000, probability=0.95))
    (finalize,) = of_type(actions, SendAsrFinalize)
    return finalize, of_type(actions, StartChat)


def test_speculation_confirmed_by_the_final_transcript_keeps_the_early_reply():
    control = make(speculative_llm=True)
    finalize, (chat,) = speculative_turn(control, "what time is it")
    assert chat.messages[-1] == {"role": "user", "content": "what time is it"}
    assert of_type(control.on_llm_delta(chat.request_id, "It is noon, "), SendTtsText) == []  # held
    control.on_asr_result("What time is it?", final=True)
    actions = control.on_asr_finalize_end(finalize.finalize_id)
    assert not of_type(actions, StartChat) and not of_type(actions, AbortChat)
    assert [s.text for s in of_type(actions, SendTtsText)] == ["It is noon,"]
    sent = stream_reply(control, chat.request_id, ["more or less."])
    assert [(s.text, s.text_input_end) for s in sent] == [("more or less.", True)]
    control.on_playback_start(chat.request_id, 2300)
    control.on_tts_audio_end(chat.request_id)
    control.on_playback_end(chat.request_id, 1500, interrupted=False)
    (next_chat,) = of_type(user_turn(control, "thanks", 5000, 5500), StartChat)
    assert next_chat.messages[1:3] == [
        {"role": "user", "content": "What time is it?"},
        {"role": "assistant", "content": "It is noon, more or less."},
    ]


def test_speculation_finished_before_confirmation_sends_all_with_the_end_flag():
    control = make(speculative_llm=True)
    finalize, (chat,) = speculative_turn(control, "hello")
    assert stream_reply(control, chat.request_id, ["Hi there. ", "Nice day."]) == []
    control.on_asr_result("Hello.", final=True)
    sent = of_type(control.on_asr_finalize_end(finalize.finalize_id), SendTtsText)
    assert [(s.text, s.text_input_end) for s in sent] == [("Hi there.", False), ("Nice day.", True)]


def test_speculation_contradicted_by_the_final_transcript_is_discarded():
    control = make(speculative_llm=True)
    finalize, (speculative,) = speculative_turn(control, "what time")
    control.on_llm_delta(speculative.request_id, "I don't know, sorry.")
    control.on_asr_result("what time is the train", final=True)
    actions = control.on_asr_finalize_end(finalize.finalize_id)
    assert AbortChat(speculative.request_id) in actions
    (chat,) = of_type(actions, StartChat)
    assert chat.messages[-1]["content"] == "what time is the train"
    assert not of_type(actions, SendTtsText)
    assert control.on_llm_delta(speculative.request_id, " More.") == []
    control.on_llm_delta(chat.request_id, "At nine, I think.")
    control.on_tts_audio_start(chat.request_id)
    (latency,) = of_type(control.on_playback_start(chat.request_id, 2600), EmitTurnLatency)
    stages = {s["stage"]: s["wall_ms"] for s in latency.stages if "wall_ms" in s}
    assert (
        stages["llm_first_token"] > stages["asr_final"]
    )  # the real request's first token, not the discarded one


def test_no_speculation_when_the_decision_is_not_confident():
    control = make(speculative_llm=True, speculative_min_probability=0.99)
    _, chats = speculative_turn(control, "hello")
    assert chats == []


def test_barge_in_during_speculation_drops_it_and_continues_the_turn():
    control = make(speculative_llm=True)
    _, (chat,) = speculative_turn(control, "tell me")
    assert control.on_start_of_sentence(2300) == [AbortChat(chat.request_id)]
    assert control.state == State.USER_SPEAKING


def test_failed_speculation_falls_back_to_a_normal_request():
    control = make(speculative_llm=True)
    finalize, (speculative,) = speculative_turn(control, "hello")
    assert control.on_llm_error(speculative.request_id, "server busy") == []
    control.on_asr_result("hello", final=True)
    (chat,) = of_type(control.on_asr_finalize_end(finalize.finalize_id), StartChat)
    assert chat.request_id != speculative.request_id


@pytest.mark.parametrize("state", list(State))
def test_barge_in_from_every_state_leaves_the_user_speaking(state):
    control = make()
    request_id = None
    if state != State.IDLE:
        control.on_start_of_sentence(100)
    if state in (State.THINKING, State.BOT_SPEAKING):
        control.on_end_of_sentence(500)
        (finalize,) = control.on_turn_decision(finished(500))
        control.on_asr_result("hi", final=True)
        (chat,) = of_type(control.on_asr_finalize_end(finalize.finalize_id), StartChat)
        request_id = chat.request_id
        control.on_llm_delta(request_id, "Hello there, friend. ")
    if state == State.BOT_SPEAKING:
        control.on_tts_audio_start(request_id)
    assert control.state == state
    actions = control.on_start_of_sentence(5000)
    assert control.state == State.USER_SPEAKING
    if request_id is not None:
        assert AbortChat(request_id) in actions
        assert FlushTts(f"flush-{request_id}") in actions and FlushPlayback(request_id) in actions
    else:
        assert actions == []
