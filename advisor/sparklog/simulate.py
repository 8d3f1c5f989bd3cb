"""Replay an application's stages through a task scheduler with a different number of slots.

The model (built from reduced event-log facts, never from raw events):
- time outside every stage (driver work: planning, listing files, collecting results, gaps
  between jobs) is kept as it was;
- the rest is cut into *phases*, the maximal spans in which at least one stage ran; each phase
  is replayed from an empty cluster with `slots = executors x cores / spark.task.cpus`;
- inside a phase a stage is ready when its parents (in the same phase) have finished, and its
  tasks go, in order, to the slot that frees first (Spark's FIFO scheduler: an earlier stage's
  tasks are queued before a later one's);
- each stage's tasks are its recorded count, with durations drawn from its 64-point duration
  profile (same mean and maximum), in a fixed pseudo-random order. Task durations do not
  change with the cluster size (no model of shuffle locality or contention).

Long stages are replayed as at most `SUPER_TASKS_PER_SLOT` x slots "super tasks" (consecutive
tasks summed): the error this adds is at most about 1/16 of the stage's own runtime.
"""

from __future__ import annotations

import heapq
import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np
from scipy.ndimage import maximum_filter1d

SUPER_TASKS_PER_SLOT = 16
# Glue's Auto Scaling is Spark dynamic allocation: an idle executor goes after 60 s
IDLE_TIMEOUT_MS = 60_000.0
DRIVER = "driver"


@dataclass
class StageNode:
    key: tuple[int, int]  # (stage id, attempt)
    parents: list[tuple[int, int]]
    durations_ms: np.ndarray  # one per task, in launch order
    offset_ms: float = 0.0  # submitted this long after its phase began (when not parent-bound)

    def packed(self, slots: int) -> np.ndarray:
        """The stage's tasks as at most SUPER_TASKS_PER_SLOT x slots units of work."""
        limit = SUPER_TASKS_PER_SLOT * slots
        if len(self.durations_ms) <= limit:
            return self.durations_ms
        bounds = np.linspace(0, len(self.durations_ms), limit + 1).astype(int)[:-1]
        return np.add.reduceat(self.durations_ms, bounds)


@dataclass
class Phase:
    start_ms: float
    real_ms: float
    stages: list[StageNode]


@dataclass
class AppModel:
    """What the simulator needs from one application, and what makes its answer doubtful."""

    app_id: str
    duration_ms: float
    fixed_ms: float  # driver-only time, kept as is
    phases: list[Phase]
    executors: int
    cores: int
    task_cpus: int = 1
    start_ms: float | None = None  # application start, for laying phases on a timeline
    doubts: list[str] = field(default_factory=list)
    peak_task_memory_bytes: int | None = None  # peak execution memory of one task
    spilled: bool = False
    schedules: dict[int, Any] = field(default_factory=dict, repr=False)  # by slot count
    job_starts_ms: list[float] = field(default_factory=list)  # submission of each Spark job

    def after(self, from_ms: float) -> AppModel:
        """The application from `from_ms` on (say, after a warm-up job): phases that began
        earlier are dropped and the driver time is counted from there."""
        end = (self.start_ms or 0.0) + self.duration_ms
        phases = [p for p in self.phases if p.start_ms >= from_ms]
        duration = end - from_ms
        return AppModel(
            app_id=self.app_id,
            duration_ms=duration,
            fixed_ms=max(0.0, duration - sum(p.real_ms for p in phases)),
            phases=phases,
            executors=self.executors,
            cores=self.cores,
            task_cpus=self.task_cpus,
            start_ms=from_ms,
            doubts=list(self.doubts),
            peak_task_memory_bytes=self.peak_task_memory_bytes,
            spilled=self.spilled,
            job_starts_ms=[t for t in self.job_starts_ms if t >= from_ms],
        )

    @property
    def slots(self) -> int:
        return max(1, self.executors * self.cores // self.task_cpus)

    @property
    def tasks(self) -> int:
        return sum(len(s.durations_ms) for p in self.phases for s in p.stages)


@dataclass(frozen=True)
class Simulation:
    executors: int
    cores: int
    runtime_s: float
    slot_utilization: float  # task time / (slots x time in phases)
    busy_executor_s: float  # executor time under Auto Scaling (demand, plus idle timeout)


def _phase_schedule(phase: Phase, slots: int) -> tuple[float, np.ndarray, np.ndarray]:
    """Makespan (ms) of one phase on `slots` slots, and every task's start and end."""
    free = np.zeros(slots)  # when each slot frees, sorted (so also a valid heap)
    nodes = {s.key: s for s in phase.stages}
    waiting = {k: sum(p in nodes for p in s.parents) for k, s in nodes.items()}
    children: dict[tuple[int, int], list[tuple[int, int]]] = {k: [] for k in nodes}
    for key, node in nodes.items():
        for parent in node.parents:
            if parent in nodes:
                children[parent].append(key)
    ready = [(node.offset_ms, key) for key, node in nodes.items() if not waiting[key]]
    heapq.heapify(ready)
    finish: dict[tuple[int, int], float] = {}
    starts, ends = [], []
    while ready:
        at, key = heapq.heappop(ready)
        work = nodes[key].packed(slots)
        if len(work) <= np.searchsorted(free, at, side="right"):
            # enough idle slots: every task starts at once (the common case for a stage whose
            # parent has just finished)
            stage_starts = np.full(len(work), at)
            free = np.sort(np.concatenate([free[len(work) :], at + work]))
        else:
            stage_starts, free = _list_schedule(work, free, at)
        stage_ends = stage_starts + work
        finish[key] = float(stage_ends.max()) if len(work) else at
        starts.append(stage_starts)
        ends.append(stage_ends)
        for child in children[key]:
            waiting[child] -= 1
            if not waiting[child]:
                parents_done = max(finish[p] for p in nodes[child].parents if p in nodes)
                heapq.heappush(ready, (max(parents_done, nodes[child].offset_ms), child))
    makespan = max(finish.values(), default=0.0)
    if not starts:
        return makespan, np.zeros(0), np.zeros(0)
    return makespan, np.concatenate(starts), np.concatenate(ends)


def _list_schedule(work: np.ndarray, free: np.ndarray, at: float) -> tuple[np.ndarray, np.ndarray]:
    """Each task, in order, to the slot that frees first (no earlier than `at`)."""
    heap = free.tolist()  # sorted, so already a heap
    replace = heapq.heapreplace
    begins = []
    append = begins.append
    for duration in work.tolist():
        begin = heap[0] if heap[0] > at else at
        append(begin)
        replace(heap, begin + duration)
    return np.asarray(begins), np.sort(np.asarray(heap))


def held_executor_ms(
    starts: np.ndarray, ends: np.ndarray, cores: int, until_ms: float, idle_ms: float
) -> float:
    """Executor-ms under dynamic allocation: at each instant enough executors for the running
    tasks (ceil(tasks / cores)), each kept until it has been idle for `idle_ms`. Time is cut in
    at most 20,000 bins (50 ms at least); a task counts in every bin it touches."""
    if not len(starts) or until_ms <= 0:
        return 0.0
    step = max(until_ms / 20_000, 50.0)
    bins = math.ceil(until_ms / step) + 1
    first = np.clip((starts // step).astype(int), 0, bins - 1)
    last = np.clip((np.maximum(ends - 1e-9, starts) // step).astype(int), 0, bins - 1)
    running = np.cumsum(
        np.bincount(first, minlength=bins + 1) - np.bincount(last + 1, minlength=bins + 1)
    )[:bins]
    needed = np.ceil(running / cores)
    window = 2 * int(idle_ms / step / 2) + 1  # odd: a trailing window of about idle_ms
    held = maximum_filter1d(needed, size=window, origin=(window - 1) // 2, mode="constant")
    return float(held[: math.ceil(until_ms / step)].sum() * step)


def _timeline(model: AppModel, slots: int) -> tuple[float, np.ndarray, np.ndarray]:
    """Stage time (ms) on `slots` slots and every task's start and end on the application's
    timeline, phases placed after the real driver time before them. Cached per model."""
    cached = model.schedules.get(slots)
    if cached is not None:
        return cached
    shift, phase_ms = 0.0, 0.0  # how much earlier each phase starts than it really did
    starts, ends = [np.zeros(0)], [np.zeros(0)]
    first = model.phases[0].start_ms if model.phases else 0.0
    origin = model.start_ms if model.start_ms is not None else first - model.fixed_ms
    for phase in model.phases:
        makespan, task_starts, task_ends = _phase_schedule(phase, slots)
        at = phase.start_ms - origin - shift
        starts.append(task_starts + at)
        ends.append(task_ends + at)
        phase_ms += makespan
        shift += phase.real_ms - makespan
    result = (phase_ms, np.concatenate(starts), np.concatenate(ends))
    model.schedules[slots] = result
    return result


def simulate(model: AppModel, executors: int, cores: int | None = None) -> Simulation:
    cores = cores or model.cores
    slots = max(1, executors * cores // model.task_cpus)
    phase_ms, starts, ends = _timeline(model, min(slots, slots_needed(model)))
    task_ms = sum(float(s.durations_ms.sum()) for p in model.phases for s in p.stages)
    runtime_ms = model.fixed_ms + phase_ms
    busy = held_executor_ms(starts, ends, cores, runtime_ms, IDLE_TIMEOUT_MS)
    return Simulation(
        executors=executors,
        cores=cores,
        runtime_s=runtime_ms / 1000,
        slot_utilization=task_ms * model.task_cpus / (slots * phase_ms) if phase_ms else 0.0,
        busy_executor_s=min(busy, executors * runtime_ms) / 1000,
    )


def model_error(model: AppModel) -> float | None:
    """Relative error of the replay of the application's own configuration."""
    if not model.duration_ms:
        return None
    own = simulate(model, model.executors, model.cores)
    return abs(own.runtime_s * 1000 - model.duration_ms) / model.duration_ms


# ---- building the model from reduced facts ----------------------------------------------------


def _loads(value: Any, default: Any) -> Any:
    if isinstance(value, str):
        return json.loads(value) if value else default
    return default if value is None else value


@lru_cache(maxsize=4096)
def _order(n: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).permutation(n)


def task_durations(profile: list[float], tasks: int, seed: int) -> np.ndarray:
    """`tasks` durations following the profile's quantiles, in a fixed pseudo-random order."""
    if not tasks or not profile:
        return np.zeros(0)
    points = np.asarray(profile, dtype=float)
    expanded = points[(np.arange(tasks) * len(points)) // tasks]
    return expanded[_order(tasks, seed)]


def _phases(stages: list[dict[str, Any]]) -> list[tuple[float, float, list[dict[str, Any]]]]:
    timed = sorted(
        (s for s in stages if s["submitted_ms"] is not None and s["completed_ms"] is not None),
        key=lambda s: (s["submitted_ms"], s["stage_id"], s["attempt"]),
    )
    phases: list[tuple[float, float, list[dict[str, Any]]]] = []
    for stage in timed:
        begin, end = stage["submitted_ms"], max(stage["completed_ms"], stage["submitted_ms"])
        if phases and begin <= phases[-1][1]:
            start, stop, members = phases[-1]
            phases[-1] = (start, max(stop, end), [*members, stage])
        else:
            phases.append((begin, end, [stage]))
    return phases


def _executors(
    executors: Iterable[Mapping[str, Any]], properties: Mapping[str, str], end_ms: float
) -> tuple[int, int, list[str]]:
    """Executor count and cores the application ran with, and doubts about that."""
    rows = [e for e in executors if e.get("executor_id") != DRIVER and e.get("cores")]
    doubts = []
    if not rows:  # local mode: the driver is the only executor
        rows = [e for e in executors if e.get("cores")]
    if not rows:
        cores = int(properties.get("spark.executor.cores") or 1)
        return 1, cores, ["the log names no executor with cores"]
    cores_seen = sorted({int(e["cores"]) for e in rows})
    if len(cores_seen) > 1:
        doubts.append(f"executors had different core counts ({cores_seen})")
    removed = [e for e in rows if e.get("removed_ms") and e["removed_ms"] < end_ms - 5000]
    if removed:
        doubts.append(f"{len(removed)} of {len(rows)} executors were removed while it ran")
    return len(rows), max(cores_seen), doubts


def _runs_backwards(stage: Mapping[str, Any], profile: list[float]) -> bool:
    """A stage whose times cannot be real: it ends before it starts, or a task took < 0 ms."""
    submitted, completed = stage.get("submitted_ms"), stage.get("completed_ms")
    if submitted is not None and completed is not None and completed < submitted:
        return True
    return any(value < 0 for value in profile)


def build_model(
    app: Mapping[str, Any],
    stages: list[Mapping[str, Any]],
    executors: list[Mapping[str, Any]],
) -> AppModel:
    """From one application's rows (a summary's lists or the spark_* tables)."""
    properties = _loads(app.get("properties"), {})
    end_ms = float(app.get("end_ms") or math.inf)
    count, cores, doubts = _executors(executors, properties, end_ms)
    rows, backwards = [], 0
    for stage in stages:
        profile = _loads(stage.get("task_ms_profile"), [])
        if stage.get("tasks") and not profile:
            doubts.append("the log was reduced before task profiles were kept: reduce it again")
            break
        backwards += _runs_backwards(stage, profile)
        rows.append({**stage, "profile": profile, "parents": _loads(stage["parent_ids"], [])})
    duration = float(app.get("duration_ms") or 0)
    if backwards or duration < 0:
        doubts.append(
            f"its clock runs backwards ({backwards} stages end before they start or hold tasks "
            "of negative duration)"
            if backwards
            else "the application ends before it starts"
        )
    if not app.get("complete"):
        doubts.append("the log is incomplete (no application end)")
    problems = _loads(app.get("problems"), {})
    if problems:
        doubts.append(f"the log lost events ({', '.join(sorted(problems))})")
    attempts: dict[int, list[tuple[int, int]]] = {}
    for row in rows:
        attempts.setdefault(row["stage_id"], []).append((row["stage_id"], row["attempt"]))
    phases = []
    for start, stop, members in _phases([r for r in rows if r.get("tasks")]):
        nodes = []
        for row in members:
            key = (row["stage_id"], row["attempt"])
            parents = [(p, a) for p in row["parents"] for (_, a) in attempts.get(p, [])]
            parents += [k for k in attempts[row["stage_id"]] if k[1] < row["attempt"]]
            nodes.append(
                StageNode(
                    key=key,
                    parents=parents,
                    durations_ms=task_durations(
                        row["profile"], int(row["tasks"]), row["stage_id"] * 100 + row["attempt"]
                    ),
                    offset_ms=float(row["submitted_ms"] - start),
                )
            )
        phases.append(Phase(start, float(stop - start), nodes))
    in_phases = sum(p.real_ms for p in phases)
    peaks = [s.get("peak_execution_memory_max") or 0 for s in stages]
    return AppModel(
        app_id=str(app.get("app_id")),
        start_ms=app.get("start_ms"),
        duration_ms=duration,
        fixed_ms=max(0.0, duration - in_phases),
        phases=phases,
        executors=count,
        cores=cores,
        task_cpus=int(properties.get("spark.task.cpus") or 1),
        doubts=doubts,
        peak_task_memory_bytes=max(peaks) or None if peaks else None,
        spilled=any((s.get("disk_bytes_spilled") or 0) > 0 for s in stages),
        job_starts_ms=sorted(
            float(span[1]) for span in _loads(app.get("job_spans"), []) if span[1] is not None
        ),
    )


def trust(model: AppModel, error: float | None, limit: float = 0.25) -> tuple[bool, list[str]]:
    """Whether a sizing recommendation may rest on this model, and why not."""
    reasons = list(model.doubts)
    if error is None:
        reasons.append("the application's duration is unknown")
    elif error > limit:
        reasons.append(
            f"replaying its own configuration misses the real runtime by {error:.0%} "
            f"(over {limit:.0%})"
        )
    if not model.phases:
        reasons.append("no stage ran tasks")
    return not reasons, reasons


def slots_needed(model: AppModel) -> int:
    """Beyond this many slots nothing goes faster: every task of the widest phase runs at
    once (so every slot count above it has the same schedule)."""
    return max((sum(len(s.durations_ms) for s in p.stages) for p in model.phases), default=1)
