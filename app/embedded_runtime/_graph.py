"""From a property.json document to a running GraphEngine: nodes, properties and routes, checked."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ._engine import GraphEngine, NodeSpec
from ._packages import ConfigError, ExtensionPackage, create_extension, find_extension, import_addon

KINDS = ("cmd", "data", "audio_frame", "video_frame")


@dataclass
class PlannedNode:
    name: str
    addon: str
    package: ExtensionPackage
    properties: dict[str, Any]


@dataclass
class GraphPlan:
    """A checked graph, not yet running."""

    name: str
    nodes: list[PlannedNode]
    routes: dict[tuple[str, str, str], tuple[str, ...]] = field(default_factory=dict)

    def node(self, name: str) -> PlannedNode:
        return next(n for n in self.nodes if n.name == name)


def predefined_graphs(doc: Any, file: str | Path) -> list[dict[str, Any]]:
    ten = doc.get("ten") if isinstance(doc, dict) else None
    graphs = ten.get("predefined_graphs") if isinstance(ten, dict) else None
    if not isinstance(graphs, list) or not graphs:
        raise ConfigError(
            file, "/ten/predefined_graphs", "no graphs: expected a non-empty array of predefined graphs"
        )
    return graphs


def select_graph(doc: Any, file: str | Path, name: str | None) -> tuple[int, dict[str, Any]]:
    """The named graph, or else the first auto_start one, or else the first."""
    graphs = predefined_graphs(doc, file)
    if name is None:
        for i, graph in enumerate(graphs):
            if graph.get("auto_start"):
                return i, graph
        return 0, graphs[0]
    for i, graph in enumerate(graphs):
        if graph.get("name") == name:
            return i, graph
    names = ", ".join(str(g.get("name")) for g in graphs)
    raise ConfigError(file, "/ten/predefined_graphs", f"no graph named '{name}' (graphs: {names})")


def plan_graph(app_root: Path, doc: Any, file: str | Path, name: str | None = None) -> GraphPlan:
    index, graph = select_graph(doc, file, name)
    where = f"/ten/predefined_graphs/{index}/graph"
    body = graph.get("graph", {})
    if not isinstance(body, dict):
        raise ConfigError(file, where, "expected an object with 'nodes' and 'connections'")
    plan = GraphPlan(str(graph.get("name", f"graph{index}")), [])
    packages: dict[str, ExtensionPackage] = {}
    for i, node in enumerate(body.get("nodes", [])):
        at = f"{where}/nodes/{i}"
        if node.get("type", "extension") != "extension":
            raise ConfigError(
                file,
                f"{at}/type",
                f"'{node.get('type')}' nodes are not supported here; expected \"extension\"",
            )
        node_name, addon = node.get("name"), node.get("addon")
        if not node_name or not addon:
            raise ConfigError(file, at, "an extension node needs 'name' and 'addon'")
        if any(n.name == node_name for n in plan.nodes):
            raise ConfigError(
                file, f"{at}/name", f"duplicate node name '{node_name}': node names must be unique"
            )
        if addon not in packages:
            try:
                packages[addon] = find_extension(addon, app_root)
            except ConfigError as exc:
                raise ConfigError(file, f"{at}/addon", exc.message) from None
        properties = packages[addon].resolve_properties(
            node.get("property", {}) or {}, file, f"{at}/property"
        )
        plan.nodes.append(PlannedNode(node_name, addon, packages[addon], properties))
    if not plan.nodes:
        raise ConfigError(file, f"{where}/nodes", "the graph has no nodes")
    _plan_routes(plan, body.get("connections", []) or [], file, f"{where}/connections")
    return plan


def _plan_routes(plan: GraphPlan, connections: list[dict[str, Any]], file: str | Path, where: str) -> None:
    known = {n.name: n for n in plan.nodes}

    def node_at(name: Any, at: str) -> PlannedNode:
        if name not in known:
            raise ConfigError(file, at, f"unknown node '{name}' (nodes: {', '.join(known)})")
        return known[name]

    def check_declared(node: PlannedNode, kind: str, direction: str, msg: str, at: str) -> None:
        declared = node.package.declared_messages(kind, direction)
        if declared is not None and msg not in declared:
            raise ConfigError(
                file,
                at,
                f"{kind} '{msg}': node '{node.name}' (addon {node.addon}) declares no such {kind}_{direction} "
                f"in its manifest (it has: {', '.join(sorted(declared)) or 'none'})",
            )

    routes: dict[tuple[str, str, str], list[str]] = {}
    for ci, conn in enumerate(connections):
        at = f"{where}/{ci}"
        owner = node_at(conn.get("extension"), f"{at}/extension")
        for kind in KINDS:
            for fi, flow in enumerate(conn.get(kind, []) or []):
                flow_at = f"{at}/{kind}/{fi}"
                names = [flow["name"]] if "name" in flow else list(flow.get("names", []))
                if not names:
                    raise ConfigError(file, flow_at, "expected 'name' or 'names'")
                pairs: list[tuple[PlannedNode, PlannedNode, str]] = []
                for di, dest in enumerate(flow.get("dest", []) or []):
                    pairs.append(
                        (
                            owner,
                            node_at(dest.get("extension"), f"{flow_at}/dest/{di}/extension"),
                            f"{flow_at}/dest/{di}",
                        )
                    )
                for si, src in enumerate(flow.get("source", []) or []):
                    pairs.append(
                        (
                            node_at(src.get("extension"), f"{flow_at}/source/{si}/extension"),
                            owner,
                            f"{flow_at}/source/{si}",
                        )
                    )
                if not pairs:
                    raise ConfigError(file, flow_at, "expected a 'dest' or 'source' list")
                for msg in names:
                    for src_node, dst_node, pair_at in pairs:
                        check_declared(src_node, kind, "out", msg, pair_at)
                        check_declared(dst_node, kind, "in", msg, pair_at)
                        targets = routes.setdefault((src_node.name, kind, msg), [])
                        if dst_node.name not in targets:
                            targets.append(dst_node.name)
    plan.routes = {key: tuple(value) for key, value in routes.items()}


def instantiate(plan: GraphPlan, app_root: Path, cmd_timeout_s: float | None = 30.0) -> GraphEngine:
    specs = []
    for node in plan.nodes:
        addon_cls = import_addon(node.package, app_root)
        specs.append(
            NodeSpec(node.name, create_extension(addon_cls, node.name, node.package), node.properties)
        )
    return GraphEngine(plan.name, specs, plan.routes, cmd_timeout_s=cmd_timeout_s)
