"""Configuration changes and what they did (advisor/analysis/changes.py), on generated job
histories with known effects, imported and analysed through the real CLI path."""

from __future__ import annotations

import json
import os
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from advisor.analysis.changes import (
    Change,
    Side,
    argument_fields,
    compare_whatif,
    diff,
    find_changes,
    judge,
    match_findings,
)
from advisor.cli import main
from advisor.redaction_marker import REDACTED
from advisor.report.changes_cli import changes_cmd
from advisor.store import Store
from tests.keys import SAMPLE_ACCOUNT, sample_job

START = datetime(2026, 8, 3, 2, 0, tzinfo=UTC)  # a Monday
DAYS = 70
ROLE = f"arn:aws:iam::{SAMPLE_ACCOUNT}:role/GlueJobRole"
DPU_PER_WORKER = {"G.1X": 1, "G.2X": 2}
SECRET = "AKIAIOSFODNN7EXAMPLE"


@dataclass
class Phase:
    """Days a job runs (once a day) with one configuration: input GB per run and DPU-seconds
    per GB (its efficiency in that configuration)."""

    days: int
    worker_type: str
    workers: int
    gb: float
    dpu_s_per_gb: float
    execution_class: str = "STANDARD"
    arguments: dict[str, str] = field(default_factory=dict)
    fail_every: int = 0  # every n-th run fails, after costing a third of a run


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="microseconds")


def job_runs(
    name: str, phases: list[Phase], seed: int, noise: float, start: datetime = START
) -> tuple[list[dict[str, Any]], dict[str, float]]:
    """get-job-runs entries, newest first as AWS returns them, and each run's bytes read."""
    rng = random.Random(seed)
    runs, read = [], {}
    day = 0
    for phase in phases:
        for index in range(phase.days):
            started = start + timedelta(days=day, seconds=rng.randint(0, 90))
            gb = phase.gb * (1 + rng.gauss(0, noise))
            dpus = phase.workers * DPU_PER_WORKER[phase.worker_type]
            failed = phase.fail_every and index % phase.fail_every == phase.fail_every - 1
            dpu_seconds = gb * phase.dpu_s_per_gb * (1 + rng.gauss(0, noise))
            runtime = round(dpu_seconds / dpus / (3 if failed else 1))
            run_id = f"jr_{name}_{day:04d}"
            runs.append(
                {
                    "Id": run_id,
                    "Attempt": 0,
                    "JobName": name,
                    "StartedOn": _iso(started),
                    "CompletedOn": _iso(started + timedelta(seconds=runtime)),
                    "LastModifiedOn": _iso(started + timedelta(seconds=runtime)),
                    "JobRunState": "FAILED" if failed else "SUCCEEDED",
                    "Arguments": {"--run_date": started.date().isoformat(), **phase.arguments},
                    "ExecutionTime": runtime,
                    "GlueVersion": "4.0",
                    "Timeout": 2880,
                    "WorkerType": phase.worker_type,
                    "NumberOfWorkers": phase.workers,
                    "MaxCapacity": float(dpus),
                    "ExecutionClass": phase.execution_class,
                    **({"ErrorMessage": "boom"} if failed else {}),
                }
            )
            read[run_id] = gb * 1e9
            day += 1
    return runs[::-1], read


def job_definition(name: str, phase: Phase, modified: datetime) -> dict[str, Any]:
    return {
        "Name": name,
        "Role": ROLE,
        "CreatedOn": _iso(START - timedelta(days=60)),
        "LastModifiedOn": _iso(modified),
        "Command": {"Name": "glueetl", "PythonVersion": "3"},
        "DefaultArguments": {"--job-language": "python", "--enable-metrics": "true"},
        "MaxRetries": 0,
        "GlueVersion": "4.0",
        "Timeout": 2880,
        "WorkerType": phase.worker_type,
        "NumberOfWorkers": phase.workers,
        "ExecutionClass": phase.execution_class,
    }


@dataclass
class JobSpec:
    name: str
    phases: list[Phase]
    seed: int
    noise: float = 0.04
    metrics: bool = True

    def change_day(self) -> int:
        return self.phases[0].days


def write_snapshot(
    root: Path, jobs: list[JobSpec], upto_day: int, definitions: dict[str, dict[str, Any]]
) -> Path:
    """The import layout (jobs.json, job-runs/, metrics/) as seen on `upto_day`."""
    (root / "job-runs").mkdir(parents=True)
    for spec in jobs:
        runs, read = job_runs(spec.name, spec.phases, spec.seed, spec.noise)
        runs = [r for r in runs if r["StartedOn"] < _iso(START + timedelta(days=upto_day))]
        (root / "job-runs" / f"{spec.name}.json").write_text(json.dumps({"JobRuns": runs}))
        for run in runs if spec.metrics else []:
            folder = root / "metrics" / run["Id"]
            folder.mkdir(parents=True)
            point = {"Timestamp": run["CompletedOn"], "Sum": read[run["Id"]], "Unit": "Bytes"}
            (folder / "glue.driver.aggregate.bytesRead.json").write_text(
                json.dumps({"Label": "glue.driver.aggregate.bytesRead", "Datapoints": [point]})
            )
    jobs_file = root / "jobs.json"
    jobs_file.write_text(json.dumps({"Jobs": [definitions[spec.name] for spec in jobs]}))
    seen = (START + timedelta(days=upto_day)).timestamp()
    os.utime(jobs_file, (seen, seen))  # the snapshot's "observed at"
    return root


def import_and_analyse(db: Path, *folders: Path) -> None:
    runner = CliRunner()
    for folder in folders:
        result = runner.invoke(main, ["import", str(folder), "--db", str(db)])
        assert result.exit_code == 0, result.output
    result = runner.invoke(main, ["analyze", "--db", str(db)])
    assert result.exit_code == 0, result.output


# ---- the fleet: one job per known effect ------------------------------------------------

# 20% less per GB, on twice the data: a naive before/after sees a job costing 60% more a run
GROWTH = JobSpec(
    "growth_etl",
    [Phase(40, "G.1X", 10, 100, 360), Phase(30, "G.1X", 20, 200, 288)],
    seed=1,
)
# half the workers, a sixth less per GB; a finding predicted the saving (changed in the
# definition between two collections: the second snapshot dates it)
PREDICTED = JobSpec(
    "rightsized_etl",
    [Phase(40, "G.1X", 20, 50, 720), Phase(30, "G.1X", 10, 50, 600)],
    seed=2,
)
# a finding promised 40%; the change saved 5%
SAVED_LESS = JobSpec(
    "oversold_etl",
    [Phase(40, "G.1X", 10, 80, 400), Phase(30, "G.1X", 6, 80, 380)],
    seed=3,
    noise=0.02,
)
# twice the DPUs for a small speed-up: it costs more
COSTLIER = JobSpec(
    "bigger_etl",
    [Phase(40, "G.1X", 10, 60, 300), Phase(30, "G.2X", 10, 60, 480)],
    seed=4,
)
TOO_EARLY = JobSpec(
    "fresh_etl",
    [Phase(67, "G.1X", 10, 40, 300), Phase(3, "G.1X", 5, 40, 240)],
    seed=5,
)
# Auto Scaling and a --conf set by the runs' own arguments (one holding a secret); no volume
FLAGS = JobSpec(
    "flags_etl",
    [
        Phase(35, "G.1X", 8, 30, 300, arguments={"--conf": "spark.sql.shuffle.partitions=200"}),
        Phase(
            35,
            "G.1X",
            8,
            30,
            300,
            arguments={
                "--enable-auto-scaling": "true",
                "--conf": "spark.sql.shuffle.partitions=400 --conf "
                f"spark.hadoop.fs.s3a.secret.key={SECRET}",
            },
        ),
    ],
    seed=6,
    metrics=False,
)
FLEET = [GROWTH, PREDICTED, SAVED_LESS, COSTLIER, TOO_EARLY, FLAGS]


def _glue_rate(store: Store) -> float:
    rates = {row[0] for row in store.db.execute("select rate_usd_per_dpu_hour from run_costs")}
    assert len(rates) == 1, rates  # every run here is G.x standard in us-east-1
    return rates.pop()


def truth_usd_month(spec: JobSpec, rate: float, runs_month: float = 30) -> float:
    """What the change saves a month at the new volume: the generator's own parameters."""
    old, new = spec.phases[0], spec.phases[-1]
    per_gb_saved = (old.dpu_s_per_gb - new.dpu_s_per_gb) / 3600 * rate
    return per_gb_saved * new.gb * runs_month


def save_finding(store: Store, spec: JobSpec, change: dict[str, Any], usd_month: float) -> str:
    """A finding as `advisor analyze` stores one (its rule's change and predicted saving)."""
    job = sample_job(spec.name)
    row = {
        "id": f"finding-{spec.name}",
        "rule_id": "over_provisioned",
        "problem": "cost",
        "job_name": job,
        "severity": "medium",
        "score": 1.0,
        "title": "More workers than the job uses",
        "message": "",
        "advice": "[]",
        "remediation": "{}",
        "evidence": "{}",
        "savings_dpu_hours_month": None,
        "savings_usd_month": usd_month,
        "change": json.dumps(change),
        "status": "open",
    }
    store.save_findings([row], [], as_of=_iso(START), jobs=set())
    return row["id"]


@pytest.fixture(scope="module")
def fleet_db(tmp_path_factory) -> dict[str, Any]:
    root = tmp_path_factory.mktemp("changes")
    change_at = START + timedelta(days=PREDICTED.change_day(), hours=-6)
    first = {s.name: job_definition(s.name, s.phases[0], START) for s in FLEET}
    second = {
        **first,
        PREDICTED.name: job_definition(PREDICTED.name, PREDICTED.phases[-1], change_at),
    }
    older = write_snapshot(root / "first", FLEET, PREDICTED.change_day() - 5, first)
    newer = write_snapshot(root / "second", FLEET, DAYS, second)
    db = root / "advisor.db"
    import_and_analyse(db, older, newer)
    store = Store(db)
    rate = _glue_rate(store)
    predicted = round(truth_usd_month(PREDICTED, rate) * 1.03, 2)
    oversold = round(0.4 * SAVED_LESS.phases[0].dpu_s_per_gb / 3600 * rate * 80 * 30, 2)
    save_finding(store, PREDICTED, {"WorkerType": "G.1X", "NumberOfWorkers": 10}, predicted)
    save_finding(store, SAVED_LESS, {"WorkerType": "G.1X", "NumberOfWorkers": "6"}, oversold)
    # asks for the right count on the wrong worker type: never matched
    save_finding(store, COSTLIER, {"WorkerType": "G.1X", "NumberOfWorkers": 10}, 99.0)
    store.close()
    result = CliRunner().invoke(
        changes_cmd, ["--db", str(db), "--since", "all", "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    by_job: dict[str, list[dict[str, Any]]] = {}
    for entry in json.loads(result.output):
        by_job.setdefault(entry["job"], []).append(entry)
    return {"db": db, "rate": rate, "changes": by_job, "predicted": predicted, "oversold": oversold}


def only(fleet_db: dict[str, Any], spec: JobSpec) -> dict[str, Any]:
    found = fleet_db["changes"].get(spec.name, [])
    assert len(found) == 1, found
    return found[0]


# ---- the proofs the issue asks for ----------------------------------------------------------


def test_change_with_doubled_input_is_judged_per_gb_where_naive_before_after_is_wrong(fleet_db):
    change = only(fleet_db, GROWTH)
    assert change["fields"] == {"NumberOfWorkers": [10, 20]}
    assert change["source"] == "runs"  # no stored definition dates it
    before, after = change["before"], change["after"]
    assert after["gb_per_run"] == pytest.approx(2 * before["gb_per_run"], rel=0.05)
    # a naive comparison per run: the job costs more per run after the change
    naive = (before["usd_per_run"] - after["usd_per_run"]) * change["runs_month"]
    assert naive < -50
    truth = truth_usd_month(GROWTH, fleet_db["rate"])
    assert change["normalised_by"] == "gb"
    assert change["status"] == "saving"
    assert change["realised_usd_month"] == pytest.approx(truth, rel=0.1)
    low, high = change["interval_usd_month"]
    assert low <= truth <= high
    assert after["usd_per_gb"] == pytest.approx(0.8 * before["usd_per_gb"], rel=0.05)


def test_change_that_saved_as_predicted(fleet_db):
    change = only(fleet_db, PREDICTED)
    assert change["source"] == "definition"  # dated by the second snapshot's definition
    assert change["changed_at"].startswith(
        (START + timedelta(days=PREDICTED.change_day(), hours=-6)).date().isoformat()
    )
    assert change["status"] == "saving"
    truth = truth_usd_month(PREDICTED, fleet_db["rate"])
    assert change["realised_usd_month"] == pytest.approx(truth, rel=0.1)
    assert change["predicted_usd_month"] == fleet_db["predicted"]
    assert change["finding"]["id"] == f"finding-{PREDICTED.name}"
    assert change["finding"]["as_predicted"] is True
    low, high = change["interval_usd_month"]
    assert low <= fleet_db["predicted"] <= high


def test_change_that_saved_less_than_predicted(fleet_db):
    change = only(fleet_db, SAVED_LESS)
    assert change["status"] == "saving"
    assert change["finding"]["id"] == f"finding-{SAVED_LESS.name}"  # "6" matches 6
    assert change["finding"]["as_predicted"] is False
    assert change["interval_usd_month"][1] < change["predicted_usd_month"]
    truth = truth_usd_month(SAVED_LESS, fleet_db["rate"])
    assert change["realised_usd_month"] == pytest.approx(truth, rel=0.25)


def test_change_that_cost_more(fleet_db):
    change = only(fleet_db, COSTLIER)
    assert change["fields"] == {"WorkerType": ["G.1X", "G.2X"]}
    assert change["status"] == "costing"
    truth = truth_usd_month(COSTLIER, fleet_db["rate"])
    assert truth < 0
    assert change["realised_usd_month"] == pytest.approx(truth, rel=0.1)
    assert change["interval_usd_month"][1] < 0
    assert change["finding"] is None  # the finding asked for G.1X, which it left
    assert change["predicted_usd_month"] is None


def test_too_few_runs_after_a_change_is_too_early(fleet_db):
    change = only(fleet_db, TOO_EARLY)
    assert change["status"] == "too_early"
    assert change["after"]["runs"] == 3
    assert change["realised_usd_month"] is None
    assert change["interval_usd_month"] is None


def test_argument_changes_count_and_secrets_stay_redacted(fleet_db):
    change = only(fleet_db, FLAGS)
    fields = change["fields"]
    assert fields["DefaultArguments.--enable-auto-scaling"] == [None, "true"]
    assert fields["SparkConf.spark.sql.shuffle.partitions"] == ["200", "400"]
    secret_fields = [k for k in fields if "secret" in k]
    assert secret_fields and all(fields[k][1] == REDACTED for k in secret_fields)
    assert not any("run_date" in key for key in fields)  # the job's own parameter
    assert change["normalised_by"] == "run"  # no bytes read: per run
    assert change["status"] == "neutral"  # same cost per run
    result = CliRunner().invoke(changes_cmd, ["--db", str(fleet_db["db"]), "--since", "all"])
    assert result.exit_code == 0, result.output
    assert SECRET not in result.output


def test_failed_runs_are_accounted_apart(tmp_path):
    spec = JobSpec(
        "flaky_etl",
        [Phase(40, "G.1X", 10, 50, 300), Phase(30, "G.1X", 10, 50, 300, fail_every=4)],
        seed=7,
        noise=0.02,
    )
    spec.phases[1].arguments = {"--conf": "spark.sql.adaptive.enabled=false"}
    db = tmp_path / "advisor.db"
    definitions = {spec.name: job_definition(spec.name, spec.phases[0], START)}
    import_and_analyse(db, write_snapshot(tmp_path / "in", [spec], DAYS, definitions))
    result = CliRunner().invoke(
        changes_cmd, ["--db", str(db), "--since", "all", "--format", "json"]
    )
    (change,) = json.loads(result.output)
    assert change["before"]["failure_rate"] == 0
    assert change["after"]["failure_rate"] == pytest.approx(0.25, abs=0.06)
    # succeeded runs cost the same; the failed ones are the loss
    assert change["after"]["usd_per_run"] == pytest.approx(
        change["before"]["usd_per_run"], rel=0.03
    )
    assert change["failures_usd_month"] < 0
    assert change["realised_usd_month"] == pytest.approx(change["failures_usd_month"], abs=2)
    assert change["status"] == "costing"


# ---- the CLI --------------------------------------------------------------------------------


def test_changes_command_filters_by_job_and_window(fleet_db):
    db = str(fleet_db["db"])
    result = CliRunner().invoke(
        changes_cmd, ["--db", db, "--job", "bigger_etl", "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    (change,) = json.loads(result.output)
    assert change["job"] == "bigger_etl" and change["account"] == SAMPLE_ACCOUNT
    assert set(change) >= {
        "job", "account", "region", "changed_at", "fields", "before", "after",
        "realised_usd_month", "interval_usd_month", "predicted_usd_month", "finding", "status",
    }  # fmt: skip
    assert set(change["before"]) >= {"runs", "usd_per_run", "runtime_s", "usd_per_gb"}
    recent = CliRunner().invoke(changes_cmd, ["--db", db, "--since", "10d", "--format", "json"])
    assert [c["job"] for c in json.loads(recent.output)] == ["fresh_etl"]
    text = CliRunner().invoke(changes_cmd, ["--db", db, "--since", "all"])
    assert text.exit_code == 0
    for spec in FLEET:
        assert spec.name in text.output
    assert "costing" in text.output and "too early" in text.output
    here = CliRunner().invoke(
        changes_cmd, ["--db", db, "--region", "us-east-1", "--format", "json"]
    )
    assert len(json.loads(here.output)) == len(FLEET)
    elsewhere = CliRunner().invoke(changes_cmd, ["--db", db, "--region", "eu-west-1"])
    assert elsewhere.exit_code == 2
    unknown = CliRunner().invoke(changes_cmd, ["--db", db, "--job", "nope"])
    assert unknown.exit_code == 2
    bad = CliRunner().invoke(changes_cmd, ["--db", db, "--since", "soon"])
    assert bad.exit_code == 2


# ---- pure parts -----------------------------------------------------------------------------


def _run(day: int, **fields: Any) -> dict[str, Any]:
    row = {
        "id": f"r{day}",
        "job_name": "a/b/j",
        "state": "SUCCEEDED",
        "attempt": 0,
        "started_on": (START + timedelta(days=day)).isoformat(timespec="milliseconds"),
        "execution_time_s": 600,
        "worker_type": "G.1X",
        "number_of_workers": 10,
        "max_capacity": 10.0,
        "execution_class": "STANDARD",
        "glue_version": "4.0",
        "timeout_min": 2880,
        "arguments": "{}",
        "cost_usd": 1.0,
        "dpu_hours": 1.0 / 0.44,
        "rate_usd_per_dpu_hour": 0.44,
        "bytes_read": None,
    }
    return {**row, **fields}


def test_a_one_off_override_is_no_change_and_unknown_fields_are_not_changes():
    runs = [_run(d) for d in range(10)]
    runs[4] = _run(4, number_of_workers=50)  # one backfill run with more workers
    runs[6] = _run(6, execution_class=None, timeout_min=None)  # fields the run does not say
    assert find_changes("a/b/j", runs, []) == []
    runs += [_run(d, number_of_workers=5) for d in range(10, 13)]
    (change,) = find_changes("a/b/j", runs, [])
    assert change.fields == {"NumberOfWorkers": [10, 5]}
    assert len(change.before.runs) == 9  # the override is left out of the window


def test_definition_changes_are_found_before_any_run_uses_them():
    runs = [_run(d) for d in range(10)]
    old = {"WorkerType": "G.1X", "NumberOfWorkers": 10, "MaxRetries": 0}
    new = {**old, "MaxRetries": 2, "DefaultArguments": {"--enable-job-insights": "true"}}
    rows = [
        {"since": runs[0]["started_on"], "definition": old},
        {"since": _run(20)["started_on"], "definition": new},
    ]
    (change,) = find_changes("a/b/j", runs, rows)
    assert change.source == "definition" and change.changed_at == rows[1]["since"]
    assert change.fields == {
        "DefaultArguments.--enable-job-insights": [None, "true"],
        "MaxRetries": [0, 2],
    }
    assert judge(change, 30).status == "too_early"


def test_conf_is_opened_per_setting_and_a_redacted_one_is_shown_as_stored():
    assert argument_fields({"--conf": "spark.a=1 --conf spark.b=x=y", "--run_date": "d"}) == {
        "SparkConf.spark.a": "1",
        "SparkConf.spark.b": "x=y",
    }
    assert argument_fields({"--conf": REDACTED}) == {"DefaultArguments.--conf": REDACTED}
    assert diff({"NumberOfWorkers": 6}, {"NumberOfWorkers": "6.0"}) == {}
    assert diff({"ExecutionClass": "flex"}, {"ExecutionClass": "FLEX"}) == {}


def _change(before_usd: list[float], after_usd: list[float], after_config: dict) -> Change:
    before = Side([_run(d, cost_usd=c) for d, c in enumerate(before_usd)])
    after = Side([_run(50 + d, cost_usd=c) for d, c in enumerate(after_usd)])
    old = {"WorkerType": "G.1X", "NumberOfWorkers": 10}
    fields = diff(old, after_config)
    return judge(Change("a/b/j", "t", "runs", fields, old, after_config, before, after), 30)


def test_findings_match_only_when_every_field_has_the_new_value():
    change = _change([2.0, 2.1, 1.9, 2.0], [1.0, 1.1, 0.9, 1.0, 1.0], {"WorkerType": "G.1X",
                     "NumberOfWorkers": 5})  # fmt: skip
    assert change.status == "saving"
    findings = [
        {"id": "other-job", "job_name": "x/y/j", "change": {"NumberOfWorkers": 5}},
        {"id": "wrong-value", "job_name": "a/b/j", "change": {"NumberOfWorkers": 6}},
        {"id": "unrelated", "job_name": "a/b/j", "change": {"WorkerType": "G.1X"}},
        {"id": "partial", "job_name": "a/b/j", "change": {"NumberOfWorkers": "5"}},
        {
            "id": "full",
            "job_name": "a/b/j",
            "change": {"NumberOfWorkers": 5, "WorkerType": "G.1X", "MaxCapacity": None},
            "savings_usd_month": 30.0,
        },
    ]
    (match,) = match_findings([change], findings)
    assert match["id"] == "full"
    assert match["predicted_usd_month"] == 30.0
    assert match["realised_usd_month"] == change.realised_usd_month
    assert match_findings([change], findings[:3]) == [None]


def test_whatif_prediction_is_compared_with_what_happened():
    change = _change([2.0, 2.1, 1.9, 2.0], [1.0, 1.1, 0.9, 1.0, 1.0], {"WorkerType": "G.1X",
                     "NumberOfWorkers": 5})  # fmt: skip
    whatif = {
        "trusted": True,
        "candidates": [
            {"worker_type": "G.1X", "workers": 10, "autoscaling": False, "usd": 2.0,
             "runtime_s": 600, "label": "10 x G.1X"},
            {"worker_type": "G.1X", "workers": 5, "autoscaling": True, "usd": 0.5,
             "runtime_s": 900, "label": "5 x G.1X (Auto Scaling)"},
            {"worker_type": "G.1X", "workers": 5, "autoscaling": False, "usd": 0.8,
             "runtime_s": 1000, "label": "5 x G.1X"},
        ],
    }  # fmt: skip
    seen = compare_whatif(change, whatif)
    assert seen["config"] == "5 x G.1X"  # not the Auto Scaling one: the job did not turn it on
    assert seen["predicted_usd_per_run"] == 0.8
    assert seen["realised_usd_per_run"] == pytest.approx(1.0)
    assert seen["usd_error"] == pytest.approx(0.25)
    assert seen["predicted_usd_month"] == pytest.approx((2.0 - 0.8) * 30)
    assert seen["realised_usd_month"] == change.realised_usd_month
    assert compare_whatif(change, {"candidates": whatif["candidates"][:1]}) is None
    assert compare_whatif(change, None) is None
