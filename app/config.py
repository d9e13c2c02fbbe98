"""Loading and checking the app's property.json: TEN schema, graphs, --set overrides."""

from __future__ import annotations

import copy
import functools
import json
from pathlib import Path
from typing import Any

import jsonschema

from app.embedded_runtime._graph import GraphPlan, plan_graph, predefined_graphs, select_graph
from app.embedded_runtime._packages import ConfigError, load_json_file

SCHEMA_DIR = Path(__file__).resolve().parent / "schemas"
APP_ROOT = Path(__file__).resolve().parents[1]


@functools.cache
def _validator(kind: str) -> jsonschema.Draft7Validator:
    schema = json.loads((SCHEMA_DIR / f"{kind}.schema.json").read_text())
    return jsonschema.Draft7Validator(schema)


def schema_errors(doc: Any, kind: str, file: str | Path) -> list[ConfigError]:
    """TEN schema violations of a manifest.json or property.json, each with its JSON path."""
    errors = sorted(_validator(kind).iter_errors(doc), key=lambda e: list(e.absolute_path))
    found = []
    for error in errors:
        # The deepest, most specific cause of a oneOf/anyOf failure says what was expected.
        best = jsonschema.exceptions.best_match([error]) if error.context else error
        path = "/" + "/".join(str(p) for p in best.absolute_path)
        found.append(ConfigError(file, path, f"TEN {kind} schema: {best.message}"))
    return found


def load_property_file(path: str | Path) -> dict[str, Any]:
    """property.json, parsed and checked against TEN's schema (raises the first problem)."""
    doc = load_json_file(path)
    problems = schema_errors(doc, "property", path)
    if problems:
        raise problems[0]
    predefined_graphs(doc, path)
    return doc


def apply_overrides(
    doc: dict[str, Any], graph: str | None, assignments: list[str], file: str | Path
) -> dict[str, Any]:
    """``node.prop=value`` (value parsed as JSON when it is JSON, else taken as a string)."""
    doc = copy.deepcopy(doc)
    index, selected = select_graph(doc, file, graph)
    nodes = {n.get("name"): n for n in selected.get("graph", {}).get("nodes", [])}
    for assignment in assignments:
        target, sep, raw = assignment.partition("=")
        node_name, dot, prop = target.partition(".")
        if not sep or not dot or not prop:
            raise ConfigError("--set", assignment, "expected node.property=value")
        if node_name not in nodes:
            raise ConfigError(
                "--set", assignment, f"no node '{node_name}' in graph (nodes: {', '.join(nodes)})"
            )
        try:
            value = json.loads(raw)
        except json.JSONDecodeError:
            value = raw
        node_props = nodes[node_name].setdefault("property", {})
        keys = prop.split(".")
        for key in keys[:-1]:
            node_props = node_props.setdefault(key, {})
        node_props[keys[-1]] = value
    return doc


AUDIO_IO_ADDONS = ("sounddevice_io", "wav_file_io")


def use_wav_files(
    doc: dict[str, Any],
    graph: str | None,
    file: str | Path,
    input_path: Path,
    output_path: Path | None,
    realtime: bool,
) -> dict[str, Any]:
    """Swap the graph's audio I/O node for the WAV one: the same graph, headless."""
    doc = copy.deepcopy(doc)
    _, selected = select_graph(doc, file, graph)
    nodes = [n for n in selected.get("graph", {}).get("nodes", []) if n.get("addon") in AUDIO_IO_ADDONS]
    if not nodes:
        raise ConfigError(
            file, "", f"--input needs an audio I/O node ({' or '.join(AUDIO_IO_ADDONS)}) in the graph"
        )
    if not input_path.exists():
        raise ConfigError("--input", str(input_path), "file not found")
    nodes[0]["addon"] = "wav_file_io"
    nodes[0]["property"] = {
        "input_path": str(input_path.resolve()),
        "output_path": str(output_path.resolve()) if output_path else "",
        "realtime": realtime,
    }
    return doc


def record_session(
    doc: dict[str, Any], graph: str | None, file: str | Path, transcript: Path | None, ledger: Path | None
) -> dict[str, Any]:
    """Point the graph's session_recorder node at the transcript and ledger files."""
    doc = copy.deepcopy(doc)
    _, selected = select_graph(doc, file, graph)
    recorders = [
        n for n in selected.get("graph", {}).get("nodes", []) if n.get("addon") == "session_recorder"
    ]
    if not recorders:
        raise ConfigError(file, "", "--transcript/--ledger need a session_recorder node in the graph")
    props = recorders[0].setdefault("property", {})
    if transcript:
        props["transcript_path"] = str(transcript.resolve())
    if ledger:
        props["ledger_path"] = str(ledger.resolve())
    return doc


def plan(
    property_path: str | Path,
    graph: str | None = None,
    overrides: list[str] | None = None,
    app_root: Path = APP_ROOT,
    wav_input: Path | None = None,
    wav_output: Path | None = None,
    realtime: bool = True,
    transcript: Path | None = None,
    ledger: Path | None = None,
) -> GraphPlan:
    doc = load_property_file(property_path)
    if wav_input:
        doc = use_wav_files(doc, graph, property_path, wav_input, wav_output, realtime)
    if transcript or ledger:
        doc = record_session(doc, graph, property_path, transcript, ledger)
    if overrides:
        doc = apply_overrides(doc, graph, overrides, property_path)
    return plan_graph(app_root, doc, property_path, graph)


def validate(property_path: str | Path, graph: str | None = None, app_root: Path = APP_ROOT) -> list[str]:
    """Problems of one graph, or of every graph when none is named; an empty list means valid."""
    try:
        doc = load_property_file(property_path)
        names = [graph] if graph else [g.get("name") for g in predefined_graphs(doc, property_path)]
    except ConfigError as exc:
        return [str(exc)]
    problems = []
    for name in names:
        try:
            plan_graph(app_root, doc, property_path, name)
        except ConfigError as exc:
            problems.append(str(exc))
    return problems
