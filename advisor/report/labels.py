"""Display names and small text helpers shared by every output (CLI, report, dashboard)."""

from __future__ import annotations

import html
import re
from typing import Any

from advisor.identity import label, run_label, split_key
from advisor.safe_text import terminal_safe

JOB_TYPES = {
    "glueetl": "Spark",
    "gluestreaming": "Spark streaming",
    "pythonshell": "Python shell",
    "glueray": "Ray",
}
_BARS = "▁▂▃▄▅▆▇█"


def priced_usd(rows: list[dict], key: str = "cost_usd") -> float | None:
    """Dollars of the rows with a known rate; None when none of them has one (unpriced is not
    $0.00)."""
    known = [r[key] for r in rows if r[key] is not None]
    if rows and not known:
        return None
    return round(sum(known), 2)


# the bill's categories (reconcile's JSON vocabulary) as a reader says them
CATEGORY_LABELS = {
    "crawler": "crawlers",
    "interactive_session": "interactive sessions",
    "dev_endpoint": "development endpoints",
    "data_catalog": "Data Catalog",
    "data_quality": "data quality",
    "optimization": "table optimisation",
    "other": "other Glue usage",
}


def category_label(category: str) -> str:
    return CATEGORY_LABELS.get(category, category)


def money(value: float | None, unpriced_runs: int = 0) -> str:
    """Dollars as every output prints them; runs at an unknown rate are named, never $0.00."""
    if value is None:
        return f"unpriced ({unpriced_runs:,} runs)" if unpriced_runs else "unpriced"
    text = f"${value:,.2f}"
    return f"{text} + {unpriced_runs:,} unpriced runs" if unpriced_runs else text


# a spreadsheet runs a cell that starts with one of these as a formula (OWASP CSV injection)
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_safe(value: object) -> object:
    """A CSV cell a spreadsheet shows as text: a string that could start a formula gets a
    leading apostrophe. Numbers pass as they are (a negative number is not text)."""
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value


def plain(value: object) -> str:
    """Text for a plotly label or hover: plotly renders a subset of HTML there (<a href>, <b>),
    so a job name or message holding tags must be shown, not followed."""
    return html.escape(str(value), quote=False)


def md_text(value: object) -> str:
    """Data inside markdown: no raw HTML, no link or image syntax, no table break, one line."""
    text = html.escape(str(value), quote=False)
    for char in ("\\", "[", "]", "|", "`", "*", "_"):
        text = text.replace(char, "\\" + char)
    return " ".join(terminal_safe(text).splitlines())


def md_prose(text: object) -> str:
    """Rule-written markdown (advice, notes): its formatting is kept, but a placeholder such as
    `s3://<bucket>/` outside code spans is text, not an HTML tag a renderer would swallow."""
    parts = str(text).split("`")
    return "`".join(
        part if index % 2 else html.escape(part, quote=False) for index, part in enumerate(parts)
    )


def job_type(command_name: str | None) -> str:
    return JOB_TYPES.get(command_name or "", command_name or "unknown")


def sparkline(values: list[float]) -> str:
    """Unicode bars, one per value, scaled to the largest."""
    top = max(values, default=0)
    if not top:
        return _BARS[0] * len(values)
    return "".join(_BARS[min(7, int(v / top * 7.999))] for v in values)


def size(value: float | None) -> str:
    """Bytes as the CLI prints them (decimal units), everywhere sizes are shown."""
    if value is None:
        return "—"
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if abs(value) < 1000:
            return f"{value:,.1f} {unit}" if unit != "B" else f"{value:,.0f} B"
        value /= 1000
    return f"{value:,.1f} PB"


# ---- accounts and regions ------------------------------------------------------------------


def in_place(key: str, account: str | None = None, region: str | None = None) -> bool:
    """Whether a job (or run) key is in the account and region asked for (None: any)."""
    key_account, key_region, _name = split_key(key)
    return account in (None, key_account) and region in (None, key_region)


def job_fields(key: str) -> dict[str, Any]:
    """How a JSON output names a job: `job_name` (its label, as the tables show it), its
    `account` and `region`, and `job_key` (account/region/name, which every command accepts)."""
    account, region, _name = split_key(key)
    return {"job_name": label(key), "account": account, "region": region, "job_key": key}


def place_text(account: str | None = None, region: str | None = None) -> str:
    """'account 123456789012, region eu-west-1' for a filter (empty when there is none)."""
    parts = ([f"account {account}"] if account else []) + ([f"region {region}"] if region else [])
    return ", ".join(parts)


def duration(seconds: float | None) -> str:
    """Seconds as outputs print a runtime or timeout: '79 s' under two minutes, else minutes."""
    if seconds is None:
        return "—"
    if abs(seconds) < 120:
        return f"{seconds:,.0f} s"
    return f"{seconds / 60:,.1f}".removesuffix(".0") + " min"


def percent(fraction: float | None) -> str:
    return "—" if fraction is None else f"{fraction:.1%}"


# ---- evidence: the feature values a finding cites, as people read them -----------------------

# how a value of each kind is shown (a missing value is left out before this)
_EVIDENCE_KINDS: dict[str, Any] = {
    "usd": money,
    "rate": lambda v: f"${v:g} per DPU-hour",
    "percent": percent,
    "times": lambda v: f"{v:,.1f}x",
    "gb": lambda v: size(v * 1e9),
    "mb": lambda v: size(v * 1e6),
    "seconds": duration,
    "minutes": lambda v: duration(v * 60),
    "hours": lambda v: f"{v:,.1f} h",
    "days": lambda v: f"{v:,.1f} days",
    "dpu_hours": lambda v: f"{v:,.1f} DPU-hours",
    "count": lambda v: f"{v:,.0f}" if float(v).is_integer() else f"{v:,.1f}",
    "flag": lambda v: "yes" if v else "no",
    "words": lambda v: str(v).replace("_", " "),
    "time": lambda v: str(v).replace("T", " "),
    "text": str,
}

_TEXT_KINDS = ("words", "time", "text")

# field -> (label, kind); a field not here is shown by its name in words, its value as is
EVIDENCE: dict[str, tuple[str, str]] = {
    "active_hours": ("active", "hours"),
    "anomalous_runs_month": ("anomalous runs a month", "count"),
    "anomaly_extra_usd_month": ("extra cost of anomalous runs a month", "usd"),
    "cost_anomaly_usd_month": ("cost beyond the earlier level a month", "usd"),
    "cost_revert_usd_month": ("saved a month by reverting the change", "usd"),
    "aqe_enabled": ("adaptive query execution on", "flag"),
    "avg_written_file_mb": ("average file written", "mb"),
    "bytes_read_per_run_gb": ("read per run", "gb"),
    "changes_per_day": ("crawls finding changes a day", "count"),
    "cost_change_at": ("cost changed at", "time"),
    "cost_change_config": ("configuration change", "text"),
    "cost_per_run_before_usd": ("cost a run before", "usd"),
    "cost_per_run_ratio": ("cost a run, lately to before", "times"),
    "cost_per_run_recent_usd": ("cost a run lately", "usd"),
    "cost_usd_month": ("cost a month", "usd"),
    "crawl_minutes_median": ("median crawl", "minutes"),
    "crawls_month": ("crawls a month", "count"),
    "disk_used_fraction": ("disk used", "percent"),
    "disk_used_gb_max": ("most disk used", "gb"),
    "disk_used_per_worker_gb": ("disk used per worker", "gb"),
    "dpus": ("DPUs", "count"),
    "eventlog_memory_failures": ("out-of-memory failures in event logs", "count"),
    "executors_allocated": ("executors allocated", "count"),
    "executors_needed_max": ("most executors needed", "count"),
    "failed_runs_month": ("failed runs a month", "count"),
    "failed_usd_month": ("cost of failed runs a month", "usd"),
    "failure_rate": ("failure rate", "percent"),
    "files_read": ("files read", "count"),
    "files_read_source": ("files read, according to", "text"),
    "files_written_per_run": ("files written per run", "count"),
    "flex_rate_usd": ("Flex rate", "rate"),
    "flex_saving_usd_month": ("saving with Flex a month", "usd"),
    "gc_ratio": ("time in garbage collection", "percent"),
    "glue_version": ("Glue version", "text"),
    "heap_driver_max": ("driver heap peak", "percent"),
    "heap_executor_max": ("executor heap peak", "percent"),
    "heap_peak": ("heap peak", "percent"),
    "idle_timeout_min": ("idle timeout", "minutes"),
    "idle_usd": ("cost while idle", "usd"),
    "needed_workers": ("workers its Spark work needed", "count"),
    "oversized_usd": ("cost of the workers it did not need", "usd"),
    "spark_minutes": ("Spark time of its statements", "minutes"),
    "spark_minutes_needed": ("Spark time on the workers it needed", "minutes"),
    "spark_minutes_own": ("Spark time replayed on its own workers", "minutes"),
    "spark_apps": ("Spark applications in its event logs", "count"),
    "input_format": ("input format", "text"),
    "job_rate_usd": ("the job's rate", "rate"),
    "max_capacity": ("MaxCapacity (DPUs)", "count"),
    "max_mb_per_task": ("most read by a task", "mb"),
    "mean_file_mb": ("mean file read", "mb"),
    "memory_failures_driver": ("driver out-of-memory failures", "count"),
    "memory_failures_executor": ("executor out-of-memory failures", "count"),
    "memory_per_task_gb": ("memory per task", "gb"),
    "memory_scope": ("runs out of memory in the", "words"),
    "metrics_enabled": ("CloudWatch job metrics on", "flag"),
    "number_of_workers": ("workers", "count"),
    "parquet_filter_pushdown": ("Parquet filter pushdown on", "flag"),
    "parquet_merge_schema": ("Parquet schema merging on", "flag"),
    "provisioned_days": ("provisioned for", "days"),
    "recrawl_behavior": ("recrawl behaviour", "text"),
    "retry_dpu_hours_month": ("retries a month", "dpu_hours"),
    "retry_usd_month": ("cost of retries a month", "usd"),
    "runaway_run_dpu_hours": ("a run that hangs until the timeout", "dpu_hours"),
    "runaway_run_usd": ("cost of a run that hangs until the timeout", "usd"),
    "running_usd_month": ("cost a month while running", "usd"),
    "runs_month": ("runs a month", "count"),
    "runtime_p50_s": ("median runtime", "seconds"),
    "runtime_p95_min": ("95th-percentile runtime", "minutes"),
    "runtime_p99_s": ("99th-percentile runtime", "seconds"),
    "schedule": ("schedule", "text"),
    "shuffle_partitions": ("spark.sql.shuffle.partitions", "count"),
    "sizing_basis": ("sizing basis", "text"),
    "sizing_confidence": ("sizing confidence", "text"),
    "skewed_stage": ("most skewed stage", "text"),
    "skewness_max": ("Glue skewness metric, peak", "count"),
    "spark_ui_enabled": ("Spark UI (event logs) on", "flag"),
    "spill_disk_gb": ("spilled to disk", "gb"),
    "spill_memory_gb": ("spilled in memory", "gb"),
    "spill_ratio": ("disk spill to input read", "times"),
    "state": ("state", "text"),
    "suggested_shuffle_partitions": ("suggested shuffle partitions", "count"),
    "task_skew_ratio": ("slowest task to the median task", "times"),
    "timeout_min": ("timeout", "minutes"),
    "timeout_runs_month": ("timed-out runs a month", "count"),
    "timeout_to_p99_ratio": ("timeout to 99th-percentile runtime", "times"),
    "timeout_usd_month": ("cost of timed-out runs a month", "usd"),
    "tiny_task_count": ("tiny tasks", "count"),
    "tiny_task_stages": ("stages of tiny tasks", "count"),
    "top_failure_cause": ("main failure cause", "words"),
    "unchanged_share": ("crawls that found nothing new", "percent"),
    "unchanged_usd_month": ("cost of crawls that found nothing new, a month", "usd"),
    "upgrade_version": ("upgrade to Glue", "text"),
    "version_end_of_life": ("end of life", "text"),
    "version_end_of_support": ("end of support", "text"),
    "version_status": ("version status", "words"),
    "whatif_best_config": ("what-if: cheapest configuration", "text"),
    "whatif_best_runtime_min": ("what-if: its runtime", "minutes"),
    "whatif_current_runtime_min": ("what-if: today's runtime", "minutes"),
    "whatif_faster_config": ("what-if: a faster configuration", "text"),
    "whatif_faster_runtime_min": ("what-if: the faster one's runtime", "minutes"),
    "whatif_model_error": ("what-if model error", "percent"),
    "whatif_same_type_config": ("what-if: best on the same worker type", "text"),
    "whatif_same_type_runtime_min": ("what-if: its runtime on the same worker type", "minutes"),
    "worker_free_disk_gb": ("free disk per worker", "gb"),
    "worker_type": ("worker type", "text"),
    "worker_utilization": ("worker utilisation", "percent"),
    "worst_anomaly_ratio": ("worst run to the median runtime", "times"),
    "worst_anomaly_reason": ("why it is anomalous", "text"),
}


def evidence_label(field: str) -> str:
    return EVIDENCE.get(field, (field.replace("_", " "), ""))[0]


def evidence_value(field: str, value: Any) -> str:
    """A finding's evidence value in the units every output uses ($, %, sizes, durations); a
    number of a field without a known kind is rounded, text is shown as it is."""
    kind = EVIDENCE.get(field, ("", ""))[1]
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float):
        return _EVIDENCE_KINDS["count" if kind in _TEXT_KINDS or not kind else kind](value)
    return _EVIDENCE_KINDS[kind if kind in _TEXT_KINDS else "text"](value)


_RUN_KEY = re.compile(r"\b(?:\d{12}|unknown)/[a-z0-9-]+/(jr_\w+)")


def short_run_keys(text: str) -> str:
    """Rule-written text with every run key (account/region/jr_...) shortened to its Glue run
    id, as outputs name a run beside its job."""
    return _RUN_KEY.sub(lambda match: run_label(match.group(0)), text)
