"""Load reduced event-log facts (the JSON lines advisor/spark_reduce.py writes, one application a
line) into the store, linked to their runs as a reduced log is, without reading a log again.

A line that is not JSON, not an object, or not an application's facts is reported by its file and
line number and skipped; the others load. Lines are read one at a time and bounded in size.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, BinaryIO

import orjson

from advisor.collect.eventlog_link import store_summary
from advisor.collect.redact import redact_value
from advisor.store import Store

MAX_LINE_BYTES = 64 << 20
# a Glue run id in a log's path (eventlogs/<run id>/..., as an import or a bucket lays them out)
_RUN_ID = re.compile(r"(?:^|/)(jr_[0-9a-f]{64})(?:/|$)")
REQUIRED = ("source", "app_id", "glue", "app_name", "start_ms")


def _run_in_path(store: Store, source: str, place: tuple[str, str] | None) -> str | None:
    """The run (a jr_ id) or interactive session (eventlogs/<SessionId>/) the log's path names."""
    match = _RUN_ID.search(source)
    if match:
        runs = store.runs_with_glue_id(match.group(1), place)
        return runs[0] if len(runs) == 1 else None
    folders = source.replace("\\", "/").split("/")[:-1]
    for folder in reversed(folders):
        sessions = store.session_keys(folder, place) if folder else []
        if len(sessions) == 1:
            return sessions[0]
    return None


def iter_facts(
    handle: BinaryIO, label: str, on_error: Callable[[str, str], None]
) -> Iterator[dict[str, Any]]:
    """Each application's facts in a stream of JSON lines, redacted; `on_error(item, reason)`
    hears of each line skipped, named `label:line`. Lines are bounded, never read whole."""
    number = 0
    while True:
        data = handle.readline(MAX_LINE_BYTES + 1)
        if not data:
            return
        number += 1
        where = f"{label}:{number}"
        if len(data) > MAX_LINE_BYTES and not data.endswith(b"\n"):
            on_error(where, f"a line over {MAX_LINE_BYTES >> 20} MiB: skipped")
            while data and not data.endswith(b"\n"):  # the rest of that line
                data = handle.readline(MAX_LINE_BYTES)
            continue
        if not data.strip():
            continue
        summary = _summary(data, where, on_error)
        if summary is not None:
            yield summary


def import_facts_file(
    store: Store,
    path: Path,
    *,
    at: str,
    place: tuple[str, str] | None,
    on_error: Callable[[str, str], None],
    label: str | None = None,
) -> tuple[int, int]:
    """(applications stored, of them linked to a run); `on_error(item, reason)` hears of
    each line skipped, named `label:line` (label: the file's name unless given)."""
    stored = linked = 0
    with path.open("rb") as handle:
        for summary in iter_facts(handle, label or path.name, on_error):
            size = summary.pop("size", 0)
            run = store_summary(
                store,
                summary,
                size=size if isinstance(size, int) and size >= 0 else 0,
                at=at,
                folder_run_id=_run_in_path(store, summary["source"], place),
                place=place,
            )
            stored += 1
            linked += run is not None
    return stored, linked


def _summary(
    data: bytes, where: str, on_error: Callable[[str, str], None]
) -> dict[str, Any] | None:
    try:
        summary = orjson.loads(data)
    except orjson.JSONDecodeError:
        on_error(where, "not JSON: skipped")
        return None
    if not isinstance(summary, dict):
        on_error(where, "not an object: skipped")
        return None
    missing = [key for key in REQUIRED if key not in summary]
    if missing or not isinstance(summary.get("source"), str):
        on_error(where, f"not an application's facts (no {', '.join(missing) or 'source'})")
        return None
    if not isinstance(summary["glue"], dict):
        summary["glue"] = {}
    return redact_value(summary)  # written by another program: redacted at this door too
