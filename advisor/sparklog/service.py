"""Entry points over the reader and reducer: summarise paths (CLI), reduce a run's logs (store)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from advisor.collect.redact import redact_value
from advisor.sparklog.link import already_reduced, store_summary
from advisor.sparklog.parse import reduce_log
from advisor.sparklog.reader import EventLog, find_logs
from advisor.sparklog.summary import summarize
from advisor.store import Store


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


def reduce_into_store(
    store: Store,
    log: EventLog,
    *,
    at: str,
    s3: Any = None,
    folder_run_id: str | None = None,
    on_bytes: Callable[[int], None] | None = None,
    on_problem: Callable[[str, str], None] | None = None,
) -> str | None:
    """Reduce one log (unless already done at this size), link it and store its facts;
    `on_problem(location, reason)` hears of a damaged log (what could be read is kept)."""
    if already_reduced(store, log.location, log.size):
        return None
    summary = summarize(reduce_log(log, s3=s3, on_bytes=on_bytes))
    summary["source"] = log.location
    if summary["problems"] and on_problem is not None:
        skipped = ", ".join(f"{what} {count}" for what, count in summary["problems"].items())
        on_problem(log.location, f"damaged event log ({skipped}): the rest was reduced")
    elif not summary["complete"] and not log.in_progress and on_problem is not None:
        # no application end, yet not named .inprogress: cut at a line boundary, or its
        # driver died; the facts are partial and the user should know
        on_problem(
            log.location,
            "incomplete event log: it ends before its application does and is not marked "
            "in progress; what it holds was reduced",
        )
    return store_summary(store, summary, size=log.size, at=at, folder_run_id=folder_run_id)
