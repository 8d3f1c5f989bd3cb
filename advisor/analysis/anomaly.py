"""Runtime anomalies per job (scikit-learn IsolationForest) and cost step changes.

A job's judged runs (succeeded, with a runtime) are scored on volume-normalised features (log
runtime, and log runtime per GB read where CloudWatch saw the bytes of every one). They are
judged against a reference fitted on the job's first runs: the largest of 8, 10, 13, 17, ...
(each a quarter more than the one before) that its judged runs reach. So a new run is judged
against the job's past, and the reference changes only when the history has grown by a quarter:
until then an analysis judges the new runs alone, against the reference it kept
(advisor/analysis/incremental.py), and gets what judging the whole history again would.

IsolationForest (fixed seed, fitted on the reference's runs) proposes outliers once there are
FOREST_MIN_RUNS of them; a run is reported only if a robust z-score (median and MAD of the
reference's runs) explains it, by at least a quarter off the median, so every anomaly says
which feature made it one. Shorter references use the z-score alone.

Each configuration of a job (its workers, or its DPUs) has a reference of its own, fitted on its
first runs: after a change of workers, runs are judged against runs of the same workers, never
against the old ones (a job that halved its workers is slower by design).
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from statistics import median
from typing import Any

import numpy as np
import orjson
import sklearn
from joblib.externals.loky import get_reusable_executor
from sklearn.ensemble import IsolationForest

MIN_RUNS = 8  # fewer judged runs: nothing is judged
GROWTH = 1.25  # the reference is fitted again when the judged runs have grown by this much
FOREST_MIN_RUNS = 30  # a reference of fewer runs: robust z-scores alone
Z_THRESHOLD = 3.5
# and a run must differ from its reference's median by at least a quarter: a job whose runs
# hardly vary has a tiny spread, and a 10 % slower run is not worth anyone's attention
MIN_EFFECT = math.log(1.25)
MAD_SCALE = 1.4826  # makes the MAD estimate a standard deviation for normal data
SEED = 20261128
# 16 trees made the same decisions as 100 on benchmarks/anomaly_bench.py (300 x 90 and
# 100 x 1,000 runs) in a sixth of the time; sklearn's cost here is per tree, not per run
TREES = 16
PARALLEL_MIN_JOBS = 16  # fewer forests: starting worker processes costs more than it saves
RUNTIME, PER_GB = "runtime", "runtime per GB read"


@dataclass
class RunAnomaly:
    run_id: str
    job_name: str
    started_on: str
    score: float
    ratio: float  # the run's runtime over the job's median
    reasons: list[str]
    extra_usd: float | None


def robust_z(values: list[float]) -> list[float]:
    centre, spread = _centre_spread(values)
    return [_z(v, centre, spread) for v in values]


def _centre_spread(values: Sequence[float]) -> tuple[float, float]:
    centre = median(values)
    return centre, median(abs(v - centre) for v in values) * MAD_SCALE


def _z(value: float, centre: float, spread: float) -> float:
    if spread == 0:
        return 0.0 if value == centre else math.copysign(math.inf, value - centre)
    return (value - centre) / spread


def judged_runs(runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The runs a runtime anomaly is judged on: succeeded, with a runtime."""
    return [r for r in runs if r["state"] == "SUCCEEDED" and (r["execution_time_s"] or 0) > 0]


def training_size(judged: int) -> int:
    """How many of a job's first judged runs its reference is fitted on (0: too few to judge)."""
    if judged < MIN_RUNS:
        return 0
    size = MIN_RUNS
    while (grown := math.ceil(size * GROWTH)) <= judged:
        size = grown
    return size


def _value(run: dict[str, Any], column: str) -> float:
    runtime = max(run["execution_time_s"], 1)
    return math.log(runtime if column == RUNTIME else runtime / (run["bytes_read"] / 1e9))


def _column_values(runs: list[dict[str, Any]], columns: Sequence[str]) -> list[list[float]]:
    return [[_value(r, column) for r in runs] for column in columns]


@dataclass(frozen=True)
class Reference:
    """What a job's runs are judged against: kept between analyses (as_dict) so new runs can
    be judged without reading the job's history again."""

    trained: int  # fitted on the job's first `trained` judged runs
    columns: tuple[str, ...]
    centre: tuple[float, ...]  # per column, the median of the reference runs
    spread: tuple[float, ...]  # and their MAD, scaled (0: all had the median's value)
    typical_runtime: float  # median runtime (s) of the reference runs
    typical_cost: float  # and their median cost

    @property
    def needs_forest(self) -> bool:
        return self.trained >= FOREST_MIN_RUNS

    def as_dict(self) -> dict[str, Any]:
        return {**self.__dict__, "columns": list(self.columns)}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Reference:
        return cls(
            d["trained"],
            tuple(d["columns"]),
            tuple(d["centre"]),
            tuple(d["spread"]),
            d["typical_runtime"],
            d["typical_cost"],
        )


def fit_reference(judged: list[dict[str, Any]]) -> Reference | None:
    """The reference of a job with these judged runs (oldest first); None: too few."""
    trained = training_size(len(judged))
    if not trained:
        return None
    # runtime per GB only when CloudWatch saw the bytes of every judged run
    columns = (RUNTIME, PER_GB) if all(r.get("bytes_read") for r in judged) else (RUNTIME,)
    first = judged[:trained]
    stats = [_centre_spread(values) for values in _column_values(first, columns)]
    return Reference(
        trained,
        columns,
        tuple(c for c, _ in stats),
        tuple(s for _, s in stats),
        median(r["execution_time_s"] for r in first),
        median(r["cost_usd"] or 0 for r in first),
    )


def takes(reference: Reference, run: dict[str, Any]) -> bool:
    """Whether a new judged run leaves the reference's columns as they are (a run without
    bytes read ends the runtime-per-GB column: the job is judged again in full)."""
    return PER_GB not in reference.columns or bool(run.get("bytes_read"))


@dataclass
class _Prepared:
    """Runs of one job to judge (all its judged runs, or its new ones), their z-scores
    against its reference, and the runs the reference was fitted on (for the forest; None
    until they are read)."""

    job: str
    reference: Reference
    runs: list[dict[str, Any]]
    z: list[list[float]]  # per column, per run
    explained: list[int]  # runs a z-score explains
    training: list[dict[str, Any]] | None = None
    scores: dict[int, float] = field(default_factory=dict)  # forest scores of explained runs

    @property
    def needs_forest(self) -> bool:
        return self.reference.needs_forest

    def forest_inputs(self) -> tuple[np.ndarray, np.ndarray]:
        assert self.training is not None
        columns = self.reference.columns
        return (
            np.column_stack(_column_values(self.training, columns)),
            np.column_stack(_column_values([self.runs[i] for i in self.explained], columns)),
        )


def prepare(
    job: str,
    reference: Reference | None,
    runs: list[dict[str, Any]],
    training: list[dict[str, Any]] | None = None,
) -> _Prepared | None:
    """`runs` (judged runs of the job) scored against its reference; None: nothing a z-score
    explains, so nothing to report and no forest to fit."""
    if reference is None or not runs:
        return None
    values = _column_values(runs, reference.columns)
    z = [
        [_z(v, centre, spread) for v in column]
        for column, centre, spread in zip(values, reference.centre, reference.spread, strict=True)
    ]
    explained = [
        i
        for i in range(len(runs))
        if any(
            abs(c[i]) >= Z_THRESHOLD and abs(v[i] - centre) >= MIN_EFFECT
            for c, v, centre in zip(z, values, reference.centre, strict=True)
        )
    ]
    if not explained:
        return None
    return _Prepared(job, reference, runs, z, explained, training)


def config_of(run: dict[str, Any]) -> list[Any]:
    """What a run's runtime depends on besides its data: its workers (or its DPUs, for a job
    sized in DPUs). Runs of another configuration are judged against their own reference: a
    job that halved its workers runs slower by design, not by accident."""
    worker_type = run.get("worker_type")
    return [
        worker_type,
        run.get("number_of_workers"),
        None if worker_type else run.get("capacity_dpu"),
    ]


def prepare_history(
    job: str, runs: list[dict[str, Any]]
) -> tuple[list[_Prepared], int, Any, list[Any] | None]:
    """A job's whole history (oldest first) prepared for judging, each configuration's runs
    against their own reference: (prepared, judged runs of the newest run's configuration,
    its reference, that configuration)."""
    judged = judged_runs(runs)
    if not judged:
        return [], 0, None, None
    groups: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
    for run in judged:
        groups.setdefault(tuple(config_of(run)), []).append(run)
    newest = tuple(config_of(judged[-1]))
    prepared, newest_reference = [], None
    for config, members in groups.items():
        reference = fit_reference(members)
        if config == newest:
            newest_reference = reference
        if reference is not None:
            p = prepare(job, reference, members, members[: reference.trained])
            prepared += [p] if p is not None else []
    return prepared, len(groups[newest]), newest_reference, list(newest)


def _forest(training: np.ndarray, candidates: np.ndarray) -> np.ndarray:
    """Anomaly scores (higher is stranger) of `candidates` from a forest fitted on `training`,
    with NaN where the forest does not call the run an outlier."""
    forest = IsolationForest(n_estimators=TREES, contamination="auto", random_state=SEED)
    # the parameters are ours and the matrix is finite (logs of positive numbers): checking
    # them again for every tree was a sixth of the time, and decides nothing
    with sklearn.config_context(skip_parameter_validation=True, assume_finite=True):
        forest.fit(training)
        scores = forest.score_samples(candidates)
    # what forest.predict() calls an outlier
    return np.where(scores - forest.offset_ < 0, -scores, np.nan)


def _reason(column: str, ratio: float, z: float) -> str:
    """Why a run is an anomaly, said once: its runtime ratio is shown beside the reason
    everywhere (`took 4.8x the median runtime (...)`), so the runtime column gives only its
    z-score; runtime per GB read gives its own ratio too."""
    if column == RUNTIME:
        return f"robust z-score {z:.1f} on runtime"
    return f"{column} {ratio:.1f}x the median, robust z-score {z:.1f}"


def _explain(p: _Prepared) -> list[RunAnomaly]:
    ref = p.reference
    out = []
    for k, i in enumerate(p.explained):
        if ref.needs_forest:
            score = p.scores.get(k, math.nan)
            if math.isnan(score):
                continue  # the forest does not call it an outlier
        else:
            score = max(abs(column[i]) for column in p.z)
        run = p.runs[i]
        reasons = [
            _reason(name, math.exp(_value(run, name) - centre), column[i])
            for name, centre, column in zip(ref.columns, ref.centre, p.z, strict=True)
            if abs(column[i]) >= Z_THRESHOLD and abs(_value(run, name) - centre) >= MIN_EFFECT
        ]
        out.append(
            RunAnomaly(
                run["id"],
                p.job,
                run["started_on"],
                round(float(score), 4),
                run["execution_time_s"] / ref.typical_runtime,
                reasons,
                # a run at an unknown rate has no dollar figure, not $0.00
                None if run["cost_usd"] is None else max(0.0, run["cost_usd"] - ref.typical_cost),
            )
        )
    return out


class Forests:
    """The forests of jobs prepared one after another, fitted while the caller goes on (reading
    and preparing the next jobs): in worker processes once there are PARALLEL_MIN_JOBS of them
    (starting workers costs more than a few forests), else here. Each job's forest is
    independent and seeded: the result does not depend on where it was fitted."""

    def __init__(self, workers: int | None = None):
        self.workers = workers or min(os.cpu_count() or 1, 4)
        self.prepared: list[_Prepared] = []
        self._waiting: list[_Prepared] = []  # not yet sent to a worker
        self._fitted: dict[int, Any] = {}  # id(prepared): scores, or a Future of them
        self._executor: Any = None

    def add(self, p: _Prepared | None) -> None:
        if p is None:
            return
        self.prepared.append(p)
        if not p.needs_forest:
            return
        self._waiting.append(p)
        if self._executor is None and self.workers > 1 and len(self._waiting) >= PARALLEL_MIN_JOBS:
            self._executor = get_reusable_executor(max_workers=self.workers)
        if self._executor is not None:
            for waiting in self._waiting:
                self._fitted[id(waiting)] = self._executor.submit(_forest, *waiting.forest_inputs())
            self._waiting.clear()

    def add_history(self, job: str, runs: list[dict[str, Any]]) -> tuple[int, Any, Any]:
        """Judge a job's whole history; returns (judged runs of its newest configuration, their
        reference, that configuration)."""
        prepared, judged, reference, config = prepare_history(job, runs)
        for p in prepared:
            self.add(p)
        return judged, reference, config

    def anomalies(self) -> list[RunAnomaly]:
        """Every prepared job's anomalies, in the order the jobs were added."""
        for p in self._waiting:
            self._fitted[id(p)] = _forest(*p.forest_inputs())
        self._waiting.clear()
        out = []
        for p in self.prepared:
            fitted = self._fitted.get(id(p))
            if isinstance(fitted, Future):
                fitted = fitted.result()
            if fitted is not None:
                p.scores = dict(enumerate(fitted.tolist()))
            out += _explain(p)
        # a job's configurations are judged apart: its anomalies go back in the order of its runs
        order = {job: i for i, job in enumerate(dict.fromkeys(p.job for p in self.prepared))}
        return sorted(out, key=lambda a: (order[a.job_name], a.started_on or "", a.run_id))


def fleet_anomalies(
    runs_by_job: dict[str, list[dict[str, Any]]], workers: int | None = None
) -> list[RunAnomaly]:
    """Anomalous judged runs of every job (whole histories, oldest first); the forests of many
    jobs are fitted in parallel (each is independent and seeded, so the result does not depend
    on workers)."""
    forests = Forests(workers)
    for job, runs in runs_by_job.items():
        forests.add_history(job, runs)
    return forests.anomalies()


def anomaly_row(anomaly: RunAnomaly) -> dict[str, Any]:
    """A run_anomalies row."""
    return {**anomaly.__dict__, "reasons": orjson.dumps(anomaly.reasons).decode()}


def from_row(row: dict[str, Any]) -> RunAnomaly:
    """A stored run_anomalies row as the RunAnomaly it was saved from."""
    return RunAnomaly(
        row["run_id"],
        row["job_name"],
        row["started_on"],
        row["score"],
        row["ratio"],
        orjson.loads(row["reasons"]),
        row["extra_usd"],
    )


def job_anomalies(job: str, runs: list[dict[str, Any]]) -> list[RunAnomaly]:
    """Anomalous succeeded runs of one job, each with the features that explain it."""
    return fleet_anomalies({job: runs}, workers=1)


def cost_step(runs: list[dict[str, Any]], recent_runs: int = 14) -> dict[str, Any]:
    """Median cost per run after the last configuration change among `runs` (the window's,
    oldest first), or of the newest of them, against the runs before it."""
    priced = [r for r in runs if r["state"] == "SUCCEEDED" and r["cost_usd"]]
    if len(priced) < 8:
        return {}
    configs = [(r["worker_type"], r["number_of_workers"]) for r in priced]
    change = max((i for i in range(1, len(priced)) if configs[i] != configs[i - 1]), default=None)
    if change is not None and min(change, len(priced) - change) >= 3:
        before, recent = priced[:change], priced[change:]
    else:
        change = None
        cut = max(4, min(recent_runs, len(priced) // 3))
        before, recent = priced[:-cut], priced[-cut:]
    old, new = median(r["cost_usd"] for r in before), median(r["cost_usd"] for r in recent)
    out: dict[str, Any] = {
        "cost_per_run_ratio": new / old,
        "cost_per_run_before_usd": old,
        "cost_per_run_recent_usd": new,
    }
    if change is not None:
        out["cost_change_at"] = priced[change]["started_on"][:16]
        out["cost_change_config"] = (
            f"{before[-1]['number_of_workers']} x {before[-1]['worker_type']}"
            f" -> {recent[0]['number_of_workers']} x {recent[0]['worker_type']}"
        )
        # the configuration to go back to, if the change did not pay for itself
        out["revert_worker_type"] = before[-1]["worker_type"]
        out["revert_workers"] = before[-1]["number_of_workers"]
    return out
