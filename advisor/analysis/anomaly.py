"""Runtime anomalies per job (scikit-learn IsolationForest) and cost step changes.

Each job's succeeded runs are scored on volume-normalised features (log runtime, and log runtime
per GB read where CloudWatch saw the bytes). IsolationForest (fixed seed) proposes outliers when
the history is long enough; a run is reported only if a robust z-score (median and MAD) explains
it, so every anomaly says which feature made it one. Short histories use the z-score alone.
"""

from __future__ import annotations

import math
import os
from concurrent.futures import Future
from dataclasses import dataclass
from statistics import median
from typing import Any

import numpy as np
import orjson
import sklearn
from joblib.externals.loky import get_reusable_executor
from sklearn.ensemble import IsolationForest

MIN_RUNS = 8  # fewer succeeded runs: nothing is judged
FOREST_MIN_RUNS = 30  # fewer: robust z-scores alone
Z_THRESHOLD = 3.5
MAD_SCALE = 1.4826  # makes the MAD estimate a standard deviation for normal data
SEED = 20261128
# 16 trees made the same decisions as 100 on benchmarks/anomaly_bench.py (300 x 90 and
# 100 x 1,000 runs) in a sixth of the time; sklearn's cost here is per tree, not per run
TREES = 16
PARALLEL_MIN_JOBS = 16  # fewer forests: starting worker processes costs more than it saves


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
    centre = median(values)
    mad = median(abs(v - centre) for v in values) * MAD_SCALE
    if mad == 0:
        return [0.0 if v == centre else math.copysign(math.inf, v - centre) for v in values]
    return [(v - centre) / mad for v in values]


def _columns(runs: list[dict[str, Any]]) -> dict[str, list[float]]:
    columns = {"runtime": [math.log(max(r["execution_time_s"], 1)) for r in runs]}
    if all(r.get("bytes_read") for r in runs):
        columns["runtime per GB read"] = [
            math.log(max(r["execution_time_s"], 1) / (r["bytes_read"] / 1e9)) for r in runs
        ]
    return columns


@dataclass
class _Prepared:
    """One job's succeeded runs, their feature columns and z-scores, before the forest."""

    job: str
    runs: list[dict[str, Any]]
    columns: dict[str, list[float]]
    z: dict[str, list[float]]
    explained: set[int]

    @property
    def needs_forest(self) -> bool:
        return len(self.runs) >= FOREST_MIN_RUNS

    def matrix(self) -> np.ndarray:
        return np.column_stack(list(self.columns.values()))


def _prepare(job: str, runs: list[dict[str, Any]]) -> _Prepared | None:
    runs = [r for r in runs if r["state"] == "SUCCEEDED" and (r["execution_time_s"] or 0) > 0]
    if len(runs) < MIN_RUNS:
        return None
    columns = _columns(runs)
    z = {name: robust_z(values) for name, values in columns.items()}
    explained = {i for i in range(len(runs)) if any(abs(z[n][i]) >= Z_THRESHOLD for n in columns)}
    if not explained:
        return None  # nothing a z-score could explain: no forest needed
    return _Prepared(job, runs, columns, z, explained)


def _forest(matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Outlier labels (-1) and anomaly scores (higher is stranger) of one job's runs."""
    forest = IsolationForest(n_estimators=TREES, contamination="auto", random_state=SEED)
    # the parameters are ours and the matrix is finite (logs of positive numbers): checking
    # them again for every tree was a sixth of the time, and decides nothing
    with sklearn.config_context(skip_parameter_validation=True, assume_finite=True):
        forest.fit(matrix)
        # what forest.predict() does, from one scoring pass (it would score the runs again)
        scores = forest.score_samples(matrix)
    labels = np.ones_like(scores, dtype=int)
    labels[scores - forest.offset_ < 0] = -1
    return labels, -scores


def _explain(
    p: _Prepared, labels: np.ndarray | None, scores: np.ndarray | None
) -> list[RunAnomaly]:
    flagged = p.explained
    if labels is not None:
        flagged = p.explained & {i for i, label in enumerate(labels) if label == -1}
    typical = median(r["execution_time_s"] for r in p.runs)
    typical_cost = median(r["cost_usd"] or 0 for r in p.runs)
    out = []
    for i in sorted(flagged):
        reasons = [
            f"{name} {math.exp(values[i] - median(values)):.1f}x the median "
            f"(robust z {p.z[name][i]:.1f})"
            for name, values in p.columns.items()
            if abs(p.z[name][i]) >= Z_THRESHOLD
        ]
        run = p.runs[i]
        score = float(scores[i]) if scores is not None else max(abs(z[i]) for z in p.z.values())
        out.append(
            RunAnomaly(
                run["id"],
                p.job,
                run["started_on"],
                round(score, 4),
                run["execution_time_s"] / typical,
                reasons,
                # a run at an unknown rate has no dollar figure, not $0.00
                None if run["cost_usd"] is None else max(0.0, run["cost_usd"] - typical_cost),
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
        self._fitted: dict[str, Any] = {}  # job: (labels, scores), or a Future of them
        self._executor: Any = None

    def add(self, job: str, runs: list[dict[str, Any]]) -> None:
        p = _prepare(job, runs)
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
                self._fitted[waiting.job] = self._executor.submit(_forest, waiting.matrix())
            self._waiting.clear()

    def anomalies(self) -> list[RunAnomaly]:
        """Every prepared job's anomalies, in the order the jobs were added."""
        for p in self._waiting:
            self._fitted[p.job] = _forest(p.matrix())
        self._waiting.clear()
        out = []
        for p in self.prepared:
            fitted = self._fitted.get(p.job)
            if isinstance(fitted, Future):
                fitted = fitted.result()
            labels, scores = fitted if fitted is not None else (None, None)
            out += _explain(p, labels, scores)
        return out


def fleet_anomalies(
    runs_by_job: dict[str, list[dict[str, Any]]], workers: int | None = None
) -> list[RunAnomaly]:
    """Anomalous succeeded runs of every job; the forests of many jobs are fitted in parallel
    (each job's forest is independent and seeded, so the result does not depend on workers)."""
    forests = Forests(workers)
    for job, runs in runs_by_job.items():
        forests.add(job, runs)
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
    """Median cost per run after the job's last configuration change (or of its newest runs)
    against the runs before it."""
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
