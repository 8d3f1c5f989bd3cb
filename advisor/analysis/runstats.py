"""Small facts about runs that analysis and every output share, kept free of heavy imports
(`advisor recommend` must start fast)."""

from __future__ import annotations

import math

FAILED_STATES = ("FAILED", "TIMEOUT", "ERROR")
SEVERITIES = ("info", "low", "medium", "high", "critical")


def percentile(values: list[float], q: float) -> float | None:
    """Nearest-rank percentile (no interpolation: a real observed runtime)."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


def failure_cause(message: str | None, state: str) -> str:
    text = (message or "").lower()
    if state == "TIMEOUT" or "timed out" in text:
        return "timeout"
    if "container killed" in text and "memory" in text:
        return "container_killed_memory"
    if "outofmemoryerror" in text or "gc overhead" in text:
        return "out_of_memory"
    if "no space left on device" in text:
        return "disk_full"
    if "slowdown" in text or "throttl" in text or "rate exceeded" in text:
        return "throttling"
    return "other"
