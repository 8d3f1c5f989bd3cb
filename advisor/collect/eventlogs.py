"""Fetch Spark event logs from each job's --spark-event-logs-path on S3 and reduce new ones.

A prefix shared by many jobs is listed once per collect; a log already reduced at its current
size is skipped without a GetObject, so a re-collect reads only new (or grown) logs. So is a log
that `skip` says is accounted for otherwise (facts reduced on Spark, collect/facts_s3.py).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from advisor.collect.eventlog_store import reduce_into_store
from advisor.collect.resource_records import SESSION
from advisor.identity import UNKNOWN_ACCOUNT, UNKNOWN_REGION, job_key
from advisor.jobargs import event_log_path
from advisor.sparklog.reader import EventLog, find_s3
from advisor.store import Store
from advisor.timeutil import iso

log = logging.getLogger(__name__)


class EventLogCollector:
    def __init__(
        self,
        store: Store,
        s3: Any,
        *,
        now: datetime,
        account: str | None = None,
        region: str | None = None,
        skip: Callable[[EventLog], bool] | None = None,
    ):
        self.store, self.s3, self.at = store, s3, iso(now)
        self.skip = skip
        self.account, self.region = account, region
        self.listed: dict[str, list[EventLog]] = {}
        self.apps = 0

    def collect_job(self, job_name: str) -> int:
        """Reduce the new logs under the event-log path of the job with this Glue name."""
        key = job_key(self.account, self.region, job_name)
        path = event_log_path(self.store.job_default_arguments(key))
        if path is None:
            return 0
        return self.collect_path(path)

    def collect_path(self, path: str) -> int:
        """Reduce the new logs under an S3 event-log prefix (a job's, or an interactive
        session's %%configure --spark-event-logs-path); each prefix is listed once."""
        if not path.startswith("s3://"):
            return 0
        if path not in self.listed:
            self.listed[path] = find_s3(path.rstrip("/") + "/", self.s3)
        linked = 0
        for event_log in self.listed[path]:
            if self.skip is not None and self.skip(event_log):
                continue
            place = (self.account or UNKNOWN_ACCOUNT, self.region or UNKNOWN_REGION)
            if reduce_into_store(self.store, event_log, at=self.at, s3=self.s3, place=place):
                linked += 1
        self.apps += linked
        return linked


def session_event_log_paths(
    store: Store, account: str | None, region: str | None
) -> list[tuple[str, str]]:
    """(session id, S3 prefix) of the place's interactive sessions that write event logs
    (`%%configure {"--enable-spark-ui": "true", "--spark-event-logs-path": "s3://..."}`)."""
    place = (account or UNKNOWN_ACCOUNT, region or UNKNOWN_REGION)
    out = []
    for session in store.glue_resources(SESSION):
        if (session["account"], session["region"]) != place:
            continue
        arguments = session["definition"].get("DefaultArguments") or {}
        path = event_log_path(arguments) if isinstance(arguments, dict) else None
        if path:
            out.append((session["name"], path))
    return out
