"""Terminal rendering of an event-log summary (pure: a summary dict in, rich renderables out)."""

from __future__ import annotations

from typing import Any

from rich.console import Group
from rich.markup import escape
from rich.table import Table

from advisor.report.labels import size
from advisor.report.text import numbers_kept_whole


def _ms(value: float | None) -> str:
    return "—" if value is None else f"{value / 1000:,.1f} s"


def summary_renderable(s: dict[str, Any], top_stages: int = 8) -> Group:
    head = Table.grid(padding=(0, 2))
    head.add_column(style="bold", no_wrap=True)
    head.add_column(overflow="fold")  # a long run id folds, never cut
    util = s["executor_utilization"]
    rows = [
        (
            "application",
            f"{s['app_id']}"
            + (f" attempt {s['attempt_id']}" if s.get("attempt_id") else "")
            + f" ({s['app_name'] or '?'}), Spark {s['spark_version'] or '?'}",
        ),
        (
            "status",
            ("complete" if s["complete"] else "INCOMPLETE")
            + (", DATA LOSS: " + "; ".join(s["data_loss_reasons"][:2]) if s["data_loss"] else ""),
        ),
        ("duration", _ms(s["duration_ms"])),
        (
            "work",
            f"{s['jobs']} jobs, {s['stage_attempts']} stage attempts, {s['tasks']:,} tasks "
            f"({s['failed_tasks']} failed, {s['killed_tasks']} killed) "
            f"on {s['executors']} executors",
        ),
        (
            "executor time",
            f"{_ms(s['executor_run_time_ms'])} run, {_ms(s['gc_time_ms'])} GC, "
            f"utilisation {'—' if util is None else f'{util:.0%}'}",
        ),
        (
            "spill",
            f"{size(s['memory_bytes_spilled'])} memory, {size(s['disk_bytes_spilled'])} disk",
        ),
        (
            "I/O",
            f"input {size(s['input_bytes'])}, output {size(s['output_bytes'])}, shuffle read "
            f"{size(s['shuffle_read_bytes'])}, write {size(s['shuffle_write_bytes'])}",
        ),
        (
            "files",
            f"read {s['files_read'] if s['files_read'] is not None else '—'} "
            f"({size(s['files_read_bytes'])}), written "
            f"{s['files_written'] if s['files_written'] is not None else '—'} "
            f"({size(s['files_written_bytes'])})",
        ),
        ("peak JVM heap", size(s["peak_jvm_heap_bytes"])),
    ]
    if s["failure_reasons"]:
        rows.append(("failures", ", ".join(f"{k} {v}" for k, v in s["failure_reasons"].items())))
    if s["glue"]:
        rows.append(("glue", ", ".join(f"{k}={v}" for k, v in s["glue"].items())))
    if s["problems"]:
        rows.append(("skipped", ", ".join(f"{k} {v}" for k, v in s["problems"].items())))
    for label, value in rows:
        head.add_row(label, escape(str(value)))
    stages = Table(title=f"Top {top_stages} stages by executor run time", title_justify="left")
    for name in (
        "stage",
        "tasks",
        "failed",
        "run",
        "p50 task",
        "p95 task",
        "max task",
        "disk spill",
        "input",
        "shuffle in",
    ):
        stages.add_column(name, justify="left" if name == "stage" else "right")
    ranked = sorted(s["stage_list"], key=lambda r: r["executor_run_time_ms"] or 0, reverse=True)
    for r in ranked[:top_stages]:
        stages.add_row(
            escape(f"{r['stage_id']}.{r['attempt']} {(r['name'] or '')[:24]}"),
            f"{r['tasks']:,}",
            str(r["failed_tasks"]),
            _ms(r["executor_run_time_ms"]),
            _ms(r["task_ms_median"]),
            _ms(r["task_ms_p95"]),
            _ms(r["task_ms_max"]),
            size(r["disk_bytes_spilled"]),
            size(r["input_bytes"]),
            size(r["shuffle_read_bytes"]),
        )
    parts: list[Any] = [head, numbers_kept_whole(stages)]
    if s.get("problem_examples"):
        damaged = Table(title="What could not be read", title_justify="left")
        for name in ("file", "line", "kind", "detail"):
            damaged.add_column(name, justify="right" if name == "line" else "left")
        for p in s["problem_examples"]:
            damaged.add_row(
                escape(str(p["file"])),
                "" if p["line"] is None else f"{p['line']:,}",
                escape(p["kind"]),
                escape(str(p["detail"])),
            )
        parts.append(numbers_kept_whole(damaged))
    return Group(*parts)


def is_not_a_spark_log(s: dict[str, Any]) -> bool:
    """Nothing in it was a Spark event: no application, no event of any kind read."""
    return (
        s["app_id"] is None
        and not s["spark_version"]
        and not s["stage_list"]
        and not s["executor_list"]
        and not s["skipped_events"]
    )
