"""Right-sizing by simulation: what a job would take and cost on other Glue workers.

A job's newest reduced event log is replayed (advisor/sparklog/simulate.py) for every worker
type its Glue version and job type allow, times a range of worker counts, with Auto Scaling off
and on. Glue runs one executor per worker with as many cores as the worker has vCPUs, and the
driver on a worker of its own. Runtimes are scaled to the job's real median runtime (the
simulation of its current configuration stands for that median), so costs are in real money.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from advisor import facts
from advisor.analysis.pricing import lookup_rate, minimum_seconds, rate_kind
from advisor.sparklog.simulate import (
    AppModel,
    build_model,
    model_error,
    simulate,
    slots_needed,
    trust,
)

# Spark's unified memory is (heap - 300 MB) x spark.memory.fraction, shared by the running tasks
RESERVED_BYTES = 300 * 2**20
MEMORY_FRACTION = 0.6
WORKER_COUNTS = (2, 3, 4, 5, 6, 8, 10, 12, 15, 20, 25, 30, 40, 50, 60, 80, 100, 120, 150, 200)
DEFAULT_SLA = 0.10
TRUST_LIMIT = 0.25


def allowed_worker_types(glue_version: str | None, command_name: str | None) -> list[str]:
    """Worker types Glue offers this job that run Spark executors (from the facts registry)."""
    return [
        t
        for t in facts.allowed_worker_types(glue_version, command_name)
        if facts.executor_shape(t, glue_version) is not None and t != "Standard"
    ]


def executor_cores(worker_type: str | None, glue_version: str | None) -> int | None:
    shape = facts.executor_shape(worker_type, glue_version)
    return shape[0] if shape and worker_type != "Standard" else None


def task_memory_bytes(worker_type: str, glue_version: str | None = None) -> float:
    """Execution memory one task may use on this worker type (all cores busy)."""
    shape = facts.executor_shape(worker_type, glue_version)
    if shape is None:
        return 0.0
    cores, heap_gb = shape
    return (heap_gb * 2**30 - RESERVED_BYTES) * MEMORY_FRACTION / cores


@dataclass
class Candidate:
    worker_type: str
    workers: int
    autoscaling: bool
    runtime_s: float
    dpu_hours: float
    usd: float | None
    slot_utilization: float
    feasible: bool = True
    note: str = ""
    current: bool = False

    @property
    def label(self) -> str:
        return f"{self.workers} x {self.worker_type}" + (
            " (Auto Scaling)" if self.autoscaling else ""
        )


@dataclass
class WhatIf:
    job_name: str | None
    run_id: str | None
    app_id: str
    log_config: str
    model_error: float | None
    trusted: bool
    doubts: list[str]
    current: Candidate | None
    candidates: list[Candidate] = field(default_factory=list)
    best: Candidate | None = None
    sla: float = DEFAULT_SLA
    runs_month: float | None = None
    saving_usd_month: float | None = None
    saving_dpu_hours_month: float | None = None
    best_same_type: Candidate | None = None

    def saving(self, candidate: Candidate | None) -> tuple[float | None, float | None]:
        """DPU-hours and dollars a month saved by moving from the current configuration."""
        if candidate is None or self.current is None or self.runs_month is None:
            return None, None
        dpu = round(max(0.0, self.current.dpu_hours - candidate.dpu_hours) * self.runs_month, 3)
        usd = None
        if self.current.usd is not None and candidate.usd is not None:
            usd = round(max(0.0, self.current.usd - candidate.usd) * self.runs_month, 2)
        return dpu, usd

    def cost_of(self, candidate: Candidate) -> float:
        """What a run costs, in dollars where every candidate is priced (worker types bill at
        different rates), else in DPU-hours."""
        if all(c.usd is not None for c in self.candidates):
            return candidate.usd or 0.0
        return candidate.dpu_hours

    def frontier(self) -> list[Candidate]:
        """Feasible candidates no other feasible one beats on both runtime and cost."""
        feasible = sorted(
            (c for c in self.candidates if c.feasible),
            key=lambda c: (c.runtime_s, self.cost_of(c)),
        )
        out, cheapest = [], math.inf
        for candidate in feasible:
            if self.cost_of(candidate) < cheapest - 1e-12:
                out.append(candidate)
                cheapest = self.cost_of(candidate)
        return out

    def as_dict(self) -> dict[str, Any]:
        def row(c: Candidate | None) -> dict[str, Any] | None:
            return None if c is None else {**asdict(c), "label": c.label}

        return {
            "job_name": self.job_name,
            "run_id": self.run_id,
            "app_id": self.app_id,
            "log_config": self.log_config,
            "model_error": self.model_error,
            "trusted": self.trusted,
            "doubts": self.doubts,
            "sla": self.sla,
            "runs_month": self.runs_month,
            "current": row(self.current),
            "best": row(self.best),
            "best_same_type": row(self.best_same_type),
            "saving_usd_month": self.saving_usd_month,
            "saving_dpu_hours_month": self.saving_dpu_hours_month,
            "frontier": [row(c) for c in self.frontier()],
            "candidates": [row(c) for c in self.candidates],
        }


def representative_doubts(
    model: AppModel, job: dict[str, Any], median_runtime_s: float | None
) -> list[str]:
    """Reasons the log may not stand for the job's runs as configured today."""
    doubts = []
    worker_type, workers = job.get("worker_type"), job.get("number_of_workers")
    cores = executor_cores(worker_type, job.get("glue_version"))
    if cores and workers and not job.get("autoscaling_enabled"):
        configured = (workers - 1) * cores // model.task_cpus
        if configured != model.slots:
            doubts.append(
                f"the log ran with {model.slots} task slots ({model.executors} executor(s) x "
                f"{model.cores} core(s)), the job's {workers} x {worker_type} has {configured}: "
                "it is not a run of today's configuration"
            )
    if median_runtime_s and model.duration_ms:
        ratio = model.duration_ms / 1000 / median_runtime_s
        if not 0.5 <= ratio <= 2:
            doubts.append(
                f"the logged application ran {model.duration_ms / 1000:.0f} s, the job's median "
                f"run {median_runtime_s:.0f} s: it is not a typical run"
            )
    return doubts


def _feasibility(
    model: AppModel, worker_type: str, current_type: str | None, glue_version: str | None
) -> tuple[bool, str]:
    peak = model.peak_task_memory_bytes
    if not peak:
        return True, ""
    available = task_memory_bytes(worker_type, glue_version)
    if available < peak:
        return False, (
            f"{available / 2**30:.1f} GiB of execution memory per task, below the "
            f"{peak / 2**30:.1f} GiB a task peaked at: it would spill or fail"
        )
    if (
        model.spilled
        and executor_cores(current_type, glue_version)
        and available < task_memory_bytes(current_type or "", glue_version)
    ):
        return False, "the run spilled already, and this has less memory per task"
    return True, ""


def _price(
    worker_type: str,
    workers: int,
    runtime_s: float,
    busy_executor_s: float | None,
    rate: float | None,
    minimum_s: int,
) -> tuple[float, float | None]:
    dpu = facts.dpu_per_worker(worker_type) or 0.0
    if busy_executor_s is None:
        worker_seconds = workers * max(runtime_s, minimum_s)
    else:  # Auto Scaling: the driver's worker throughout, executors while they have work
        worker_seconds = max(runtime_s, minimum_s) + busy_executor_s
    dpu_hours = worker_seconds * dpu / 3600
    return dpu_hours, None if rate is None else dpu_hours * rate


def whatif_for_model(
    model: AppModel,
    *,
    job: dict[str, Any] | None = None,
    median_runtime_s: float | None = None,
    runs_month: float | None = None,
    sla: float = DEFAULT_SLA,
    region: str | None = None,
    run_id: str | None = None,
) -> WhatIf:
    """Every candidate configuration for the application in `model`, priced per run."""
    job = job or {}
    error = model_error(model)
    trusted, doubts = trust(model, error, TRUST_LIMIT)
    current_type, current_workers = job.get("worker_type"), job.get("number_of_workers")
    version = job.get("glue_version")
    minimum = minimum_seconds(job.get("glue_version"), job.get("command_name"))
    result = WhatIf(
        job_name=job.get("name"),
        run_id=run_id,
        app_id=model.app_id,
        log_config=f"{model.executors} executor(s) x {model.cores} core(s)",
        model_error=error,
        trusted=trusted,
        doubts=doubts,
        current=None,
        sla=sla,
        runs_month=runs_month,
    )
    if not executor_cores(current_type, version) or not current_workers or current_workers < 2:
        result.doubts.append("the job's current worker type and count are not known")
        result.trusted = False
        return result
    result.doubts += representative_doubts(model, job, median_runtime_s)
    result.trusted = result.trusted and not result.doubts
    needed = slots_needed(model)
    cache: dict[tuple[int, int], Any] = {}

    def run(worker_type: str, workers: int) -> Any:
        cores = executor_cores(worker_type, version) or 1
        key = ((workers - 1) * cores, cores)
        if key not in cache:
            cache[key] = simulate(model, workers - 1, cores)
        return cache[key]

    own = run(current_type, current_workers)
    scale = (median_runtime_s / own.runtime_s) if median_runtime_s and own.runtime_s else 1.0
    region = region or job.get("region")
    types = allowed_worker_types(version, job.get("command_name"))
    if current_type not in types:
        types.append(current_type)
    for worker_type in types:
        # each worker type is billed on its own price line (R.* at the memory-optimised rate)
        kind = rate_kind(job.get("command_name"), worker_type, job.get("execution_class"), version)
        rate_usd = lookup_rate(region, kind).usd
        cores = executor_cores(worker_type, version) or 1
        counts = [n for n in WORKER_COUNTS if (n - 1) * cores <= 2 * max(needed, cores)]
        if worker_type == current_type and current_workers not in counts:
            counts.append(current_workers)
        feasible, note = _feasibility(model, worker_type, current_type, version)
        for workers in sorted(counts):
            simulation = run(worker_type, workers)
            runtime = simulation.runtime_s * scale
            for autoscaling in (False, True):
                busy = simulation.busy_executor_s * scale if autoscaling else None
                dpu_hours, usd = _price(worker_type, workers, runtime, busy, rate_usd, minimum)
                candidate = Candidate(
                    worker_type=worker_type,
                    workers=workers,
                    autoscaling=autoscaling,
                    runtime_s=round(runtime, 1),
                    dpu_hours=round(dpu_hours, 4),
                    usd=None if usd is None else round(usd, 4),
                    slot_utilization=round(simulation.slot_utilization, 3),
                    feasible=feasible,
                    note=note,
                    current=(
                        worker_type == current_type
                        and workers == current_workers
                        and autoscaling == bool(job.get("autoscaling_enabled"))
                    ),
                )
                result.candidates.append(candidate)
                if candidate.current:
                    result.current = candidate
    _choose(result)
    return result


def _choose(result: WhatIf) -> None:
    """The cheapest feasible candidate no more than `sla` slower than the current one, with
    the job's own Auto Scaling setting (whether to turn Auto Scaling on is a question of its
    own: the frontier shows both), overall and of the current worker type."""
    current = result.current
    if current is None:
        return
    allowed = [
        c
        for c in result.candidates
        if c.feasible
        and c.autoscaling == current.autoscaling
        and c.runtime_s <= current.runtime_s * (1 + result.sla) + 1e-9
    ]

    def cheapest(options: list[Candidate]) -> Candidate | None:
        return min(
            options,
            key=lambda c: (result.cost_of(c), c.dpu_hours, c.runtime_s, c.workers),
            default=None,
        )

    result.best = cheapest(allowed)
    result.best_same_type = cheapest([c for c in allowed if c.worker_type == current.worker_type])
    if result.best is None or result.runs_month is None:
        return
    result.saving_dpu_hours_month, result.saving_usd_month = result.saving(result.best)


def load_eventlog_model(path: str | Path) -> AppModel:
    """The simulator's model of the first application found at `path` (file or folder)."""
    from advisor.sparklog.reduce import summarize_paths

    summaries = summarize_paths([str(path)])
    if not summaries:
        raise FileNotFoundError(f"no Spark event log found at {path}")
    summary = summaries[0]
    return build_model(summary, summary["stage_list"], summary["executor_list"])
