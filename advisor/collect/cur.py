"""AWS billing exports (Data Exports "CUR 2.0", and the legacy Cost and Usage Report) in:
CSV, gzip CSV or Parquet, read a batch at a time (bounded memory on any size), Glue lines only.

Columns are matched by their CUR 2.0 names (`line_item_usage_type`); the legacy report's
(`lineItem/UsageType`) are the same names in another spelling and are read too. A file without
the columns every export has is not a billing export: a clear error, nothing read. A line whose
date or amount cannot be read is skipped and counted, the file's other lines kept.

Each kept line is classified: `job` (ETL usage of a job: its resource is the job's ARN),
`crawler`, `interactive_session`, `dev_endpoint`, `data_catalog`, `data_quality`,
`optimization` or `other`; usage types carry a region prefix (`USE1-ETL-DPU-Hour`), which the
category does not depend on. Only `Usage` lines are usage: credits, refunds, taxes and
discounts are kept apart as adjustments.
"""

from __future__ import annotations

import csv
import gzip
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from advisor.identity import UNKNOWN_ACCOUNT, UNKNOWN_REGION, job_key
from advisor.store import stable_hash
from advisor.timeutil import stored_stamp

PRODUCT = "AWSGlue"
REQUIRED = (
    "line_item_usage_account_id",
    "line_item_line_item_type",
    "line_item_usage_start_date",
    "line_item_product_code",
    "line_item_usage_type",
    "line_item_unblended_cost",
)
OPTIONAL = (
    "line_item_usage_end_date",
    "line_item_operation",
    "line_item_resource_id",
    "line_item_usage_amount",
    "line_item_unblended_rate",
    "product_region_code",
    "identity_line_item_id",
    "identity_time_interval",
)
# the columns read, in the order a CUR 2.0 export writes them (what the sample's and the tests'
# exports are made of)
EXPORT_COLUMNS = (
    "identity_line_item_id",
    "identity_time_interval",
    "line_item_usage_account_id",
    "line_item_line_item_type",
    "line_item_usage_start_date",
    "line_item_usage_end_date",
    "line_item_product_code",
    "line_item_usage_type",
    "line_item_operation",
    "line_item_resource_id",
    "line_item_usage_amount",
    "line_item_unblended_rate",
    "line_item_unblended_cost",
    "product_region_code",
)
SUFFIXES = (".csv", ".csv.gz", ".parquet")
BATCH = 5000  # lines stored per transaction
SHOWN_REASONS = 20  # skipped lines named one by one in a file's message; the rest are counted
# what a usage type names, checked in this order (the region prefix aside)
CATEGORIES = (
    ("Crawler", "crawler"),
    ("InteractiveSession", "interactive_session"),
    ("DEVED", "dev_endpoint"),
    ("DevEndpoint", "dev_endpoint"),
    ("Catalog", "data_catalog"),
    ("DataQuality", "data_quality"),
    ("Optimization", "optimization"),
    ("Column-Statistics", "optimization"),
    ("ETL", "job"),
)
_ARN = re.compile(r"^arn:aws[a-z-]*:glue:([a-z0-9-]+):(\d{12}):([A-Za-z]+)/(.+)$")
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


class NotBillingExport(ValueError):
    """A file that is not an AWS billing export (the message says which columns it lacks)."""


@dataclass
class BillingRead:
    """What one file gave: Glue lines kept, lines of other services passed over, lines
    skipped (and why, the first few)."""

    kept: int = 0
    other_services: int = 0
    skipped: int = 0
    reasons: list[str] = field(default_factory=list)

    def skip(self, why: str) -> None:
        self.skipped += 1
        if len(self.reasons) < SHOWN_REASONS:
            self.reasons.append(why)


def is_billing_file(path: Path) -> bool:
    return path.name.lower().endswith(SUFFIXES)


def column_name(header: str) -> str:
    """The CUR 2.0 name of a column, from either spelling (`lineItem/UsageType` ->
    `line_item_usage_type`)."""
    name = header.strip().replace("/", "_")
    return _CAMEL.sub("_", name).lower()


def category(usage_type: str) -> str:
    for marker, name in CATEGORIES:
        if marker in usage_type:
            return name
    return "other"


def read_billing_file(
    path: Path, report: BillingRead, source: str | None = None
) -> Iterator[list[dict[str, Any]]]:
    """Batches of billing_lines rows of the Glue lines of `path` (named `source`, e.g. the
    S3 URL it was read from, else by its file name)."""
    name = path.name.lower()
    rows = _parquet_rows(path) if name.endswith(".parquet") else _csv_rows(path)
    batch: list[dict[str, Any]] = []
    # a CSV line is numbered as an editor shows it (its header is line 1); a Parquet row from 1
    where = "row" if name.endswith(".parquet") else "line"
    for number, raw in rows:
        if isinstance(raw, UnreadableLine):
            report.skip(f"{where} {number}: {raw.reason}")
            continue
        if (raw.get("line_item_product_code") or "") != PRODUCT:
            report.other_services += 1
            continue
        try:
            batch.append(_line(raw, source or path.name, number))
        except (TypeError, ValueError, OverflowError) as exc:
            report.skip(f"{where} {number}: {exc}")
            continue
        report.kept += 1
        if len(batch) >= BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


@dataclass
class UnreadableLine:
    """A line of a file that cannot be read: skipped and reported, the rest is read."""

    reason: str


_NOT_UTF8 = re.compile("[\udc80-\udcff]")  # bytes that are not UTF-8, kept by surrogateescape
# A billing line never spans lines: no column of an export holds a line break (tag values
# cannot), so a quote that does not close on its own line was never meant to open a field
LONGEST_LINE = 1 << 20  # characters read of one line; a longer one is skipped, unread
Numbered = tuple[int, dict[str, Any] | UnreadableLine]


class _SpansLines(Exception):
    """A record went on past the end of its line."""


class _LongLine(Exception):
    """A line longer than LONGEST_LINE (its rest was read past, never held)."""


class _PhysicalLines:
    """The file's lines for csv.reader, numbered as an editor numbers them (only a line feed
    ends a line), read LONGEST_LINE characters at most. A record may take one line: one that
    asks for the next is stopped, so its quote is reported and the lines after it read."""

    def __init__(self, handle: Any) -> None:
        self._handle = handle
        self.next_number = 1
        self.first: int | None = None  # the number of the record's line, once it is read
        self._started = False
        self._ended_line = True

    def __iter__(self) -> _PhysicalLines:
        return self

    def start_record(self) -> None:
        self.first, self._started = None, False

    def __next__(self) -> str:
        if self._started:
            raise _SpansLines
        self._started = True
        line = self._handle.readline(LONGEST_LINE)
        if not line:
            raise StopIteration
        self.first = self.next_number
        if len(line) >= LONGEST_LINE and not line.endswith("\n"):
            while line and not line.endswith("\n"):  # read past the rest, a piece at a time
                line = self._handle.readline(LONGEST_LINE)
            self.next_number += 1
            raise _LongLine
        # a lone carriage return ends a record for csv but not a line for an editor
        self.next_number += line.endswith("\n")
        return line


def _csv_rows(path: Path) -> Iterator[Numbered]:
    """Each line's number and values by column name; a line that cannot be read (not UTF-8, a
    field over the CSV limit, a quote it does not close, too long) is an UnreadableLine and the
    lines after it are read, and a file that ends early (a truncated gzip) keeps the lines
    before. Only a file whose header cannot be read is no export at all."""
    opener = gzip.open if path.name.lower().endswith(".gz") else open
    try:
        handle = opener(path, "rt", newline="", encoding="utf-8", errors="surrogateescape")
        lines = _PhysicalLines(handle)
        header: list[str] = []
        while not header:  # blank lines before the header are passed over
            lines.start_record()
            header = next(csv.reader(lines), None)
            if header is None:  # an empty file: no columns
                header = []
                break
        columns = _columns(header, path)
    except (OSError, UnicodeDecodeError, csv.Error, EOFError) as exc:
        raise NotBillingExport(f"cannot be read as CSV: {_why(exc)}") from None
    except (_SpansLines, _LongLine):
        raise NotBillingExport("cannot be read as CSV: its header is not one line") from None
    with handle:
        reader = csv.reader(lines)
        while True:
            lines.start_record()
            try:
                values = next(reader)
            except StopIteration:
                return
            except _SpansLines:
                # the quote opened on this line: only this line is lost
                yield (
                    lines.first or 0,
                    UnreadableLine(
                        'a quote (") opened on this line is not closed on it: skipped, the lines '
                        "after it are read"
                    ),
                )
                reader = csv.reader(lines)
                continue
            except _LongLine:
                yield (
                    lines.first or 0,
                    UnreadableLine(f"longer than {LONGEST_LINE:,} characters: skipped unread"),
                )
                continue
            except csv.Error as exc:
                yield lines.first or 0, UnreadableLine(f"not CSV ({exc}): skipped")
                reader = csv.reader(lines)
                continue
            except (OSError, EOFError) as exc:
                yield (
                    lines.first or lines.next_number,
                    UnreadableLine(
                        f"the file ends early ({_why(exc)}): the lines before it were kept"
                    ),
                )
                return
            number = lines.first or 0
            if values == []:
                continue  # a blank line holds nothing
            if len(values) != len(header):
                # a comma too many or too few shifts every value after it: no amount is safe
                yield (
                    number,
                    UnreadableLine(
                        f"holds {len(values)} values where the header names {len(header)} columns: "
                        "skipped"
                    ),
                )
                continue
            if any(_NOT_UTF8.search(v) for v in values):
                yield number, UnreadableLine("not UTF-8 text: skipped")
                continue
            if any("\x00" in v for v in values):
                yield number, UnreadableLine("holds a NUL byte: skipped")
                continue
            yield number, {name: values[i] for name, i in columns.items() if i < len(values)}


def _why(exc: BaseException) -> str:
    detail = str(exc).strip()
    return f"{type(exc).__name__}: {detail[:120]}" if detail else type(exc).__name__


def _parquet_rows(path: Path) -> Iterator[Numbered]:
    import pyarrow.parquet as pq  # only when a Parquet export is read

    try:
        parquet = pq.ParquetFile(path)
        columns = _columns(parquet.schema_arrow.names, path)
        wanted = list(columns.values())
        names = parquet.schema_arrow.names
        batches = parquet.iter_batches(batch_size=BATCH, columns=[names[i] for i in wanted])
    except NotBillingExport:
        raise
    except Exception as exc:  # pyarrow raises its own errors for a damaged file
        raise NotBillingExport(f"cannot be read as Parquet: {_why(exc)}") from None
    number = 0  # rows are numbered from 1
    while True:
        try:
            batch = next(batches, None)
        except Exception as exc:  # a damaged row group: what came before is kept
            yield (
                number + 1,
                UnreadableLine(
                    f"the file is damaged here ({_why(exc)}): the lines before it were kept"
                ),
            )
            return
        if batch is None:
            return
        data = batch.to_pydict()
        for i in range(batch.num_rows):
            number += 1
            yield number, {name: data[names[j]][i] for name, j in columns.items()}


def _columns(header: list[str], path: Path) -> dict[str, int]:
    """The position of each column read, by its CUR 2.0 name."""
    positions: dict[str, int] = {}
    for i, raw in enumerate(header):
        positions.setdefault(column_name(str(raw)), i)
    missing = [c for c in REQUIRED if c not in positions]
    if missing:
        raise NotBillingExport(
            f"not an AWS billing export (CUR 2.0 or Cost and Usage Report): no column "
            f"{', '.join(missing)}"
        )
    return {c: positions[c] for c in (*REQUIRED, *OPTIONAL) if c in positions}


MAX_AMOUNT = 1e12  # no line of a Glue bill comes near a trillion dollars or units


def _number(value: Any, column: str, required: bool = False) -> float | None:
    if value is None or value == "":
        if required:
            raise ValueError(f"no {column}")
        return None
    if isinstance(value, bool):
        raise ValueError(f"{column} is not a number")
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError):
        raise ValueError(f"{column} is not a number") from None
    if not math.isfinite(number) or abs(number) > MAX_AMOUNT:
        raise ValueError(f"{column} is not a plausible amount ({str(value)[:24]})")
    return number


def _stamp(value: Any, column: str) -> str | None:
    """A date or time column as ISO UTC; a Parquet date (no time) is its midnight."""
    if isinstance(value, date) and not isinstance(value, datetime):
        value = datetime(value.year, value.month, value.day, tzinfo=UTC)
    try:
        return stored_stamp(value)
    except (TypeError, ValueError, OverflowError) as exc:
        raise ValueError(f"{column} is not a date or time of a bill ({exc})") from None


def _line(raw: dict[str, Any], source: str, number: int) -> dict[str, Any]:
    start = _stamp(raw.get("line_item_usage_start_date"), "line_item_usage_start_date")
    if start is None:
        raise ValueError("no line_item_usage_start_date")
    end = _stamp(raw.get("line_item_usage_end_date") or None, "line_item_usage_end_date")
    usage_type = str(raw.get("line_item_usage_type") or "")
    resource = str(raw.get("line_item_resource_id") or "")
    account = str(raw.get("line_item_usage_account_id") or "") or UNKNOWN_ACCOUNT
    region = str(raw.get("product_region_code") or "")
    arn = _ARN.match(resource)
    if arn and not region:
        region = arn.group(1)
    kind = category(usage_type)
    job = None
    if arn and arn.group(3) == "job":
        kind = "job"  # ETL usage is a job's when its resource says so
        job = job_key(arn.group(2), arn.group(1), arn.group(4))
    elif kind == "job":
        kind = "other"  # ETL usage without a job to name (e.g. a session's ETL lines)
    line_type = str(raw.get("line_item_line_item_type") or "")
    identity = raw.get("identity_line_item_id")
    row = {
        "id": stable_hash(
            [identity, raw.get("identity_time_interval")]
            if identity
            else [source, number, sorted((k, str(v)) for k, v in raw.items())]
        ),
        "account": account,
        "region": region or UNKNOWN_REGION,
        "usage_start": start,
        "usage_end": end,
        "day": start[:10],
        "line_type": line_type,
        "usage_type": usage_type,
        "operation": str(raw.get("line_item_operation") or ""),
        "category": kind,
        "resource_id": resource,
        "job_name": job,
        "usage_amount": _number(raw.get("line_item_usage_amount"), "line_item_usage_amount"),
        "rate": _number(raw.get("line_item_unblended_rate"), "line_item_unblended_rate"),
        "cost": _number(raw.get("line_item_unblended_cost"), "line_item_unblended_cost", True),
        "source": source,
    }
    return row


def describe(read: BillingRead) -> str:
    """One line for the user: what a file gave."""
    text = f"{read.kept:,} Glue lines"
    if read.other_services:
        text += f", {read.other_services:,} lines of other services passed over"
    if read.skipped:
        more = read.skipped - len(read.reasons)
        rest = f"; and {more:,} more" if more > 0 else ""
        text += f", {read.skipped:,} skipped ({'; '.join(read.reasons)}{rest})"
    return text
