"""Reduce a run's event log into the store: skip a log already reduced at its size, report a
damaged or cut-off log, link the application to its Glue run and store its facts."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from advisor.collect.eventlog_link import already_reduced, store_summary
from advisor.sparklog.reader import EventLog
from advisor.sparklog.reduce import reduce_log
from advisor.sparklog.summary import summarize
from advisor.store import Store


def reduce_into_store(
    store: Store,
    log: EventLog,
    *,
    at: str,
    s3: Any = None,
    folder_run_id: str | None = None,
    place: tuple[str, str] | None = None,
    on_bytes: Callable[[int], None] | None = None,
    on_problem: Callable[[str, str], None] | None = None,
) -> str | None:
    """Reduce one log (unless already done at this size), link it and store its facts;
    `on_problem(location, reason)` hears of a damaged log (what could be read is kept)."""
    if already_reduced(store, log.location, log.size, place):
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
    return store_summary(
        store, summary, size=log.size, at=at, folder_run_id=folder_run_id, place=place
    )
