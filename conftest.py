"""pytest: the repo root is the TEN app root; extensions import ``ten_runtime`` as in a TEN app."""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from app.ten_select import ensure_ten_runtime  # noqa: E402

ensure_ten_runtime()
