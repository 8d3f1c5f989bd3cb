"""Collectors against moto's server over real HTTP, with injected throttling, denial and crashes."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
import yaml
from click.testing import CliRunner

from advisor.cli import main
from advisor.collect.aws import READ_ONLY_OPERATIONS, AwsClients, ReadOnlyViolation
from advisor.collect.runner import CollectOptions, collect
from advisor.store import Store
from tests.awsfake import NOW, REGION, SECRET, FaultLayer, SimulatedCrash, session
from tests.conftest import SAMPLE, snapshot
from tests.keys import sample_job, sample_run

FIXTURES = SAMPLE.parent / "tests" / "fixtures" / "spark-events"

ALLOWED = {f"{svc}:{op}" for svc, ops in READ_ONLY_OPERATIONS.items() for op in ops}


def run_collect(store, fleet, faults=None, now=NOW, **kwargs):
    faults = faults or FaultLayer()
    options = CollectOptions(
        regions=[REGION],
        endpoint_url=fleet.endpoint,
        session_factory=lambda region: faults.install(session(region)),
        **kwargs,
    )
    return collect(store, options, now=now), faults


def seed_small(fleet, jobs=8, big=450):
    """Recent runs only (ListMetrics still knows them); the full-collect test covers old ones."""
    names = fleet.create_jobs(jobs)
    fleet.add_runs(names[0], big, spacing=timedelta(minutes=20))
    for name in names[1:]:
        fleet.add_runs(name, 3)
    metric_runs = fleet.runs[names[1]]
    fleet.put_metrics(names[1], metric_runs)
    return names, metric_runs


def test_full_collect_paginates_and_stores_everything(fleet, store):
    names = fleet.create_jobs(100)
    fleet.add_runs(names[0], 450)
    for name in names[1:]:
        fleet.add_runs(name, 3)
    fleet.put_metrics(names[1], fleet.runs[names[1]])

    report, _ = run_collect(store, fleet)

    assert report.errors == []
    assert store.db["jobs"].count == 100
    assert store.db["job_runs"].count == 450 + 99 * 3
    # 450 runs at 200 per page is three calls; every other job needs one
    assert report.api_calls["glue:GetJobRuns"] == 3 + 99
    # moto's default account and the fleet's region: the keys every row is stored under
    stored = {r["glue_run_id"]: r for r in store.db["job_runs"].rows}
    assert all(r["id"] == sample_run(r["glue_run_id"]) for r in stored.values())
    for fake in fleet.backend_job(names[0]).job_runs:
        assert stored[fake.job_run_id]["execution_time_s"] == fake.execution_s
        assert stored[fake.job_run_id]["state"] == fake.fixed_state
    # one heap datapoint per minute of each run, at the 60-second period recent data allows
    for fake in fleet.backend_job(names[1]).job_runs:
        rows = list(
            store.db.query(
                "select count(*) n from run_metrics where run_id = ? and metric = ? and stat = ?",
                # the advisor reads the heap's peak: only Maximum is asked for (and billed)
                [sample_run(fake.job_run_id), "glue.driver.jvm.heap.usage", "Maximum"],
            )
        )
        assert rows[0]["n"] == max(1, fake.execution_s // 60)
    # the 450-run job spans 19 days: its runs past ListMetrics' two weeks are asked for blindly
    assert report.api_calls["cloudwatch:GetMetricData"] > 1


def test_since_limits_a_first_collect(fleet, store):
    names, _ = seed_small(fleet, jobs=3, big=450)  # 450 runs, 20 minutes apart

    report, _ = run_collect(store, fleet, since=timedelta(hours=24))

    kept = store.db.execute(
        "select count(*) from job_runs where job_name = ?", [sample_job(names[0])]
    ).fetchone()
    assert kept[0] == 72  # one day of runs every 20 minutes
    assert (
        report.api_calls["glue:GetJobRuns"] == 1 + 2
    )  # the first page already reaches the horizon


def test_a_changed_definition_becomes_a_new_version(fleet, store):
    names, _ = seed_small(fleet, jobs=2, big=3)
    run_collect(store, fleet)
    job = fleet.backend_job(names[0])  # moto has no UpdateJob: change the definition in place
    job.worker_type, job.number_of_workers = "G.2X", 20
    run_collect(store, fleet, now=NOW + timedelta(days=1))

    versions = list(
        store.db.query(
            "select first_seen, last_seen, definition from job_versions where name = ? "
            "order by first_seen",
            [sample_job(names[0])],
        )
    )
    assert len(versions) == 2
    assert '"NumberOfWorkers":20' in versions[1]["definition"]
    assert versions[0]["last_seen"] < versions[1]["first_seen"]
    assert store.db["jobs"].get(sample_job(names[0]))["number_of_workers"] == 20


def test_recollect_with_nothing_new_costs_one_call_per_job(fleet, store):
    names, _ = seed_small(fleet, jobs=8, big=450)
    run_collect(store, fleet)
    before = snapshot(store)

    report, faults = run_collect(store, fleet)

    assert report.api_calls["glue:GetJobRuns"] == len(names)
    assert not any(op.startswith("cloudwatch:") for op in faults.operations)
    assert report.runs_upserted <= 200 * len(names)
    assert snapshot(store) == before


def test_new_runs_and_runs_that_were_still_running(fleet, store):
    names, _ = seed_small(fleet, jobs=4, big=10)
    run_collect(store, fleet)
    [running] = fleet.add_runs(names[2], 1, state="RUNNING", end=NOW + timedelta(hours=1))
    run_collect(store, fleet, now=NOW + timedelta(hours=1))
    assert store.db["job_runs"].get(sample_run(running))["state"] == "RUNNING"

    # 250 newer runs push the running one past the first page: only GetJobRun can see it finish
    fleet.add_runs(names[2], 250, end=NOW + timedelta(days=12), spacing=timedelta(minutes=30))
    run_collect(store, fleet, now=NOW + timedelta(days=12))
    fleet.set_state(names[2], running, "SUCCEEDED")
    report, _ = run_collect(store, fleet, now=NOW + timedelta(days=12, hours=1))

    assert store.db["job_runs"].get(sample_run(running))["state"] == "SUCCEEDED"
    assert report.api_calls["glue:GetJobRun"] == 1
    assert report.api_calls["glue:GetJobRuns"] == len(names)
    assert store.db["job_runs"].count == 10 + 3 * 3 + 1 + 250


def test_thirty_percent_throttling_gives_the_same_store(fleet, tmp_path):
    seed_small(fleet, jobs=10, big=250)
    clean = Store(tmp_path / "clean.db")
    run_collect(clean, fleet)
    throttled = Store(tmp_path / "throttled.db")

    report, faults = run_collect(throttled, fleet, faults=FaultLayer(throttle_rate=0.3, seed=3))

    assert faults.throttled >= 0.2 * faults.sent
    assert report.errors == []
    assert snapshot(throttled) == snapshot(clean)


def test_interrupted_collection_resumes_to_the_same_store(fleet, tmp_path):
    seed_small(fleet, jobs=6, big=450)
    clean = Store(tmp_path / "clean.db")
    _, counted = run_collect(clean, fleet)
    expected = snapshot(clean)
    every_request = range(1, counted.sent + 1)
    crash_points = sorted(random.Random(11).sample(every_request, min(25, counted.sent)))
    assert len(crash_points) >= 10

    for point in crash_points:
        store = Store(tmp_path / f"crash{point}.db")
        with pytest.raises(SimulatedCrash):
            run_collect(store, fleet, faults=FaultLayer(crash_at=point))
        run_collect(store, fleet)
        assert snapshot(store) == expected, f"crash at request {point}"
        dupes = store.db.execute("select count(*) - count(distinct id) from job_runs").fetchone()
        assert dupes[0] == 0


def test_access_denied_on_cloudwatch_is_recorded_and_glue_goes_on(fleet, store):
    seed_small(fleet, jobs=5, big=20)

    report, faults = run_collect(store, fleet, faults=FaultLayer(deny=("cloudwatch",)))

    assert store.db["job_runs"].count == 20 + 4 * 3
    [error] = store.errors("cloudwatch")
    assert error["reason"] == "AccessDeniedException"
    assert "cloudwatch skipped for this region" in error["item"]
    # one refused call is enough to stop asking in this region
    assert sum(op.startswith("cloudwatch:") for op in faults.operations) == 1
    assert report.errors == [error]


def test_unknown_job_is_reported_and_the_rest_collected(fleet, store):
    names, _ = seed_small(fleet, jobs=3, big=5)

    run_collect(store, fleet, jobs=[names[1], "no_such_job"])

    assert [e["item"] for e in store.errors("glue")] == [f"{REGION}/no_such_job"]
    assert store.db["job_runs"].count == 3


def test_secrets_never_reach_the_store(fleet, store):
    seed_small(fleet, jobs=3, big=30)
    run_collect(store, fleet)
    dump = "\n".join(repr(rows) for rows in snapshot(store).values())
    assert SECRET not in dump
    assert "***REDACTED***" in dump


def test_read_only_guard_refuses_writes_before_sending(fleet):
    fleet.create_jobs(1)
    clients = AwsClients(REGION, endpoint_url=fleet.endpoint, session=session())
    with pytest.raises(ReadOnlyViolation):
        clients.glue.start_job_run(JobName="job_000")
    with pytest.raises(ReadOnlyViolation):
        clients.s3.put_object(Bucket="bucket", Key="k", Body=b"x")
    assert fleet.backend_job("job_000").job_runs == []


def test_collect_cli_over_http(fleet, tmp_path, monkeypatch):
    seed_small(fleet, jobs=3, big=5)
    db = tmp_path / "cli.db"
    result = CliRunner().invoke(
        main,
        [
            "collect",
            "--db",
            str(db),
            "--region",
            REGION,
            "--endpoint-url",
            fleet.endpoint,
            "--format",
            "json",
        ],
    )
    assert result.exit_code == 0, result.output
    assert '"runs_upserted": 11' in result.output
    policy = CliRunner().invoke(main, ["collect", "--print-policy"])
    assert "glue:GetJobRuns" in policy.output and "glue:StartJobRun" not in policy.output


def test_collect_says_which_region_it_used_when_none_is_configured(fleet, tmp_path, monkeypatch):
    seed_small(fleet, jobs=2, big=1)
    for name in ("AWS_REGION", "AWS_DEFAULT_REGION", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    db = str(tmp_path / "cli.db")
    args = ["collect", "--db", db, "--endpoint-url", fleet.endpoint, "--no-metrics"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    assert "no region given" in result.stderr and "us-east-1" in result.stderr


def test_event_logs_are_fetched_from_s3_linked_and_read_once(fleet, store):
    """Glue writes logs under --spark-event-logs-path; they link by run id or time window."""
    s3 = session().client("s3", endpoint_url=fleet.endpoint)
    s3.create_bucket(Bucket="glue-assets")
    ui = {"--enable-spark-ui": "true", "--spark-event-logs-path": "s3://glue-assets/sparkui/"}
    planted = {
        e["scenario"]: e["run_id"]
        for e in yaml.safe_load((SAMPLE / "MANIFEST.yaml").read_text())["eventlogs"]
    }
    spill_run, rolling_run = planted["spill"], planted["rolling_etl"]
    fleet.create_job("sales_aggregate_spill", ui)
    fleet.create_job("returns_etl_nightly", ui)
    fleet.create_job("Spark shell", ui)  # the app name of a log without Glue properties
    fleet.add_run("sales_aggregate_spill", spill_run, NOW - timedelta(hours=3), 600)
    fleet.add_run("returns_etl_nightly", rolling_run, NOW - timedelta(hours=2), 600)
    shell_start = datetime.fromtimestamp(
        1532512546.0, tz=UTC
    )  # local-1532512550423 starts 4 s later
    fleet.add_run("Spark shell", "jr_spark_shell_run", shell_start, 60)
    events = SAMPLE / "eventlogs"
    spill_log = next((events / spill_run).iterdir())
    s3.upload_file(str(spill_log), "glue-assets", f"sparkui/{spill_log.name}")
    rolling_dir = next((events / rolling_run).iterdir())
    for part in rolling_dir.iterdir():
        s3.upload_file(str(part), "glue-assets", f"sparkui/{rolling_dir.name}/{part.name}")
    plain = FIXTURES / "sparklens" / "local-1532512550423"
    s3.upload_file(str(plain), "glue-assets", f"sparkui/{plain.name}")

    # collecting one job reads the shared prefix: the other jobs' logs wait, unlinked
    first, _ = run_collect(store, fleet, metrics=False, jobs=["sales_aggregate_spill"])
    assert {r["run_id"] for r in store.db["spark_apps"].rows} == {sample_run(spill_run), ""}
    assert len(store.errors("eventlog")) == 2 and first.eventlog_apps == 1

    report, faults = run_collect(store, fleet, metrics=False)

    assert "s3:GetObject" not in faults.operations  # linked from stored facts, not re-read
    linked = {r["run_id"]: r["linked_by"] for r in store.db["spark_apps"].rows}
    assert linked == {
        sample_run(spill_run): "glue_run_id",
        sample_run(rolling_run): "glue_run_id",
        sample_run("jr_spark_shell_run"): "time_window",
    }
    assert report.eventlog_apps == 2 and store.errors("eventlog") == []
    [spill] = store.db["spark_apps"].rows_where("run_id = ?", [sample_run(spill_run)])
    assert spill["disk_bytes_spilled"] > 500_000_000
    assert spill["job_name"] == sample_job("sales_aggregate_spill")
    unlinked_rows = sum(
        store.db.execute(f"select count(*) from {t} where run_id = ''").fetchone()[0]
        for t in ("spark_apps", "spark_stages", "spark_executors", "spark_sql")
    )
    assert unlinked_rows == 0

    again, faults = run_collect(store, fleet, metrics=False)
    assert "s3:GetObject" not in faults.operations
    assert again.api_calls["s3:ListObjectsV2"] == 1  # one shared prefix, listed once
