"""`advisor collect --eventlog-facts s3://bucket/prefix/`: event-log facts already reduced on
Spark (the facts-NNNNN.jsonl files `python -m advisor.spark_reduce` writes) read from S3 instead
of the logs, read-only (ListObjectsV2 and GetObject only).

Two steps around the collect, because the facts link to runs and the raw-log collector must
know which logs the facts stand for:
- fetch, before the accounts: every .jsonl object new or changed since the last collect (its
  ETag and size) is copied to a temporary file a chunk at a time; the logs its lines name are
  `covered`, and the event-log collector reads no covered log (`covers`).
- load, after the accounts: each file in key order (a later facts-NNNNN replaces an earlier
  one's lines for the same application) through the importer `advisor import-facts` uses,
  linked to the runs just collected. A bad line or file is reported, the others are kept.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from advisor.collect.billing_s3 import split_s3_url
from advisor.collect.eventlog_link import already_reduced
from advisor.collect.facts_import import import_facts_file, iter_facts
from advisor.sparklog.reader import EventLog
from advisor.store import Store

STATE_SOURCE = "eventlog_facts"  # collect_state: a facts object's "ETag size" when loaded
SUFFIX = ".jsonl"
CHUNK = 8 << 20


@dataclass
class FactsFile:
    url: str
    path: Path  # the local copy
    version: str  # ETag and size: a changed object is read again


@dataclass
class FactsFetch:
    """The facts objects read this collect and the logs they stand for."""

    url: str
    folder: Path
    files: list[FactsFile] = field(default_factory=list)
    covered: set[str] = field(default_factory=set)  # log locations the new facts name
    unchanged: int = 0  # objects loaded by an earlier collect, not read again
    apps: int = 0
    linked: int = 0

    def covers(self, store: Store, log: EventLog) -> bool:
        """Whether facts stand for this log: named by this collect's facts, or loaded by an
        earlier one at its current size (facts loaded for no single place are keyed by the
        log's location alone, which the event-log collector's own check does not see)."""
        return log.location in self.covered or already_reduced(store, log.location, log.size)

    def close(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)

    def as_dict(self) -> dict[str, Any]:
        return {
            "url": self.url,
            "files": len(self.files),
            "unchanged": self.unchanged,
            "applications": self.apps,
            "linked": self.linked,
        }


def fetch_facts(
    store: Store, s3: Any, url: str, record: Callable[[str, str, Exception], None]
) -> FactsFetch:
    """List the prefix and copy what is new; `record(source, item, exc)` hears of a listing
    or an object that could not be read (the rest goes on)."""
    bucket, prefix = split_s3_url(url)
    fetch = FactsFetch(url, Path(tempfile.mkdtemp(prefix="advisor-facts-")))
    try:
        objects = [
            obj
            for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
            for obj in page.get("Contents", [])
            if obj["Key"].endswith(SUFFIX)
        ]
    except (ClientError, BotoCoreError) as exc:
        record("s3", f"{url} (ListObjectsV2)", exc)
        return fetch
    for number, obj in enumerate(sorted(objects, key=lambda o: o["Key"])):
        where = f"s3://{bucket}/{obj['Key']}"
        version = f"{obj.get('ETag', '')} {obj['Size']}"
        if store.get_state(STATE_SOURCE, where) == version:
            fetch.unchanged += 1
            continue
        local = fetch.folder / f"{number:06d}{SUFFIX}"  # keys may repeat a base name
        try:
            body = s3.get_object(Bucket=bucket, Key=obj["Key"])["Body"]
            with local.open("wb") as handle:
                for chunk in iter(lambda b=body: b.read(CHUNK), b""):
                    handle.write(chunk)
        except (ClientError, BotoCoreError, OSError) as exc:
            record("s3", where, exc)
            local.unlink(missing_ok=True)
            continue
        with local.open("rb") as handle:  # what they name; their faults are told on load
            fetch.covered.update(s["source"] for s in iter_facts(handle, where, _quiet))
        fetch.files.append(FactsFile(where, local, version))
    return fetch


def load_facts(
    store: Store,
    fetch: FactsFetch,
    *,
    at: str,
    place: tuple[str, str] | None,
    on_error: Callable[[str, str], None],
) -> None:
    """Store every fetched file's applications, linked to their runs (in `place` when the
    collect had one); `on_error(item, reason)` hears of each line skipped."""
    for facts in fetch.files:
        try:
            stored, linked = import_facts_file(
                store, facts.path, at=at, place=place, on_error=on_error, label=facts.url
            )
        except OSError as exc:
            on_error(facts.url, f"cannot read its copy: {exc.strerror or exc}")
            continue
        fetch.apps += stored
        fetch.linked += linked
        with store.transaction():  # loaded: the next collect does not read it again
            store.set_state(STATE_SOURCE, facts.url, facts.version, at)


def _quiet(_item: str, _reason: str) -> None:
    """The fetch's scan only learns what the facts name; load reports their faults once."""
