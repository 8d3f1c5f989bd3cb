"""Per-stage and per-executor accumulators: memory bounded by stages and executors, not tasks.

Task durations and peak execution memory go into DDSketch quantile sketches (1 % relative
error); min, max and every sum are exact. Values reach a sketch through a small per-stage tally
of its buckets (bucket -> a value in it and how many fell in it), added as that value with that
weight when the tally fills up, when the stage completes, or before the sketch is read. A sketch
only counts values per bucket, whatever their order, so this puts exactly the counts that one
add per task puts in the same buckets (the sketch's own sum, min and max, which are never read
here, may differ), at a fraction of the cost: a stage's tasks fall in few buckets.
"""

from __future__ import annotations

import functools
from typing import Any

from ddsketch import DDSketch
from ddsketch.mapping import LogarithmicMapping

QUANTILES = {"min": None, "p25": 0.25, "median": 0.5, "p75": 0.75, "p95": 0.95, "max": None}
SKETCH_ACCURACY = 0.01
PROFILE_POINTS = 64  # task-duration quantiles kept per stage for the what-if simulator
TALLY_BUCKETS = 128  # buckets a stage tallies before they go into its sketch


def spark_rank(q: float, count: int) -> float:
    """The sketch quantile that lands on the task Spark's task summary reports for `q`: the
    sorted duration at index min(floor(q * n), n - 1) (AppStatusStore), where the sketch reads
    index floor(q' * (n - 1)); half a rank more keeps it off the boundary."""
    if count <= 1:
        return q
    index = min(int(q * count), count - 1)
    return min((index + 0.5) / (count - 1), 1.0)


def _sketch() -> DDSketch:
    return DDSketch(relative_accuracy=SKETCH_ACCURACY)


# the bucket of a value in a DDSketch(SKETCH_ACCURACY) (which maps with this mapping), cached
_bucket = functools.lru_cache(maxsize=1 << 14)(LogarithmicMapping(SKETCH_ACCURACY).key)
_SMALLEST = LogarithmicMapping(SKETCH_ACCURACY).min_possible  # below it: the zero bucket


def _tally(tally: dict[int, list[float]], value: float, sketch: DDSketch) -> None:
    """Count `value` in its bucket's entry ([a value of the bucket, count])."""
    if value <= _SMALLEST:  # never for durations (+1e-9) or peaks (> 0): added as it comes
        sketch.add(value)
        return
    key = _bucket(value)
    entry = tally.get(key)
    if entry is not None:
        entry[1] += 1
        return
    if len(tally) >= TALLY_BUCKETS:
        _pour(tally, sketch)
    tally[key] = [value, 1]


def _pour(tally: dict[int, list[float]], sketch: DDSketch) -> None:
    """Add each bucket's value to the sketch once, weighted by its count; empty the tally."""
    for value, count in tally.values():
        sketch.add(value, float(count))
    tally.clear()


class StageAcc:
    """One stage attempt."""

    __slots__ = (
        "attempt",
        "completed_ms",
        "cpu_ns",
        "disk_spill",
        "dur_sum",
        "dur_tally",
        "durations_sketch",
        "failed",
        "failure_reason",
        "fetch_wait_ms",
        "gc_ms",
        "input_bytes",
        "input_records",
        "killed",
        "max_ms",
        "mem_spill",
        "min_ms",
        "name",
        "num_tasks",
        "output_bytes",
        "output_records",
        "parents",
        "peak_mem_max",
        "peak_mem_sketch",
        "peak_mem_tally",
        "resubmitted",
        "run_ms",
        "shuffle_read",
        "shuffle_write",
        "stage_id",
        "stage_totals",
        "starts",
        "submitted_ms",
        "succeeded",
        "tasks",
    )

    def __init__(self, stage_id: int, attempt: int):
        self.stage_id, self.attempt = stage_id, attempt
        self.name: str | None = None
        self.num_tasks = self.submitted_ms = self.completed_ms = None
        self.failure_reason: str | None = None
        self.parents: list[int] = []
        self.tasks = self.failed = self.killed = self.succeeded = self.starts = 0
        self.resubmitted = 0  # re-posted ends of finished tasks: they have no TaskStart
        self.min_ms = self.max_ms = None
        self.dur_sum = 0
        self.run_ms = self.cpu_ns = self.gc_ms = self.mem_spill = self.disk_spill = 0
        self.input_bytes = self.input_records = self.output_bytes = self.output_records = 0
        self.shuffle_read = self.shuffle_write = self.fetch_wait_ms = 0
        self.peak_mem_max = 0
        self.durations_sketch = _sketch()
        self.peak_mem_sketch = _sketch()
        self.dur_tally: dict[int, list[float]] = {}
        self.peak_mem_tally: dict[int, list[float]] = {}
        self.stage_totals: dict[str, float] = {}

    @property
    def durations(self) -> DDSketch:
        """Task durations (+1e-9 ms: DDSketch wants positive values)."""
        if self.dur_tally:
            _pour(self.dur_tally, self.durations_sketch)
        return self.durations_sketch

    @property
    def peak_mem(self) -> DDSketch:
        """Peak execution memory of the tasks that logged one above zero."""
        if self.peak_mem_tally:
            _pour(self.peak_mem_tally, self.peak_mem_sketch)
        return self.peak_mem_sketch

    def pour(self) -> None:
        """Empty the tallies into the sketches (when the stage completes: its memory)."""
        if self.dur_tally:
            _pour(self.dur_tally, self.durations_sketch)
        if self.peak_mem_tally:
            _pour(self.peak_mem_tally, self.peak_mem_sketch)

    def add_duration(self, ms: int) -> None:
        clipped = 0 if ms < 0 else ms  # max(ms, 0), without the call
        value = clipped + 1e-9  # DDSketch wants values above 0
        entry = self.dur_tally.get(_bucket(value))
        if entry is not None:  # _tally()'s usual case, inline
            entry[1] += 1
        else:
            _tally(self.dur_tally, value, self.durations_sketch)
        self.dur_sum += clipped
        if self.min_ms is None:
            self.min_ms = self.max_ms = ms
        elif ms < self.min_ms:
            self.min_ms = ms
        elif ms > self.max_ms:
            self.max_ms = ms

    def merge(self, other: StageAcc) -> None:
        """Fold another reducer's view of the same stage attempt into this one."""
        for name in ("name", "num_tasks", "submitted_ms", "completed_ms", "failure_reason"):
            if getattr(self, name) is None:
                setattr(self, name, getattr(other, name))
        self.parents = self.parents or other.parents
        for name in (
            "tasks",
            "failed",
            "killed",
            "succeeded",
            "starts",
            "resubmitted",
            "dur_sum",
            "run_ms",
            "cpu_ns",
            "gc_ms",
            "mem_spill",
            "disk_spill",
            "input_bytes",
            "input_records",
            "output_bytes",
            "output_records",
            "shuffle_read",
            "shuffle_write",
            "fetch_wait_ms",
        ):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        if other.min_ms is not None:
            self.min_ms = other.min_ms if self.min_ms is None else min(self.min_ms, other.min_ms)
            self.max_ms = other.max_ms if self.max_ms is None else max(self.max_ms, other.max_ms)
        self.peak_mem_max = max(self.peak_mem_max, other.peak_mem_max)
        if other.durations.count:  # the properties pour both tallies first
            self.durations.merge(other.durations)
        if other.peak_mem.count:
            self.peak_mem.merge(other.peak_mem)
        self.stage_totals.update(other.stage_totals)

    def add_peak_mem(self, peak: float) -> None:
        _tally(self.peak_mem_tally, peak, self.peak_mem_sketch)
        if peak > self.peak_mem_max:
            self.peak_mem_max = peak

    def quantiles(self) -> dict[str, float | None]:
        if not self.tasks or self.min_ms is None:
            return dict.fromkeys(QUANTILES)
        out: dict[str, float | None] = {"min": self.min_ms, "max": self.max_ms}
        count = int(self.durations.count)
        for key, q in QUANTILES.items():
            if q is not None:
                value = self.durations.get_quantile_value(spark_rank(q, count))
                out[key] = round(min(max(value, self.min_ms), self.max_ms), 1)
        return out

    def duration_profile(self) -> list[float]:
        """Task durations (ms) at evenly spaced quantiles, ending with the exact maximum and
        scaled so that their mean is the exact mean: what the simulator replays."""
        count = int(self.durations.count)
        if not count or self.min_ms is None:
            return []
        points = min(count, PROFILE_POINTS)
        values = [
            min(
                max(self.durations.get_quantile_value((i + 0.5) / points), self.min_ms), self.max_ms
            )
            for i in range(points - 1)
        ] + [float(self.max_ms)]
        total, mean = sum(values), self.dur_sum / count
        if total > 0 and points > 1:
            rest = (mean * points - self.max_ms) / max(total - self.max_ms, 1e-9)
            values = [v * rest for v in values[:-1]] + [float(self.max_ms)]
        return [round(max(v, 0.0), 1) for v in values]

    def as_row(self) -> dict[str, Any]:
        q = self.quantiles()
        duration = (
            self.completed_ms - self.submitted_ms
            if self.completed_ms is not None and self.submitted_ms is not None
            else None
        )
        return {
            "stage_id": self.stage_id,
            "attempt": self.attempt,
            "name": self.name,
            "num_tasks": self.num_tasks,
            "tasks": self.tasks,
            "succeeded_tasks": self.succeeded,
            "failed_tasks": self.failed,
            "killed_tasks": self.killed,
            "submitted_ms": self.submitted_ms,
            "completed_ms": self.completed_ms,
            "duration_ms": duration,
            "failure_reason": self.failure_reason,
            "parent_ids": self.parents,
            **{f"task_ms_{k}": v for k, v in q.items()},
            "task_ms_sum": self.dur_sum,
            "task_ms_profile": self.duration_profile(),
            "executor_run_time_ms": self.run_ms,
            "executor_cpu_time_ms": round(self.cpu_ns / 1e6, 3),
            "gc_time_ms": self.gc_ms,
            "memory_bytes_spilled": self.mem_spill,
            "disk_bytes_spilled": self.disk_spill,
            "peak_execution_memory_max": self.peak_mem_max,
            "peak_execution_memory_p95": (
                round(self.peak_mem.get_quantile_value(0.95)) if self.peak_mem.count else None
            ),
            "input_bytes": self.input_bytes,
            "input_records": self.input_records,
            "output_bytes": self.output_bytes,
            "output_records": self.output_records,
            "shuffle_read_bytes": self.shuffle_read,
            "shuffle_write_bytes": self.shuffle_write,
            "fetch_wait_ms": self.fetch_wait_ms,
        }


class ExecutorAcc:
    __slots__ = (
        "added_ms",
        "bm_added_ms",
        "bm_host",
        "cores",
        "disk_spill",
        "executor_id",
        "failed",
        "gc_ms",
        "host",
        "max_memory",
        "mem_spill",
        "peak_exec_memory",
        "peak_heap",
        "removed_ms",
        "removed_reason",
        "run_ms",
        "tasks",
    )

    def __init__(self, executor_id: str):
        self.executor_id = executor_id
        self.added_ms = self.removed_ms = self.cores = self.max_memory = None
        self.host = self.removed_reason = None
        self.bm_host = self.bm_added_ms = (
            None  # from BlockManagerAdded, when ExecutorAdded is absent
        )
        self.tasks = self.failed = self.run_ms = self.gc_ms = self.mem_spill = self.disk_spill = 0
        self.peak_heap = self.peak_exec_memory = None

    def merge(self, other: ExecutorAcc) -> None:
        if other.bm_added_ms is not None and (
            self.bm_added_ms is None or other.bm_added_ms < self.bm_added_ms
        ):
            self.bm_added_ms = other.bm_added_ms
        for name in (
            "added_ms",
            "removed_ms",
            "cores",
            "max_memory",
            "host",
            "removed_reason",
            "bm_host",
        ):
            if getattr(self, name) is None:
                setattr(self, name, getattr(other, name))
        for name in ("tasks", "failed", "run_ms", "gc_ms", "mem_spill", "disk_spill"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for name in ("peak_heap", "peak_exec_memory"):
            mine, theirs = getattr(self, name), getattr(other, name)
            if theirs is not None and (mine is None or theirs > mine):
                setattr(self, name, theirs)

    def peak(self, metrics: dict[str, Any] | None) -> None:
        if not metrics:
            return
        # a peak logged as 0 is a fact (0), not "unknown": None means only "the log is silent"
        heap, execution = metrics.get("JVMHeapMemory"), metrics.get("OnHeapExecutionMemory")
        if isinstance(heap, int | float) and (self.peak_heap is None or heap > self.peak_heap):
            self.peak_heap = int(heap)
        if isinstance(execution, int | float) and (
            self.peak_exec_memory is None or execution > self.peak_exec_memory
        ):
            self.peak_exec_memory = int(execution)

    def as_row(self) -> dict[str, Any]:
        return {
            "executor_id": self.executor_id,
            "host": self.host or self.bm_host,
            "cores": self.cores,
            "added_ms": self.added_ms if self.added_ms is not None else self.bm_added_ms,
            "removed_ms": self.removed_ms,
            "removed_reason": self.removed_reason,
            "max_memory_bytes": self.max_memory,
            "tasks": self.tasks,
            "failed_tasks": self.failed,
            "task_time_ms": self.run_ms,
            "gc_time_ms": self.gc_ms,
            "memory_bytes_spilled": self.mem_spill,
            "disk_bytes_spilled": self.disk_spill,
            "peak_jvm_heap_bytes": self.peak_heap,
            "peak_on_heap_execution_memory_bytes": self.peak_exec_memory,
        }
