"""Glue billing rules, as test vectors."""

from __future__ import annotations

import pytest

from advisor.analysis.pricing import lookup_rate, run_cost
from advisor.identity import name_of


def spark(**kw):
    return {"command_name": "glueetl", "glue_version": "4.0", "region": "us-east-1", **kw}


@pytest.mark.parametrize(
    ("run", "dpu_hours", "usd"),
    [
        # 10 G.1X for 30 minutes: 10 DPU x 0.5 h at $0.44
        (spark(worker_type="G.1X", number_of_workers=10, execution_time_s=1800), 5.0, 2.20),
        # a G.2X worker is 2 DPUs: same $/DPU-hour, twice the DPUs
        (spark(worker_type="G.2X", number_of_workers=5, execution_time_s=1800), 5.0, 2.20),
        # Glue 2.0+: 48 s is billed as the 1-minute minimum
        (spark(worker_type="G.1X", number_of_workers=2, execution_time_s=48), 2 * 60 / 3600, None),
        # Glue 1.0: a 4-minute run on 10 DPUs is billed the 10-minute minimum
        (
            spark(
                glue_version="1.0", worker_type="Standard", max_capacity=10.0, execution_time_s=240
            ),
            10 * 600 / 3600,
            None,
        ),
        # Glue 1.0 past the minimum is billed per second
        (spark(glue_version="1.0", max_capacity=10.0, execution_time_s=900), 2.5, 1.10),
        # Auto Scaling: DPUSeconds as Glue reports them, not workers x time
        (
            spark(
                worker_type="G.2X", number_of_workers=20, execution_time_s=1800, dpu_seconds=16200.0
            ),
            4.5,
            1.98,
        ),
        # Flex: DPUSeconds at the Flex rate
        (
            spark(
                worker_type="G.1X",
                number_of_workers=6,
                execution_time_s=1500,
                execution_class="FLEX",
                dpu_seconds=8640.0,
            ),
            2.4,
            0.696,
        ),
        # Python shell at 0.0625 DPU, under the minute
        (
            {
                "command_name": "pythonshell",
                "glue_version": "3.0",
                "max_capacity": 0.0625,
                "execution_time_s": 35,
            },
            0.0625 * 60 / 3600,
            None,
        ),
        # Python shell at 1 DPU for 20 minutes
        (
            {
                "command_name": "pythonshell",
                "glue_version": "3.0",
                "max_capacity": 1.0,
                "execution_time_s": 1200,
            },
            1 / 3,
            0.44 / 3,
        ),
        # streaming on G.025X: a quarter DPU per worker
        (
            {
                "command_name": "gluestreaming",
                "glue_version": "4.0",
                "worker_type": "G.025X",
                "number_of_workers": 2,
                "execution_time_s": 86400,
            },
            12.0,
            5.28,
        ),
        # Ray on Z.2X: 2 M-DPU per worker
        (
            {
                "command_name": "glueray",
                "glue_version": "4.0",
                "worker_type": "Z.2X",
                "number_of_workers": 5,
                "execution_time_s": 3600,
            },
            10.0,
            4.40,
        ),
    ],
)
def test_billing_vectors(run, dpu_hours, usd):
    cost = run_cost({"region": "us-east-1", **run})
    assert cost.dpu_hours == pytest.approx(dpu_hours)
    expected_usd = usd if usd is not None else dpu_hours * cost.rate.usd
    assert cost.cost_usd == pytest.approx(expected_usd)


def test_minimums_are_flagged():
    assert run_cost(
        spark(worker_type="G.1X", number_of_workers=2, execution_time_s=48)
    ).minimum_applied
    assert not run_cost(
        spark(worker_type="G.1X", number_of_workers=2, execution_time_s=61)
    ).minimum_applied


def test_unknown_memory_optimised_rate_gives_no_dollars_but_dpu_hours(monkeypatch):
    from advisor import facts

    table = facts.registry()
    rates = {
        **table["rates"],
        "us-east-1": {
            **table["rates"]["us-east-1"],
            "memory_optimized": {"usd": None, "confirmed": False, "source": "price_list"},
        },
    }
    monkeypatch.setattr(facts, "registry", lambda: {**table, "rates": rates})
    cost = run_cost(spark(worker_type="R.1X", number_of_workers=8, execution_time_s=3600))
    assert cost.dpu_hours == pytest.approx(8.0)
    assert cost.cost_usd is None
    overridden = run_cost(
        spark(worker_type="R.1X", number_of_workers=8, execution_time_s=3600),
        {"us-east-1": {"memory_optimized": 0.52}},
    )
    assert overridden.cost_usd == pytest.approx(8 * 0.52)


def test_confirmation_is_carried_with_the_rate():
    from advisor import facts

    for region in facts.rate_regions():
        for kind, entry in facts.registry()["rates"][region].items():
            rate = lookup_rate(region, kind)
            if entry.get("usd") is not None:
                assert rate.usd == entry["usd"] and rate.confirmed == bool(entry["confirmed"])


def test_a_region_without_a_rate_is_unpriced_never_free():
    unknown = lookup_rate("xx-nowhere-1", "etl")
    assert unknown.usd is None and not unknown.confirmed and "xx-nowhere-1" in unknown.source
    cost = run_cost(
        spark(worker_type="G.1X", number_of_workers=2, execution_time_s=600, region="xx-nowhere-1")
    )
    assert cost.dpu_hours == pytest.approx(2 * 600 / 3600) and cost.cost_usd is None


def test_a_run_without_time_or_capacity_is_not_priced():
    cost = run_cost(spark(worker_type="G.1X", number_of_workers=2))
    assert cost.dpu_hours is None and cost.cost_usd is None and cost.basis == "unknown"


def test_pricing_once_per_configuration_changes_nothing(analysed_sample_db):
    """compute_run_costs caches what a run's configuration decides: same result per run."""
    from advisor.analysis.pricing import run_cost
    from advisor.store import Store

    cache: dict = {}
    runs = list(Store(analysed_sample_db).runs_for_costing())
    assert len(runs) > 6000
    for run in runs:
        assert run_cost(run, None, cache) == run_cost(run)
    assert len(cache) < 100  # the sample's configurations, not its runs


def test_auto_scaling_without_dpu_seconds_is_priced_from_what_ran():
    """NumberOfWorkers is the maximum under Auto Scaling (streaming too): without DPUSeconds the
    executors CloudWatch saw, plus the driver's worker, are what ran; without them the maximum
    is only an upper bound, and the basis says so."""
    run = {
        "region": "us-east-1",
        "command_name": "gluestreaming",
        "glue_version": "4.0",
        "worker_type": "G.1X",
        "number_of_workers": 10,
        "execution_time_s": 3600,
        "autoscaling": "true",
    }
    measured = run_cost({**run, "executors_avg": 2.5})
    assert measured.basis == "autoscaling_executors"
    assert measured.dpu_hours == pytest.approx(3.5)
    bound = run_cost(run)
    assert bound.basis == "autoscaling_upper_bound" and bound.dpu_hours == pytest.approx(10)
    fixed = run_cost({**run, "autoscaling": None, "executors_avg": 2.5})
    assert fixed.basis == "capacity_x_time" and fixed.dpu_hours == pytest.approx(10)
    reported = run_cost({**run, "dpu_seconds": 7200.0, "executors_avg": 2.5})
    assert reported.basis == "dpu_seconds" and reported.dpu_hours == pytest.approx(2)


def test_a_run_without_a_class_is_priced_with_its_jobs_class_at_the_time(tmp_path):
    """A Flex job's run that did not say ExecutionClass was priced at the standard rate while
    the report showed it as Flex. The class comes from the job's definition at the run's time."""
    import json

    from advisor.analysis.costs import compute_run_costs
    from advisor.collect.importer import import_directory
    from advisor.store import Store

    root = tmp_path / "fleet"
    (root / "job-runs").mkdir(parents=True)
    job = {
        "Name": "nightly",
        "Role": "r",
        "Command": {"Name": "glueetl"},
        "GlueVersion": "4.0",
        "WorkerType": "G.1X",
        "NumberOfWorkers": 10,
        "ExecutionClass": "FLEX",
        "LastModifiedOn": "2026-11-10T00:00:00+00:00",
    }
    (root / "jobs.json").write_text(json.dumps({"Jobs": [job]}))

    def run(i, started, **extra):
        return {
            "Id": f"jr_{i}",
            "JobName": "nightly",
            "JobRunState": "SUCCEEDED",
            "StartedOn": started,
            "ExecutionTime": 3600,
            "WorkerType": "G.1X",
            "NumberOfWorkers": 10,
            "GlueVersion": "4.0",
            **extra,
        }

    runs = [
        run(1, "2026-11-20T00:00:00+00:00"),  # no class: the job's, Flex
        run(2, "2026-11-21T00:00:00+00:00", ExecutionClass="STANDARD"),  # says its own
    ]
    (root / "job-runs" / "nightly.json").write_text(json.dumps({"JobRuns": runs}))
    store = Store(tmp_path / "a.db")
    import_directory(store, root)
    compute_run_costs(store)
    costs = {name_of(r["run_id"]): r for r in store.db["run_costs"].rows}
    flex, standard = lookup_rate("us-east-1", "flex"), lookup_rate("us-east-1", "etl")
    assert costs["jr_1"]["rate_usd_per_dpu_hour"] == flex.usd
    assert costs["jr_1"]["basis"].endswith("+job_class")
    assert costs["jr_2"]["rate_usd_per_dpu_hour"] == standard.usd
    assert not costs["jr_2"]["basis"].endswith("+job_class")
    assert costs["jr_1"]["cost_usd"] < costs["jr_2"]["cost_usd"]
    store.close()
