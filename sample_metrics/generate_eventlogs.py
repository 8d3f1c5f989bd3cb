"""Produce real Spark event logs for the sample fleet by running real PySpark jobs.

    pip install 'pyspark==3.5.4'      # needs Java 17
    python sample_metrics/generate_eventlogs.py [--only SCENARIO]

Reads the `eventlogs` list in MANIFEST.yaml (written by generate_fleet.py) and, for each entry,
runs the scenario's PySpark job in its own JVM with event logging on, then moves the log into
`eventlogs/<JobRunId>/`. The Glue identifiers are set as Spark properties, as Glue sets them
(`spark.glue.JOB_NAME`, `spark.glue.JOB_RUN_ID`). Logs are compressed with the codecs Spark
offers, and one uses the rolling layout. Timestamps are those of the real run (not shifted).
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent

# scenario -> (local[N] threads, codec, rolling, extra Spark conf)
SCENARIOS: dict[str, tuple[int, str, bool, dict[str, str]]] = {
    "healthy_etl": (2, "zstd", False, {}),
    "rolling_etl": (2, "zstd", True, {"spark.eventLog.rolling.maxFileSize": "10m"}),
    "over_provisioned": (16, "lzf", False, {}),
    "small_files": (2, "snappy", False, {}),
    "spill": (
        2,
        "lz4",
        False,
        {
            "spark.memory.fraction": "0.05",
            "spark.eventLog.logStageExecutorMetrics": "true",
            "spark.sql.shuffle.partitions": "8",
        },
    ),
    "skewed": (
        2,
        "zstd",
        False,
        {
            "spark.sql.adaptive.enabled": "false",
            "spark.sql.autoBroadcastJoinThreshold": "-1",
            "spark.sql.shuffle.partitions": "16",
        },
    ),
}


# ---- the PySpark jobs (run inside the child process) -------------------------------------------


def job_healthy_etl(spark, work: Path) -> None:
    from pyspark.sql import functions as F

    orders = spark.range(0, 2_000_000).select(
        F.col("id").alias("order_id"),
        (F.col("id") % 50_000).alias("customer_id"),
        (F.rand(7) * 500).alias("amount"),
        F.expr("date_add('2026-10-01', cast(id % 30 as int))").alias("day"),
    )
    customers = spark.range(0, 50_000).select(
        F.col("id").alias("customer_id"), (F.col("id") % 12).alias("segment")
    )
    daily = (
        orders.join(customers, "customer_id")
        .groupBy("day", "segment")
        .agg(F.sum("amount").alias("revenue"), F.count("*").alias("orders"))
    )
    daily.write.mode("overwrite").partitionBy("day").parquet(str(work / "daily"))
    spark.read.parquet(str(work / "daily")).agg(F.sum("revenue")).collect()


def job_rolling_etl(spark, work: Path) -> None:
    from pyspark.sql import functions as F

    returns = spark.range(0, 600_000, numPartitions=400).select(
        F.col("id"), (F.col("id") % 997).alias("sku"), (F.rand(3) * 80).alias("refund")
    )
    returns.groupBy("sku").agg(F.sum("refund")).write.mode("overwrite").parquet(str(work / "r"))
    spark.read.parquet(str(work / "r")).count()


def job_over_provisioned(spark, work: Path) -> None:
    from pyspark.sql import functions as F

    df = spark.range(0, 300_000, numPartitions=4).select(
        (F.col("id") % 40).alias("channel"), (F.rand(5) * 10).alias("touch_value")
    )
    df.groupBy("channel").agg(F.sum("touch_value")).write.mode("overwrite").parquet(str(work / "a"))


def job_small_files(spark, work: Path) -> None:
    from pyspark.sql import functions as F

    src = work / "access_logs"
    src.mkdir()
    rng = random.Random(11)
    for i in range(1500):
        lines = [
            json.dumps(
                {
                    "ts": f"2026-11-{1 + i % 27:02d}T{rng.randint(0, 23):02d}:00:00Z",
                    "path": f"/p/{rng.randint(0, 300)}",
                    "status": rng.choice([200, 200, 404]),
                    "bytes": rng.randint(200, 90_000),
                }
            )
            for _ in range(rng.randint(3, 12))
        ]
        (src / f"part-{i:05d}.json").write_text("\n".join(lines) + "\n")
    logs = spark.read.json(str(src))
    logs.groupBy("status").agg(F.sum("bytes")).write.mode("overwrite").parquet(str(work / "agg"))
    logs.write.mode("overwrite").partitionBy("status").json(str(work / "rewritten"))


def job_spill(spark, work: Path) -> None:
    from pyspark.sql import functions as F

    sales = spark.range(0, 3_000_000, numPartitions=4).select(
        (F.col("id") % 400_000).alias("store_item"),
        (F.rand(9) * 100).alias("qty"),
        F.sha2(F.col("id").cast("string"), 256).alias("txn"),
    )
    agg = sales.groupBy("store_item").agg(
        F.sum("qty").alias("qty"), F.collect_list("txn").alias("txns")
    )
    agg.orderBy("qty").write.mode("overwrite").parquet(str(work / "s"))


def job_skewed(spark, work: Path) -> None:
    from pyspark.sql import functions as F

    events = spark.range(0, 2_000_000, numPartitions=8).select(
        F.when(F.rand(1) < 0.8, F.lit(0)).otherwise(F.col("id") % 5000).alias("user_id"),
        (F.rand(2) * 5).alias("score"),
    )
    users = spark.range(0, 5000).select(
        F.col("id").alias("user_id"), (F.col("id") % 7).alias("cohort")
    )
    joined = events.join(users, "user_id").groupBy("user_id", "cohort").agg(F.avg("score"))
    joined.write.mode("overwrite").parquet(str(work / "k"))


def run_child(scenario: str, job: str, run_id: str, out: Path) -> None:
    from pyspark.sql import SparkSession

    threads, codec, rolling, extra = SCENARIOS[scenario]
    logs = out / "logs"
    logs.mkdir(parents=True)
    builder = (
        SparkSession.builder.master(f"local[{threads}]")
        .appName(job)
        .config("spark.driver.memory", "1g")
        .config("spark.ui.enabled", "false")
        .config("spark.eventLog.enabled", "true")
        .config("spark.eventLog.dir", logs.as_uri())
        .config("spark.eventLog.compress", "true")
        .config("spark.eventLog.compression.codec", codec)
        .config("spark.eventLog.rolling.enabled", str(rolling).lower())
        .config("spark.glue.JOB_NAME", job)
        .config("spark.glue.JOB_RUN_ID", run_id)
    )
    for key, value in extra.items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    try:
        globals()[f"job_{scenario}"](spark, out)
    finally:
        spark.stop()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--only", help="run one scenario")
    parser.add_argument(
        "--child", nargs=4, metavar=("SCENARIO", "JOB", "RUN_ID", "OUT"), help=argparse.SUPPRESS
    )
    args = parser.parse_args()
    if args.child:
        scenario, job, run_id, out = args.child
        run_child(scenario, job, run_id, Path(out))
        return
    manifest = yaml.safe_load((HERE / "MANIFEST.yaml").read_text())
    for entry in manifest["eventlogs"]:
        if args.only and entry["scenario"] != args.only:
            continue
        with tempfile.TemporaryDirectory() as tmp:
            subprocess.run(
                [
                    sys.executable,
                    __file__,
                    "--child",
                    entry["scenario"],
                    entry["job"],
                    entry["run_id"],
                    tmp,
                ],
                check=True,
            )
            target = HERE / "eventlogs" / entry["run_id"]
            shutil.rmtree(target, ignore_errors=True)
            target.mkdir(parents=True)
            for produced in (Path(tmp) / "logs").iterdir():
                shutil.move(str(produced), target / produced.name)
            for checksum in target.rglob("*.crc"):  # Hadoop's local-filesystem checksums
                checksum.unlink()
            sizes = sum(p.stat().st_size for p in target.rglob("*") if p.is_file())
            name = f"{entry['scenario']:<18} {entry['job']:<28}"
            print(f"{name} {sizes / 1024:8.1f} KiB -> eventlogs/{target.name[:16]}...")


if __name__ == "__main__":
    main()
