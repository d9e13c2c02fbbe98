"""``python -m app``: graphs, validate, run, doctor."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from app import config
from app.embedded_runtime._graph import predefined_graphs
from app.embedded_runtime._packages import ConfigError
from app.ten_select import ensure_ten_runtime

DEFAULT_PROPERTY = config.APP_ROOT / "property.json"


def _cmd_graphs(args: argparse.Namespace) -> int:
    doc = config.load_property_file(args.property)
    for graph in predefined_graphs(doc, args.property):
        auto = " (auto_start)" if graph.get("auto_start") else ""
        print(f"{graph.get('name')}{auto}")
        for node in graph.get("graph", {}).get("nodes", []):
            print(f"  {node.get('name'):<14} {node.get('addon')}")
    return 0


def _cmd_validate(args: argparse.Namespace) -> int:
    problems = config.validate(args.property, args.graph)
    if problems:
        for problem in problems:
            print(f"error: {problem}", file=sys.stderr)
        return 2
    print(f"ok: {args.property}" + (f" graph '{args.graph}'" if args.graph else " (all graphs)"))
    return 0


def _cmd_run(args: argparse.Namespace) -> int:
    from app.runner import configure_logging, run_plan

    configure_logging(args.log_level)
    plan = config.plan(
        args.property,
        args.graph,
        args.set,
        wav_input=args.input,
        wav_output=args.output,
        realtime=not args.fast,
        transcript=args.transcript,
        ledger=args.ledger,
    )
    return asyncio.run(run_plan(plan, config.APP_ROOT, cmd_timeout_s=args.cmd_timeout_ms / 1000))


def _cmd_doctor(args: argparse.Namespace) -> int:
    from app.doctor import run_checks

    return run_checks(args.property)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m app", description="Local realtime voice chat on a TEN graph."
    )
    sub = parser.add_subparsers(dest="command", required=True)

    def with_property(p: argparse.ArgumentParser) -> argparse.ArgumentParser:
        p.add_argument("--property", type=Path, default=DEFAULT_PROPERTY, help="the app's property.json")
        return p

    with_property(sub.add_parser("graphs", help="list the predefined graphs and their nodes"))
    validate = with_property(sub.add_parser("validate", help="check property.json, manifests and a graph"))
    validate.add_argument("--graph", help="graph name (default: every graph)")
    run = with_property(sub.add_parser("run", help="run a graph"))
    run.add_argument("--graph", help="graph name (default: the auto_start graph)")
    run.add_argument(
        "--set", action="append", default=[], metavar="NODE.PROP=VALUE", help="override a node property"
    )
    run.add_argument("--input", type=Path, help="play this WAV as the microphone (headless run)")
    run.add_argument("--output", type=Path, help="write the bot's audio here, on the input's timeline")
    run.add_argument("--fast", action="store_true", help="with --input: do not pace the WAV in real time")
    run.add_argument("--transcript", type=Path, help="write the conversation as JSONL here")
    run.add_argument("--ledger", type=Path, help="write the per-turn latency ledger (JSON) here")
    run.add_argument(
        "--cmd-timeout-ms",
        type=int,
        default=30000,
        help="a cmd with no result for this long gets a Timeout error",
    )
    run.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"])
    with_property(
        sub.add_parser("doctor", help="check this machine: libraries, devices, models, LLM endpoint")
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    ensure_ten_runtime()
    handlers = {"graphs": _cmd_graphs, "validate": _cmd_validate, "run": _cmd_run, "doctor": _cmd_doctor}
    try:
        return handlers[args.command](args)
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
