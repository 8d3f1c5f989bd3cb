"""Close the loop between findings and the changes that carried them out.

A finding whose fix was applied stops firing and is resolved. When a configuration change of its
job set exactly the fields the finding asked for (advisor/analysis/changes.py::match_findings),
the finding is marked fixed by that change: `findings.fixed_by` keeps when, what was predicted
and what the runs since say was realised (with its interval and status), so every output can
put the realised saving beside the predicted one. Only jobs with such resolved findings are
read (resolved in the last 90 days, or fixed too recently to judge), so an analysis pays for
this only when something was resolved.
"""

from __future__ import annotations

from typing import Any

from advisor.analysis.changes import changes_in_store
from advisor.store import Store
from advisor.store.base import to_json


def mark_fixed(store: Store) -> int:
    """Mark (again) every resolved finding some change carried out; returns how many."""
    # a finding resolved in the last 90 days and not yet fixed, or fixed too early to say
    rows = list(
        store.db.query(
            "select id, job_name from findings where status = 'resolved' "
            "and change is not null and change != '{}' and ("
            "(fixed_by is null and resolved_at >= (select datetime(max(started_on), '-90 days') "
            "from job_runs)) or json_extract(fixed_by, '$.status') = 'too_early')"
        )
    )
    if not rows:
        return 0
    ids = {row["id"] for row in rows}
    marks: dict[str, dict[str, Any]] = {}
    for change in changes_in_store(store, sorted({row["job_name"] for row in rows})):
        match = change.finding
        if not match or match.get("id") not in ids:
            continue
        marks[match["id"]] = {  # the newest change that carried it out wins
            "changed_at": change.changed_at,
            "fields": {k: list(v) for k, v in change.fields.items()},
            "predicted_usd_month": change.predicted_usd_month,
            "realised_usd_month": change.realised_usd_month,
            "interval_usd_month": change.interval_usd_month,
            "status": change.status,
        }
    with store.transaction():
        store.db.conn.executemany(
            "update findings set fixed_by = ? where id = ?",
            [(to_json(mark), finding) for finding, mark in marks.items()],
        )
    return len(marks)
