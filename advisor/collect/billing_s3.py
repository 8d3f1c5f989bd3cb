"""`advisor collect --billing s3://bucket/prefix/`: read an AWS Data Exports (CUR 2.0) export
from S3, read-only (ListObjectsV2 and GetObject only).

Every object under the prefix whose name is a billing file (.csv, .csv.gz, .parquet) is copied to
a temporary file, a chunk at a time, and read as `advisor import` reads DIR/billing/: memory stays
bounded whatever the export's size. An export's manifests and metadata are passed over. An object
that is not a billing export, or has damaged lines, is reported; the others are kept.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from advisor.collect.cur import (
    SUFFIXES,
    BillingRead,
    NotBillingExport,
    describe,
    read_billing_file,
)
from advisor.store import Store

CHUNK = 8 << 20


@dataclass
class BillingCollect:
    files: int = 0
    lines: int = 0
    problems: list[str] = field(default_factory=list)


def split_s3_url(url: str) -> tuple[str, str]:
    """(bucket, prefix) of s3://bucket/prefix/; ValueError names what is wrong."""
    if not url.startswith("s3://") or len(url) <= len("s3://"):
        raise ValueError(f"expected s3://bucket/prefix/, got {url!r}")
    bucket, _, prefix = url[len("s3://") :].partition("/")
    if not bucket:
        raise ValueError(f"no bucket in {url!r}")
    return bucket, prefix


def collect_billing(
    store: Store, s3: Any, url: str, record: Callable[[str, str, Exception], None]
) -> BillingCollect:
    bucket, prefix = split_s3_url(url)
    report = BillingCollect()
    keys = [
        obj["Key"]
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
        for obj in page.get("Contents", [])
        if obj["Key"].lower().endswith(SUFFIXES)
    ]
    with tempfile.TemporaryDirectory(prefix="advisor-billing-") as folder:
        for key in sorted(keys):
            where = f"s3://{bucket}/{key}"
            local = Path(folder) / Path(key).name
            try:
                body = s3.get_object(Bucket=bucket, Key=key)["Body"]
                with local.open("wb") as handle:
                    for chunk in iter(lambda b=body: b.read(CHUNK), b""):
                        handle.write(chunk)
                read = BillingRead()
                for batch in read_billing_file(local, read, source=where):
                    with store.transaction():
                        store.upsert_billing_lines(batch)
            except (ClientError, BotoCoreError, NotBillingExport, OSError) as exc:
                record("billing", where, exc)
                report.problems.append(where)
                continue
            finally:
                local.unlink(missing_ok=True)
            report.files += 1
            report.lines += read.kept
            if read.skipped:
                record("billing", where, ValueError(describe(read)))
                report.problems.append(where)
    return report
