"""``python -m app``: exit codes and messages, never a traceback."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run_app(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "app", *args], cwd=ROOT, capture_output=True, text=True, timeout=120, env=env
    )


def test_validate_accepts_the_shipped_property_json():
    done = run_app("validate")
    assert done.returncode == 0, done.stderr


def test_graphs_lists_graphs_and_nodes():
    done = run_app("graphs")
    assert done.returncode == 0
    doc = json.loads((ROOT / "property.json").read_text())
    for graph in doc["ten"]["predefined_graphs"]:
        assert graph["name"] in done.stdout
        for node in graph["graph"]["nodes"]:
            assert node["addon"] in done.stdout


def test_invalid_json_reports_line_and_column(tmp_path: Path):
    bad = tmp_path / "property.json"
    bad.write_text('{\n  "ten": {\n    "predefined_graphs": [,]\n  }\n}\n')
    done = run_app("validate", "--property", str(bad))
    assert done.returncode == 2
    assert f"{bad}: line 3, column 27: invalid JSON" in done.stderr
    assert "Traceback" not in done.stderr


def test_schema_violation_reports_the_path(tmp_path: Path):
    bad = tmp_path / "property.json"
    bad.write_text(
        json.dumps(
            {"ten": {"predefined_graphs": [{"name": "g", "auto_start": "yes", "graph": {"nodes": []}}]}}
        )
    )
    done = run_app("validate", "--property", str(bad))
    assert done.returncode == 2
    assert "/ten/predefined_graphs/0/auto_start" in done.stderr and "TEN property schema" in done.stderr
    assert "Traceback" not in done.stderr


def test_run_with_a_bad_override_is_a_clear_error():
    done = run_app("run", "--set", "nosuchnode.x=1")
    assert done.returncode == 2
    assert "no node 'nosuchnode'" in done.stderr and "Traceback" not in done.stderr
