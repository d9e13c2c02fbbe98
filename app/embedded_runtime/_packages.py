"""Finding, importing and configuring extension packages (manifest.json + property.json).

Every problem becomes a ConfigError that names the file, the place in it and what was expected.
"""

from __future__ import annotations

import copy
import importlib
import json
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ._addon import Addon, registered_addon


class ConfigError(Exception):
    """Bad configuration: ``file: where: what was expected``."""

    def __init__(self, file: str | Path, where: str, message: str) -> None:
        self.file = str(file)
        self.where = where
        self.message = message
        super().__init__(f"{self.file}: {where}: {message}" if where else f"{self.file}: {message}")


def load_json_file(path: str | Path) -> Any:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(path, "", "file not found") from None
    except OSError as exc:
        raise ConfigError(path, "", f"cannot read: {exc.strerror}") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(
            path, f"line {exc.lineno}, column {exc.colno}", f"invalid JSON: {exc.msg}"
        ) from None


_ENV_REF = re.compile(r"^\$\{env:([A-Za-z_][A-Za-z0-9_]*)(\|(.*))?\}$", re.S)
_INT_RANGES = {
    "int8": (-(2**7), 2**7 - 1),
    "int16": (-(2**15), 2**15 - 1),
    "int32": (-(2**31), 2**31 - 1),
    "int64": (-(2**63), 2**63 - 1),
    "uint8": (0, 2**8 - 1),
    "uint16": (0, 2**16 - 1),
    "uint32": (0, 2**32 - 1),
    "uint64": (0, 2**64 - 1),
}


def substitute_env(value: Any, file: str | Path, where: str) -> Any:
    """Replace ``${env:VAR}`` / ``${env:VAR|default}`` string values from the environment."""
    if isinstance(value, dict):
        return {k: substitute_env(v, file, f"{where}/{k}") for k, v in value.items()}
    if isinstance(value, list):
        return [substitute_env(v, file, f"{where}/{i}") for i, v in enumerate(value)]
    if isinstance(value, str):
        match = _ENV_REF.match(value)
        if match:
            var, has_default, default = match.group(1), match.group(2), match.group(3)
            if var in os.environ:
                return os.environ[var]
            if has_default is None:
                raise ConfigError(
                    file,
                    where,
                    f"environment variable {var} is not set and '{value}' gives no default "
                    f"(set {var}, or write '${{env:{var}|default}}')",
                )
            return default
    return value


def _coerce(value: Any, ten_type: str) -> Any:
    """Strings that came from the environment take the property's declared type."""
    if not isinstance(value, str) or ten_type in ("string", "buf", "ptr"):
        return value
    text = value.strip()
    try:
        if ten_type in _INT_RANGES:
            return int(text)
        if ten_type in ("float32", "float64"):
            return float(text)
    except ValueError:
        return value
    if ten_type == "bool" and text.lower() in ("true", "false", "1", "0", "yes", "no"):
        return text.lower() in ("true", "1", "yes")
    return value


def check_value(value: Any, schema: dict[str, Any], where: str) -> tuple[Any, list[str]]:
    """Type-check (and coerce env strings in) one property value against a TEN value schema."""
    ten_type = schema.get("type", "")
    value = _coerce(value, ten_type)
    problems: list[str] = []

    def bad(expected: str) -> tuple[Any, list[str]]:
        return value, [f"{where}: expected {expected}, got {json.dumps(value)[:60]} ({type(value).__name__})"]

    if ten_type == "bool":
        if not isinstance(value, bool):
            return bad("a bool")
    elif ten_type in _INT_RANGES:
        if isinstance(value, bool) or not isinstance(value, int):
            return bad(f"an integer ({ten_type})")
        low, high = _INT_RANGES[ten_type]
        if not low <= value <= high:
            return bad(f"an integer in {ten_type} range [{low}, {high}]")
    elif ten_type in ("float32", "float64"):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return bad(f"a number ({ten_type})")
    elif ten_type == "string":
        if not isinstance(value, str):
            return bad("a string")
    elif ten_type == "array":
        if not isinstance(value, list):
            return bad("an array")
        items = schema.get("items", {})
        checked = []
        for i, item in enumerate(value):
            item, errs = check_value(item, items, f"{where}[{i}]")
            checked.append(item)
            problems += errs
        value = checked
    elif ten_type == "object":
        if not isinstance(value, dict):
            return bad("an object")
        value, problems = check_object(value, schema, where)
    return value, problems


def check_object(
    values: dict[str, Any], schema: dict[str, Any], where: str
) -> tuple[dict[str, Any], list[str]]:
    """Check an object against ``{"properties": {...}, "required": [...]}``; unknown keys are errors."""
    declared: dict[str, Any] = schema.get("properties", {}) or {}
    problems: list[str] = []
    checked: dict[str, Any] = {}
    prefix = f"{where}." if where else ""
    for key, value in values.items():
        if key == "ten" and not where:
            checked[key] = value
            continue
        if key not in declared:
            if declared:
                known = ", ".join(sorted(declared))
                problems.append(f"{prefix}{key}: unknown property (the manifest declares: {known})")
            checked[key] = value
            continue
        checked[key], errs = check_value(value, declared[key], f"{prefix}{key}")
        problems += errs
    for key in schema.get("required", []) or []:
        if key not in values:
            problems.append(f"{prefix}{key}: required property is missing")
    return checked, problems


def deep_merge(base: dict[str, Any], overlay: dict[str, Any]) -> dict[str, Any]:
    merged = copy.deepcopy(base)
    for key, value in overlay.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


@dataclass
class ExtensionPackage:
    """One extension folder: its manifest and its default properties."""

    addon: str
    path: Path
    manifest: dict[str, Any]
    defaults: dict[str, Any]

    @classmethod
    def load(cls, addon: str, path: Path) -> ExtensionPackage:
        manifest = load_json_file(path / "manifest.json")
        if not isinstance(manifest, dict) or manifest.get("type") != "extension":
            raise ConfigError(path / "manifest.json", "/type", 'expected "extension"')
        defaults: dict[str, Any] = {}
        if (path / "property.json").exists():
            defaults = load_json_file(path / "property.json")
            if not isinstance(defaults, dict):
                raise ConfigError(path / "property.json", "/", "expected a JSON object of property defaults")
            defaults = substitute_env(defaults, path / "property.json", "")
        return cls(addon, path, manifest, defaults)

    @property
    def api(self) -> dict[str, Any]:
        return self.manifest.get("api", {}) or {}

    def declared_messages(self, kind: str, direction: str) -> set[str] | None:
        """Names in api.<kind>_<direction>, or None when the manifest lists none of that kind."""
        entries = self.api.get(f"{kind}_{direction}")
        if entries is None:
            return None
        return {e.get("name", "") for e in entries}

    def resolve_properties(
        self, overlay: dict[str, Any], overlay_file: str | Path, where: str
    ) -> dict[str, Any]:
        """Defaults overlaid by a node's properties, env-substituted and checked against the manifest."""
        merged = deep_merge(self.defaults, substitute_env(overlay, overlay_file, where))
        checked, problems = check_object(merged, self.api.get("property", {}) or {}, "")
        if problems:
            raise ConfigError(
                overlay_file,
                where,
                f"properties of addon '{self.addon}' (manifest {self.path / 'manifest.json'}) are wrong: "
                + "; ".join(problems),
            )
        return checked


def extension_search_dirs(app_root: Path) -> list[Path]:
    return [app_root / "ten_packages" / "extension"]


def find_extension(addon: str, app_root: Path) -> ExtensionPackage:
    searched = extension_search_dirs(app_root)
    for folder in searched:
        candidate = folder / addon
        if (candidate / "manifest.json").exists():
            return ExtensionPackage.load(addon, candidate)
    available = sorted(
        p.name for d in searched if d.is_dir() for p in d.iterdir() if (p / "manifest.json").exists()
    )
    raise ConfigError(
        "graph",
        "",
        f"unknown addon '{addon}': no folder {addon}/ with a manifest.json in "
        + ", ".join(str(d) for d in searched)
        + (f" (available: {', '.join(available)})" if available else ""),
    )


def import_addon(package: ExtensionPackage, app_root: Path) -> type[Addon]:
    """Import ``ten_packages.extension.<addon>`` as TEN does and return its registered Addon class."""
    root = str(app_root)
    if root not in sys.path:
        sys.path.insert(0, root)
    module = f"ten_packages.extension.{package.path.name}"
    try:
        importlib.import_module(module)
        if registered_addon(package.addon) is None and (package.path / "addon.py").exists():
            importlib.import_module(f"{module}.addon")  # a package whose __init__ does not import addon
    except Exception as exc:
        raise ConfigError(
            package.path / "addon.py", "", f"importing {module} failed: {type(exc).__name__}: {exc}"
        ) from exc
    addon_cls = registered_addon(package.addon)
    if addon_cls is None:
        raise ConfigError(
            package.path / "addon.py",
            "",
            f'no @register_addon_as_extension("{package.addon}") found after importing {module}',
        )
    return addon_cls


class _AddonEnv:
    """The env handed to Addon.on_create_instance."""

    def __init__(self) -> None:
        self.instance: Any = None

    def on_create_instance_done(self, instance: Any, context: Any) -> None:
        self.instance = instance

    def log_info(self, msg: str, *args: Any, **kwargs: Any) -> None:
        pass

    log_debug = log_warn = log_error = log_info


def create_extension(addon_cls: type[Addon], node_name: str, package: ExtensionPackage) -> Any:
    from ._addon import AsyncExtension

    env = _AddonEnv()
    addon_cls().on_create_instance(env, node_name, None)
    if not isinstance(env.instance, AsyncExtension):
        raise ConfigError(
            package.path / "addon.py",
            "",
            f"addon '{package.addon}' created {type(env.instance).__name__}, expected an AsyncExtension subclass "
            "(the embedded runtime runs asyncio extensions)",
        )
    return env.instance
