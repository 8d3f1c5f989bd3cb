"""Interactive sessions on more workers than their Spark work used: the session's own event log
(a real Spark run of 9 executors x 4 cores, the 36 task slots of 10 x G.1X on Glue 4.0, in
sample_metrics/eventlogs/notebook-alice-3f2a/) is linked to the session, imported or collected
from the session's --spark-event-logs-path on moto's S3, and replayed on fewer workers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from moto.glue.models import FakeSession

from advisor.analysis.other_costs import price_use
from advisor.analysis.resource_findings import judge_resources
from advisor.analysis.session_sizing import minimum_workers, sizing_features
from advisor.analysis.whatif import load_eventlog_model
from advisor.collect.eventlog_link import link_run
from advisor.collect.runner import CollectOptions, collect
from advisor.identity import session_app_key
from advisor.sparklog.simulate import simulate
from advisor.store import Store
from tests.awsfake import NOW, REGION, FaultLayer, session
from tests.test_other_costs import ACCOUNT, ALLOWED

SAMPLE = Path(__file__).resolve().parent.parent / "sample_metrics"
SESSION_LOG = next((SAMPLE / "eventlogs" / "notebook-alice-3f2a").iterdir())
TEN_G1X = {"WorkerType": "G.1X", "NumberOfWorkers": 10, "GlueVersion": "4.0"}


@pytest.fixture(scope="module")
def model():
    return load_eventlog_model(SESSION_LOG)


def test_the_replay_finds_the_workers_the_statements_needed(model):
    sizing = sizing_features([model], TEN_G1X)
    assert sizing["sizing_trusted"], sizing.get("sizing_doubt")
    assert sizing["sizing_model_error"] < 0.25
    needed = sizing["needed_workers"]
    assert sizing["fewer_workers_suffice"] and needed < 10
    assert needed >= minimum_workers("G.1X") == 2
    # the pick keeps the Spark time within the slowdown allowed; one worker fewer would not
    own = simulate(model, 9, 4).runtime_s - model.fixed_ms / 1000
    on_needed = simulate(model, needed - 1, 4).runtime_s - model.fixed_ms / 1000
    assert on_needed <= own * 1.1
    assert sizing["spark_minutes_needed"] == pytest.approx(on_needed / 60)
    if needed > minimum_workers("G.1X"):
        fewer = simulate(model, needed - 2, 4).runtime_s - model.fixed_ms / 1000
        assert fewer > own * 1.1


def test_a_log_of_other_task_slots_or_an_unknown_size_is_not_trusted(model):
    other = sizing_features([model], {**TEN_G1X, "NumberOfWorkers": 5})
    assert not other["sizing_trusted"]
    assert "36 task slots, not the 16 of 5 x G.1X" in other["sizing_doubt"]
    unknown = sizing_features([model], {"MaxCapacity": 5.0, "GlueVersion": "4.0"})
    assert not unknown["sizing_trusted"] and "not known" in unknown["sizing_doubt"]


def test_the_sample_session_is_linked_to_its_log_and_found_oversized(analysed_sample_db):
    store = Store(analysed_sample_db)
    key = session_app_key(ACCOUNT, REGION, "notebook-alice-3f2a")
    [app] = store.spark_apps_of_run(key)
    assert app["linked_by"] == "import_folder" and app["job_name"] is None
    assert not any("notebook-alice" in e["item"] for e in store.errors())
    found = {(f["rule_id"], f["name"]): f for f in store.resource_findings()}
    oversized = found[("session_oversized", "notebook-alice-3f2a")]
    idle = found[("session_idle_timeout", "notebook-alice-3f2a")]
    assert oversized["evidence"]["needed_workers"] == 2
    # what the session cost, less the idle hours the other rule claims, times the 8 of 10
    # DPUs it did without: the two findings never count the same hour twice
    usd = oversized["evidence"]["oversized_usd"] / 0.8 + idle["savings_usd_month"]
    [use] = [u for u in store.resource_usage() if u["name"] == "notebook-alice-3f2a"]
    assert usd == pytest.approx(price_use(use, NOW).usd, abs=0.01)
    assert oversized["savings_usd_month"] == pytest.approx(
        (usd - idle["savings_usd_month"]) * (1 - 2 / 10), abs=0.01
    )
    assert "%number_of_workers 2" in oversized["advice"][0]
    # the session that used its two workers, without a log, is not judged on its size
    assert ("session_oversized", "notebook-bob-91c0") not in found


def test_an_application_of_a_job_run_is_never_taken_for_a_session(analysed_sample_db):
    store = Store(analysed_sample_db)
    during = datetime(2026, 11, 16, 12, tzinfo=UTC).timestamp() * 1000
    summary = {"glue": {}, "app_name": "untitled", "start_ms": during}
    place = (ACCOUNT, REGION)
    assert link_run(store, summary, place=place) == (
        session_app_key(ACCOUNT, REGION, "notebook-alice-3f2a"),
        "session_window",
    )
    # it names a Glue job run the store lacks: unlinked, not the open session's
    named = {**summary, "glue": {"JOB_RUN_ID": "jr_missing"}}
    assert link_run(store, named, place=place) == (None, None)
    # nobody's session was open then
    later = {**summary, "start_ms": datetime(2026, 11, 25, tzinfo=UTC).timestamp() * 1000}
    assert link_run(store, later, place=place) == (None, None)


def test_collect_reads_a_sessions_event_logs_from_its_spark_ui_path(fleet, store, monkeypatch):
    """The session's %%configure --spark-event-logs-path is listed and read (S3 reads only);
    its log, which names no Glue job run, is the session that was open when it started."""
    started = load_eventlog_model(SESSION_LOG).start_ms / 1000
    opened = datetime.fromtimestamp(started - 300, UTC)
    plain = FakeSession.as_dict

    def as_dict(self):
        return {
            **plain(self),
            "WorkerType": self.worker_type,
            "NumberOfWorkers": self.number_of_workers,
            "IdleTimeout": self.idle_timeout,
            "CreatedOn": opened.isoformat(),
            "CompletedOn": (opened + timedelta(hours=3)).isoformat(),
            "ExecutionTime": 3 * 3600.0,
            "Status": "STOPPED",
        }

    monkeypatch.setattr(FakeSession, "as_dict", as_dict)
    glue = session().client("glue", endpoint_url=fleet.endpoint)
    s3 = session().client("s3", endpoint_url=fleet.endpoint)
    s3.create_bucket(Bucket="notebook-logs")
    s3.put_object(
        Bucket="notebook-logs", Key=f"sparkui/{SESSION_LOG.name}", Body=SESSION_LOG.read_bytes()
    )
    glue.create_session(
        Id="notebook-carol",
        Role=f"arn:aws:iam::{ACCOUNT}:role/glue",
        Command={"Name": "glueetl", "PythonVersion": "3"},
        IdleTimeout=30,
        WorkerType="G.1X",
        NumberOfWorkers=10,
        GlueVersion="4.0",
        DefaultArguments={
            "--enable-spark-ui": "true",
            "--spark-event-logs-path": "s3://notebook-logs/sparkui/",
        },
    )
    faults = FaultLayer()
    options = CollectOptions(
        regions=[REGION],
        endpoint_url=fleet.endpoint,
        session_factory=lambda region: faults.install(session(region)),
    )
    report = collect(store, options, now=NOW)
    assert report.errors == []
    assert set(faults.operations) <= ALLOWED
    assert {"s3:ListObjectsV2", "s3:GetObject"} <= set(faults.operations)
    [app] = store.spark_apps_of_run(session_app_key(ACCOUNT, REGION, "notebook-carol"))
    assert app["linked_by"] == "session_window"
    [finding] = [f for f in judge_resources(store) if f["rule_id"] == "session_oversized"]
    assert finding["name"] == "notebook-carol"
    # three hours on 10 DPUs, of which the 8 it did not need
    assert finding["savings_usd_month"] == pytest.approx(3 * 8 * 0.44, rel=0.01)
    # a second collect reads nothing again
    faults.operations.clear()
    collect(store, options, now=NOW)
    assert "s3:GetObject" not in faults.operations
