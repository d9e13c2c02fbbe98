"""The embedded runtime: routing, cmd results, lifecycle, fault isolation, properties."""

from __future__ import annotations

import asyncio
import importlib
import os
from pathlib import Path

import pytest
from ten_runtime import (
    AudioFrame,
    Cmd,
    Data,
    Loc,
    StatusCode,
    StopGraphCmd,
    TenErrorCode,
)

from app.embedded_runtime._graph import GraphEngine, instantiate, plan_graph
from app.embedded_runtime._packages import ConfigError, check_object

PROBE_ROOT = Path(__file__).parent / "fixtures" / "probe_app"


def node(name: str, **props) -> dict:
    return {"type": "extension", "name": name, "addon": "graph_probe", "property": {"level": 1, **props}}


def graph_doc(nodes: list[dict], connections: list[dict] | None = None) -> dict:
    return {
        "ten": {
            "predefined_graphs": [
                {"name": "t", "auto_start": True, "graph": {"nodes": nodes, "connections": connections or []}}
            ]
        }
    }


def flow(src: str, kind: str, name: str | list[str], dests: list[str]) -> dict:
    key = {"names": name} if isinstance(name, list) else {"name": name}
    return {"extension": src, kind: [{**key, "dest": [{"extension": d} for d in dests]}]}


@pytest.fixture
def probe():
    instantiate(plan_graph(PROBE_ROOT, graph_doc([node("x")]), "t.json"), PROBE_ROOT)  # imports the addon
    module = importlib.import_module("ten_packages.extension.graph_probe.extension")
    module.EVENTS.clear()
    module.NODES.clear()
    return module


async def start(doc: dict, cmd_timeout_s: float = 5.0) -> GraphEngine:
    engine = instantiate(plan_graph(PROBE_ROOT, doc, "t.json"), PROBE_ROOT, cmd_timeout_s=cmd_timeout_s)
    await engine.start()
    return engine


def env_of(engine: GraphEngine, name: str):
    return engine._nodes[name].env


def note(seq: int, delay_ms: int = 0, name: str = "note") -> Data:
    data = Data.create(name)
    data.set_property_int("seq", seq)
    data.set_property_int("delay_ms", delay_ms)
    return data


# ---- routing ---------------------------------------------------------------------------------------


def test_dest_source_and_names_forms_route(probe):
    doc = graph_doc(
        [node("a"), node("b"), node("c")],
        [
            flow("a", "data", ["note", "boom"], ["b"]),
            {"extension": "c", "data": [{"name": "note", "source": [{"extension": "a"}]}]},
            flow("a", "audio_frame", "pcm_frame", ["c"]),
        ],
    )

    async def scenario():
        engine = await start(doc)
        await env_of(engine, "a").send_data(note(7))
        frame = AudioFrame.create("pcm_frame")
        frame.set_timestamp(40)
        await env_of(engine, "a").send_audio_frame(frame)
        await engine.stop()

    asyncio.run(scenario())
    received = [e for e in probe.EVENTS if e[1] in ("data", "audio")]
    assert ("b", "data", "note", "a", 7) in received
    assert ("c", "data", "note", "a", 7) in received
    assert ("c", "audio", "pcm_frame", 40) in received


def test_explicit_loc_reaches_a_node_without_an_edge(probe):
    async def scenario():
        engine = await start(graph_doc([node("a"), node("b")]))
        data = note(3)
        data.set_dests([Loc("", "", "b")])
        err = await env_of(engine, "a").send_data(data)
        await engine.stop()
        return err

    assert asyncio.run(scenario()) is None
    assert ("b", "data", "note", "a", 3) in probe.EVENTS


def test_unconnected_data_is_an_error_not_an_exception(probe):
    async def scenario():
        engine = await start(graph_doc([node("a")]))
        err = await env_of(engine, "a").send_data(note(1))
        await engine.stop()
        return err

    err = asyncio.run(scenario())
    assert err.error_code() == TenErrorCode.ErrorCodeMsgNotConnected
    assert "note" in err.error_message() and "'a'" in err.error_message()


def test_order_is_kept_per_sender_even_when_handlers_wait(probe):
    doc = graph_doc([node("a"), node("b")], [flow("a", "data", "note", ["b"])])

    async def scenario():
        engine = await start(doc)
        for seq in range(20):
            await env_of(engine, "a").send_data(note(seq, delay_ms=5 if seq % 3 == 0 else 0))
        await asyncio.sleep(0.05)
        await engine.stop()

    asyncio.run(scenario())
    arrivals = [e[4] for e in probe.EVENTS if e[0] == "b" and e[1] == "data"]
    assert arrivals == list(range(20))
    # Handlers run concurrently, as in TEN: the waiting ones finish after later ones start.
    assert probe.EVENTS.index(("b", "data", "note", "a", 1)) < probe.EVENTS.index(("b", "data_done", 0))


def test_fan_out_reaches_every_destination(probe):
    doc = graph_doc([node("a"), node("b"), node("c")], [flow("a", "data", "note", ["b", "c"])])

    async def scenario():
        engine = await start(doc)
        await env_of(engine, "a").send_data(note(5))
        await engine.stop()

    asyncio.run(scenario())
    assert sorted(e[0] for e in probe.EVENTS if e[1] == "data") == ["b", "c"]


# ---- cmds ------------------------------------------------------------------------------------------


def test_send_cmd_returns_the_receivers_result(probe):
    doc = graph_doc([node("a"), node("b")], [flow("a", "cmd", "echo", ["b"])])

    async def scenario():
        engine = await start(doc)
        result, err = await env_of(engine, "a").send_cmd(Cmd.create("echo"))
        await engine.stop()
        return result, err

    result, err = asyncio.run(scenario())
    assert err is None
    assert result.get_status_code() == StatusCode.OK
    assert result.get_property_string("detail") == ("b", None)
    assert result.is_completed()
    assert ("b", "cmd", "echo", "a") in probe.EVENTS


def test_send_cmd_ex_yields_partial_results_then_the_completed_one(probe):
    doc = graph_doc([node("a"), node("b")], [flow("a", "cmd", "stream", ["b"])])

    async def scenario():
        engine = await start(doc)
        results = []
        async for result, err in env_of(engine, "a").send_cmd_ex(Cmd.create("stream")):
            assert err is None
            results.append((result.get_property_int("index")[0], result.is_final(), result.is_completed()))
        await engine.stop()
        return results

    assert asyncio.run(scenario()) == [
        (0, False, False),
        (1, False, False),
        (2, False, False),
        (0, True, True),
    ]


def test_unconnected_cmd_fails_at_once(probe):
    async def scenario():
        engine = await start(graph_doc([node("a")]))
        result, err = await asyncio.wait_for(env_of(engine, "a").send_cmd(Cmd.create("echo")), 1)
        await engine.stop()
        return result, err

    result, err = asyncio.run(scenario())
    assert result is None and err.error_code() == TenErrorCode.ErrorCodeMsgNotConnected


def test_unanswered_cmd_times_out_and_never_hangs(probe):
    doc = graph_doc([node("a"), node("b")], [flow("a", "cmd", "silent", ["b"])])

    async def scenario():
        engine = await start(doc, cmd_timeout_s=0.1)
        result, err = await asyncio.wait_for(env_of(engine, "a").send_cmd(Cmd.create("silent")), 2)
        await engine.stop()
        return result, err

    result, err = asyncio.run(scenario())
    assert result is None and err.error_code() == TenErrorCode.ErrorCodeTimeout


def test_stop_graph_cmd_stops_the_graph(probe):
    async def scenario():
        engine = await start(graph_doc([node("a")]))
        result, err = await env_of(engine, "a").send_cmd(StopGraphCmd.create())
        await asyncio.wait_for(engine.stop_requested.wait(), 1)
        await engine.stop()
        return result, err

    result, err = asyncio.run(scenario())
    assert err is None and result.get_status_code() == StatusCode.OK
    assert ("a", "on_deinit") in probe.EVENTS


# ---- lifecycle and faults --------------------------------------------------------------------------


def test_lifecycle_runs_every_phase_in_order_before_messages_flow(probe):
    async def scenario():
        engine = await start(graph_doc([node("a"), node("b")]))
        await engine.stop()

    asyncio.run(scenario())
    phases = ["on_configure", "on_init", "on_start", "on_stop", "on_deinit"]
    for name in ("a", "b"):
        assert [e[1] for e in probe.EVENTS if e[0] == name] == phases
    # Every node is started before any node stops.
    last_start = max(i for i, e in enumerate(probe.EVENTS) if e[1] == "on_start")
    first_stop = min(i for i, e in enumerate(probe.EVENTS) if e[1] == "on_stop")
    assert last_start < first_stop


def test_failure_during_start_still_stops_and_deinits_every_node(probe):
    from ten_runtime import GraphStartError

    async def scenario():
        with pytest.raises(GraphStartError, match="b.on_start raised RuntimeError"):
            await start(graph_doc([node("a"), node("b", fail_in="on_start")]))

    asyncio.run(scenario())
    for name in ("a", "b"):
        assert (name, "on_stop") in probe.EVENTS and (name, "on_deinit") in probe.EVENTS


def test_exception_in_a_callback_is_isolated_reported_and_answered(probe, caplog):
    doc = graph_doc(
        [node("a"), node("b")],
        [
            flow("a", "cmd", "boom", ["b"]),
            flow("a", "data", ["boom", "note"], ["b"]),
            flow("b", "data", "error", ["a"]),
        ],
    )

    async def scenario():
        engine = await start(doc)
        await env_of(engine, "a").send_data(note(1, name="boom"))
        result, err = await env_of(engine, "a").send_cmd(Cmd.create("boom"))
        await env_of(engine, "a").send_data(note(2))  # b still works
        await engine.stop()
        return result, err, engine.failures

    result, err, failures = asyncio.run(scenario())
    assert err is None and result.get_status_code() == StatusCode.ERROR
    assert "b.on_cmd('boom')" in result.get_property_string("detail")[0]
    assert any("b.on_data('boom') raised ValueError" in f for f in failures)
    assert ("a", "data", "error", "b", 0) in probe.EVENTS  # reported as error data
    assert ("b", "data", "note", "a", 2) in probe.EVENTS
    assert "Traceback" in caplog.text and "[b]" in caplog.text


# ---- properties ------------------------------------------------------------------------------------


def test_node_properties_overlay_defaults_and_are_typed(probe):
    async def scenario():
        engine = await start(graph_doc([node("a", gain=2, model={"path": "/m"})]))
        env = env_of(engine, "a")
        values = (
            await env.get_property_float("gain"),
            await env.get_property_string("model.path"),
            await env.get_property_bool("enabled"),
            await env.get_property_int("missing"),
            await env.get_property_string("level"),
        )
        await engine.stop()
        return values

    gain, path, enabled, missing, wrong = asyncio.run(scenario())
    assert gain == (2.0, None) and path == ("/m", None) and enabled == (True, None)
    assert missing[0] == 0 and missing[1] is not None
    assert wrong[1].error_code() == TenErrorCode.ErrorCodeInvalidType


def test_env_substitution_with_default_value_and_type(probe, monkeypatch):
    monkeypatch.setenv("PROBE_LEVEL", "7")
    monkeypatch.delenv("PROBE_UNSET", raising=False)
    doc = graph_doc(
        [node("a", level="${env:PROBE_LEVEL}", fail_in="${env:PROBE_UNSET|}", gain="${env:PROBE_UNSET|0.5}")]
    )
    plan = plan_graph(PROBE_ROOT, doc, "t.json")
    assert plan.node("a").properties["level"] == 7
    assert plan.node("a").properties["fail_in"] == ""
    assert plan.node("a").properties["gain"] == 0.5


@pytest.mark.parametrize(
    ("doc", "expected"),
    [
        (
            graph_doc([node("a", level="${env:PROBE_NOT_SET}")]),
            "environment variable PROBE_NOT_SET is not set",
        ),
        (graph_doc([node("a", level="high")]), "level: expected an integer (int32)"),
        (
            graph_doc(
                [{"type": "extension", "name": "a", "addon": "graph_probe", "property": {"level": None}}]
            ),
            "level",
        ),
        (graph_doc([node("a", levle=2)]), "levle: unknown property"),
        (graph_doc([node("a", tags=[1])]), "tags[0]: expected a string"),
        (graph_doc([node("a"), node("a")]), "duplicate node name 'a'"),
        (
            graph_doc([{"type": "extension", "name": "a", "addon": "no_such_addon"}]),
            "unknown addon 'no_such_addon'",
        ),
        (graph_doc([node("a")], [flow("a", "data", "note", ["ghost"])]), "unknown node 'ghost'"),
        (graph_doc([node("a"), node("b")], [flow("a", "data", "typo", ["b"])]), "declares no such data_out"),
        ({"ten": {"predefined_graphs": []}}, "no graphs"),
    ],
)
def test_config_errors_name_the_file_and_the_place(probe, doc, expected, monkeypatch):
    monkeypatch.delenv("PROBE_NOT_SET", raising=False)
    with pytest.raises(ConfigError) as info:
        plan_graph(PROBE_ROOT, doc, "t.json")
    message = str(info.value)
    assert expected in message
    assert message.startswith("t.json: ")


def test_missing_required_property_is_reported():
    schema = {"properties": {"level": {"type": "int32"}}, "required": ["level"]}
    _, problems = check_object({}, schema, "")
    assert problems == ["level: required property is missing"]


def test_unknown_addon_error_lists_the_folders_searched(probe):
    doc = graph_doc([{"type": "extension", "name": "a", "addon": "nope"}])
    with pytest.raises(ConfigError) as info:
        plan_graph(PROBE_ROOT, doc, "t.json")
    assert os.path.join("ten_packages", "extension") in str(info.value)
    assert "graph_probe" in str(info.value)  # what is available
