"""The demo's flagship: a sample job whose event log is a run of its own configuration, so
`advisor whatif` and the job page show a trusted frontier out of the box.

Everything here reads the committed sample (sample_metrics/): no Spark runs. The flagship's log
comes from sample_metrics/generate_eventlogs.py on Spark's local-cluster with the job's task
slots, and its runtime in fleet_spec.py is the logged application's duration.
"""

from __future__ import annotations

import json
import statistics

import pytest
import yaml
from click.testing import CliRunner

from advisor.analysis.whatif import TRUST_LIMIT, executor_cores, load_eventlog_model
from advisor.cli import main
from advisor.sparklog.simulate import model_error
from advisor.store import Store
from tests.conftest import SAMPLE
from tests.keys import sample_job

MANIFEST = yaml.safe_load((SAMPLE / "MANIFEST.yaml").read_text())
JOBS = {j["Name"]: j for j in json.loads((SAMPLE / "jobs.json").read_text())["Jobs"]}
FLAGSHIPS = MANIFEST["whatif_flagships"]
LOGS = {e["job"]: e["run_id"] for e in MANIFEST["eventlogs"]}


def runs_of(job: str) -> list[dict]:
    doc = json.loads((SAMPLE / "job-runs" / f"{job}.json").read_text())
    return [run for page in (doc if isinstance(doc, list) else [doc]) for run in page["JobRuns"]]


def test_the_sample_fleet_has_a_flagship_with_its_own_log():
    assert FLAGSHIPS
    for job in FLAGSHIPS:
        assert job in LOGS
        assert LOGS[job] in {run["Id"] for run in runs_of(job)}


@pytest.mark.parametrize("job", FLAGSHIPS)
def test_the_flagship_log_is_a_run_of_the_job_as_configured(job):
    """Task slots, duration and its own replay: what `advisor whatif` checks before it trusts."""
    definition = JOBS[job]
    model = load_eventlog_model(SAMPLE / "eventlogs" / LOGS[job])
    cores = executor_cores(definition["WorkerType"], definition["GlueVersion"])
    workers = definition["NumberOfWorkers"]
    # Glue: one executor per worker, the driver on a worker of its own
    assert (model.executors, model.cores) == (workers - 1, cores)
    assert model.slots == (workers - 1) * cores
    assert model.doubts == []
    median = statistics.median(
        run["ExecutionTime"] for run in runs_of(job) if run["JobRunState"] == "SUCCEEDED"
    )
    # the generator gives the job the logged duration as its typical runtime (trusted: 0.5-2x)
    assert 0.8 <= model.duration_ms / 1000 / median <= 1.25
    assert model_error(model) <= TRUST_LIMIT


@pytest.mark.parametrize("job", FLAGSHIPS)
def test_the_flagship_whatif_is_trusted_with_a_frontier(job, analysed_sample_db):
    result = CliRunner().invoke(
        main, ["whatif", job, "--db", analysed_sample_db, "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["trusted"] is True, report["doubts"]
    assert report["doubts"] == []
    assert report["run_id"].endswith(LOGS[job])
    definition = JOBS[job]
    assert (
        report["current"]["label"]
        == f"{definition['NumberOfWorkers']} x {definition['WorkerType']}"
    )
    assert len(report["frontier"]) > 1
    assert report["model_error"] <= TRUST_LIMIT
    features = Store(analysed_sample_db).stored_job_features(sample_job(job))
    assert features["whatif_trusted"] is True, features.get("whatif_doubt")
    assert features["sizing_confidence"] == "high"
    assert features["sizing_basis"].startswith("simulated from the event log")


@pytest.mark.parametrize("job", FLAGSHIPS)
def test_the_job_page_figure_shows_the_trusted_frontier(job, analysed_sample_db):
    """The job page (and `whatif --plot`) draws the stored what-if: a frontier, today's
    configuration and a pick, with no "not trusted" in its title."""
    from advisor.report.whatif_figure import whatif_figure

    figure = whatif_figure(Store(analysed_sample_db).stored_whatif(sample_job(job)))
    traces = {trace.name: trace for trace in figure.data}
    assert len(traces["frontier"].x) > 1
    # today's configuration and the pick, one mark saying both when the pick is today's
    assert {"now", "pick"} <= set(traces) or "now and pick" in traces
    assert "NOT TRUSTED" not in figure.layout.title.text


@pytest.mark.parametrize("job", FLAGSHIPS)
def test_the_whatif_plot_names_the_job_as_every_output_does(job, analysed_sample_db, tmp_path):
    """`advisor whatif --plot`: the title is the job's Glue name, not its account/region key."""
    plot = tmp_path / "whatif.html"
    result = CliRunner().invoke(
        main, ["whatif", job, "--db", analysed_sample_db, "--plot", str(plot)]
    )
    assert result.exit_code == 0, result.output
    html = plot.read_text()
    assert f"What-if: {job}" in html
    assert f"What-if: {sample_job(job)}" not in html


def test_the_other_sample_logs_stay_untrusted(analysed_sample_db):
    """Only the flagships' logs stand for their jobs: the local[N] ones never size a job."""
    store = Store(analysed_sample_db)
    for job in set(LOGS) - set(FLAGSHIPS):
        features = store.stored_job_features(sample_job(job))
        assert features["whatif_trusted"] is False, job


@pytest.mark.parametrize(
    "job", [j for j in FLAGSHIPS if "under_provisioned" in MANIFEST["jobs"][j]["problems"]]
)
def test_the_planted_under_provisioning_is_found_by_the_replay(job, analysed_sample_db):
    """With a trusted replay the finding names a simulated configuration, not AWS's
    capacity-planning heuristic from CloudWatch."""
    store = Store(analysed_sample_db)
    features = store.stored_job_features(sample_job(job))
    assert features["whatif_speedup"] >= 1.3
    assert features["whatif_faster_workers"] > JOBS[job]["NumberOfWorkers"]
    [finding] = [
        f
        for f in store.open_findings()
        if f["rule_id"] == "under_provisioned" and f["job_name"] == sample_job(job)
    ]
    advice = " ".join(json.loads(finding["advice"]))
    assert f"Move to {features['whatif_faster_config']}: the replay of its event log" in advice
    assert "heuristic" not in advice
    # the message states the speed-up, never the over-provisioning comparison (same config,
    # "within the slowdown allowed"), and the Auto Scaling maximum is the faster configuration's
    assert "times faster on more workers" in finding["message"]
    assert "slowdown allowed" not in finding["message"]
    assert f"NumberOfWorkers {features['whatif_faster_workers']} as the maximum" in advice
    change = json.loads(finding["change"])
    assert int(change["NumberOfWorkers"]) == features["whatif_faster_workers"]
