"""Offline import of the AWS CLI layout: idempotent, and bad files reported, never fatal."""

from __future__ import annotations

import json
import shutil

import pytest
import yaml
from click.testing import CliRunner

from advisor.cli import main
from advisor.collect.importer import import_directory
from advisor.store import Store
from tests.conftest import ROOT, SAMPLE, snapshot
from tests.keys import sample_job, sample_run

ROOT_FIXTURES = ROOT / "tests" / "fixtures" / "spark-events"

MANIFEST = yaml.safe_load((SAMPLE / "MANIFEST.yaml").read_text())


@pytest.fixture(scope="module")
def imported(tmp_path_factory):
    store = Store(tmp_path_factory.mktemp("imp") / "advisor.db")
    report = import_directory(store, SAMPLE)
    yield store, report
    store.close()


def test_sample_imports_completely(imported):
    store, report = imported
    assert report.errors == []
    assert store.db["jobs"].count == MANIFEST["totals"]["jobs"]
    assert store.db["job_runs"].count == MANIFEST["totals"]["runs"]
    with_metrics = store.db.execute("select count(distinct run_id) from run_metrics").fetchone()[0]
    assert with_metrics == MANIFEST["totals"]["runs_with_metric_files"]
    located = {r["run_id"] for r in store.db["eventlog_locations"].rows}
    # and the notebook session's log (eventlogs/<SessionId>/), linked to its session
    session = "123456789012/us-east-1/session:notebook-alice-3f2a"
    assert located == {sample_run(e["run_id"]) for e in MANIFEST["eventlogs"]} | {session}
    reduced = {r["run_id"]: r for r in store.db["spark_apps"].rows}
    assert set(reduced) == located and report.eventlog_apps == len(located)
    assert reduced.pop(session)["linked_by"] == "import_folder"  # it names no Glue run
    assert {r["linked_by"] for r in reduced.values()} == {"glue_run_id"}
    jobs = {sample_run(e["run_id"]): sample_job(e["job"]) for e in MANIFEST["eventlogs"]}
    assert all(r["job_name"] == jobs[run] for run, r in reduced.items())


def test_importing_twice_gives_an_identical_store(imported, tmp_path):
    store, _ = imported
    first = snapshot(store)
    import_directory(store, SAMPLE)
    assert snapshot(store) == first


def test_paged_and_single_files_give_the_same_runs(tmp_path):
    """A job-runs file may be one CLI page or a list of concatenated pages."""
    runs = json.loads((SAMPLE / "job-runs" / "orders_daily_etl.json").read_text())["JobRuns"]
    for layout, document in (
        ("one", {"JobRuns": runs}),
        ("pages", [{"JobRuns": runs[:20]}, {"JobRuns": runs[20:]}]),
    ):
        folder = tmp_path / layout
        (folder / "job-runs").mkdir(parents=True)
        shutil.copy(SAMPLE / "jobs.json", folder / "jobs.json")
        (folder / "job-runs" / "orders_daily_etl.json").write_text(json.dumps(document))
        store = Store(tmp_path / f"{layout}.db")
        import_directory(store, folder)
        assert store.db["job_runs"].count == len(runs)


def test_corrupt_files_are_reported_and_the_rest_imported(tmp_path):
    broken = tmp_path / "fleet"
    shutil.copytree(SAMPLE, broken, ignore=shutil.ignore_patterns("eventlogs"))
    runs_file = broken / "job-runs" / "py_shell_api_pull.json"  # a job without metric files
    lost_runs = len(json.loads(runs_file.read_text())["JobRuns"])
    runs_file.write_text(runs_file.read_text()[:5000])  # truncated mid-record
    bad_record_file = broken / "job-runs" / "customer_dim_load.json"
    doc = json.loads(bad_record_file.read_text())
    last = len(doc["JobRuns"]) - 1
    del doc["JobRuns"][last]["Id"]  # the oldest run, which has no metric files
    bad_record_file.write_text(json.dumps(doc))
    metric_dir = next(p for p in sorted((broken / "metrics").iterdir()))
    (metric_dir / "glue.driver.jvm.heap.usage.json").write_text('{"Label": "x", "Datapoints": 3}')
    (broken / "metrics" / "jr_unknown").mkdir()
    (broken / "metrics" / "jr_unknown" / "glue.ALL.jvm.heap.usage.json").write_text(
        '{"Datapoints": []}'
    )

    store = Store(tmp_path / "advisor.db")
    report = import_directory(store, broken)

    reasons = {e["item"]: e["reason"] for e in report.errors}
    assert reasons["job-runs/py_shell_api_pull.json"].startswith("invalid JSON at line 1, column")
    assert (
        reasons[f"job-runs/customer_dim_load.json#JobRuns[{last}]"]
        == "job run has no Id or JobName"
    )
    assert "Datapoints" in reasons[f"metrics/{metric_dir.name}/glue.driver.jvm.heap.usage.json"]
    assert "no job-runs file contains" in reasons["metrics/jr_unknown"]
    assert store.db["job_runs"].count == MANIFEST["totals"]["runs"] - lost_runs - 1
    assert store.db["jobs"].count == MANIFEST["totals"]["jobs"]
    assert len(store.errors("import")) == 4


def test_parallel_parsing_gives_the_same_store_and_errors(tmp_path):
    """Large imports parse job-runs files in worker processes; the store and the reported
    errors must not depend on that (a corrupt file included)."""
    fleet = tmp_path / "fleet"
    shutil.copytree(SAMPLE, fleet, ignore=shutil.ignore_patterns("eventlogs", "metrics"))
    bad = fleet / "job-runs" / "py_shell_api_pull.json"
    bad.write_text(bad.read_text()[:3000])
    results = {}
    for workers in (1, 2):
        store = Store(tmp_path / f"w{workers}.db")
        report = import_directory(store, fleet, workers=workers)
        results[workers] = (
            snapshot(store),
            sorted((e["item"], e["reason"]) for e in report.errors),
        )
    assert results[1] == results[2]
    assert [item for item, _ in results[2][1]] == ["job-runs/py_shell_api_pull.json"]


def test_import_cli_exit_codes(tmp_path):
    runner = CliRunner()
    ok = runner.invoke(
        main, ["import", str(SAMPLE), "--db", str(tmp_path / "a.db"), "--format", "json"]
    )
    assert ok.exit_code == 0, ok.output
    assert json.loads(ok.stdout)["runs"] == MANIFEST["totals"]["runs"]
    broken = tmp_path / "broken"
    (broken / "job-runs").mkdir(parents=True)
    (broken / "jobs.json").write_text("{not json")
    (broken / "job-runs" / "x.json").write_text('{"JobRuns": [{"Id": "jr_1", "JobName": "x"}]}')
    partial = runner.invoke(main, ["import", str(broken), "--db", str(tmp_path / "b.db")])
    assert partial.exit_code == 4
    assert "jobs.json" in partial.output and "invalid JSON" in partial.output


def test_planted_secrets_never_reach_the_store(imported):
    store, _ = imported
    dump = "\n".join(repr(rows) for rows in snapshot(store).values())
    for secret in MANIFEST["planted_secrets"]:
        assert (
            secret
            in (SAMPLE / "jobs.json").read_text()
            + (SAMPLE / "job-runs" / "finance_gl_export.json").read_text()
        )
        assert secret not in dump


def test_numbers_sqlite_cannot_hold_are_one_reported_problem_each(tmp_path):
    """NumberOfWorkers 1e300, Timeout 2^63, a negative ExecutionTime: each record is skipped
    and reported (exit 4); the good records are imported. Before, the first aborted the
    whole import with a traceback."""
    root = tmp_path / "hostile"
    (root / "job-runs").mkdir(parents=True)
    good_job = {"Name": "good", "Role": "r", "Command": {"Name": "glueetl"}, "NumberOfWorkers": 2}
    jobs = [
        {**good_job, "Name": "huge", "NumberOfWorkers": 1e300},
        {**good_job, "Name": "forever", "Timeout": 2**63},
        good_job,
    ]
    (root / "jobs.json").write_text(json.dumps({"Jobs": jobs}))

    def run(i, **extra):
        return {
            "Id": f"jr_{i}",
            "JobName": "good",
            "JobRunState": "SUCCEEDED",
            "StartedOn": "2026-11-01T00:00:00+00:00",
            "ExecutionTime": 600,
            **extra,
        }

    runs = [run(1, NumberOfWorkers=2**63), run(2, ExecutionTime=-5), run(3, DPUSeconds=3.0)]
    (root / "job-runs" / "good.json").write_text(json.dumps({"JobRuns": runs}))
    db = tmp_path / "a.db"
    result = CliRunner().invoke(main, ["import", str(root), "--db", str(db)])
    assert result.exit_code == 4, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    store = Store(db)
    assert [j["glue_name"] for j in store.jobs()] == ["good"]
    assert {r["glue_run_id"] for r in store.db["job_runs"].rows} == {"jr_3"}
    reasons = " ".join(r["reason"] for r in store.db["ingest_errors"].rows)
    assert "out of range" in reasons and "huge" in reasons and "forever" in reasons
    assert "jr_1" in reasons and "jr_2" in reasons
    store.close()


def test_fifos_and_links_out_of_the_folder_are_reported_not_read(tmp_path):
    """A FIFO named *.json blocked the import for ever; an event-log folder that is a link out
    of the import folder was walked (it read /etc). Both are reported and skipped."""
    import os

    root = tmp_path / "fleet"
    shutil.copytree(SAMPLE, root, ignore=shutil.ignore_patterns("eventlogs"))
    os.mkfifo(root / "job-runs" / "zz_pipe.json")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.json").write_text('{"JobRuns": []}')
    (root / "job-runs" / "zz_link.json").symlink_to(outside / "secret.json")
    (root / "eventlogs").mkdir()
    run_id = json.loads((root / "job-runs" / "orders_daily_etl.json").read_text())
    first = (run_id[0] if isinstance(run_id, list) else run_id)["JobRuns"][0]["Id"]
    (root / "eventlogs" / first).symlink_to(outside, target_is_directory=True)
    store = Store(tmp_path / "a.db")
    report = import_directory(store, root)
    reasons = {e["item"]: e["reason"] for e in report.errors}
    assert "not a regular file" in reasons["job-runs/zz_pipe.json"]
    assert "out of the import folder" in reasons["job-runs/zz_link.json"]
    assert "out of the import folder" in reasons[f"eventlogs/{first}"]
    assert report.runs > 6000 and report.eventlog_files == 0
    store.close()


def test_a_damaged_event_log_is_reported_and_the_rest_reduced(tmp_path):
    """A log with broken lines was stored as if whole, exit 0 and nothing in `advisor errors`."""
    root = tmp_path / "fleet"
    shutil.copytree(SAMPLE, root, ignore=shutil.ignore_patterns("eventlogs", "metrics"))
    doc = json.loads((root / "job-runs" / "orders_daily_etl.json").read_text())
    run = (doc[0] if isinstance(doc, list) else doc)["JobRuns"][0]["Id"]
    log_dir = root / "eventlogs" / run
    log_dir.mkdir(parents=True)
    original = (ROOT_FIXTURES / "sparklint" / "event_log_1").read_text().splitlines()
    damaged = [
        *original[:20],
        '{"Event": "SparkListenerTaskEnd", "Stage ID": 0, broken',
        *original[20:],
    ]
    (log_dir / "app-1").write_text("\n".join(damaged) + "\n")
    result = CliRunner().invoke(main, ["import", str(root), "--db", str(tmp_path / "a.db")])
    assert result.exit_code == 4, result.output
    store = Store(tmp_path / "a.db")
    reasons = {r["item"]: r["reason"] for r in store.db["ingest_errors"].rows}
    assert any("damaged event log" in v and k.startswith("eventlogs/") for k, v in reasons.items())
    assert store.db["spark_apps"].count == 1  # what could be read is kept
    store.close()


def _minimal_fleet(root, runs_files, jobs=None):
    (root / "job-runs").mkdir(parents=True)
    jobs = jobs or [{"Name": "good", "Role": "r", "Command": {"Name": "glueetl"}}]
    (root / "jobs.json").write_text(json.dumps({"Jobs": jobs}))
    for name, runs in runs_files.items():
        (root / "job-runs" / name).write_text(json.dumps({"JobRuns": runs}))


def _run(i, **extra):
    return {
        "Id": f"jr_{i}",
        "JobName": "good",
        "JobRunState": "SUCCEEDED",
        "StartedOn": "2026-11-01T00:00:00+00:00",
        "CompletedOn": "2026-11-01T00:10:00+00:00",
        "ExecutionTime": 600,
        **extra,
    }


def _import(root, db):
    result = CliRunner().invoke(main, ["import", str(root), "--db", str(db)])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    store = Store(db)
    errors = {r["item"]: r["reason"] for r in store.db["ingest_errors"].rows}
    return result, store, errors


def test_silent_cases_are_reported_and_the_rest_kept(tmp_path):
    """Accepted silently before: a run id in two files with other details, CompletedOn before
    StartedOn, timestamps no clock can hold, a wrong-typed field. Each is now reported (exit 4),
    the rest imported, and no error quotes the raw value it rejected."""
    root = tmp_path / "fleet"
    _minimal_fleet(
        root,
        {
            "a.json": [_run(1), _run(2)],
            "b.json": [
                _run(1, JobRunState="FAILED"),  # the same run id, other details
                _run(3, CompletedOn="2026-10-31T00:00:00+00:00"),
                _run(4, StartedOn=1e300),
                _run(5, StartedOn="9999-12-31T23:59:59-05:00"),
                _run(6, NumberOfWorkers="password=hunter2hunter2"),
                _run(7, Arguments=["--db_password", "hunter2hunter2"]),
                _run(8),
            ],
        },
    )
    result, store, errors = _import(root, tmp_path / "a.db")
    assert result.exit_code == 4, result.output
    assert {r["glue_run_id"] for r in store.db["job_runs"].rows} == {"jr_1", "jr_2", "jr_8"}
    (first,) = store.db["job_runs"].rows_where("glue_run_id = 'jr_1'")
    assert first["state"] == "FAILED"  # the later file's copy
    assert "also in job-runs/a.json" in errors["job-runs/b.json"]
    assert "other details" in errors["job-runs/b.json"]
    assert "CompletedOn is before StartedOn" in errors["job-runs/b.json#JobRuns[1]"]
    for index in (2, 3):
        assert "not a timestamp" in errors[f"job-runs/b.json#JobRuns[{index}]"]
    assert "expected a number, got text" in errors["job-runs/b.json#JobRuns[4]"]
    assert "expected an object, got a list" in errors["job-runs/b.json#JobRuns[5]"]
    assert "hunter2" not in result.output
    assert not any("hunter2" in reason for reason in errors.values())
    store.close()


def test_identical_copies_of_runs_are_stored_once_and_reported(tmp_path):
    root = tmp_path / "fleet"
    _minimal_fleet(root, {"a.json": [_run(1)], "b.json": [_run(1), _run(2)]})
    result, store, errors = _import(root, tmp_path / "a.db")
    assert result.exit_code == 4
    assert store.db["job_runs"].count == 2
    assert "the copies are the same and stored once" in errors["job-runs/b.json"]
    store.close()
    again, store, _ = _import(root, tmp_path / "a.db")  # a second import is still one census
    assert again.exit_code == 4 and store.db["job_runs"].count == 2
    store.close()


def test_bad_metric_files_and_points_are_reported_and_the_rest_kept(tmp_path):
    root = tmp_path / "fleet"
    _minimal_fleet(root, {"a.json": [_run(1)]})
    metrics = root / "metrics" / "jr_1"
    metrics.mkdir(parents=True)
    name = "glue.driver.jvm.heap.usage"
    points = [
        {"Timestamp": "2026-11-01T00:01:00+00:00", "Maximum": 1.0, "Average": 1.0},
        {"Timestamp": None, "Maximum": 2.0},
        {"Maximum": 3.0},
        {"Timestamp": 1e300, "Maximum": 4.0},
        "not a point",
    ]
    (metrics / f"{name}.json").write_text(json.dumps({"Label": name, "Datapoints": points}))
    (metrics / "labelled.json").write_text(json.dumps({"Label": 42, "Datapoints": points}))
    result, store, errors = _import(root, tmp_path / "a.db")
    assert result.exit_code == 4
    assert {r["ts"] for r in store.db["run_metrics"].rows} == {"2026-11-01T00:01:00.000+00:00"}
    assert "4 of 5 datapoints have no usable Timestamp" in errors[f"metrics/jr_1/{name}.json"]
    assert "Label should be the metric's name" in errors["metrics/jr_1/labelled.json"]
    store.close()


def test_a_json_file_over_the_limit_is_refused_before_it_is_read(tmp_path):
    """A 2 GB sparse job-runs file took 4.3 GB before it was refused: the size is checked
    first, with a message that says how to split the file."""
    root = tmp_path / "fleet"
    _minimal_fleet(root, {"a.json": [_run(1)]})
    with open(root / "job-runs" / "huge.json", "wb") as sparse:
        sparse.truncate(2 * 2**30)  # no disk used
    result, store, errors = _import(root, tmp_path / "a.db")
    assert result.exit_code == 4
    assert "MiB an import reads from one file" in errors["job-runs/huge.json"]
    assert "--max-items" in errors["job-runs/huge.json"]
    assert store.db["job_runs"].count == 1
    store.close()


def test_a_dangling_link_in_job_runs_is_reported(tmp_path):
    root = tmp_path / "fleet"
    _minimal_fleet(root, {"a.json": [_run(1)]})
    (root / "job-runs" / "gone.json").symlink_to(root / "nowhere.json")
    result, store, errors = _import(root, tmp_path / "a.db")
    assert result.exit_code == 4
    assert "cannot read" in errors["job-runs/gone.json"]
    assert store.db["job_runs"].count == 1
    store.close()


def test_event_log_numbers_beyond_64_bits_are_dropped_and_reported(tmp_path):
    """A Stage ID or task metric >= 2^63 aborted the import (SQLite cannot hold it)."""
    root = tmp_path / "fleet"
    _minimal_fleet(root, {"a.json": [_run(1)]})
    log_dir = root / "eventlogs" / "jr_1"
    log_dir.mkdir(parents=True)
    events = [
        {"Event": "SparkListenerLogStart", "Spark Version": "3.5.4"},
        {
            "Event": "SparkListenerApplicationStart",
            "App Name": "good",
            "App ID": "app-1",
            "Timestamp": 1_000,
            "User": "u",
        },
        {
            "Event": "SparkListenerStageSubmitted",
            "Stage Info": {
                "Stage ID": 2**63,
                "Stage Attempt ID": 0,
                "Stage Name": "s",
                "Number of Tasks": 1,
                "Parent IDs": [],
                "Submission Time": 2_000,
            },
        },
        {"Event": "SparkListenerApplicationEnd", "Timestamp": 2**63 + 5},
    ]
    (log_dir / "app-1").write_text("\n".join(json.dumps(e) for e in events) + "\n")
    result, store, errors = _import(root, tmp_path / "a.db")
    assert result.exit_code == 4, result.output
    assert any("value_beyond_64_bits" in reason for reason in errors.values())
    assert store.db["spark_apps"].count == 1
    store.close()


def test_two_attempts_of_one_application_are_both_kept(tmp_path):
    """Spark names them <appId>_1 and <appId>_2; the second overwrote the first in the store
    (keyed by run and app id), though the import said both were read."""
    root = tmp_path / "fleet"
    _minimal_fleet(root, {"a.json": [_run(1)]})
    logs = ROOT / "tests" / "fixtures" / "spark-history" / "spark-events"
    (root / "eventlogs" / "jr_1").mkdir(parents=True)
    for name in ("local-1426533911241", "local-1426633911242"):  # attempts 1 and 2, with tasks
        shutil.copy(logs / name, root / "eventlogs" / "jr_1" / name)
    result, store, _ = _import(root, tmp_path / "a.db")
    assert result.exit_code == 0, result.output
    apps = store.spark_apps_of_run(store.runs_with_glue_id("jr_1")[0])
    assert [(a["app_id"], a["attempt_id"]) for a in apps] == [
        ("local-1426533911241", "1"),
        ("local-1426533911241", "2"),
    ]
    for app in apps:  # each attempt keeps its own stages
        assert store.spark_stages_of(app)
    detail = CliRunner().invoke(
        main,
        [
            "recommend",
            "good",
            "--run-id",
            "jr_1",
            "--db",
            str(tmp_path / "a.db"),
            "--format",
            "json",
        ],
    )
    attempts = json.loads(detail.stdout)["run"]["spark_attempts"]
    assert [a["attempt_id"] for a in attempts] == ["1", "2"]
    store.close()


def test_a_log_cut_at_a_line_boundary_is_reported_as_incomplete(tmp_path):
    """No broken line, no ApplicationEnd, no .inprogress: it was stored as if whole."""
    root = tmp_path / "fleet"
    _minimal_fleet(root, {"a.json": [_run(1)]})
    (root / "eventlogs" / "jr_1").mkdir(parents=True)
    lines = (ROOT_FIXTURES / "sparklint" / "event_log_1").read_text().splitlines()
    kept = [line for line in lines if "SparkListenerApplicationEnd" not in line]
    (root / "eventlogs" / "jr_1" / "app-1").write_text("\n".join(kept[: len(kept) // 2]) + "\n")
    result, store, errors = _import(root, tmp_path / "a.db")
    assert result.exit_code == 4, result.output
    assert any("incomplete event log" in reason for reason in errors.values())
    assert store.db["spark_apps"].count == 1
    store.close()
