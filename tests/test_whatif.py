"""What-if right-sizing: accuracy on real Spark logs, Glue candidates, feasibility, trust, CLI."""

from __future__ import annotations

import json
import shutil
import statistics
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from advisor.analysis.findings import analyze
from advisor.analysis.sizing import sizing_summary, whatif_features
from advisor.analysis.whatif import (
    allowed_worker_types,
    load_eventlog_model,
    task_memory_bytes,
    whatif_for_model,
)
from advisor.cli import main
from advisor.collect.importer import import_directory
from advisor.identity import job_key
from advisor.sparklog.simulate import model_error, simulate, trust
from advisor.store import Store
from tests.conftest import SAMPLE

FIXTURES = Path(__file__).parent / "fixtures" / "whatif"
SHAPES = ("wide_shuffle", "skewed", "small_tasks", "two_jobs")
COUNTS = (1, 2, 3, 4)
# measured by benchmarks/whatif_accuracy.py on these logs (see the README): a regression in the
# simulator shows up here first
MEDIAN_ERROR_BOUND = 0.08  # measured: 6.8 %


def log_of(shape: str, executors: int) -> Path:
    return next((FIXTURES / f"{shape}-{executors}").iterdir())


@pytest.fixture(scope="module")
def models():
    return {(s, n): load_eventlog_model(log_of(s, n)) for s in SHAPES for n in COUNTS}


def test_every_log_replays_its_own_run_closely(models):
    for (shape, executors), model in models.items():
        assert (model.executors, model.cores) == (executors, 1), shape
        error = model_error(model)
        assert error is not None and error < 0.25, (shape, executors, error)
        assert trust(model, error) == (True, [])


def test_predictions_across_executor_counts_stay_within_the_measured_bound(models):
    """As benchmarks/whatif_accuracy.py: each log (after its warm-up job, Spark job 0) predicts
    the runtime of every other executor count."""
    measured = {key: m.after(m.job_starts_ms[1]) for key, m in models.items()}
    errors = []
    for shape in SHAPES:
        for source in COUNTS:
            for target in COUNTS:
                if source != target:
                    predicted = simulate(measured[shape, source], target, 1).runtime_s
                    real = measured[shape, target].duration_ms / 1000
                    errors.append(abs(predicted - real) / real)
    assert len(errors) == 48
    assert statistics.median(errors) <= MEDIAN_ERROR_BOUND


def test_the_part_after_a_time_keeps_its_own_driver_time(models):
    model = models["two_jobs", 2]
    later = model.after(model.job_starts_ms[1])
    assert later.duration_ms < model.duration_ms and len(later.phases) < len(model.phases)
    assert later.fixed_ms == pytest.approx(later.duration_ms - sum(p.real_ms for p in later.phases))
    assert model_error(later) < 0.25


def glue_job(**overrides):
    return {
        "name": "sim_job",
        "worker_type": "G.1X",
        "number_of_workers": 2,  # one executor of 4 cores: the 4 one-core executors' 4 slots
        "glue_version": "4.0",
        "command_name": "glueetl",
        "region": "us-east-1",
        **overrides,
    }


def test_candidates_cover_the_allowed_worker_types_and_the_frontier_is_undominated(models):
    model = models["wide_shuffle", 4]
    median = model.duration_ms / 1000
    result = whatif_for_model(model, job=glue_job(), median_runtime_s=median, runs_month=30)
    assert result.trusted, result.doubts
    assert {c.worker_type for c in result.candidates} == set(allowed_worker_types("4.0", "glueetl"))
    assert {c.autoscaling for c in result.candidates} == {False, True}
    assert result.current is not None and result.current.label == "2 x G.1X"
    # the current configuration, simulated and scaled, is the job's median runtime
    assert result.current.runtime_s == pytest.approx(median, rel=0.01)
    frontier = result.frontier()
    feasible = [c for c in result.candidates if c.feasible]
    for point in frontier:
        assert not any(
            c.runtime_s < point.runtime_s and c.dpu_hours < point.dpu_hours for c in feasible
        )
    best = result.best
    assert best is not None and best.runtime_s <= result.current.runtime_s * 1.1 + 1e-6
    assert not any(
        c.dpu_hours < best.dpu_hours
        for c in feasible
        if c.autoscaling == best.autoscaling and c.runtime_s <= result.current.runtime_s * 1.1
    )
    dpu, usd = result.saving(best)
    assert dpu == pytest.approx((result.current.dpu_hours - best.dpu_hours) * 30, abs=1e-3)
    assert usd == pytest.approx((result.current.usd - best.usd) * 30, abs=0.01)


def test_more_workers_never_slow_a_job_down(models):
    model = models["small_tasks", 2]
    times = [simulate(model, n, 1).runtime_s for n in (1, 2, 4, 8, 16)]
    assert times == sorted(times, reverse=True)


def test_worker_types_by_glue_version_and_job_type():
    assert allowed_worker_types("2.0", "glueetl") == ["G.1X", "G.2X"]
    assert "R.1X" in allowed_worker_types("4.0", "glueetl")
    assert "R.1X" not in allowed_worker_types("3.0", "glueetl")
    assert allowed_worker_types("4.0", "gluestreaming")[0] == "G.025X"


def test_a_candidate_with_too_little_memory_per_task_is_never_recommended(models):
    model = load_eventlog_model(log_of("wide_shuffle", 4))
    # tasks that peaked at 2 GiB: a G worker gives each of its cores 1.5 GiB, an R worker 3 GiB
    model.peak_task_memory_bytes = 2 * 2**30
    assert task_memory_bytes("G.1X") < model.peak_task_memory_bytes < task_memory_bytes("R.1X")
    result = whatif_for_model(
        model,
        job=glue_job(worker_type="R.1X"),
        median_runtime_s=model.duration_ms / 1000,
        runs_month=30,
    )
    for candidate in result.candidates:
        assert candidate.feasible == candidate.worker_type.startswith("R."), candidate.label
        if not candidate.feasible:
            assert "would spill or fail" in candidate.note
    assert result.best is not None and result.best.worker_type.startswith("R.")
    assert all(c.feasible for c in result.frontier())


def test_a_log_of_another_configuration_gives_no_recommendation(models):
    model = models["wide_shuffle", 4]
    result = whatif_for_model(
        model, job=glue_job(number_of_workers=10), median_runtime_s=model.duration_ms / 1000
    )
    assert not result.trusted
    assert any(
        "task slots" in d and "not a run of today's configuration" in d for d in result.doubts
    )
    features = whatif_features(result)
    assert features["whatif_trusted"] is False and "whatif_best_config" not in features
    atypical = whatif_for_model(model, job=glue_job(), median_runtime_s=10 * model.duration_ms)
    assert any("not a typical run" in d for d in atypical.doubts)


def test_sizing_features_prefer_a_trusted_simulation(models):
    model = models["skewed", 4]
    result = whatif_for_model(
        model, job=glue_job(), median_runtime_s=model.duration_ms / 1000, runs_month=30
    )
    features = {
        "job_name": "sim_job",
        "worker_type": "G.1X",
        "number_of_workers": 2,
        "suggested_workers": 9,
        "executors_needed_max": 8,
    }
    features.update(whatif_features(result))
    summary = sizing_summary(features)
    assert features["whatif_trusted"] is True
    assert summary["suggested_workers"] == result.best_same_type.workers
    assert summary["sizing_basis"].startswith("simulated from the event log")


# ---- end to end: a store whose job ran with one of these logs ----------------------------------


def _fleet_with_log(root: Path, log: Path, runtime_s: float) -> None:
    """A one-job import folder: 2 x G.1X, 40 daily runs of about the log's runtime, the
    newest with the log under eventlogs/<run id>/."""
    (root / "job-runs").mkdir(parents=True)
    (root / "jobs.json").write_text(
        json.dumps(
            {
                "Jobs": [
                    {
                        "Name": "sim_job",
                        "Role": "r",
                        "GlueVersion": "4.0",
                        "WorkerType": "G.1X",
                        "NumberOfWorkers": 2,
                        "Command": {"Name": "glueetl"},
                        "Timeout": 60,
                        "DefaultArguments": {"--enable-metrics": "true"},
                    }
                ]
            }
        )
    )
    end = datetime(2026, 11, 20, tzinfo=UTC)
    runs = []
    for i in range(40):
        started = end - timedelta(days=i)
        runs.append(
            {
                "Id": f"jr_sim_{i:03d}",
                "JobName": "sim_job",
                "Attempt": 0,
                "StartedOn": started.isoformat(),
                "JobRunState": "SUCCEEDED",
                "CompletedOn": (started + timedelta(seconds=runtime_s)).isoformat(),
                "ExecutionTime": int(runtime_s) + (i % 3),
                "WorkerType": "G.1X",
                "NumberOfWorkers": 2,
                "GlueVersion": "4.0",
            }
        )
    (root / "job-runs" / "sim_job.json").write_text(json.dumps({"JobRuns": runs}))
    target = root / "eventlogs" / "jr_sim_000"
    target.mkdir(parents=True)
    shutil.copy(log, target / log.name)


@pytest.fixture(scope="module")
def sim_store(tmp_path_factory, models):
    root = tmp_path_factory.mktemp("simfleet")
    model = models["wide_shuffle", 4]
    _fleet_with_log(root / "fleet", log_of("wide_shuffle", 4), model.duration_ms / 1000)
    store = Store(root / "advisor.db")
    import_directory(store, root / "fleet")
    analyze(store)
    return root / "advisor.db"


def test_analysis_stores_the_simulation_for_a_job_with_its_own_log(sim_store):
    # Role "r" names no account: the job is in account 'unknown'
    features = Store(sim_store).stored_job_features(job_key(None, "us-east-1", "sim_job"))
    assert features["whatif_trusted"] is True, features.get("whatif_doubt")
    assert features["whatif_candidates"] > 50
    assert features["whatif_current_runtime_min"] > 0


def test_whatif_cli_for_a_job(sim_store, tmp_path):
    runner = CliRunner()
    result = runner.invoke(main, ["whatif", "sim_job", "--db", str(sim_store), "--format", "json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["trusted"] is True and report["current"]["label"] == "2 x G.1X"
    assert {"frontier", "candidates", "best", "model_error", "saving_usd_month"} <= set(report)
    plot = tmp_path / "frontier.html"
    text = runner.invoke(main, ["whatif", "sim_job", "--db", str(sim_store), "--plot", str(plot)])
    assert text.exit_code == 0 and "What-if: sim_job" in text.stdout and "<- now" in text.stdout
    html = plot.read_text()
    assert "plotly" in html and "frontier" in html and "<script src=" not in html
    unknown = runner.invoke(main, ["whatif", "sim_jb", "--db", str(sim_store)])
    assert unknown.exit_code == 2 and "sim_job" in unknown.output


def test_whatif_cli_on_any_event_log(models):
    path = log_of("skewed", 2)
    runner = CliRunner()
    result = runner.invoke(
        main, ["whatif", "--eventlog", str(path), "--executors", "3", "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    expected = simulate(models["skewed", 2], 3, 1)
    assert report["runtime_s"] == pytest.approx(expected.runtime_s, abs=1e-3)
    assert report["model_error"] == pytest.approx(model_error(models["skewed", 2]), abs=1e-4)
    assert report["trusted"] is True and report["cores"] == 1
    missing = runner.invoke(main, ["whatif", "--eventlog", str(path)])
    assert missing.exit_code == 2


def test_sample_fleet_logs_are_not_taken_for_glue_runs(tmp_path):
    """The sample's event logs (but the flagship's, tests/test_flagship.py) come from local
    PySpark runs far smaller than the jobs' Glue configurations: the simulator must say so
    rather than size the jobs from them."""
    store = Store(tmp_path / "a.db")
    import_directory(store, SAMPLE)
    analyze(store)
    runner = CliRunner()
    result = runner.invoke(
        main,
        ["whatif", "marketing_attribution", "--db", str(tmp_path / "a.db"), "--format", "json"],
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["trusted"] is False
    assert any("not a run of today's configuration" in d for d in report["doubts"])
    no_log = runner.invoke(main, ["whatif", "py_shell_api_pull", "--db", str(tmp_path / "a.db")])
    assert no_log.exit_code == 1 and "no event log" in no_log.output


def test_the_plot_says_on_the_page_when_the_replay_is_not_trusted(sim_store):
    """`whatif --plot` said "not trusted" only in the terminal; the page showed no doubt."""
    from advisor.report.whatif_figure import whatif_figure as figure

    runner = CliRunner()
    result = json.loads(
        runner.invoke(
            main, ["whatif", "sim_job", "--db", str(sim_store), "--format", "json"]
        ).stdout
    )
    trusted_title = figure(result).layout.title.text
    assert "NOT TRUSTED" not in trusted_title
    doubted = {**result, "trusted": False, "doubts": ["the log is incomplete (no application end)"]}
    title = figure(doubted).layout.title.text
    assert "NOT TRUSTED" in title and "no application end" in title
    assert not any(trace.name == "pick" for trace in figure(doubted).data)
