"""Produce real Spark event logs for the sample fleet by running real PySpark jobs.

    pip install 'pyspark==3.5.4'                             # needs Java 17
    python sample_metrics/generate_fleet.py                  # first: MANIFEST.yaml names the runs
    python sample_metrics/generate_eventlogs.py [--only SCENARIO]
    python sample_metrics/generate_eventlogs.py --only fraud_features   # the what-if flagship

Reads the `eventlogs` list in MANIFEST.yaml (written by generate_fleet.py) and, for each entry,
runs the scenario's PySpark job in its own JVM with event logging on, then moves the log into
`eventlogs/<JobRunId>/`. The Glue identifiers are set as Spark properties, as Glue sets them
(`spark.glue.JOB_NAME`, `spark.glue.JOB_RUN_ID`). Logs are compressed with the codecs Spark
offers, and one uses the rolling layout. Timestamps are those of the real run (not shifted).

Most scenarios run on `local[N]` (one JVM: the driver is the only executor), so their task
slots are not their job's and `advisor whatif` does not trust them. The what-if flagship
(`fraud_features`, for fraud_features_build on 3 x G.1X) runs on Spark's `local-cluster[2,4,3072]`:
two executor JVMs of 4 cores, the 2 x 4 = 8 task slots of 3 G.1X workers on Glue 4.0 (one worker
is the driver's), so `advisor whatif fraud_features_build` replays a run of the job's own
configuration and trusts it. `local-cluster` starts its executors from SPARK_HOME, which is set
to the pip-installed pyspark package when unset. Its input is written first by an unlogged
`local[2]` job (`prepare_<scenario>`). Spark's file splits and shuffle partitions are scaled down
with the data (16 MB for 128 and 64 MB) so that the sample's ~1 GB is read in as many waves of
tasks as the job's nightly 300 GB; fraud_features_build's runtime in fleet_spec.py is the
logged application's duration (the script prints both after the run).
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

# scenario -> (Spark master, codec, rolling, extra Spark conf)
SCENARIOS: dict[str, tuple[str, str, bool, dict[str, str]]] = {
    "healthy_etl": ("local[2]", "zstd", False, {}),
    "rolling_etl": ("local[2]", "zstd", True, {"spark.eventLog.rolling.maxFileSize": "10m"}),
    "over_provisioned": ("local[16]", "lzf", False, {}),
    "small_files": ("local[2]", "snappy", False, {}),
    "spill": (
        "local[2]",
        "lz4",
        False,
        {
            "spark.memory.fraction": "0.05",
            "spark.eventLog.logStageExecutorMetrics": "true",
            "spark.sql.shuffle.partitions": "8",
        },
    ),
    "skewed": (
        "local[2]",
        "zstd",
        False,
        {
            "spark.sql.adaptive.enabled": "false",
            "spark.sql.autoBroadcastJoinThreshold": "-1",
            "spark.sql.shuffle.partitions": "16",
        },
    ),
    # the what-if flagship: 2 executors x 4 cores = the 8 task slots of 3 x G.1X (Glue 4.0)
    "fraud_features": (
        "local-cluster[2,4,3072]",
        "zstd",
        False,
        {
            "spark.executor.memory": "3g",
            "spark.ui.showConsoleProgress": "false",
            # 16 MB splits and shuffle partitions for the sample's ~1 GB stand for 128 MB splits
            # and 64 MB partitions of the job's 300 GB: as many waves of tasks per slot
            "spark.sql.files.maxPartitionBytes": "16m",
            "spark.sql.adaptive.advisoryPartitionSizeInBytes": "16m",
            "spark.io.compression.zstd.level": "9",
        },
    ),
    # an interactive session of 10 x G.1X (Glue 4.0): 9 executors x 4 cores = 36 task slots,
    # used for a few small statements that never run more than 4 tasks at once
    "notebook_session": (
        "local-cluster[9,4,512]",
        "zstd",
        False,
        {
            "spark.executor.memory": "512m",
            "spark.ui.showConsoleProgress": "false",
            "spark.sql.shuffle.partitions": "4",
        },
    ),
}
# logs of interactive sessions: eventlogs/<SessionId>/, as Glue writes a session's event log
# to the --spark-event-logs-path its %%configure gives (generate_billing.py writes the session)
SESSION_LOGS = [
    {"scenario": "notebook_session", "job": "notebook-alice-3f2a", "run_id": "notebook-alice-3f2a"}
]
SESSION_IDS = {entry["run_id"] for entry in SESSION_LOGS}
FRAUD_TRANSACTIONS = 24_000_000
FRAUD_DAYS = 30


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


def job_notebook_session(spark, work: Path) -> None:
    """A person exploring a sample in a notebook: a statement, a pause to read it, the next."""
    import time

    from pyspark.sql import functions as F

    events = spark.range(0, 400_000, numPartitions=4).select(
        (F.col("id") % 365).alias("day"),
        (F.col("id") % 1000).alias("customer"),
        (F.rand(13) * 90).alias("amount"),
    )
    events.write.mode("overwrite").parquet(str(work / "events"))
    time.sleep(20)
    sample = spark.read.parquet(str(work / "events"))
    sample.groupBy("day").agg(F.sum("amount")).orderBy("day").limit(20).collect()
    time.sleep(25)
    sample.where(F.col("amount") > 80).groupBy("customer").count().collect()
    time.sleep(20)
    sample.agg(F.countDistinct("customer"), F.avg("amount")).collect()


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


def prepare_fraud_features(spark, work: Path) -> None:
    """The flagship's input, written by an unlogged job: 30 days of card transactions (the
    payments lake's Parquet, in 8 MB row groups), the cards and the merchants."""
    from pyspark.sql import functions as F

    cards, merchants, start = 400_000, 40_000, 1_792_540_800  # 2026-10-28T00:00:00Z
    countries = F.array(*[F.lit(c) for c in ["US"] * 14 + ["CA", "GB", "MX", "DE", "FR", "BR"]])
    channels = F.array(*[F.lit(c) for c in ("pos", "pos", "pos", "ecom", "ecom", "atm")])
    seconds = FRAUD_DAYS * 86_400 / FRAUD_TRANSACTIONS
    transactions = spark.range(0, FRAUD_TRANSACTIONS, numPartitions=16).select(
        F.col("id").alias("txn_id"),
        (F.abs(F.xxhash64(F.col("id") * 31 + 7)) % cards).alias("card_id"),
        (F.abs(F.xxhash64(F.col("id") * 17 + 3)) % merchants).cast("int").alias("merchant_id"),
        F.round(F.exp(F.randn(11) * 1.1 + 3.4), 2).alias("amount"),
        F.element_at(countries, (F.abs(F.xxhash64("id", F.lit(1))) % 20 + 1).cast("int")).alias(
            "country"
        ),
        F.element_at(channels, (F.abs(F.xxhash64("id", F.lit(2))) % 6 + 1).cast("int")).alias(
            "channel"
        ),
        F.timestamp_seconds(
            F.lit(start) + (F.col("id") * seconds).cast("long") + (F.rand(13) * 600).cast("long")
        ).alias("ts"),
        F.concat(F.lit("d-"), F.hex(F.abs(F.xxhash64(F.col("id") % 900_001)))).alias("device_id"),
        (F.rand(17) < 0.03).alias("declined"),
    )
    transactions.write.option("parquet.block.size", str(8 * 2**20)).parquet(str(work / "txn"))
    spark.range(0, cards, numPartitions=2).select(
        F.col("id").alias("card_id"),
        (F.col("id") % 310_000).alias("customer_id"),
        F.when(F.col("id") % 20 == 0, "CA").otherwise("US").alias("home_country"),
        (F.lit(500) + (F.col("id") % 40) * 250).alias("credit_limit"),
    ).write.parquet(str(work / "cards"))
    spark.range(0, merchants, numPartitions=1).select(
        F.col("id").cast("int").alias("merchant_id"),
        (F.lit(5000) + F.col("id") % 900).cast("int").alias("mcc"),
        F.when(F.col("id") % 97 == 0, "high")
        .when(F.col("id") % 11 == 0, "medium")
        .otherwise("low")
        .alias("risk_tier"),
    ).write.parquet(str(work / "merchants"))


def job_fraud_features(spark, work: Path) -> None:
    """Nightly card-fraud features: velocity windows per card over every transaction, daily
    and 7/30-day aggregates, a score, the features by day and one CSV review queue."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    merchants = spark.read.parquet(str(work / "merchants"))
    enriched = (
        spark.read.parquet(str(work / "txn"))
        .join(F.broadcast(merchants), "merchant_id")
        .join(spark.read.parquet(str(work / "cards")), "card_id")
        .withColumn("day", F.to_date("ts"))
        .withColumn("epoch", F.col("ts").cast("long"))
        .withColumn("foreign", F.col("country") != F.col("home_country"))
        .withColumn("night", F.hour("ts") < 6)
    )
    by_card = Window.partitionBy("card_id").orderBy("epoch")
    hour, day = by_card.rangeBetween(-3600, 0), by_card.rangeBetween(-86_400, 0)
    recent = by_card.rowsBetween(-50, -1)
    velocity = (
        enriched.withColumn("n_1h", F.count("*").over(hour))
        .withColumn("countries_24h", F.size(F.collect_set("country").over(day)))
        .withColumn("gap_s", F.col("epoch") - F.lag("epoch").over(by_card))
        .withColumn(
            "amount_z",
            (F.col("amount") - F.avg("amount").over(recent))
            / (F.stddev("amount").over(recent) + 1),
        )
    )
    daily = velocity.groupBy("card_id", "day").agg(
        F.count("*").alias("txns"),
        F.sum("amount").alias("amount"),
        F.approx_count_distinct("merchant_id").alias("merchants"),
        F.sum(F.col("foreign").cast("int")).alias("foreign_txns"),
        F.sum(F.col("night").cast("int")).alias("night_txns"),
        F.sum(F.col("declined").cast("int")).alias("declines"),
        F.max("n_1h").alias("max_txns_1h"),
        F.max("countries_24h").alias("max_countries_24h"),
        F.max("amount_z").alias("max_amount_z"),
        F.min("gap_s").alias("min_gap_s"),
        F.sum((F.col("risk_tier") == "high").cast("int")).alias("high_risk_merchants"),
        F.first("credit_limit").alias("credit_limit"),
    )
    by_day = Window.partitionBy("card_id").orderBy(F.col("day").cast("timestamp").cast("long"))
    week, month = by_day.rangeBetween(-6 * 86_400, 0), by_day.rangeBetween(-29 * 86_400, 0)
    features = (
        daily.withColumn("amount_7d", F.sum("amount").over(week))
        .withColumn("txns_7d", F.sum("txns").over(week))
        .withColumn("amount_30d", F.sum("amount").over(month))
        .withColumn("foreign_30d", F.sum("foreign_txns").over(month))
        .withColumn("utilisation_30d", F.col("amount_30d") / F.col("credit_limit"))
        .withColumn("spike", F.col("amount") / (F.col("amount_30d") / 30 + 1))
        .withColumn(
            "score",
            F.lit(-6.0)
            + 0.8 * F.log1p("max_txns_1h")
            + 0.9 * F.col("max_countries_24h")
            + 0.3 * F.log1p("spike")
            + 0.5 * F.col("high_risk_merchants")
            + 0.2 * F.col("declines")
            + 0.4 * F.coalesce("max_amount_z", F.lit(0.0)),
        )
    )
    features.repartition("day").write.partitionBy("day").parquet(str(work / "features"))
    latest = spark.read.parquet(str(work / "features")).where(F.col("day") >= "2026-11-26")
    queue = latest.where(F.col("score") > 0).orderBy(F.desc("score"))
    queue.coalesce(1).write.option("header", True).csv(str(work / "review_queue"))


PREPARE = {"fraud_features": prepare_fraud_features}


def executors_of(master: str) -> int:
    """Executors a master starts: local-cluster[E,C,MB] has E; local[N] only the driver."""
    return int(master.split("[")[1].split(",")[0]) if master.startswith("local-cluster") else 0


def prepare_child(scenario: str, out: Path) -> None:
    """Write a scenario's input with an unlogged local job (its own JVM)."""
    from pyspark.sql import SparkSession

    spark = (
        SparkSession.builder.master("local[2]")
        .appName(f"prepare-{scenario}")
        .config("spark.driver.memory", "2g")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .getOrCreate()
    )
    try:
        PREPARE[scenario](spark, out)
    finally:
        spark.stop()


def run_child(scenario: str, job: str, run_id: str, out: Path) -> None:
    import os
    import time

    import pyspark
    from pyspark.sql import SparkSession

    # local-cluster launches executor JVMs from SPARK_HOME: pip's pyspark ships bin/ and jars/
    os.environ.setdefault("SPARK_HOME", str(Path(pyspark.__file__).parent))
    master, codec, rolling, extra = SCENARIOS[scenario]
    logs = out / "logs"
    logs.mkdir(parents=True)
    builder = (
        SparkSession.builder.master(master)
        .appName(job)
        .config("spark.driver.memory", "1g")
        .config("spark.ui.enabled", "false")
        .config("spark.eventLog.enabled", "true")
        .config("spark.eventLog.dir", logs.as_uri())
        .config("spark.eventLog.compress", "true")
        .config("spark.eventLog.compression.codec", codec)
        .config("spark.eventLog.rolling.enabled", str(rolling).lower())
    )
    if run_id not in SESSION_IDS:  # a job run; a session's log carries no job's ids
        builder = builder.config("spark.glue.JOB_NAME", job).config("spark.glue.JOB_RUN_ID", run_id)
    for key, value in extra.items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    try:
        # every executor registered before the job starts, as on Glue: the log's task slots
        # are then the cluster's from its first task on
        executors = executors_of(master)
        status = spark.sparkContext._jsc.sc().getExecutorMemoryStatus
        while executors and status().size() < executors + 1:
            time.sleep(0.2)
        globals()[f"job_{scenario}"](spark, out)
    finally:
        spark.stop()


def check_flagship(entry: dict, target: Path) -> None:
    """Print what decides whether `advisor whatif` trusts the log: its task slots against the
    job's, its duration against the job's runtime in fleet_spec.py, its own replay's error."""
    try:
        from advisor.analysis.whatif import executor_cores, load_eventlog_model
        from advisor.sparklog.simulate import model_error
    except ImportError:  # the advisor is not installed: nothing to check with
        return
    sys.path.insert(0, str(HERE))
    from fleet_spec import fleet

    spec = next(s for s in fleet() if s.name == entry["job"])
    model = load_eventlog_model(target)
    slots = (spec.workers - 1) * (executor_cores(spec.worker_type, spec.glue_version) or 0)
    duration = model.duration_ms / 1000
    print(
        f"  {model.slots} task slots (the job's {spec.workers} x {spec.worker_type}: {slots}); "
        f"{duration:.0f} s, {duration / spec.runtime_s:.2f}x the job's runtime_s "
        f"{spec.runtime_s:.0f}; replay of its own configuration {model_error(model):.1%} off"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--only", help="run one scenario")
    parser.add_argument(
        "--child", nargs=4, metavar=("SCENARIO", "JOB", "RUN_ID", "OUT"), help=argparse.SUPPRESS
    )
    parser.add_argument("--prepare", nargs=2, metavar=("SCENARIO", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.prepare:
        prepare_child(args.prepare[0], Path(args.prepare[1]))
        return
    if args.child:
        scenario, job, run_id, out = args.child
        run_child(scenario, job, run_id, Path(out))
        return
    manifest = yaml.safe_load((HERE / "MANIFEST.yaml").read_text())
    for entry in manifest["eventlogs"] + SESSION_LOGS:
        if args.only and entry["scenario"] != args.only:
            continue
        with tempfile.TemporaryDirectory() as tmp:
            if entry["scenario"] in PREPARE:
                command = [sys.executable, __file__, "--prepare", entry["scenario"], tmp]
                subprocess.run(command, check=True)
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
            if executors_of(SCENARIOS[entry["scenario"]][0]) and entry["run_id"] not in SESSION_IDS:
                check_flagship(entry, target)


if __name__ == "__main__":
    main()
