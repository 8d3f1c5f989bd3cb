"""The sample fleet: 35 Glue jobs modelled on real usage, and the problems planted in them.

Each JobSpec says what the job is, how often it runs, how long it takes, how it fails and what
its CloudWatch metrics look like. `generate_fleet.py` turns these into the import layout.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

FLEET_END = datetime(2026, 11, 27, tzinfo=UTC)
FLEET_DAYS = 62
ACCOUNT = "123456789012"
SCRIPTS = f"s3://aws-glue-assets-{ACCOUNT}-us-east-1/scripts"
SPARK_UI = f"s3://aws-glue-assets-{ACCOUNT}-us-east-1/sparkHistoryLogs/"

OOM = (
    "An error occurred while calling o112.pyWriteDynamicFrame. Job aborted due to stage failure: "
    "Task 41 in stage 7.0 failed 4 times, most recent failure: Lost task 41.3 in stage 7.0 "
    "(TID 1189) (172.35.11.84 executor 6): java.lang.OutOfMemoryError: Java heap space"
)
DRIVER_OOM = (
    "Command failed with exit code 1 - java.lang.OutOfMemoryError: GC overhead limit exceeded "
    "at org.apache.spark.sql.execution.datasources.InMemoryFileIndex.listLeafFiles"
)
CONTAINER_KILLED = (
    "An error occurred while calling o98.save. Job aborted due to stage failure: Task 12 in stage "
    "3.0 failed 4 times, most recent failure: Lost task 12.3 in stage 3.0 (TID 402) "
    "(172.34.200.17 executor 3): ExecutorLostFailure (executor 3 exited caused by one of the "
    "running tasks) Reason: Container killed by YARN for exceeding memory limits. 5.6 GB of "
    "5.5 GB physical memory used. Consider boosting spark.yarn.executor.memoryOverhead."
)
NO_SPACE = (
    "An error occurred while calling o131.pyWriteDynamicFrame. Job aborted due to stage failure: "
    "Task 88 in stage 11.0 failed 4 times, most recent failure: Lost task 88.3 in stage 11.0: "
    "java.io.IOException: No space left on device at java.io.FileOutputStream.writeBytes"
)
S3_SLOWDOWN = (
    "An error occurred while calling o87.getDynamicFrame. com.amazonaws.services.s3.model."
    "AmazonS3Exception: Please reduce your request rate. (Service: Amazon S3; Status Code: 503; "
    "Error Code: SlowDown)"
)
PY_EXCEPTION = (
    "KeyError: 'customer_id' File \"/tmp/customer_dim_load.py\", line 88, in <module> "
    "dedup = df.dropDuplicates(['customer_id'])"
)
TIMEOUT_MSG = "Job run timed out"


@dataclass
class Failure:
    probability: float
    state: str  # FAILED | TIMEOUT | ERROR
    message: str


@dataclass
class MetricProfile:
    """Typical values of the CloudWatch series for a run of this job."""

    classic: bool = True
    observability: bool = False
    driver_heap: float = 0.35  # jvm.heap.usage, 0-1
    executor_heap: float = 0.45
    utilization: float = 0.6  # glue.driver.workerUtilization
    needed_executors_ratio: float = 0.8  # numberMaxNeededExecutors / allocated executors
    # or the executors the data keeps busy, whatever the job has (peaks reach ~1.75x this):
    # right-sizing then leaves the metric where it was
    needed_executors: float | None = None
    bytes_read_gb: float = 20.0
    files_read: int = 400
    disk_used_mb: float = 800.0
    skewness: float = 0.0


@dataclass
class ConfigChange:
    """The job's workers changed at `at`: runs from then take `runtime_factor` times as long and
    read `volume_factor` times as many bytes (data that grew at the same moment), so
    `advisor changes` has something known to judge."""

    at: datetime
    worker_type: str
    workers: int
    runtime_factor: float
    volume_factor: float = 1.0


@dataclass
class JobSpec:
    name: str
    command: str = "glueetl"
    glue_version: str = "4.0"
    worker_type: str | None = "G.1X"
    workers: int | None = 10
    max_capacity: float | None = None
    execution_class: str | None = "STANDARD"
    # hourly | every4h | daily | weekly | continuous | stopped (no runs: a Glue version past
    # end of life cannot start them)
    schedule: str = "daily"
    hour: int = 2
    runtime_s: float = 900.0
    runtime_sigma: float = 0.12
    timeout_min: int = 2880
    max_retries: int = 0
    failures: list[Failure] = field(default_factory=list)
    args: dict[str, str] = field(default_factory=dict)
    metrics: MetricProfile | None = field(default_factory=MetricProfile)
    metrics_days: int = 8  # how many recent days have metric files
    autoscaling: bool = False
    busy_fraction: float = 0.7  # share of worker-time busy (drives DPUSeconds under autoscaling)
    change: ConfigChange | None = None
    anomaly_days: tuple[int, ...] = ()  # day offsets with a planted 4x runtime anomaly
    problems: tuple[str, ...] = ()  # planted problems (MANIFEST vocabulary)
    eventlog: str | None = None  # scenario name in generate_eventlogs.py
    # the event log is a run of the job's own configuration (local-cluster with its task slots,
    # its runtime_s the logged duration): `advisor whatif` trusts it (the demo's flagship)
    whatif_flagship: bool = False
    description: str = ""


def spark_args(
    *,
    metrics: bool = True,
    observability: bool = False,
    ui: bool = True,
    extra: dict[str, str] | None = None,
) -> dict[str, str]:
    args = {
        "--job-language": "python",
        "--TempDir": f"s3://aws-glue-assets-{ACCOUNT}-us-east-1/temporary/",
        "--enable-glue-datacatalog": "true",
        "--job-bookmark-option": "job-bookmark-enable",
    }
    if metrics:
        args["--enable-metrics"] = "true"
    if observability:
        args["--enable-observability-metrics"] = "true"
    if ui:
        args["--enable-spark-ui"] = "true"
        args["--spark-event-logs-path"] = SPARK_UI
    args.update(extra or {})
    return args


def fleet() -> list[JobSpec]:
    obs = MetricProfile(observability=True)
    return [
        # ---- healthy Spark ETL --------------------------------------------------------------
        JobSpec(
            "orders_daily_etl",
            workers=10,
            runtime_s=1260,
            args=spark_args(observability=True),
            metrics=MetricProfile(observability=True, utilization=0.68, bytes_read_gb=42),
            anomaly_days=(23, 41, 55),
            problems=("runtime_anomaly", "cost_anomaly"),
            eventlog="healthy_etl",
            description="Daily orders fact table; healthy, with three planted slow runs",
        ),
        JobSpec(
            "customer_dim_load",
            worker_type="G.2X",
            workers=5,
            runtime_s=780,
            hour=3,
            args=spark_args(),
            failures=[Failure(0.03, "FAILED", PY_EXCEPTION)],
            description="Daily SCD2 customer dimension; healthy",
        ),
        JobSpec(
            "clickstream_sessions_hourly",
            workers=4,
            schedule="hourly",
            runtime_s=290,
            args=spark_args(observability=True),
            metrics=obs,
            metrics_days=1,
            description="Hourly sessionisation of web clickstream; healthy",
        ),
        JobSpec(
            "returns_etl_nightly",
            glue_version="5.0",
            workers=8,
            runtime_s=640,
            hour=1,
            timeout_min=480,
            args=spark_args(observability=True),
            metrics=obs,
            eventlog="rolling_etl",
            description="Glue 5.0 nightly returns ETL; healthy",
        ),
        JobSpec(
            "payments_cdc_merge",
            glue_version="4.0",
            workers=6,
            schedule="every4h",
            runtime_s=520,
            metrics_days=3,
            args=spark_args(extra={"--datalake-formats": "iceberg"}),
            description="Iceberg MERGE of payment CDC every 4 hours; healthy",
        ),
        JobSpec(
            "inventory_snapshot_flex",
            workers=6,
            execution_class="FLEX",
            runtime_s=1500,
            hour=4,
            args=spark_args(),
            description="Non-urgent inventory snapshot already on Flex",
        ),
        JobSpec(
            "sessionize_autoscale",
            worker_type="G.2X",
            workers=20,
            autoscaling=True,
            runtime_s=1800,
            busy_fraction=0.45,
            args=spark_args(extra={"--enable-auto-scaling": "true"}),
            metrics=MetricProfile(needed_executors_ratio=0.5),
            description="Auto Scaling up to 20 G.2X; billed from DPUSeconds",
        ),
        JobSpec(
            "r1x_graph_join",
            worker_type="R.1X",
            workers=8,
            runtime_s=2100,
            hour=5,
            args=spark_args(),
            metrics=MetricProfile(executor_heap=0.7),
            description="Memory-optimised R.1X graph join",
        ),
        JobSpec(
            "g4x_ml_training_prep",
            worker_type="G.4X",
            workers=10,
            schedule="weekly",
            runtime_s=3400,
            args=spark_args(),
            problems=(),
            description="Weekly feature matrix on G.4X: Flex allows only G.1X and G.2X workers",
        ),
        JobSpec(
            "dq_checks_hourly",
            glue_version="3.0",
            workers=2,
            schedule="hourly",
            runtime_s=48,
            runtime_sigma=0.2,
            args=spark_args(ui=False),
            metrics=None,
            description="Hourly data-quality checks under the 1-minute minimum",
        ),
        # ---- planted problems --------------------------------------------------------------
        JobSpec(
            "marketing_attribution",
            worker_type="G.2X",
            workers=40,
            runtime_s=1150,
            hour=6,
            args=spark_args(observability=True),
            metrics=MetricProfile(
                observability=True,
                utilization=0.11,
                needed_executors_ratio=0.14,
                executor_heap=0.22,
            ),
            eventlog="over_provisioned",
            problems=("over_provisioned",),
            description="40 G.2X workers where about 6 are ever needed",
        ),
        JobSpec(
            "fraud_features_build",
            workers=3,
            runtime_s=772,  # the duration of its event log (generate_eventlogs.py prints it)
            runtime_sigma=0.08,
            hour=0,
            args=spark_args(observability=True),
            metrics=MetricProfile(
                observability=True,
                utilization=0.97,
                needed_executors_ratio=18.0,
                executor_heap=0.75,  # busy, below oom_risk's 90 % (the log's peak heap is 73 %)
                bytes_read_gb=310,
            ),
            problems=("under_provisioned",),
            eventlog="fraud_features",
            whatif_flagship=True,
            description=(
                "3 G.1X workers grinding through 300 GB a night; its event log is a run of this "
                "configuration, so the what-if replay is trusted"
            ),
        ),
        JobSpec(
            "s3_access_logs_compaction",
            workers=10,
            runtime_s=2400,
            hour=7,
            args=spark_args(
                observability=True,
                extra={"--input_format": "json", "--source_path": "s3://acme-raw-logs/access/"},
            ),
            metrics=MetricProfile(
                observability=True,
                files_read=185000,
                bytes_read_gb=3.1,
                driver_heap=0.81,
                utilization=0.3,
            ),
            eventlog="small_files",
            problems=("small_files_read", "input_format"),
            description="Reads ~185k tiny JSON access-log objects a day",
        ),
        JobSpec(
            "sales_aggregate_spill",
            workers=10,
            runtime_s=2950,
            hour=2,
            args=spark_args(extra={"--conf": "spark.sql.shuffle.partitions=200"}),
            metrics=MetricProfile(executor_heap=0.88, disk_used_mb=41000, bytes_read_gb=160),
            eventlog="spill",
            problems=("spill",),
            description="Wide aggregation that spills to disk on G.1X",
        ),
        JobSpec(
            "ledger_reconcile",
            workers=10,
            runtime_s=1700,
            hour=3,
            max_retries=1,
            args=spark_args(),
            failures=[Failure(0.22, "FAILED", OOM), Failure(0.04, "FAILED", DRIVER_OOM)],
            metrics=MetricProfile(driver_heap=0.62, executor_heap=0.95),
            problems=("oom_risk", "failed_run_waste", "retry_waste"),
            description="Executor heap at the limit; a quarter of runs die with OutOfMemoryError",
        ),
        JobSpec(
            "partner_feed_ingest",
            worker_type="G.1X",
            workers=6,
            schedule="every4h",
            runtime_s=600,
            metrics_days=3,
            max_retries=2,
            args=spark_args(),
            failures=[
                Failure(0.18, "FAILED", CONTAINER_KILLED),
                Failure(0.02, "FAILED", S3_SLOWDOWN),
            ],
            metrics=MetricProfile(executor_heap=0.91),
            problems=("oom_risk", "retry_waste", "failed_run_waste"),
            description="Containers killed for exceeding memory limits, retried up to twice",
        ),
        JobSpec(
            "geo_enrichment",
            workers=8,
            runtime_s=2000,
            hour=9,
            args=spark_args(),
            failures=[Failure(0.15, "FAILED", NO_SPACE)],
            metrics=MetricProfile(disk_used_mb=88000),
            problems=("disk_full_risk", "failed_run_waste"),
            description="Shuffle fills the local disk: No space left on device",
        ),
        JobSpec(
            "warehouse_full_reload",
            worker_type="G.2X",
            workers=20,
            schedule="weekly",
            runtime_s=7000,
            timeout_min=120,
            args=spark_args(),
            failures=[Failure(0.0, "TIMEOUT", TIMEOUT_MSG)],
            problems=("timeout_risk", "failed_run_waste"),
            description="Weekly reload that runs into its 120-minute timeout (so not for Flex)",
        ),
        JobSpec(
            "product_catalog_sync",
            workers=5,
            runtime_s=900,
            hour=8,
            args=spark_args(),
            change=ConfigChange(datetime(2026, 11, 2, 10, 30, tzinfo=UTC), "G.2X", 20, 0.85),
            problems=("cost_anomaly",),
            description="Definition changed on 2026-11-02 from 5 G.1X to 20 G.2X: cost x7",
        ),
        JobSpec(
            "recsys_candidates",
            workers=12,
            runtime_s=2600,
            hour=11,
            args=spark_args(observability=True),
            metrics=MetricProfile(observability=True, skewness=14.0, utilization=0.35),
            eventlog="skewed",
            problems=("skew",),
            description="One hot key makes one task run 20x longer than the median",
        ),
        JobSpec(
            "archive_cold_partitions",
            workers=10,
            schedule="weekly",
            runtime_s=2500,
            hour=22,
            args=spark_args(),
            problems=("flex_candidate",),
            description="Weekly, non-urgent archive on STANDARD: Flex would cost a third less",
        ),
        JobSpec(
            "json_to_parquet_raw",
            workers=5,
            runtime_s=1300,
            hour=4,
            args={
                "--job-language": "python",
                "--input_format": "json",
                "--source_path": "s3://acme-raw/events/json/",
            },
            metrics=None,
            problems=("missing_observability", "input_format"),
            description="No metrics and no Spark UI: the advisor cannot see inside",
        ),
        JobSpec(
            "legacy_billing_export",
            glue_version="1.0",
            worker_type="Standard",
            workers=None,
            max_capacity=10.0,
            runtime_s=240,
            hour=5,
            schedule="stopped",
            args=spark_args(ui=False),
            metrics=MetricProfile(utilization=0.2),
            problems=("legacy_glue_version",),
            description="Glue 1.0 job past end of life (2026-04-01): its runs no longer start",
        ),
        JobSpec(
            "legacy_crm_sync",
            glue_version="2.0",
            workers=4,
            schedule="stopped",
            runtime_s=380,
            metrics_days=3,
            args=spark_args(ui=False),
            problems=("legacy_glue_version",),
            description="Glue 2.0 job past end of life (2026-04-01): its runs no longer start",
        ),
        JobSpec(
            "finance_gl_export",
            workers=4,
            runtime_s=700,
            hour=6,
            args=spark_args(
                extra={
                    "--db-password": "example-not-a-real-password",
                    "--jdbc-url": "jdbc:postgresql://etl_user:example-pass-9@gl-db.internal:5432/finance",
                    "--api_token": "example-token-0000",
                }
            ),
            description="Holds (fake) credentials in its arguments: they must never be stored",
        ),
        # ---- Python shell, streaming, Ray ----------------------------------------------------
        JobSpec(
            "py_shell_notify",
            command="pythonshell",
            glue_version="3.0",
            worker_type=None,
            workers=None,
            max_capacity=0.0625,
            execution_class=None,
            schedule="hourly",
            runtime_s=35,
            runtime_sigma=0.3,
            metrics=None,
            args={"--job-language": "python"},
            description="Hourly Slack notifier at 0.0625 DPU",
        ),
        JobSpec(
            "py_shell_report_mailer",
            command="pythonshell",
            glue_version="3.0",
            worker_type=None,
            workers=None,
            max_capacity=1.0,
            execution_class=None,
            runtime_s=42,
            runtime_sigma=0.2,
            metrics=None,
            args={"--job-language": "python"},
            problems=("python_shell_oversized",),
            description="A 40-second mailer at 1 DPU where 0.0625 DPU would do",
        ),
        JobSpec(
            "py_shell_api_pull",
            command="pythonshell",
            glue_version="3.0",
            worker_type=None,
            workers=None,
            max_capacity=1.0,
            execution_class=None,
            schedule="every4h",
            runtime_s=1100,
            metrics=None,
            args={"--job-language": "python", "--additional-python-modules": "pandas==2.2.2"},
            failures=[
                Failure(
                    0.05,
                    "FAILED",
                    "requests.exceptions.ReadTimeout: HTTPSConnectionPool"
                    "(host='api.partner.example', port=443): Read timed out.",
                )
            ],
            description="Pulls a partner API into S3 with pandas at 1 DPU",
        ),
        JobSpec(
            "kinesis_orders_stream",
            command="gluestreaming",
            worker_type="G.025X",
            workers=2,
            schedule="continuous",
            runtime_s=86100,
            runtime_sigma=0.0,
            timeout_min=None,
            metrics=None,
            args={"--job-language": "python", "--window_size": "100 seconds"},
            problems=("missing_observability",),
            description="Kinesis streaming job on 2 G.025X, restarted daily, without job metrics",
        ),
        JobSpec(
            "iot_stream_enrich",
            command="gluestreaming",
            worker_type="G.1X",
            workers=4,
            schedule="continuous",
            runtime_s=86100,
            runtime_sigma=0.0,
            timeout_min=None,
            metrics=None,
            args={"--job-language": "python"},
            problems=("missing_observability",),
            description="MSK streaming enrichment on 4 G.1X, without job metrics",
        ),
        JobSpec(
            "ray_feature_scoring",
            command="glueray",
            worker_type="Z.2X",
            workers=5,
            execution_class=None,
            schedule="weekly",
            runtime_s=1900,
            metrics=None,
            args={"--pip-install": "scikit-learn"},
            description="Weekly Ray scoring on 5 Z.2X",
        ),
        # ---- configuration changes, judged by `advisor changes` and `advisor explain` --------
        # Each changed 10-20 days before the fleet's end, daily, so enough runs follow it.
        JobSpec(
            "shipment_tracking_etl",
            workers=20,
            runtime_s=1500,
            runtime_sigma=0.08,
            hour=1,
            timeout_min=120,
            args=spark_args(),
            # at most 7 executors busy: an analysis before the change asks for 8 workers
            metrics=MetricProfile(needed_executors=3.6),
            metrics_days=40,
            change=ConfigChange(datetime(2026, 11, 10, 9, 15, tzinfo=UTC), "G.1X", 8, 1.04),
            description=(
                "Right-sized on 2026-11-10 from 20 to 8 G.1X, runtime almost unchanged: cost "
                "down about 60%, as a right-sizing predicts"
            ),
        ),
        JobSpec(
            "supplier_scorecard_build",
            workers=16,
            runtime_s=1800,
            runtime_sigma=0.08,
            hour=5,
            timeout_min=180,
            args=spark_args(),
            metrics=MetricProfile(needed_executors=3.6),
            metrics_days=40,
            change=ConfigChange(datetime(2026, 11, 11, 14, 0, tzinfo=UTC), "G.1X", 8, 1.7),
            description=(
                "Cut on 2026-11-11 from 16 to 8 G.1X but runs take 1.7x as long: saves about "
                "15%, not the 50% half the workers suggests"
            ),
        ),
        JobSpec(
            "pricing_history_rebuild",
            workers=10,
            runtime_s=1400,
            runtime_sigma=0.08,
            hour=3,
            timeout_min=120,
            args=spark_args(),
            change=ConfigChange(datetime(2026, 11, 13, 11, 45, tzinfo=UTC), "G.2X", 10, 0.9),
            problems=("cost_anomaly",),
            description="Moved on 2026-11-13 from 10 G.1X to 10 G.2X, only 10% faster: cost x1.8",
        ),
        JobSpec(
            "ad_impressions_rollup",
            workers=12,
            runtime_s=2000,
            runtime_sigma=0.08,
            hour=6,
            timeout_min=180,
            args=spark_args(),
            metrics=MetricProfile(bytes_read_gb=60),
            metrics_days=40,  # bytes read on both sides of the change: compared per GB
            change=ConfigChange(
                datetime(2026, 11, 9, 5, 30, tzinfo=UTC), "G.2X", 8, 1.05, volume_factor=2.0
            ),
            description=(
                "Input doubled on 2026-11-09 as it moved from 12 G.1X to 8 G.2X: a run costs "
                "1.4x more, a GB read about 30% less"
            ),
        ),
    ]
