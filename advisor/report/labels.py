"""Display names and small text helpers shared by every output (CLI, report, dashboard)."""

from __future__ import annotations

JOB_TYPES = {
    "glueetl": "Spark",
    "gluestreaming": "Spark streaming",
    "pythonshell": "Python shell",
    "glueray": "Ray",
}
_BARS = "▁▂▃▄▅▆▇█"


def job_type(command_name: str | None) -> str:
    return JOB_TYPES.get(command_name or "", command_name or "unknown")


def sparkline(values: list[float]) -> str:
    """Unicode bars, one per value, scaled to the largest."""
    top = max(values, default=0)
    if not top:
        return _BARS[0] * len(values)
    return "".join(_BARS[min(7, int(v / top * 7.999))] for v in values)
