"""A job's saving is the best set of fixes that can be applied together, never the sum."""

from __future__ import annotations

import pytest

from advisor.analysis.savings import best_compatible_set, combined, compatible


def finding(rule, usd, change=None, dpu=None, id_=None):
    return {
        "id": id_ or rule,
        "rule_id": rule,
        "savings_usd_month": usd,
        "savings_dpu_hours_month": dpu,
        "change": change or {},
    }


def test_two_sizing_fixes_exclude_each_other_and_the_better_one_counts():
    over = finding("over_provisioned", 100, {"WorkerType": "G.1X", "NumberOfWorkers": 5})
    mismatch = finding("worker_type_mismatch", 60, {"WorkerType": "G.2X", "NumberOfWorkers": 3})
    assert not compatible(over, mismatch)
    saving = best_compatible_set("j", [over, mismatch], cost_usd_month=400, dpu_hours_month=900)
    assert saving.usd_month == 100 and saving.finding_ids == ["over_provisioned"]
    assert saving.sum_usd_month == 160 and saving.excluded == ["worker_type_mismatch"]


def test_flex_acts_on_what_right_sizing_leaves():
    over = finding("over_provisioned", 100, {"NumberOfWorkers": 5})
    flex = finding("flex_candidate", 136, {"ExecutionClass": "FLEX"})
    saving = best_compatible_set("j", [over, flex], cost_usd_month=400, dpu_hours_month=900)
    # 400 -> 300 after right-sizing, and Flex saves 34 % of what is left (136 / 400)
    assert saving.usd_month == pytest.approx(100 + 300 * 0.34)
    assert saving.usd_month < 100 + 136
    assert set(saving.finding_ids) == {"over_provisioned", "flex_candidate"}


def test_failed_runs_and_their_retries_count_the_same_money():
    failed = finding("failed_run_waste", 50)
    retries = finding("retry_waste", 30)
    assert not compatible(failed, retries)
    assert best_compatible_set("j", [failed, retries], 200, 400).usd_month == 50


def test_the_same_field_set_two_ways_cannot_both_apply():
    a = finding("a", 10, {"Timeout": 60})
    b = finding("b", 10, {"Timeout": 120})
    c = finding("c", 10, {"Timeout": 60})
    assert not compatible(a, b) and compatible(a, c)


def test_never_more_than_the_job_costs():
    many = [finding(f"r{i}", 90, {f"DefaultArguments.--x{i}": "1"}) for i in range(5)]
    saving = best_compatible_set("j", many, cost_usd_month=100, dpu_hours_month=None)
    assert saving.usd_month <= 100
    assert combined([1.5]) == 1.0 and combined([]) == 0.0
