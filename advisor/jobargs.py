"""What a Glue job's arguments switch on; one reading shared by the collectors and the features."""

from __future__ import annotations

from collections.abc import Mapping

METRIC_FLAGS = ("--enable-metrics", "--enable-observability-metrics")


def flag(arguments: Mapping[str, str], key: str) -> bool:
    """A Glue switch is on when present with any value but empty or "false"."""
    return str(arguments.get(key, "")).lower() not in ("", "false")


def metrics_enabled(arguments: Mapping[str, str]) -> bool:
    return any(flag(arguments, key) for key in METRIC_FLAGS)


def event_log_path(arguments: Mapping[str, str]) -> str | None:
    """The S3 prefix the job writes Spark event logs to, if it writes them there."""
    path = arguments.get("--spark-event-logs-path")
    if flag(arguments, "--enable-spark-ui") and path:
        return path
    return None
