"""The turn policy, its clock and audio window, and the settings: plain classes, no runtime."""

import json
from dataclasses import fields
from pathlib import Path

import numpy as np
import pytest

from ten_packages.extension.turn_detector.input_clock import InputClock
from ten_packages.extension.turn_detector.recent_audio import RecentAudio
from ten_packages.extension.turn_detector.settings import TurnDetectorSettings
from ten_packages.extension.turn_detector.turn_policy import Reason, TurnPolicy, TurnState


def test_finished_verdict_ends_the_turn_and_the_next_speech_opens_a_new_one():
    policy = TurnPolicy(max_pause_ms=2000)
    policy.speech_started()
    pause = policy.speech_ended(speech_end_ms=1500)
    decision = policy.verdict(pause, TurnState.FINISHED, 0.9, now_ms=1700)
    assert (decision.turn_id, decision.state, decision.speech_end_ms, decision.decided_ms) == (
        1,
        TurnState.FINISHED,
        1500,
        1700,
    )
    assert not decision.forced and policy.is_idle
    assert policy.advance(now_ms=9000) is None
    policy.speech_started()
    assert policy.turn_id == 2


def test_unfinished_pause_is_force_ended_only_at_the_max_pause():
    policy = TurnPolicy(max_pause_ms=2000)
    policy.speech_started()
    pause = policy.speech_ended(speech_end_ms=1000)
    unfinished = policy.verdict(pause, TurnState.UNFINISHED, 0.2, now_ms=1200)
    assert unfinished.state is TurnState.UNFINISHED and policy.is_paused
    assert policy.advance(now_ms=2990) is None
    forced = policy.advance(now_ms=3000)
    assert (forced.state, forced.forced, forced.probability, forced.decided_ms) == (
        TurnState.FINISHED,
        True,
        0.2,
        3000,
    )
    assert policy.advance(now_ms=5000) is None


def test_user_resuming_keeps_the_turn_and_makes_the_pending_verdict_stale():
    policy = TurnPolicy(max_pause_ms=2000)
    policy.speech_started()
    first_pause = policy.speech_ended(speech_end_ms=1000)
    policy.speech_started()  # the user goes on before the model answered
    assert policy.verdict(first_pause, TurnState.FINISHED, 0.9, now_ms=1300) is None
    assert policy.advance(now_ms=4000) is None  # speaking: no max pause
    second_pause = policy.speech_ended(speech_end_ms=4500)
    decision = policy.verdict(second_pause, TurnState.FINISHED, 0.8, now_ms=4700)
    assert decision.turn_id == 1 and decision.speech_end_ms == 4500


def test_undecided_pause_is_force_ended_and_a_late_verdict_is_dropped():
    policy = TurnPolicy(max_pause_ms=500)
    pause = policy.speech_ended(speech_end_ms=100)  # an end without a start still opens a turn
    assert policy.turn_id == 1
    assert policy.advance(now_ms=600).forced
    assert policy.verdict(pause, TurnState.UNFINISHED, 0.1, now_ms=700) is None


def test_wait_keeps_the_bot_quiet_past_the_max_pause_until_the_user_speaks():
    policy = TurnPolicy(max_pause_ms=500)
    policy.speech_started()
    pause = policy.speech_ended(speech_end_ms=1000)
    assert policy.verdict(pause, TurnState.WAIT, 0.0, now_ms=1100).state is TurnState.WAIT
    assert policy.advance(now_ms=60_000) is None
    policy.speech_started()
    assert policy.turn_id == 1  # same turn: the user picks up where they asked the bot to wait


def test_verdict_without_a_timeline_is_dated_at_the_speech_end():
    policy = TurnPolicy(max_pause_ms=500)
    pause = policy.speech_ended(speech_end_ms=800)
    assert policy.verdict(pause, TurnState.FINISHED, 1.0, now_ms=None).decided_ms == 800


def test_max_pause_must_be_positive():
    with pytest.raises(ValueError, match="max_pause_ms"):
        TurnPolicy(max_pause_ms=0)
    with pytest.raises(ValueError, match="text_wait_ms"):
        TurnPolicy(max_pause_ms=500, text_wait_ms=500)


def test_reasons_say_what_decided():
    policy = TurnPolicy(max_pause_ms=500)
    pause = policy.speech_ended(speech_end_ms=100)
    assert policy.verdict(pause, TurnState.FINISHED, 1.0, now_ms=300, reason=Reason.SILENCE).reason is (
        Reason.SILENCE
    )
    policy.speech_started()
    pause = policy.speech_ended(speech_end_ms=1000)
    assert policy.verdict(pause, TurnState.UNFINISHED, 0.1, now_ms=1200).reason is Reason.MODEL
    assert policy.advance(now_ms=1500).reason is Reason.MAX_PAUSE


def words_policy() -> TurnPolicy:
    """Smart Turn with words: wait up to 250 ms after the VAD's end; a transcript has been seen already."""
    policy = TurnPolicy(max_pause_ms=1500, text_wait_ms=250, sure_threshold=0.9)
    policy.transcript("Hello.", "en", end_ms=0, now_ms=0)
    return policy


def test_finished_is_held_for_the_words_of_the_pause_and_vetoed_by_them():
    policy = words_policy()
    policy.speech_started()
    policy.transcript("Where is", "en", end_ms=900, now_ms=1000)  # an interim while speaking
    pause = policy.speech_ended(speech_end_ms=1200, now_ms=1340)
    assert policy.verdict(pause, TurnState.FINISHED, 0.9, now_ms=1400) is None  # held: no words yet
    assert policy.is_holding and policy.advance(now_ms=1500) is None
    decision = policy.transcript("Where is the nearest?", "en", end_ms=1340, now_ms=1480)
    assert (decision.state, decision.reason, decision.probability) == (
        TurnState.UNFINISHED,
        Reason.WORDS,
        0.9,
    )
    assert (
        decision.transcript == "Where is the nearest?" and decision.words_rule == "superlative 'the nearest'"
    )
    assert policy.is_paused and policy.advance(now_ms=2690) is None
    forced = policy.advance(now_ms=2700)  # the max pause still ends a vetoed turn
    assert (forced.state, forced.reason, forced.decided_ms) == (TurnState.FINISHED, Reason.MAX_PAUSE, 2700)


def test_words_that_can_end_let_the_finished_stand():
    policy = words_policy()
    policy.speech_started()
    pause = policy.speech_ended(speech_end_ms=2000, now_ms=2140)
    assert policy.verdict(pause, TurnState.FINISHED, 0.7, now_ms=2200) is None
    decision = policy.transcript("Where is the nearest train station?", "en", end_ms=2140, now_ms=2260)
    assert (decision.state, decision.reason, decision.decided_ms) == (TurnState.FINISHED, Reason.MODEL, 2260)
    assert policy.is_idle


def test_words_already_there_decide_with_the_verdict():
    policy = words_policy()
    policy.speech_started()
    pause = policy.speech_ended(speech_end_ms=2000, now_ms=2140)
    assert policy.transcript("Can you tell me about the", "en", end_ms=2140, now_ms=2200) is None
    decision = policy.verdict(pause, TurnState.FINISHED, 0.85, now_ms=2230)
    assert (decision.state, decision.reason) == (TurnState.UNFINISHED, Reason.WORDS)


def test_a_rare_ending_needs_a_sure_model():
    policy = words_policy()
    policy.speech_started()
    pause = policy.speech_ended(speech_end_ms=1000, now_ms=1140)
    policy.transcript("Could you turn off that?", "en", end_ms=1140, now_ms=1200)
    assert policy.verdict(pause, TurnState.FINISHED, 0.8, now_ms=1250).reason is Reason.WORDS
    policy.speech_started()
    pause = policy.speech_ended(speech_end_ms=3000, now_ms=3140)
    policy.transcript("What is this for?", "en", end_ms=3140, now_ms=3200)
    decision = policy.verdict(pause, TurnState.FINISHED, 0.95, now_ms=3250)
    assert (decision.state, decision.reason) == (TurnState.FINISHED, Reason.MODEL)


def test_without_words_in_time_the_model_decides_alone():
    policy = words_policy()
    policy.speech_started()
    pause = policy.speech_ended(speech_end_ms=1000, now_ms=1140)
    assert policy.verdict(pause, TurnState.FINISHED, 0.9, now_ms=1200) is None
    assert policy.advance(now_ms=1389) is None
    decision = policy.advance(now_ms=1390)  # 250 ms after the VAD's end
    assert (decision.state, decision.reason, decision.decided_ms) == (TurnState.FINISHED, Reason.MODEL, 1390)
    assert policy.transcript("Where is the", "en", end_ms=1140, now_ms=1400) is None  # too late


def test_a_verdict_after_the_wait_is_not_held():
    policy = words_policy()
    policy.speech_started()
    pause = policy.speech_ended(speech_end_ms=1000, now_ms=1140)
    assert policy.verdict(pause, TurnState.FINISHED, 0.9, now_ms=1400).state is TurnState.FINISHED


def test_words_of_an_earlier_pause_are_not_the_words_of_this_one():
    policy = words_policy()
    policy.speech_started()
    pause = policy.speech_ended(speech_end_ms=1000, now_ms=1140)
    policy.transcript("I was wondering if", "en", end_ms=1140, now_ms=1200)
    assert policy.verdict(pause, TurnState.UNFINISHED, 0.1, now_ms=1250).state is TurnState.UNFINISHED
    policy.speech_started()  # the user goes on
    pause = policy.speech_ended(speech_end_ms=2500, now_ms=2640)
    assert policy.verdict(pause, TurnState.FINISHED, 0.9, now_ms=2700) is None  # held: old words don't count
    decision = policy.transcript("I was wondering if you could help me.", "en", end_ms=2640, now_ms=2760)
    assert (decision.state, decision.turn_id) == (TurnState.FINISHED, 1)


def test_the_user_speaking_again_drops_a_held_verdict():
    policy = words_policy()
    policy.speech_started()
    pause = policy.speech_ended(speech_end_ms=1000, now_ms=1140)
    assert policy.verdict(pause, TurnState.FINISHED, 0.9, now_ms=1200) is None
    policy.speech_started()
    assert not policy.is_holding and policy.advance(now_ms=5000) is None
    assert policy.transcript("Where is the", "en", end_ms=1140, now_ms=1300) is None


def test_nothing_is_held_before_any_transcript_or_without_a_wait():
    for policy in (TurnPolicy(max_pause_ms=1500, text_wait_ms=250), TurnPolicy(max_pause_ms=1500)):
        policy.speech_started()
        pause = policy.speech_ended(speech_end_ms=1000, now_ms=1140)
        assert policy.verdict(pause, TurnState.FINISHED, 0.9, now_ms=1200).state is TurnState.FINISHED
    policy = TurnPolicy(max_pause_ms=1500)  # no wait: words never veto
    policy.transcript("Where is the", "en", end_ms=1140, now_ms=1100)
    pause = policy.speech_ended(speech_end_ms=1000, now_ms=1140)
    assert policy.verdict(pause, TurnState.FINISHED, 0.9, now_ms=1200).state is TurnState.FINISHED


def test_unfinished_and_wait_verdicts_are_never_held():
    policy = words_policy()
    policy.speech_started()
    pause = policy.speech_ended(speech_end_ms=1000, now_ms=1140)
    assert policy.verdict(pause, TurnState.WAIT, 0.0, now_ms=1200).state is TurnState.WAIT


def test_input_clock_follows_frames_and_carries_on_with_the_wall():
    clock = InputClock()
    assert clock.now_ms(wall_s=5.0) is None
    clock.frame_arrived(frame_end_ms=1000, wall_s=10.0)
    assert clock.now_ms(wall_s=10.0) == 1000
    assert clock.now_ms(wall_s=10.25) == 1250
    clock.frame_arrived(frame_end_ms=5000, wall_s=10.3)  # frames faster than real time win
    assert clock.now_ms(wall_s=10.3) == 5000


def test_recent_audio_keeps_a_window_and_cuts_from_a_time():
    audio = RecentAudio(keep_ms=100)
    for index in range(20):  # 200 ms of 10 ms frames, each filled with its index
        audio.append(index * 10, np.full(160, index, dtype=np.int16))
    assert audio.end_ms == 200
    kept = audio.since(0)
    assert len(kept) == 100 * 16 and kept[0] == 10 and kept[-1] == 19
    since_155 = audio.since(155)
    assert len(since_155) == 45 * 16 and since_155[0] == 15
    assert len(audio.since(500)) == 0


def test_settings_from_properties_name_the_bad_property():
    settings = TurnDetectorSettings.from_properties({"mode": "silence", "temperature": 1, "other": 3})
    assert settings.mode == "silence" and settings.temperature == 1.0
    with pytest.raises(ValueError, match="mode"):
        TurnDetectorSettings.from_properties({"mode": "vibes"})
    with pytest.raises(ValueError, match="max_pause_ms"):
        TurnDetectorSettings.from_properties({"max_pause_ms": "2000"})
    with pytest.raises(ValueError, match="finished_threshold"):
        TurnDetectorSettings.from_properties({"finished_threshold": 1.5})
    with pytest.raises(ValueError, match="sure_threshold"):
        TurnDetectorSettings.from_properties({"sure_threshold": 0})
    with pytest.raises(ValueError, match="text_wait_ms"):
        TurnDetectorSettings.from_properties({"text_wait_ms": 3000, "max_pause_ms": 1500})


def test_manifest_property_json_and_settings_agree():
    folder = Path(__file__).resolve().parents[1]
    declared = json.loads((folder / "manifest.json").read_text())["api"]["property"]["properties"]
    defaults = json.loads((folder / "property.json").read_text())
    assert set(declared) == set(defaults) == {field.name for field in fields(TurnDetectorSettings)}
    assert TurnDetectorSettings.from_properties(defaults) == TurnDetectorSettings()
