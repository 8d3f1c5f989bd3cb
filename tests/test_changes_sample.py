"""The configuration changes planted in the sample fleet (sample_metrics/fleet_spec.py), as
`advisor changes` and `advisor explain` judge them on the analysed sample: each is found with
the fields the spec changed, from the job definition and from the runs alone, with the status
and the realised saving a month the spec implies."""

from __future__ import annotations

import json
import math
import sys
from datetime import timedelta

import pytest

from advisor.analysis import changes_data
from advisor.analysis.attribution import explain_in_store
from advisor.analysis.changes import (
    MIN_RUNS_AFTER,
    MONTH_DAYS,
    WINDOW_RUNS,
    changes_in_store,
    find_changes,
)
from advisor.store import Store
from advisor.timeutil import parse_ts
from tests.conftest import SAMPLE
from tests.keys import sample_job

sys.path.insert(0, str(SAMPLE))
from fleet_spec import FLEET_END, JobSpec, fleet
from generate_fleet import DPU

CHANGED = [spec for spec in fleet() if spec.change]
# how far the realised figure may sit outside its own 90% interval around what the spec implies
# (the spec's figure is a mean; the sample is one draw of about twenty runs a side)
SLACK = 0.05


def dpu(worker_type: str | None, workers: int | None) -> float:
    assert worker_type and workers
    return DPU[worker_type] * workers


def cost_ratio_per_run(spec: JobSpec) -> float:
    """A run's cost after the change over before it: capacity x runtime (same rate a DPU-hour)."""
    change = spec.change
    assert change
    before = dpu(spec.worker_type, spec.workers)
    return dpu(change.worker_type, change.workers) * change.runtime_factor / before


def volume_ratio(spec: JobSpec) -> float:
    """Bytes a run reads after the change over before: its volume factor (the generator's
    slower-reads-more is within a configuration, so a change's runtime factor reads no more)."""
    assert spec.change
    return spec.change.volume_factor


def expected_usd_month(spec: JobSpec, rate: float) -> tuple[float, str]:
    """(realised saving a month, basis) the spec implies: per GB read when the job has bytes
    read on both sides of the change (its metric files reach back before it), else per run."""
    assert spec.change and spec.schedule == "daily" and not spec.failures
    mean_runtime = spec.runtime_s * math.exp(spec.runtime_sigma**2 / 2)  # lognormal mean
    before_usd = mean_runtime * dpu(spec.worker_type, spec.workers) / 3600 * rate
    runs_month = MONTH_DAYS  # daily, none failed
    if _volume_known_before(spec):  # (usd/GB before - after) x GB a run reads now
        saving = before_usd * (volume_ratio(spec) - cost_ratio_per_run(spec))
        return saving * runs_month, "gb"
    return before_usd * (1 - cost_ratio_per_run(spec)) * runs_month, "run"


def _volume_known_before(spec: JobSpec) -> bool:
    """Whether metric files cover at least half the daily runs compared before the change:
    then it is judged per GB (the runs after a change, the newest, are covered in this sample
    whenever those before are)."""
    assert spec.change
    if spec.metrics is None:
        return False
    first_metrics = FLEET_END - timedelta(days=spec.metrics_days)
    return (spec.change.at - first_metrics).days >= WINDOW_RUNS / 2


@pytest.fixture(scope="module")
def judged(analysed_sample_db) -> dict[str, dict]:
    store = Store(analysed_sample_db)
    try:
        found = [c.as_dict() for c in changes_in_store(store)]
    finally:
        store.close()
    by_job: dict[str, list[dict]] = {}
    for change in found:
        by_job.setdefault(change["job"], []).append(change)
    return by_job


def test_every_planted_change_and_only_those_is_found(judged):
    assert {job: len(found) for job, found in judged.items()} == {s.name: 1 for s in CHANGED}
    assert len(CHANGED) >= 5  # product_catalog_sync, and one job per case of `advisor changes`


@pytest.mark.parametrize("spec", CHANGED, ids=lambda s: s.name)
def test_each_change_has_its_planted_fields_date_and_status(judged, spec):
    (change,) = judged[spec.name]
    planted = spec.change
    wanted = {
        name: [old, new]
        for name, old, new in (
            ("WorkerType", spec.worker_type, planted.worker_type),
            ("NumberOfWorkers", spec.workers, planted.workers),
        )
        if old != new
    }
    assert change["fields"] == wanted
    assert change["source"] == "definition"  # jobs.json's LastModifiedOn dates it
    assert parse_ts(change["changed_at"]) == planted.at
    assert change["after"]["succeeded"] >= MIN_RUNS_AFTER and change["before"]["succeeded"] >= 3
    rate = change["before"]["usd_per_run"] / change["before"]["dpu_hours_per_run"]
    expected, basis = expected_usd_month(spec, rate)
    assert change["normalised_by"] == basis
    assert change["status"] == ("saving" if expected > 0 else "costing")
    low, high = change["interval_usd_month"]
    slack = SLACK * abs(expected)
    assert low - slack <= expected <= high + slack, (expected, change["interval_usd_month"])
    assert change["realised_usd_month"] == pytest.approx(expected, rel=0.15)


def test_the_four_cases_of_the_demo(judged):
    """Saved as right-sizing predicts, saved less than half the workers suggests, cost more,
    and saved per GB while the data grew."""
    cases = {s.name: s for s in CHANGED if s.name != "product_catalog_sync"}
    rightsized = [s for s in cases.values() if cost_ratio_per_run(s) < 0.5]
    less = [
        s
        for s in cases.values()
        if 0.5 < cost_ratio_per_run(s) < 1 and s.change.workers < (s.workers or 0)
    ]
    more = [s for s in cases.values() if cost_ratio_per_run(s) > 1 and s.change.volume_factor == 1]
    grew = [s for s in cases.values() if s.change.volume_factor > 1]
    assert all(len(group) == 1 for group in (rightsized, less, more, grew))
    statuses = {name: judged[name][0]["status"] for name in cases}
    assert statuses[rightsized[0].name] == statuses[less[0].name] == "saving"
    assert statuses[more[0].name] == "costing"
    # a right-sizing at the same runtime would have saved 1 - workers after / before
    (spec,) = less
    (change,) = judged[spec.name]
    naive = 1 - spec.change.workers / spec.workers
    realised_share = change["realised_usd_month"] / (change["before"]["usd_per_run"] * MONTH_DAYS)
    assert 0 < realised_share < naive / 2


def test_data_growth_is_not_blamed_on_the_change(judged):
    (spec,) = [s for s in CHANGED if s.change.volume_factor > 1]
    (change,) = judged[spec.name]
    before, after = change["before"], change["after"]
    assert change["normalised_by"] == "gb" and change["status"] == "saving"
    assert change["realised_usd_month"] > 0
    # a naive before/after per run says it costs more; per GB read it costs less
    assert after["usd_per_run"] > before["usd_per_run"] * 1.2
    assert after["usd_per_gb"] < before["usd_per_gb"] * 0.85
    assert after["gb_per_run"] / before["gb_per_run"] == pytest.approx(volume_ratio(spec), rel=0.1)


def test_the_week_of_the_growth_splits_into_volume_and_configuration(analysed_sample_db):
    (spec,) = [s for s in CHANGED if s.change.volume_factor > 1]
    at = spec.change.at
    monday = at.date() - timedelta(days=at.weekday())
    store = Store(analysed_sample_db)
    try:
        result = explain_in_store(store, monday, [sample_job(spec.name)])
    finally:
        store.close()
    causes = {c["cause"]: c["usd"] for c in result["causes"]}
    assert result["change_usd"] > 0  # the week cost more...
    assert causes["input_volume"] > 0 > causes["configuration"]  # ...for the data, not the change
    assert sum(causes.values()) == pytest.approx(result["change_usd"], abs=0.005)


@pytest.mark.parametrize("spec", CHANGED, ids=lambda s: s.name)
def test_changes_are_found_from_the_runs_alone(analysed_sample_db, spec):
    """Every run carries its workers, so the change is found without any stored definition
    (an offline import of runs alone, or a change undone between two collections)."""
    store = Store(analysed_sample_db)
    try:
        ((_job, runs),) = list(changes_data.job_histories(store, [sample_job(spec.name)]))
    finally:
        store.close()
    (change,) = find_changes(sample_job(spec.name), runs, [])
    assert change.source == "runs"
    assert change.config_after["WorkerType"] == spec.change.worker_type
    assert change.config_after["NumberOfWorkers"] == spec.change.workers
    first_after = parse_ts(change.changed_at)
    assert spec.change.at <= first_after < spec.change.at + timedelta(days=1)


def test_jobs_json_holds_the_definition_after_the_change():
    jobs = {j["Name"]: j for j in json.loads((SAMPLE / "jobs.json").read_text())["Jobs"]}
    for spec in CHANGED:
        job = jobs[spec.name]
        assert (job["WorkerType"], job["NumberOfWorkers"]) == (
            spec.change.worker_type,
            spec.change.workers,
        )
        assert parse_ts(job["LastModifiedOn"]) == spec.change.at
