"""What a Glue job's arguments switch on; one reading shared by the collectors and the features."""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import cache

METRIC_FLAGS = ("--enable-metrics", "--enable-observability-metrics")
CONF_ARGUMENT = "--conf"
_CONF_SPLIT = re.compile(r"\s+--conf\s+")


def flag(arguments: Mapping[str, str], key: str) -> bool:
    """A Glue switch is on when present with any value but "false"; an empty value is on only
    for the switches AWS documents as enabled by the key alone (--enable-metrics)."""
    if key not in arguments:
        return False
    value = str(arguments[key] if arguments[key] is not None else "").strip().lower()
    if value == "":
        return key in key_alone_switches()
    return value != "false"


@cache
def key_alone_switches() -> frozenset[str]:
    from advisor.facts import registry

    return frozenset(
        entry["argument"]
        for entry in registry()["features"].values()
        if entry.get("empty_value_means_on") and entry.get("argument")
    )


def metrics_enabled(arguments: Mapping[str, str]) -> bool:
    return any(flag(arguments, key) for key in METRIC_FLAGS)


def event_log_path(arguments: Mapping[str, str]) -> str | None:
    """The S3 prefix the job writes Spark event logs to, if it writes them there."""
    path = arguments.get("--spark-event-logs-path")
    if flag(arguments, "--enable-spark-ui") and path:
        return path
    return None


def parse_conf(text: str) -> list[str]:
    """The settings packed into one `--conf` value ("spark.a=1 --conf spark.b=2")."""
    text = text.strip()
    if text.startswith(CONF_ARGUMENT + " "):
        text = text[len(CONF_ARGUMENT) :].strip()
    return [part for part in _CONF_SPLIT.split(text) if part]


def conf_key(setting: str) -> str:
    return setting.partition("=")[0].strip()


def conf_settings(arguments: Mapping[str, str]) -> dict[str, str]:
    """The Spark settings a job's --conf sets, by key (the last of a repeated key wins)."""
    value = arguments.get(CONF_ARGUMENT)
    if not isinstance(value, str):
        return {}
    return {conf_key(s): s.partition("=")[2].strip() for s in parse_conf(value) if "=" in s}
