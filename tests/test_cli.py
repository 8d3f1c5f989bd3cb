"""The CLI through click's runner: demo, costs, errors, exit codes, and documented verbs."""

from __future__ import annotations

import json

import pytest
import yaml
from click.testing import CliRunner

from advisor.cli import main
from tests.conftest import ROOT, SAMPLE

MANIFEST = yaml.safe_load((SAMPLE / "MANIFEST.yaml").read_text())


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory):
    db = tmp_path_factory.mktemp("demo") / "advisor.db"
    result = CliRunner().invoke(main, ["demo", "--db", str(db), "--no-dashboard"])
    assert result.exit_code == 0, result.output
    return db, result.output


def test_demo_builds_the_store_and_prints_the_cost_table(demo_db):
    _, output = demo_db
    assert f"{MANIFEST['totals']['jobs']} jobs" in output
    assert f"{MANIFEST['totals']['runs']:,} runs" in output
    assert "DPU-hours by job" in output
    for job in ("marketing_attribution", "iot_stream_enrich", "py_shell_notify"):
        assert job in output


def test_the_demo_shows_realised_savings_beside_the_findings_that_predicted_them(demo_db):
    """The demo analyses three weeks earlier too, as a team running the advisor would have:
    the right-sizings made since then carried out over_provisioned findings. One saved what
    was predicted; one (runs 1.7x longer on half the workers) saved less."""
    db, output = demo_db
    assert "resolved since the analysis three weeks earlier" in output
    result = CliRunner().invoke(
        main, ["changes", "--db", str(db), "--since", "all", "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    changes = {c["job"]: c for c in (data["changes"] if isinstance(data, dict) else data)}
    borne_out = changes["shipment_tracking_etl"]
    assert borne_out["finding"]["rule_id"] == "over_provisioned"
    low, high = borne_out["interval_usd_month"]
    assert low <= borne_out["predicted_usd_month"] <= high
    assert borne_out["finding"]["as_predicted"] is True
    less = changes["supplier_scorecard_build"]
    assert less["finding"]["rule_id"] == "over_provisioned"
    assert 0 < less["realised_usd_month"] < less["predicted_usd_month"]
    assert less["finding"]["as_predicted"] is False
    # findings that nothing predicted stay unmatched, never matched to a revert
    assert changes["pricing_history_rebuild"]["predicted_usd_month"] is None


def test_costs_json_matches_the_store(demo_db):
    db, _ = demo_db
    result = CliRunner().invoke(
        main, ["costs", "--db", str(db), "--since", "all", "--format", "json"]
    )
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert sum(j["runs"] for j in data["jobs"]) == MANIFEST["totals"]["runs"]
    by_job = {j["job_name"]: j for j in data["jobs"]}
    # an over-provisioned 40 x G.2X job costs more than the 10 x G.1X healthy one
    assert (
        by_job["marketing_attribution"]["dpu_hours"] > 5 * by_job["orders_daily_etl"]["dpu_hours"]
    )
    from advisor import facts

    rate = (facts.rate_entry("us-east-1", "memory_optimized") or {}).get("usd")
    # an unknown rate gives no invented dollars; a known one prices the R.1X job
    assert (by_job["r1x_graph_join"]["cost_usd"] is None) == (rate is None)
    assert data["dpu_hours"] == pytest.approx(sum(j["dpu_hours"] for j in data["jobs"]))
    # each job by its label, with its place and key; one place, totalled all the same
    for job in data["jobs"]:
        assert (job["account"], job["region"]) == ("123456789012", "us-east-1")
        assert job["job_key"] == f"123456789012/us-east-1/{job['job_name']}"
    [place] = data["by_place"]
    assert (place["account"], place["region"], place["jobs"]) == (
        "123456789012",
        "us-east-1",
        len(data["jobs"]),
    )
    assert place["runs"] == MANIFEST["totals"]["runs"]
    assert place["dpu_hours"] == pytest.approx(data["dpu_hours"])
    text = CliRunner().invoke(main, ["costs", "--db", str(db), "--since", "all"]).stdout
    assert "By account and region" not in text  # one place: no second table


def test_costs_rejects_a_bad_window():
    result = CliRunner().invoke(main, ["costs", "--since", "yesterday"])
    assert result.exit_code == 2
    assert "30d" in result.output


def test_errors_on_a_clean_store(demo_db):
    db, _ = demo_db
    result = CliRunner().invoke(main, ["errors", "--db", str(db), "--format", "json"])
    assert result.exit_code == 0 and json.loads(result.stdout) == []


def test_analyze_prices_every_run(demo_db):
    db, _ = demo_db
    result = CliRunner().invoke(main, ["analyze", "--db", str(db), "--full"])
    assert result.exit_code == 0
    assert f"priced {MANIFEST['totals']['runs']:,} runs" in result.output
    # nothing changed since: the next one prices nothing and says why
    result = CliRunner().invoke(main, ["analyze", "--db", str(db)])
    assert result.exit_code == 0
    assert "incremental analysis: priced 0 new or changed runs, 0 jobs with new data" in (
        result.output
    )


def test_analyze_says_which_phase_it_is_in(demo_db):
    """A long analysis shows its phase (the CLI's spinner on stderr); the phases are named as
    they start, with how many jobs are analysed again."""
    from advisor.analysis.findings import analyze
    from advisor.store import Store

    db, _ = demo_db
    store = Store(db)
    phases: list[str] = []
    analyze(store, full=True, on_phase=phases.append)
    jobs = MANIFEST["totals"]["jobs"]
    assert phases == [
        "pricing every run",
        f"features and anomalies of {jobs} of {jobs} jobs",
        "applying the rules",
    ]
    phases.clear()
    analyze(store, on_phase=phases.append)  # nothing new since
    assert phases[:2] == [
        "pricing new and changed runs",
        f"features and anomalies of 0 of {jobs} jobs",
    ]
    store.close()


def verbs():
    """Every command, with group subcommands spelled out ("eventlog summarize")."""
    out = []
    for name, command in sorted(main.commands.items()):
        subcommands = getattr(command, "commands", None)
        out += [(name, sub) for sub in sorted(subcommands)] if subcommands else [(name,)]
    return out


@pytest.mark.parametrize("verb", verbs(), ids=" ".join)
def test_every_verb_has_help_and_is_in_the_readme(verb):
    result = CliRunner().invoke(main, [*verb, "--help"])
    assert result.exit_code == 0
    command = main
    for part in verb:
        command = command.commands[part]
    assert len(command.help or "") > 20
    readme = (ROOT / "README.md").read_text()
    assert f"advisor {' '.join(verb)}" in readme
    # the CLI reference lists every option --help shows (collect --endpoint-url was missing)
    reference = readme[readme.index("## CLI reference") :]
    rows = " ".join(
        line
        for line in reference[: reference.index("\n## ", 5)].splitlines()
        if line.startswith(f"| `advisor {' '.join(verb[:1])}")
    )
    options = [o for p in command.params for o in p.opts if o.startswith("--")]
    assert [o for o in options if o not in rows and o not in ("--db", "--help")] == []


def test_a_job_name_that_is_rich_markup_is_printed_not_parsed(tmp_path):
    """`etl[/bold]` is a valid Glue job name; printing it as markup crashed analyze and costs."""
    name = "etl[/bold][red]x"
    root = tmp_path / "fleet"
    (root / "job-runs").mkdir(parents=True)
    job = {
        "Name": name,
        "Role": "arn:aws:iam::123456789012:role/r",
        "Command": {"Name": "glueetl", "ScriptLocation": "s3://b/s.py"},
        "GlueVersion": "4.0",
        "WorkerType": "G.1X",
        "NumberOfWorkers": 2,
        "Timeout": 60,
    }
    (root / "jobs.json").write_text(json.dumps({"Jobs": [job]}))
    runs = [
        {
            "Id": f"jr_{i:064x}",
            "Attempt": 0,
            "JobName": name,
            "StartedOn": f"2026-11-{i + 1:02d}T01:00:00+00:00",
            "CompletedOn": f"2026-11-{i + 1:02d}T01:10:00+00:00",
            "JobRunState": "FAILED" if i % 3 == 0 else "SUCCEEDED",
            "ErrorMessage": "java.lang.OutOfMemoryError: Java heap space [/bold]",
            "ExecutionTime": 600,
            "WorkerType": "G.1X",
            "NumberOfWorkers": 2,
            "GlueVersion": "4.0",
        }
        for i in range(12)
    ]
    (root / "job-runs" / "x.json").write_text(json.dumps({"JobRuns": runs}))
    db = str(tmp_path / "a.db")
    runner = CliRunner()
    for args in (
        ["import", str(root), "--db", db],
        ["analyze", "--db", db],
        ["costs", "--db", db, "--since", "all"],
        ["errors", "--db", db],
        ["recommend", name, "--db", db],
        ["recommend", "etl[/nope]", "--db", db],
    ):
        result = runner.invoke(main, args)
        assert result.exception is None or isinstance(result.exception, SystemExit), (
            args,
            result.output,
        )
        assert "MarkupError" not in result.output
    assert name in runner.invoke(main, ["costs", "--db", db, "--since", "all"]).output


def test_quiet_and_verbose_work_after_the_verb_too(demo_db):
    """The README's cron line runs `advisor collect -q`: -q and -v are accepted on either side."""
    db, _ = demo_db
    before = CliRunner().invoke(main, ["-q", "costs", "--db", str(db), "--format", "json"])
    after = CliRunner().invoke(main, ["costs", "-q", "--db", str(db), "--format", "json"])
    assert before.exit_code == after.exit_code == 0
    assert json.loads(before.stdout) == json.loads(after.stdout)
    verbose = CliRunner().invoke(main, ["errors", "--db", str(db), "-v"])
    assert verbose.exit_code in (0, 4)


def test_db_works_before_and_after_the_verb(demo_db, tmp_path, monkeypatch):
    """The README reads as if --db were global; `advisor --db X costs` failed with "No such
    option". Both places work, after the verb wins, and ADVISOR_DB is the fallback."""
    db, _ = demo_db
    empty = str(tmp_path / "empty.db")
    runner = CliRunner()
    before = runner.invoke(main, ["--db", str(db), "costs", "--format", "json"])
    after = runner.invoke(main, ["costs", "--db", str(db), "--format", "json"])
    assert before.exit_code == after.exit_code == 0, before.output
    assert json.loads(before.stdout) == json.loads(after.stdout)
    assert json.loads(before.stdout)  # the demo store has costs
    both = runner.invoke(main, ["--db", empty, "costs", "--db", str(db), "--format", "json"])
    assert json.loads(both.stdout) == json.loads(after.stdout)
    monkeypatch.setenv("ADVISOR_DB", str(db))
    from_env = runner.invoke(main, ["costs", "--format", "json"])
    assert json.loads(from_env.stdout) == json.loads(after.stdout)
    overridden = runner.invoke(main, ["--db", empty, "costs", "--format", "json"])
    assert overridden.stdout != after.stdout


def test_errors_go_to_stdout_so_they_can_be_redirected(tmp_path):
    """`advisor errors > f` captured nothing: the table went to stderr."""
    root = tmp_path / "fleet"
    (root / "job-runs").mkdir(parents=True)
    (root / "job-runs" / "broken.json").write_text("{not json")
    db = str(tmp_path / "a.db")
    runner = CliRunner()
    assert runner.invoke(main, ["import", str(root), "--db", db]).exit_code == 4
    listed = runner.invoke(main, ["errors", "--db", db])
    assert "broken.json" in listed.stdout
    assert "broken.json" not in listed.stderr


@pytest.mark.parametrize(
    "verb",
    [["costs"], ["errors"], ["analyze"], ["report"], ["recommend", "x"], ["whatif", "x"]],
    ids=lambda v: v[0],
)
def test_a_mistyped_db_path_is_refused_not_created(tmp_path, verb):
    """`--db adviser.db` silently made an empty store (and `report` made ./advisor.db): only
    import, collect and demo may create one; the rest exit 2 naming the path."""
    missing = tmp_path / "adviser.db"
    result = CliRunner().invoke(main, [*verb, "--db", str(missing)])
    assert result.exit_code == 2, result.output
    assert "no store at" in result.stderr and str(missing) in result.stderr
    assert not missing.exists()


def test_eventlog_summarize_says_what_is_wrong_in_one_line(tmp_path):
    """A missing path printed a traceback; a text file was summarised as `None (?)`; damaged
    lines were counted but not shown."""
    runner = CliRunner()
    missing = runner.invoke(main, ["eventlog", "summarize", str(tmp_path / "nope")])
    assert missing.exit_code == 2
    assert "no such file or folder" in missing.stderr and "Traceback" not in missing.output
    text = tmp_path / "notes"
    text.write_text("hello world\n")
    stranger = runner.invoke(main, ["eventlog", "summarize", str(text)])
    assert stranger.exit_code == 4
    assert "not a Spark event log" in stranger.stderr and "None (?)" not in stranger.stdout
    damaged = tmp_path / "app-1"
    damaged.write_text(
        '{"Event":"SparkListenerLogStart","Spark Version":"3.5.0"}\n'
        '{"Event":"SparkListenerApplicationStart","App ID":"app-1","Timestamp":1000}\n'
        "{broken\n"
    )
    shown = runner.invoke(main, ["eventlog", "summarize", str(damaged)])
    assert shown.exit_code == 4
    assert "What could not be read" in shown.stdout and "invalid_json" in shown.stdout


def test_errors_accepts_every_source_that_records_errors(tmp_path):
    """The collector records under s3 and eventlog too; --source refused them."""
    from advisor.store import Store

    db = tmp_path / "a.db"
    store = Store(db)
    for source in ("glue", "cloudwatch", "s3", "eventlog", "import"):
        store.record_error(source, f"{source}-item", "skipped", at="2026-11-30T00:00:00+00:00")
    store.close()
    for source in ("glue", "cloudwatch", "s3", "eventlog", "import"):
        result = CliRunner().invoke(
            main, ["errors", "--db", str(db), "--source", source, "--format", "json"]
        )
        assert result.exit_code == 0, result.output
        assert [r["item"] for r in json.loads(result.stdout)] == [f"{source}-item"]


def test_costs_and_recommend_use_one_window(demo_db):
    """`costs` ended its window at the wall clock, `recommend` and the report at the newest
    run: the same job showed two different 30-day costs."""
    db, _ = demo_db
    runner = CliRunner()
    costs = json.loads(runner.invoke(main, ["costs", "--db", str(db), "--format", "json"]).stdout)
    checked = 0
    for row in costs["jobs"][:5]:
        job = row["job_name"]
        detail = runner.invoke(main, ["recommend", job, "--db", str(db), "--format", "json"])
        summary = json.loads(detail.stdout)["summary"]
        assert summary["runs"] == row["runs"], job
        assert summary["usd"] == pytest.approx(row["cost_usd"], abs=0.01), job
        checked += 1
    assert checked == 5


def test_placeholders_in_advice_are_printed_not_swallowed(demo_db):
    """`s3://<bucket>/` in a rule's advice was printed as `s3:///` (taken for an HTML tag)."""
    db, _ = demo_db
    result = CliRunner().invoke(main, ["recommend", "iot_stream_enrich", "--db", str(db)])
    assert "s3://<bucket>/sparkui/" in result.stdout
    markdown = CliRunner().invoke(
        main, ["recommend", "iot_stream_enrich", "--db", str(db), "--format", "markdown"]
    )
    assert "s3://&lt;bucket&gt;/sparkui/" in markdown.stdout
