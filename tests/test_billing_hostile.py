"""Damaged billing exports: every line that cannot be read or holds no plausible amount is named
by its line and skipped (exit 4), every other line is kept, and nothing aborts the import or
prints a traceback."""

from __future__ import annotations

import csv
import gzip
import io
from datetime import date
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from click.testing import CliRunner

from advisor.cli import main
from advisor.collect.cur import EXPORT_COLUMNS
from advisor.store import Store

ACCOUNT, REGION = "123456789012", "us-east-1"


def line(hour: int, cost: str = "0.88", resource: str = "orders") -> dict[str, str]:
    start = f"2026-11-10T{hour:02d}:00:00Z"
    values = {
        "identity_line_item_id": f"l{hour}-{resource[:8]}",
        "identity_time_interval": start,
        "line_item_usage_account_id": ACCOUNT,
        "line_item_line_item_type": "Usage",
        "line_item_usage_start_date": start,
        "line_item_usage_end_date": f"2026-11-10T{hour:02d}:59:59Z",
        "line_item_product_code": "AWSGlue",
        "line_item_usage_type": "USE1-ETL-DPU-Hour",
        "line_item_operation": "Jobrun",
        "line_item_resource_id": f"arn:aws:glue:{REGION}:{ACCOUNT}:job/{resource}",
        "line_item_usage_amount": "2",
        "line_item_unblended_rate": "0.44",
        "line_item_unblended_cost": cost,
        "product_region_code": REGION,
    }
    return {c: values.get(c, "") for c in EXPORT_COLUMNS}


def csv_bytes(rows: list[dict[str, str]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=EXPORT_COLUMNS)
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue().encode()


def imported(folder: Path, tmp_path: Path):
    db = tmp_path / "a.db"
    result = CliRunner().invoke(main, ["import", str(folder), "--db", str(db)])
    assert "Traceback" not in result.output
    rows = list(Store(db).db["billing_lines"].rows)
    return result, rows


def test_bad_lines_are_skipped_by_number_and_the_rest_kept(tmp_path):
    folder = tmp_path / "in" / "billing"
    folder.mkdir(parents=True)
    good = [line(h) for h in range(6)]
    bad_costs = [line(10, "nan"), line(11, "inf"), line(12, "-inf"), line(13, "1e308")]
    body = csv_bytes(good[:3] + bad_costs + [line(14, resource="x" * 200_000)] + good[3:])
    # a byte that is not UTF-8 in one line, after the others
    body += (
        csv_bytes([line(20, resource="caf\u00e9")])
        .split(b"\n", 1)[1]
        .replace("\u00e9".encode(), b"\xe9")
    )
    (folder / "cur.csv").write_bytes(body)
    result, rows = imported(tmp_path / "in", tmp_path)
    assert result.exit_code == 4, result.output
    assert len(rows) == 6 and all(r["cost"] == 0.88 for r in rows)
    # named as an editor numbers the file: the header is line 1, the first bad line is 5
    assert "skipped" in result.output and "line 5:" in result.output
    reconcile = CliRunner().invoke(
        main, ["reconcile", "--db", str(tmp_path / "a.db"), "--month", "2026-11"]
    )
    assert "nan" not in reconcile.output.lower() and "inf" not in reconcile.output.lower()


def test_a_quote_never_closed_loses_only_its_own_line(tmp_path):
    folder = tmp_path / "in" / "billing"
    folder.mkdir(parents=True)
    lines = [line(h % 24, resource=f"job{h}") for h in range(40)]
    # no column of an export holds a line break: a quote that closes on the next line was not
    # meant to open a field, so the line after it is read on its own (here it is complete)
    lines[20]["identity_line_item_id"] = "two\nlines"
    rows = csv_bytes(lines).split(b"\n")
    # line 6 opens a quote it never closes, mid-file; the last but one line opens one too
    rows[5] = b'"' + rows[5]
    rows[-3] = rows[-3].replace(b",arn:", b',"arn:')
    # (rows[21:23] are the two lines of job20) a line with a comma too many, then a blank line
    rows[30] = rows[30].replace(b"Jobrun", b"Job,run") + b"\n"
    (folder / "cur.csv").write_bytes(b"\n".join(rows))
    result, kept = imported(tmp_path / "in", tmp_path)
    assert result.exit_code == 4, result.output
    assert sorted(r["resource_id"].rsplit("/", 1)[1] for r in kept) == sorted(
        f"job{h}" for h in range(40) if h not in (4, 28, 38)
    )
    said = " ".join(r["reason"] for r in Store(tmp_path / "a.db").db["ingest_errors"].rows)
    assert "line 6: a quote" in said and "not closed on it" in said
    assert "line 22: a quote" in said
    # lines keep the numbers an editor shows
    assert "line 31: holds 15 values where the header names 14" in said
    assert "line 42: a quote" in said


def test_a_quote_near_the_end_or_a_pair_of_them_loses_no_line_between(tmp_path):
    """Python's csv reads a quote left open to the end of the file as one field, and two stray
    quotes in one column as one field holding the lines between: neither may swallow lines."""
    folder = tmp_path / "in" / "billing"
    folder.mkdir(parents=True)
    rows = csv_bytes([line(h, resource=f"job{h}") for h in range(8)]).split(b"\n")
    rows[2] = rows[2].replace(b",us-east-1", b',"us-east-1')  # job1, line 3: the last column
    rows[5] = rows[5].replace(b",us-east-1", b',us-east-1"')  # job4, line 6, the same column
    rows[-2] = rows[-2].replace(b",us-east-1", b',"us-east-1')  # job7, the last line
    # a blank line before the header, which is read all the same
    (folder / "cur.csv").write_bytes(b"\n" + b"\n".join(rows))
    result, kept = imported(tmp_path / "in", tmp_path)
    assert result.exit_code == 4, result.output
    assert sorted(r["resource_id"].rsplit("/", 1)[1] for r in kept) == [
        f"job{h}" for h in (0, 2, 3, 4, 5, 6)
    ]
    said = " ".join(r["reason"] for r in Store(tmp_path / "a.db").db["ingest_errors"].rows)
    assert "line 4: a quote" in said and "line 10: a quote" in said


def test_a_line_too_long_to_hold_is_skipped_unread(tmp_path):
    folder = tmp_path / "in" / "billing"
    folder.mkdir(parents=True)
    rows = csv_bytes([line(h, resource=f"job{h}") for h in range(3)]).split(b"\n")
    rows.insert(2, b"x" * (3 << 20))  # 3 MiB and no line feed until its end
    (folder / "cur.csv").write_bytes(b"\n".join(rows))
    result, kept = imported(tmp_path / "in", tmp_path)
    assert result.exit_code == 4, result.output
    assert len(kept) == 3
    said = " ".join(r["reason"] for r in Store(tmp_path / "a.db").db["ingest_errors"].rows)
    assert "line 3: longer than 1,048,576 characters" in said


def test_a_truncated_gzip_keeps_the_lines_before_the_cut(tmp_path):
    folder = tmp_path / "in" / "billing"
    folder.mkdir(parents=True)
    whole = gzip.compress(csv_bytes([line(h % 24, resource=f"job{h}") for h in range(3000)]))
    (folder / "cur.csv.gz").write_bytes(whole[: int(len(whole) * 0.8)])
    result, rows = imported(tmp_path / "in", tmp_path)
    assert result.exit_code == 4, result.output
    assert 1000 < len(rows) < 3000
    assert "ends early" in result.output


def test_parquet_dates_without_a_time_and_non_finite_costs(tmp_path):
    folder = tmp_path / "in" / "billing"
    folder.mkdir(parents=True)
    rows = [line(h) for h in range(4)]
    table = {c: [r[c] for r in rows] for c in EXPORT_COLUMNS}
    table["line_item_usage_start_date"] = [date(2026, 11, 10 + i) for i in range(4)]
    table["line_item_unblended_cost"] = [0.88, float("nan"), float("inf"), 0.88]
    pq.write_table(pa.table(table), folder / "cur.parquet")
    result, stored = imported(tmp_path / "in", tmp_path)
    assert result.exit_code == 4, result.output
    assert sorted(r["usage_start"][:10] for r in stored) == ["2026-11-10", "2026-11-13"]
