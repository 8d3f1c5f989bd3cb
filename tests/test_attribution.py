"""Why a week's cost moved (advisor/analysis/attribution.py): planted causes come out as
their own part, and the parts add up to the change to the cent."""

from __future__ import annotations

import json
import math
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from advisor.analysis.attribution import explain_job, rounded, shapley, to_cents
from advisor.analysis.changes import find_changes
from advisor.report.changes_cli import explain_cmd
from tests.test_changes import (
    DAYS,
    GROWTH,
    START,
    JobSpec,
    Phase,
    import_and_analyse,
    job_definition,
    write_snapshot,
)

MONDAY = date(2026, 11, 16)  # this week; the week before starts 2026-11-09
JOB = "123456789012/us-east-1/j"


def run(
    day: float,
    *,
    gb: float = 100.0,
    dpu_h_per_gb: float = 0.1,
    rate: float = 0.44,
    state: str = "SUCCEEDED",
    workers: int = 10,
    execution_class: str = "STANDARD",
) -> dict[str, Any]:
    """A priced run `day` days after the previous week's Monday (negative: before it)."""
    started = datetime(2026, 11, 9, 3, tzinfo=UTC) + timedelta(days=day)
    dpu_hours = gb * dpu_h_per_gb
    return {
        "id": f"r{day}",
        "job_name": JOB,
        "state": state,
        "attempt": 0,
        "started_on": started.isoformat(timespec="milliseconds"),
        "execution_time_s": round(dpu_hours * 3600 / workers),
        "worker_type": "G.1X",
        "number_of_workers": workers,
        "max_capacity": float(workers),
        "execution_class": execution_class,
        "glue_version": "4.0",
        "timeout_min": 2880,
        "arguments": "{}",
        "cost_usd": dpu_hours * rate,
        "dpu_hours": dpu_hours,
        "rate_usd_per_dpu_hour": rate,
        "bytes_read": gb * 1e9,
    }


def daily(first: int, last: int, **fields: Any) -> list[dict[str, Any]]:
    return [run(day, **fields) for day in range(first, last)]


def parts_of(runs: list[dict[str, Any]]) -> tuple[dict[str, float], float]:
    """Each cause's unrounded part and the change, checked to add up."""
    result = explain_job(JOB, runs, find_changes(JOB, runs, []), MONDAY)
    parts: dict[str, float] = {}
    for part in result["parts"]:
        parts[part.cause] = parts.get(part.cause, 0.0) + part.usd
    change = result["this_usd"] - result["previous_usd"]
    assert sum(parts.values()) == pytest.approx(change, abs=1e-9)
    return parts, change


def only_cause(parts: dict[str, float], cause: str, change: float) -> None:
    assert parts[cause] == pytest.approx(change, rel=1e-9)
    others = {k: v for k, v in parts.items() if k != cause}
    assert all(abs(v) < 1e-9 for v in others.values()), others


def test_twice_the_runs_is_schedule():
    parts, change = parts_of(daily(0, 7) + [run(7 + d / 2) for d in range(14)])
    assert change == pytest.approx(7 * 100 * 0.1 * 0.44)
    only_cause(parts, "schedule", change)


def test_twice_the_data_is_input_volume():
    parts, change = parts_of(daily(0, 7) + daily(7, 14, gb=200))
    only_cause(parts, "input_volume", change)


def test_slower_at_the_same_volume_and_configuration_is_runtime():
    parts, change = parts_of(daily(0, 7) + daily(7, 14, dpu_h_per_gb=0.125))
    only_cause(parts, "runtime", change)
    assert change > 0


def test_failed_runs_are_failures():
    runs = daily(0, 7) + daily(7, 14) + [run(8.5, state="FAILED", gb=50)]
    parts, change = parts_of(runs)
    assert change == pytest.approx(50 * 0.1 * 0.44)
    only_cause(parts, "failures", change)


def test_flex_is_rate_not_configuration():
    runs = daily(-30, 7) + daily(7, 14, rate=0.29, execution_class="FLEX")
    parts, change = parts_of(runs)
    assert change == pytest.approx(7 * 10 * (0.29 - 0.44))
    assert parts["rate"] == pytest.approx(change)
    assert abs(parts["configuration"]) < 1e-9  # the change moved no DPU-hours


def test_a_configuration_change_takes_its_measured_effect():
    # 20 workers from this Monday: 20% fewer DPU-hours per GB, measured on the runs around it
    runs = daily(-30, 7) + daily(7, 14, workers=20, dpu_h_per_gb=0.08)
    parts, change = parts_of(runs)
    assert change == pytest.approx(7 * 100 * (0.08 - 0.1) * 0.44)
    only_cause(parts, "configuration", change)
    (part,) = [p for p in explain_job(JOB, runs, find_changes(JOB, runs, []), MONDAY)["parts"]
               if p.cause == "configuration"]  # fmt: skip
    assert part.fields == {"NumberOfWorkers": [10, 20]}


def test_a_change_that_coincides_with_growth_after_a_slow_week_is_split_between_them():
    # last week slow from Thursday (DPU-hours per GB 0.11, not 0.1); from this Monday 20 workers
    # (0.08 per GB) on twice the data
    before = daily(-30, 3) + daily(3, 7, dpu_h_per_gb=0.11)
    after = daily(7, 14, workers=20, gb=200, dpu_h_per_gb=0.08)
    runs = before + after
    parts, change = parts_of(runs)
    assert change > 0
    assert parts["input_volume"] > 0 and parts["configuration"] < 0
    assert parts["runtime"] < 0  # this week is not slow any more
    assert abs(parts["schedule"]) < 1e-9 and abs(parts["rate"]) < 1e-9
    # the change is judged on its own windows (20 runs before it: 16 at 0.1, 4 at 0.11)
    result = explain_job(JOB, runs, find_changes(JOB, runs, []), MONDAY)
    (config,) = [p for p in result["parts"] if p.cause == "configuration"]
    q = 0.08 / ((16 * 0.1 + 4 * 0.11) / 20)
    assert f"x{q:.2f}" in config.detail
    # volume x2 alone, at last week's efficiency and rate
    e_prev = (3 * 0.1 + 4 * 0.11) / 7
    assert parts["input_volume"] > 7 * 100 * e_prev * 0.44 * 0.5


def test_a_change_too_recent_to_measure_takes_the_whole_efficiency_move():
    # 20 workers from Friday: three runs after it, too few to measure the change on
    runs = daily(-30, 11) + daily(11, 14, workers=20, dpu_h_per_gb=0.07)
    parts, change = parts_of(runs)
    only_cause(parts, "configuration", change)
    result = explain_job(JOB, runs, find_changes(JOB, runs, []), MONDAY)
    (config,) = [p for p in result["parts"] if p.cause == "configuration"]
    assert "not measured yet" in config.detail


def test_a_job_that_starts_running_is_all_schedule():
    parts, change = parts_of(daily(7, 14))
    only_cause(parts, "schedule", change)
    parts, change = parts_of(daily(0, 7))
    assert change < 0
    only_cause(parts, "schedule", change)


def test_without_volume_the_runtime_part_says_so():
    runs = [{**r, "bytes_read": None} for r in daily(0, 7) + daily(7, 14, gb=200)]
    result = explain_job(JOB, runs, [], MONDAY)
    causes = {p.cause: p for p in result["parts"]}
    assert "input_volume" not in causes
    assert causes["runtime"].usd == pytest.approx(result["this_usd"] - result["previous_usd"])
    assert "volume unknown" in causes["runtime"].detail


# ---- exact sums -------------------------------------------------------------------------------

factor = st.floats(min_value=0.0, max_value=1e4, allow_nan=False)


@given(st.lists(st.tuples(factor, factor), min_size=1, max_size=7))
def test_shapley_parts_add_up_to_the_change(pairs):
    old, new = [p[0] for p in pairs], [p[1] for p in pairs]
    total = math.prod(new) - math.prod(old)
    parts = shapley(old, new)
    # floating point: the error is relative to the largest product on the way
    scale = math.prod(max(a, b) for a, b in pairs)
    assert sum(parts) == pytest.approx(total, rel=1e-9, abs=1e-12 * scale)
    for i, (a, b) in enumerate(pairs):
        if a == b:
            assert parts[i] == pytest.approx(0, abs=1e-12 * scale)


@given(st.lists(st.floats(min_value=-1e6, max_value=1e6, allow_nan=False), min_size=1, max_size=8))
def test_cents_add_up_to_the_rounded_total(values):
    total = sum(values)
    cents = to_cents(values, total)
    assert sum(cents) == round(total * 100)
    assert all(abs(c - v * 100) < 1 + 1e-6 * abs(v * 100) + len(values) for c, v in
               zip(cents, values, strict=True))  # fmt: skip


def test_rounded_parts_are_cents_that_add_up():
    parts = explain_job(JOB, daily(0, 7) + daily(7, 14, gb=133.3, rate=0.4401), [], MONDAY)
    change = parts["this_usd"] - parts["previous_usd"]
    rows = rounded(parts["parts"], change)
    assert sum(round(r["usd"] * 100) for r in rows) == round(change * 100)


# ---- through the store and the CLI ------------------------------------------------------------


@pytest.fixture(scope="module")
def weekly_db(tmp_path_factory):
    """GROWTH (twice the data and a cheaper configuration on day 40), and a job whose every
    third run fails from day 42 (a Monday) on."""
    root = tmp_path_factory.mktemp("attribution")
    busier = JobSpec(
        "busier_etl",
        [Phase(42, "G.1X", 5, 20, 300), Phase(28, "G.1X", 5, 20, 300, fail_every=3)],
        seed=11,
    )
    specs = [GROWTH, busier]
    definitions = {s.name: job_definition(s.name, s.phases[0], START) for s in specs}
    db = root / "advisor.db"
    import_and_analyse(db, write_snapshot(root / "in", specs, DAYS, definitions))
    return db


def explain(db, *args: str) -> dict[str, Any]:
    result = CliRunner().invoke(explain_cmd, ["--db", str(db), *args, "--format", "json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def cents(result: dict[str, Any]) -> tuple[int, int]:
    return sum(round(c["usd"] * 100) for c in result["causes"]), round(result["change_usd"] * 100)


def test_explain_a_job_week_through_the_store(weekly_db):
    # GROWTH changes on day 40 (Saturday 2026-09-12): the week after holds only new runs
    result = explain(weekly_db, "growth_etl", "--week", "2026-W38")
    assert result["job"] == "growth_etl" and result["week"] == "2026-W38"
    assert result["previous_week"] == "2026-W37"
    part = {c["cause"]: c for c in result["causes"]}
    assert set(part) == {"schedule", "input_volume", "configuration", "runtime", "rate", "failures"}
    made, change = cents(result)
    assert made == change
    assert change > 0  # more data cost more, though the change saved per GB
    assert part["input_volume"]["usd"] > 0 and part["configuration"]["usd"] < 0
    assert part["configuration"]["fields"] == {"NumberOfWorkers": [10, 20]}
    assert abs(part["runtime"]["usd"]) < 0.1 * part["input_volume"]["usd"]
    assert part["schedule"]["usd"] == 0 and part["rate"]["usd"] == 0


def test_explain_the_fleet_adds_up_its_jobs(weekly_db):
    fleet = explain(weekly_db, "--week", "2026-W38")
    assert fleet["job"] == "fleet"
    made, change = cents(fleet)
    assert made == change
    jobs = [explain(weekly_db, name, "--week", "2026-W38") for name in ("growth_etl", "busier_etl")]
    assert fleet["change_usd"] == pytest.approx(sum(j["change_usd"] for j in jobs), abs=0.011)
    failures = {c["cause"]: c["usd"] for c in fleet["causes"]}["failures"]
    busier = {c["cause"]: c["usd"] for c in jobs[1]["causes"]}
    assert failures == pytest.approx(busier["failures"], abs=0.011) and failures > 0


def test_explain_text_and_errors(weekly_db):
    text = CliRunner().invoke(
        explain_cmd, ["--db", str(weekly_db), "growth_etl", "--week", "2026-W38"]
    )
    assert text.exit_code == 0, text.output
    assert "input volume" in text.output and "configuration change" in text.output
    bad = CliRunner().invoke(explain_cmd, ["--db", str(weekly_db), "--week", "2026-47"])
    assert bad.exit_code == 2
    unknown = CliRunner().invoke(explain_cmd, ["--db", str(weekly_db), "nope"])
    assert unknown.exit_code == 2
    default = explain(weekly_db, "busier_etl")  # the last full week
    made, change = cents(default)
    assert made == change
