"""The anomaly model: planted slow runs are found, explained, and results are deterministic."""

from __future__ import annotations

import random

import yaml

from advisor.analysis.anomaly import MIN_RUNS, cost_step, job_anomalies, robust_z
from advisor.analysis.findings import analyze
from advisor.collect.importer import import_directory
from advisor.store import Store
from tests.conftest import SAMPLE
from tests.keys import sample_run


def synthetic(count: int, slow: dict[int, float], seed: int = 1) -> list[dict]:
    rng = random.Random(seed)
    runs = []
    for i in range(count):
        runtime = 600 * rng.lognormvariate(0, 0.15) * slow.get(i, 1.0)
        runs.append(
            {
                "id": f"r{i}",
                "state": "SUCCEEDED",
                "execution_time_s": int(runtime),
                "started_on": f"2026-10-{1 + i // 24:02d}T{i % 24:02d}:00",
                "cost_usd": runtime / 900,
                "worker_type": "G.1X",
                "number_of_workers": 10,
            }
        )
    return runs


def test_planted_slow_runs_are_found_and_explained():
    runs = synthetic(60, {10: 4.0, 45: 3.0})
    found = job_anomalies("j", runs)
    assert {a.run_id for a in found} == {"r10", "r45"}
    assert all("runtime" in a.reasons[0] and a.extra_usd > 0 for a in found)
    assert job_anomalies("j", runs) == found  # fixed seed: same answer every time


def test_short_histories_use_the_robust_fallback_and_tiny_ones_are_not_judged():
    assert {a.run_id for a in job_anomalies("j", synthetic(12, {5: 5.0}))} == {"r5"}
    assert job_anomalies("j", synthetic(MIN_RUNS - 1, {3: 9.0})) == []


def test_failed_runs_are_not_anomalies_of_runtime():
    runs = synthetic(40, {})
    runs[7]["state"], runs[7]["execution_time_s"] = "FAILED", 5
    assert job_anomalies("j", runs) == []


def test_a_change_of_workers_is_judged_against_runs_of_the_same_workers():
    """Halving the workers makes every run twice as slow: that is the change, not an anomaly.
    A run 4x slower than the new configuration's runs still is one."""
    runs = synthetic(52, {48: 4.0})
    for run in runs[40:]:
        run["number_of_workers"] = 5
        run["execution_time_s"] = int(run["execution_time_s"] * 2)
    assert {a.run_id for a in job_anomalies("j", runs)} == {"r48"}
    # judged against the old workers' runs (one configuration for all), the new ones would be
    for run in runs:
        run["number_of_workers"] = 10
    assert len(job_anomalies("j", runs)) >= 5


def test_a_slight_deviation_of_a_steady_job_is_not_an_anomaly():
    """A job whose runs hardly vary has a tiny spread: 10 % slower is many z-scores off, and
    still not worth reporting; 40 % slower is."""
    runs = synthetic(40, {30: 1.1, 35: 1.4}, seed=3)
    for i, run in enumerate(runs):
        run["execution_time_s"] = 600 + i % 3 if i not in (30, 35) else run["execution_time_s"]
    runs[30]["execution_time_s"], runs[35]["execution_time_s"] = 660, 840
    assert {a.run_id for a in job_anomalies("j", runs)} == {"r35"}


def test_robust_z_ignores_the_outlier_it_measures():
    z = robust_z([1.0, 1.1, 0.9, 1.0, 1.05, 0.95, 10.0])
    assert z[-1] > 50 and max(abs(v) for v in z[:-1]) < 2


def test_cost_step_finds_the_change_of_workers():
    runs = synthetic(40, {})
    for run in runs[25:]:
        run["worker_type"], run["number_of_workers"], run["cost_usd"] = (
            "G.2X",
            20,
            run["cost_usd"] * 4,
        )
    step = cost_step(runs)
    assert 3.5 < step["cost_per_run_ratio"] < 4.5
    assert step["cost_change_config"] == "10 x G.1X -> 20 x G.2X"
    assert step["cost_change_at"] == runs[25]["started_on"][:16]


def test_the_sample_fleets_planted_anomalies_are_found(tmp_path):
    store = Store(tmp_path / "a.db")
    import_directory(store, SAMPLE)
    analyze(store)
    planted = {
        sample_run(a["run_id"])
        for a in yaml.safe_load((SAMPLE / "MANIFEST.yaml").read_text())["anomalous_runs"]
    }
    found = {r["run_id"] for r in store.db["run_anomalies"].rows}
    assert planted <= found
    assert len(found) <= 2 * len(planted)  # few false alarms on 7,000 runs
