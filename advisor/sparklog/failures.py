"""Classify why a Spark task failed, from its TaskEndReason."""

from __future__ import annotations

import re
from typing import Any

from advisor.collect.redact import redacted_excerpt

FAILURE_CLASSES = (
    "out_of_memory",
    "container_killed_memory",
    "executor_lost",
    "fetch_failure",
    "resubmitted",
    "exception",
    "other",
)
_MEMORY_KILL = re.compile(
    r"exceeding memory limits|exceeding physical memory|beyond physical memory|"
    r"killed by (yarn|the os|kubernetes).*memory|exit code 137|exit status 137|OOMKilled|"
    r"Container from a bad node.*137",
    re.IGNORECASE,
)
_OOM = re.compile(
    r"OutOfMemoryError|GC overhead limit exceeded|OutOfDirectMemory|"
    r"java heap space|SplitAndRetryOOM|RetryOOM",
    re.IGNORECASE,
)


def first_line(text: Any, limit: int = 300) -> str:
    """The message's first line, redacted before it is cut (a cut inside a secret would leave
    a piece no redaction rule recognises)."""
    stripped = str(text or "").strip()
    return redacted_excerpt(stripped.splitlines()[0], limit) if stripped else ""


def classify(reason: dict[str, Any]) -> tuple[str | None, str]:
    """(failure class or None for success/killed, first line of the message)."""
    kind = reason.get("Reason")
    if kind in (None, "Success"):
        return None, ""
    if kind == "TaskKilled":
        return None, first_line(reason.get("Kill Reason"))
    if kind == "FetchFailed":
        return "fetch_failure", first_line(reason.get("Message") or "FetchFailed")
    if kind == "Resubmitted":
        return "resubmitted", "Resubmitted (a lost executor's output is recomputed)"
    if kind == "ExecutorLostFailure":
        text = str(reason.get("Loss Reason") or "")
        cls = "container_killed_memory" if _MEMORY_KILL.search(text) else "executor_lost"
        return cls, first_line(text or "ExecutorLostFailure")
    if kind == "ExceptionFailure":
        name = str(reason.get("Class Name") or "")
        text = f"{name}: {reason.get('Description') or ''}"
        if _MEMORY_KILL.search(text):
            return "container_killed_memory", first_line(text)
        if _OOM.search(text):
            return "out_of_memory", first_line(text)
        return "exception", first_line(text)
    return "other", first_line(kind)
