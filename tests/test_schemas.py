"""Every manifest.json and property.json in the repo validates against TEN 0.11's schemas."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.config import SCHEMA_DIR, schema_errors
from app.embedded_runtime._packages import check_object

ROOT = Path(__file__).resolve().parents[1]
SHARED_SCHEMAS = ROOT.parent / "shared" / "ten-schema"
PACKAGE_DIRS = sorted(
    p
    for p in [ROOT, *ROOT.glob("ten_packages/*/*"), *ROOT.glob("tests/fixtures/*/ten_packages/extension/*")]
    if p.is_dir()
)


def json_files(kind: str) -> list[Path]:
    return [d / f"{kind}.json" for d in PACKAGE_DIRS if (d / f"{kind}.json").exists()]


@pytest.mark.parametrize("path", json_files("manifest"), ids=lambda p: str(p.relative_to(ROOT)))
def test_manifest_matches_ten_schema(path: Path):
    assert [str(e) for e in schema_errors(json.loads(path.read_text()), "manifest", path)] == []


@pytest.mark.parametrize("path", json_files("property"), ids=lambda p: str(p.relative_to(ROOT)))
def test_property_matches_ten_schema(path: Path):
    assert [str(e) for e in schema_errors(json.loads(path.read_text()), "property", path)] == []


def test_every_extension_folder_has_the_ten_layout():
    for folder in sorted((ROOT / "ten_packages" / "extension").iterdir()):
        if not folder.is_dir() or folder.name.startswith(("_", ".")):
            continue
        missing = [
            f
            for f in ("manifest.json", "property.json", "addon.py", "__init__.py", "requirements.txt")
            if not (folder / f).exists()
        ]
        assert not missing, f"{folder.name} lacks {missing}"
        manifest = json.loads((folder / "manifest.json").read_text())
        assert manifest["name"] == folder.name


@pytest.mark.parametrize("folder", sorted(ROOT.glob("ten_packages/extension/*/")), ids=lambda p: p.name)
def test_every_default_property_is_declared_and_typed_in_the_manifest(folder: Path):
    manifest = json.loads((folder / "manifest.json").read_text())
    defaults = json.loads((folder / "property.json").read_text())
    declared = manifest.get("api", {}).get("property", {}).get("properties", {})
    assert set(defaults) == set(declared), "property.json and the manifest list different properties"
    _, problems = check_object(defaults, manifest["api"]["property"], "")
    assert problems == []


def test_app_manifest_depends_on_every_package():
    manifest = json.loads((ROOT / "manifest.json").read_text())
    paths = {d["path"] for d in manifest.get("dependencies", []) if "path" in d}
    for folder in [*ROOT.glob("ten_packages/extension/*"), *ROOT.glob("ten_packages/system/*")]:
        if (folder / "manifest.json").exists():
            assert str(folder.relative_to(ROOT)) in paths, f"manifest.json has no dependency on {folder}"


@pytest.mark.skipif(
    not SHARED_SCHEMAS.exists(), reason="the project's reference schemas are not beside the repo"
)
def test_shipped_schemas_match_the_reference():
    for name in ("manifest.schema.json", "property.schema.json"):
        assert json.loads((SCHEMA_DIR / name).read_text()) == json.loads((SHARED_SCHEMAS / name).read_text())


def test_schema_violation_names_the_json_path():
    doc = {
        "ten": {
            "predefined_graphs": [{"name": "g", "graph": {"nodes": [{"type": "extension", "name": "a b"}]}}]
        }
    }
    errors = schema_errors(doc, "property", "x.json")
    assert errors and errors[0].where.startswith("/ten/predefined_graphs/0/graph/nodes/0")
