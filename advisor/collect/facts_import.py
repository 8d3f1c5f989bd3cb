"""Load reduced event-log facts (the JSON lines advisor/spark_reduce.py writes, one application a
line) into the store, linked to their runs as a reduced log is, without reading a log again.

A line that is not JSON, not an object, or not an application's facts is reported by its file and
line number and skipped; the others load. Lines are read one at a time and bounded in size.
"""

from __future__ import annotations

import re
import sqlite3
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
            try:
                run = store_summary(
                    store,
                    summary,
                    size=size if isinstance(size, int) and size >= 0 else 0,
                    at=at,
                    folder_run_id=_run_in_path(store, summary["source"], place),
                    place=place,
                )
            except (TypeError, ValueError, KeyError, OverflowError, sqlite3.Error) as exc:
                # a shape shape_problem did not foresee: this application only, rolled back
                on_error(
                    f"{label or path.name}: {summary['source'][:200]}",
                    f"facts that cannot be stored ({type(exc).__name__}): skipped",
                )
                continue
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
    problem = shape_problem(summary)
    if problem:
        on_error(where, f"not an application's facts ({problem}): skipped")
        return None
    return redact_value(summary)  # written by another program: redacted at this door too


_LONG = (-(2**63), 2**63 - 1)  # Spark's numbers are Java longs; SQLite stores no more
_ROWS = ("stage_list", "executor_list", "sql_executions")
_MAPS = ("properties", "problems", "failure_reasons", "failure_examples")
_LISTS = ("data_loss_reasons", "job_spans", "problem_examples")


def shape_problem(summary: dict[str, Any]) -> str | None:
    """Why these facts cannot be stored as an application's, or None. Fills what a reducer
    leaves out (no stages: an empty list), never guesses at a wrong type."""
    for key in _ROWS:
        rows = summary.setdefault(key, [])
        if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
            return f"{key} is not a list of objects"
    for stage in summary["stage_list"]:
        stage.setdefault("parent_ids", [])
        stage.setdefault("task_ms_profile", [])
        if not isinstance(stage["parent_ids"], list) or not isinstance(
            stage["task_ms_profile"], list
        ):
            return "a stage's parent_ids or task_ms_profile is not a list"
    for key in ("complete", "data_loss"):
        if not isinstance(summary.get(key, False), bool):
            return f"{key} is not true or false"
    for key in _MAPS:
        if not isinstance(summary.setdefault(key, {}), dict):
            return f"{key} is not an object"
    for key in _LISTS:
        if not isinstance(summary.setdefault(key, []), list):
            return f"{key} is not a list"
    scalars = [v for v in summary.values() if not isinstance(v, dict | list)]
    scalars += [v for key in _ROWS for row in summary[key] for v in row.values()]
    for value in scalars:
        if isinstance(value, bool) or not isinstance(value, int | float):
            continue
        if value != value or not _LONG[0] <= value <= _LONG[1]:  # NaN, infinities, 1e30
            return f"a number no Spark counter can hold ({str(value)[:24]})"
    return None
