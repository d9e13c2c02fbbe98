"""The one place that decides which ``ten_runtime`` extensions get: the real one, else the embedded one."""

from __future__ import annotations

import importlib.util
import sys
from types import ModuleType


def ensure_ten_runtime() -> ModuleType:
    """Make ``import ten_runtime`` work; prefer a real TEN installation when one is importable."""
    if "ten_runtime" in sys.modules:
        return sys.modules["ten_runtime"]
    if importlib.util.find_spec("ten_runtime") is not None:
        import ten_runtime

        return ten_runtime
    from app import embedded_runtime

    sys.modules["ten_runtime"] = embedded_runtime
    return embedded_runtime


def using_embedded_runtime() -> bool:
    from app import embedded_runtime

    return ensure_ten_runtime() is embedded_runtime
