"""Entry points of the reducer: reduce one log (serially, or on every core when it is big) and
summarise paths. Logs and paths in, facts out: nothing here reads or writes the store (storing
an application's facts is advisor/collect/eventlog_store.py's job)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from advisor.collect.redact import redact_value
from advisor.sparklog.parallel import default_workers, reduce_parallel, worth_parallel
from advisor.sparklog.parse import AppReducer
from advisor.sparklog.reader import EventLog, Problems, find_logs, iter_line_blocks
from advisor.sparklog.summary import summarize


def reduce_log(
    log: EventLog,
    *,
    s3: Any = None,
    on_bytes: Callable[[int], None] | None = None,
    problems: Problems | None = None,
    workers: int | None = None,
) -> AppReducer:
    """Read every line of one application's log through the reducer (on every core if big)."""
    problems = problems or Problems()
    workers = default_workers() if workers is None else workers
    if worth_parallel(log, workers):
        return reduce_parallel(log, problems, workers=workers, s3=s3, on_bytes=on_bytes)
    reducer = AppReducer(log.location, problems, in_progress=log.in_progress)
    for block in iter_line_blocks(log, problems, s3=s3, on_bytes=on_bytes):
        reducer.feed_lines(block.lines, block.part.location, block.first, block.unterminated)
    return reducer


def discover(
    paths: list[str], s3_factory: Callable[[], Any] | None = None
) -> tuple[list[EventLog], Any]:
    s3 = s3_factory() if s3_factory and any(p.startswith("s3://") for p in paths) else None
    logs: list[EventLog] = []
    for path in paths:
        logs.extend(find_logs(path, s3))
    return logs, s3


def summarize_paths(
    paths: list[str],
    *,
    s3_factory: Callable[[], Any] | None = None,
    on_total: Callable[[int], None] | None = None,
    on_bytes: Callable[[int], None] | None = None,
) -> list[dict[str, Any]]:
    logs, s3 = discover(paths, s3_factory)
    if on_total:
        on_total(sum(log.size for log in logs))
    summaries = []
    for log in logs:
        summary = summarize(reduce_log(log, s3=s3, on_bytes=on_bytes))
        summary["source"] = log.location
        # printed, never stored, but a door all the same: Spark properties and failure
        # messages carry passwords, as they do on the way into the store
        summaries.append(redact_value(summary))
    return summaries
