"""`advisor reconcile`: AWS billing exports (CUR 2.0 CSV, gzip CSV, Parquet, and the legacy
report's column names) built from the sample fleet's own runs, hour by hour as AWS writes
them, with planted differences: a run AWS billed that is missing from the store, a deleted
job, a credit, a crawler and an interactive session, and a line of another service."""

from __future__ import annotations

import csv
import gzip
import json
import shutil
import subprocess
import sys
from collections import defaultdict
from datetime import datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from advisor.analysis.findings import analyze
from advisor.collect.cur import EXPORT_COLUMNS
from advisor.collect.importer import import_directory
from advisor.identity import split_key
from advisor.store import Store
from advisor.timeutil import parse_ts
from tests.conftest import SAMPLE

ACCOUNT, REGION = "123456789012", "us-east-1"
COLUMNS = EXPORT_COLUMNS
LEGACY = {c: c.replace("line_item_", "lineItem/").replace("product_", "product/") for c in COLUMNS}


def hourly_lines(runs: list[dict]) -> list[dict]:
    """One Usage line per job and clock hour, as a billing export has them: each run's cost
    and DPU-hours shared over the hours its billed seconds fall in."""
    cells: dict[tuple[str, datetime], list[float]] = defaultdict(lambda: [0.0, 0.0])
    for run in runs:
        start = parse_ts(run["started_on"])
        seconds = run["billed_seconds"] or run["execution_time_s"] or 1
        end = start + timedelta(seconds=seconds)
        at = start
        while at < end:
            hour = at.replace(minute=0, second=0, microsecond=0)
            upto = min(end, hour + timedelta(hours=1))
            share = (upto - at).total_seconds() / seconds
            cell = cells[(run["job_name"], hour)]
            cell[0] += run["cost_usd"] * share
            cell[1] += run["dpu_hours"] * share
            at = upto
    lines = []
    for (job, hour), (usd, dpu) in sorted(cells.items()):
        account, region, name = split_key(job)
        lines.append(
            line(
                f"{job}-{hour:%Y%m%d%H}",
                hour,
                "USE1-ETL-DPU-Hour",
                f"arn:aws:glue:{region}:{account}:job/{name}",
                dpu,
                usd,
            )
        )
    return lines


def line(ident, hour, usage_type, resource, amount, cost, line_type="Usage", product="AWSGlue"):
    return {
        "identity_line_item_id": ident,
        "identity_time_interval": f"{hour:%Y-%m-%dT%H}:00:00Z/{hour + timedelta(hours=1):%Y-%m-%dT%H}:00:00Z",
        "line_item_usage_account_id": ACCOUNT,
        "line_item_line_item_type": line_type,
        "line_item_usage_start_date": f"{hour:%Y-%m-%dT%H}:00:00Z",
        "line_item_usage_end_date": f"{hour + timedelta(hours=1):%Y-%m-%dT%H}:00:00Z",
        "line_item_product_code": product,
        "line_item_usage_type": usage_type,
        "line_item_operation": "Jobrun",
        "line_item_resource_id": resource,
        "line_item_usage_amount": round(amount, 8),
        "line_item_unblended_rate": 0.44,
        "line_item_unblended_cost": round(cost, 8),
        "product_region_code": REGION,
    }


@pytest.fixture(scope="module")
def billed(tmp_path_factory):
    """The sample fleet analysed, its November billed from its own runs but for one run; the
    export split into CSV (legacy names), gzip CSV and Parquet, plus a file that is not one."""
    root = tmp_path_factory.mktemp("reconcile")
    fleet = root / "fleet"
    # the sample's runs and jobs; its own bill and other costs are tests/test_other_costs.py's
    shutil.copytree(
        SAMPLE,
        fleet,
        ignore=shutil.ignore_patterns(
            "billing", "crawls", "crawlers.json", "sessions.json", "dev-endpoints.json"
        ),
    )
    store = Store(root / "advisor.db")
    import_directory(store, fleet)
    analyze(store)
    runs = store.priced_runs_between("2026-11-01", "2026-12-01")
    runs = [r for r in runs if r["started_on"] >= "2026-11-01" and r["cost_usd"]]
    missing = max(runs, key=lambda r: r["cost_usd"])  # in the bill, not in the store's pricing
    billed_runs = [r for r in runs if r is not missing]
    lines = hourly_lines(billed_runs)
    # what the fleet's own runs do not explain
    hour = datetime(2026, 11, 10, 3, tzinfo=parse_ts("2026-11-10T00:00:00Z").tzinfo)
    lines += [
        line(
            "deleted",
            hour,
            "USE1-ETL-DPU-Hour",
            f"arn:aws:glue:{REGION}:{ACCOUNT}:job/gone_job",
            10,
            4.4,
        ),
        line("credit", hour, "USE1-ETL-DPU-Hour", "", 0, -50.0, line_type="Credit"),
        line(
            "crawl",
            hour,
            "USE1-Crawler-DPU-Hour",
            f"arn:aws:glue:{REGION}:{ACCOUNT}:crawler/raw_events",
            0.5,
            0.22,
        ),
        line(
            "session",
            hour,
            "USE1-GlueInteractiveSession-DPU-Hour",
            f"arn:aws:glue:{REGION}:{ACCOUNT}:session/s1",
            2,
            0.88,
        ),
        line("s3", hour, "USE1-Requests-Tier1", "my-bucket", 1000, 0.005, product="AmazonS3"),
    ]
    folder = fleet / "billing"
    folder.mkdir()
    thirds = [lines[0::3], lines[1::3], lines[2::3]]
    with open(folder / "legacy.csv", "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(LEGACY[c] for c in COLUMNS)
        writer.writerows([row[c] for c in COLUMNS] for row in thirds[0])
    with gzip.open(folder / "cur2-00001.csv.gz", "wt", newline="") as handle:
        writer = csv.DictWriter(handle, COLUMNS)
        writer.writeheader()
        writer.writerows(thirds[1])
    pq.write_table(pa.Table.from_pylist(thirds[2]), folder / "cur2-00002.parquet")
    (folder / "notes.csv").write_text("name,amount\nlunch,12\n")
    report = import_directory(store, fleet)
    store.close()
    return root, missing, report, len(lines) - 1  # the S3 line is not Glue's


def advisor(root: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "advisor", *args, "--db", str(root / "advisor.db")],
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_every_format_is_read_and_a_file_that_is_not_an_export_is_named(billed):
    root, _missing, report, glue_lines = billed
    assert report.billing_lines == glue_lines
    (error,) = [e for e in report.errors if "billing" in e["item"]]
    assert error["item"] == "billing/notes.csv" and "not an AWS billing export" in error["reason"]
    again = advisor(root, "import", str(root / "fleet"))
    assert again.returncode == 4 and "Traceback" not in again.stderr
    store = Store(root / "advisor.db")
    assert store.db["billing_lines"].count == glue_lines  # the same lines, not twice
    store.close()


def test_reconcile_names_each_difference_and_keeps_the_rest_apart(billed):
    root, missing, _report, _lines = billed
    done = advisor(root, "reconcile", "--month", "2026-11", "--format", "json")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["period"] == {"since": "2026-11-01", "until": "2026-12-01"}
    by_job = {j["job"]: j for j in result["jobs"]}
    short = by_job[missing["job_name"]]
    # the run the store prices but the bill lacks: computed more than billed, by its cost
    assert short["difference_usd"] == pytest.approx(-missing["cost_usd"], abs=0.02)
    assert (
        short["days_differing"] and short["days_differing"][0]["day"] == missing["started_on"][:10]
    )
    others = [j for j in result["jobs"] if j["job"] != missing["job_name"]]
    assert len(others) > 20
    assert all(abs(j["difference_usd"]) <= 0.01 * 30 and not j["days_differing"] for j in others)
    assert all(
        j["billed_dpu_hours"] == pytest.approx(j["computed_dpu_hours"], abs=0.01) for j in others
    )
    assert result["unknown_jobs"] == [
        {
            "resource_id": f"arn:aws:glue:{REGION}:{ACCOUNT}:job/gone_job",
            "account": ACCOUNT,
            "region": REGION,
            "billed_usd": 4.4,
        }
    ]
    assert {(o["category"], o["billed_usd"]) for o in result["other"]} == {
        ("crawler", 0.22),
        ("interactive_session", 0.88),
    }
    assert result["adjustments"] == [{"line_type": "Credit", "usd": -50.0}]
    totals = result["totals"]
    assert totals["unexplained_usd"] == pytest.approx(4.4 - missing["cost_usd"], abs=0.05)
    assert totals["billed_usd"] - totals["computed_usd"] == pytest.approx(
        totals["unexplained_usd"], abs=0.05
    )


def test_text_and_csv_say_the_same(billed):
    root, missing, _report, _lines = billed
    text = advisor(root, "reconcile", "--month", "2026-11")
    assert text.returncode == 0, text.stderr
    assert split_key(missing["job_name"])[2] in text.stdout
    for expected in ("gone_job", "Other Glue costs", "crawler", "Credit", "rounding"):
        assert expected in text.stdout
    table = advisor(root, "reconcile", "--month", "2026-11", "--format", "csv")
    rows = list(csv.DictReader(table.stdout.splitlines()))
    assert rows and set(rows[0]) >= {"job", "computed_usd", "billed_usd", "difference_usd"}
    short = next(r for r in rows if r["job"] == missing["job_name"])
    assert float(short["difference_usd"]) == pytest.approx(-missing["cost_usd"], abs=0.02)
    # dollars to the cent: no float noise from summing hourly lines
    for row in rows:
        for column in ("computed_usd", "billed_usd", "difference_usd"):
            assert "e" not in row[column] and len(row[column].partition(".")[2]) <= 2, row


def test_clear_errors_without_billing_data_or_with_a_bad_month(billed, tmp_path):
    root, *_ = billed
    bad = advisor(root, "reconcile", "--month", "November")
    assert bad.returncode == 2 and "YYYY-MM" in bad.stderr and "Traceback" not in bad.stderr
    empty = tmp_path / "empty.db"
    Store(empty).close()
    none = subprocess.run(
        [sys.executable, "-m", "advisor", "reconcile", "--db", str(empty)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert none.returncode == 2 and "no billing data" in none.stderr


def test_a_damaged_line_is_skipped_and_counted_the_rest_kept(tmp_path):
    folder = tmp_path / "fleet"
    (folder / "billing").mkdir(parents=True)
    hour = datetime(2026, 11, 2, 5, tzinfo=parse_ts("2026-11-02T00:00:00Z").tzinfo)
    good = line("a", hour, "USE1-ETL-DPU-Hour", f"arn:aws:glue:{REGION}:{ACCOUNT}:job/j", 1, 0.44)
    bad = {**good, "identity_line_item_id": "b", "line_item_unblended_cost": "n/a"}
    with open(folder / "billing" / "cur.csv", "w", newline="") as handle:
        writer = csv.DictWriter(handle, COLUMNS)
        writer.writeheader()
        writer.writerows([good, bad])
    store = Store(tmp_path / "advisor.db")
    report = import_directory(store, folder)
    assert report.billing_lines == 1
    (error,) = [e for e in report.errors if e["item"] == "billing/cur.csv"]
    # named as an editor numbers the file: the header is line 1
    assert "1 skipped" in error["reason"] and "line 3" in error["reason"]
    assert "n/a" not in error["reason"]  # what was rejected is named by its column, not quoted
    assert [r["cost"] for r in store.db["billing_lines"].rows] == [0.44]
    store.close()
