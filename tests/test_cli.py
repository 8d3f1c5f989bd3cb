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
    result = CliRunner().invoke(main, ["analyze", "--db", str(db)])
    assert result.exit_code == 0
    assert f"priced {MANIFEST['totals']['runs']} runs" in result.output


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
    assert f"advisor {' '.join(verb)}" in (ROOT / "README.md").read_text()
