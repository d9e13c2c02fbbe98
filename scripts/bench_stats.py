"""Statistics shared by the benchmark scripts."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def percentile(values: Sequence[float], fraction: float) -> float:
    """The ``fraction`` quantile (0.5 = median, 0.9 = p90), linearly interpolated."""
    return float(np.percentile(np.asarray(values, dtype=float), fraction * 100))
