"""The rule engine and the rules: examples, reachable bands and advice, schema, sample fleet."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from advisor.analysis.costs import compute_run_costs
from advisor.analysis.features import job_features
from advisor.analysis.rules import (
    SEVERITIES,
    RuleError,
    check_examples,
    default_rules_dir,
    load_rule,
    load_rules,
)
from advisor.collect.importer import import_directory
from advisor.identity import job_key
from advisor.store import Store
from tests.conftest import SAMPLE

RULES = load_rules() + load_rules(default_rules_dir() / "resources")
MANIFEST = yaml.safe_load((SAMPLE / "MANIFEST.yaml").read_text())


def sample_job(name: str) -> str:
    """The key of a sample fleet job: its role ARNs' account, and import's default region."""
    return job_key("123456789012", "us-east-1", name)


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.id)
def test_every_example_holds(rule):
    assert check_examples(rule) == []


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.id)
def test_every_severity_band_and_every_advice_entry_is_reachable(rule):
    reached, advised = set(), set()
    for example in rule.spec["examples"]:
        outcome = rule.evaluate(example["features"], example.get("params"))
        if outcome.fired:
            reached.add(outcome.severity)
            params = rule.params(example.get("params"))
            for index, entry in enumerate(rule.spec["advice"]):
                if "when" not in entry or rule.holds(entry["when"], example["features"], params):
                    advised.add(index)
    assert set(rule.spec["severity"]["bands"]) <= reached
    assert advised == set(range(len(rule.spec["advice"])))


def test_the_schema_rejects_unknown_keys_and_names_the_place(tmp_path):
    spec = yaml.safe_load((Path(RULES[0].path)).read_text())
    spec["threshold"] = 3
    bad = tmp_path / f"{spec['id']}.yaml"
    bad.write_text(yaml.safe_dump(spec))
    with pytest.raises(RuleError, match="threshold"):
        load_rule(bad)
    spec.pop("threshold")
    spec["when"] = {"feature": "x", "op": "approximately", "value": 1}
    bad.write_text(yaml.safe_dump(spec))
    with pytest.raises(RuleError, match=f"{bad.name}: when"):
        load_rule(bad)


def test_id_must_equal_the_file_name(tmp_path):
    other = tmp_path / "renamed.yaml"
    other.write_text(Path(RULES[0].path).read_text())
    with pytest.raises(RuleError, match="must equal the file name"):
        load_rule(other)


def test_a_missing_feature_never_fires_and_text_cannot_reach_attributes():
    rule = next(r for r in RULES if r.id == "failed_run_waste")
    assert not rule.evaluate({}).fired
    evil = dict(rule.spec)
    evil["message"] = "{job_name.__class__}"
    from advisor.analysis.rules import Rule

    with pytest.raises(RuleError):
        Rule(evil).evaluate(
            {
                "job_name": "x",
                "failed_usd_month": 50,
                "runs_month": 1,
                "failed_runs_month": 1,
                "failure_rate": 1.0,
                "failed_dpu_hours_month": 1,
                "top_failure_cause": "other",
                "top_failure_cause_usd_month": 50,
            }
        )


@pytest.fixture(scope="module")
def fleet_features(tmp_path_factory):
    store = Store(tmp_path_factory.mktemp("rules") / "advisor.db")
    import_directory(store, SAMPLE)
    compute_run_costs(store)
    return job_features(store)


def test_planted_problems_are_found_on_the_right_job(fleet_features):
    covered = {r.spec["problem"]: r for r in RULES}
    checked = 0
    for planted in MANIFEST["problems"]:
        rule = covered.get(planted["problem"])
        if rule is None:
            continue  # a problem whose rule is not written yet
        outcome = rule.evaluate(fleet_features[sample_job(planted["job"])])
        assert outcome.fired, f"{planted['problem']} not found on {planted['job']}"
        checked += 1
    assert checked >= 12


def test_healthy_jobs_get_nothing_above_low(fleet_features):
    for job in MANIFEST["healthy_jobs"]:
        for rule in RULES:
            outcome = rule.evaluate(fleet_features[sample_job(job)])
            if outcome.fired:
                assert SEVERITIES.index(outcome.severity) <= SEVERITIES.index("low"), (job, rule.id)


def test_a_parameter_is_never_shadowed_by_a_feature_of_the_same_name():
    """`$name` means the parameter: a feature called the same must not replace it."""
    from advisor.analysis.rules import Rule

    spec = {
        **RULES[0].spec,
        "params": {"limit": 10},
        "when": {"feature": "limit", "op": "gte", "value": "$limit"},
    }
    assert not Rule(spec).holds(spec["when"], {"limit": 5})
    assert Rule(spec).holds(spec["when"], {"limit": 12})


def test_a_feature_without_a_value_reads_unknown_instead_of_failing_the_rule():
    """One branch of an `any` can fire while another branch's feature has no value."""
    rule = next(r for r in RULES if r.id == "oom_risk")
    outcome = rule.evaluate(
        {
            "job_name": "j",
            "heap_peak": 0.95,
            "heap_executor_max": 0.95,
            "heap_driver_max": None,
            "number_of_workers": 4,
            "worker_type": "G.1X",
            "next_worker_type": "G.2X",
            "workers_at_next_type": 2,
            "top_failure_cause": None,
            "memory_scope": "executor",
            "memory_failures_executor": 0,
            "memory_failures_driver": 0,
            "memory_per_task_gb": 2.5,
            "memory_optimized_type": None,
            "suggested_shuffle_partitions": 400,
            "current_shuffle_partitions": 200,
            "fewer_executor_cores": 2,
        }
    )
    assert outcome.fired and "driver unknown" in outcome.message


@pytest.mark.parametrize("rule", [r for r in RULES if r.spec.get("change")], ids=lambda r: r.id)
def test_a_rule_with_a_change_renders_it_in_some_example(rule):
    """The Glue fields a finding changes become update-job and Terraform snippets: every field
    a rule may change must come out filled in from some example."""
    rendered = {}
    for example in rule.spec["examples"]:
        outcome = rule.evaluate(example["features"], example.get("params"))
        if outcome.fired:
            rendered.update(outcome.change)
    assert set(rendered) == set(rule.spec["change"]), rule.id


def _features_of(node, found):
    if isinstance(node, dict):
        if "feature" in node:
            found.add(node["feature"])
        for value in node.values():
            _features_of(value, found)
    elif isinstance(node, list):
        for value in node:
            _features_of(value, found)
    return found


def test_every_feature_a_rule_reads_is_documented():
    import string

    docs = (Path(__file__).resolve().parent.parent / "docs" / "features.md").read_text()
    documented = set(re.findall(r"`([a-z_0-9]+)\*?`", docs))
    prefixes = {name for name in re.findall(r"`([a-z_0-9]+)_\*`", docs)}
    missing = set()
    for rule in RULES:
        spec = rule.spec
        used = _features_of(spec["when"], set())
        texts = [spec["message"], *(a["text"] for a in spec["advice"])]
        texts += [str(v) for v in (spec.get("change") or {}).values()]
        for text in texts:
            used |= {f for _, f, _, _ in string.Formatter().parse(text) if f}
        for advice in spec["advice"]:
            _features_of(advice.get("when"), used)
        used -= set(spec.get("params") or {})
        missing |= {
            f"{rule.id}: {name}"
            for name in used
            if name not in documented and not any(name.startswith(p + "_") for p in prefixes)
        }
    assert not missing, sorted(missing)


def test_every_rule_renders_on_a_job_that_only_the_run_history_describes():
    """A job without CloudWatch or event logs, failing for memory, disk and timeouts: every
    rule that fires on it must render (found by the fleet benchmark: oom_risk fired on
    failures alone and its message named a heap peak that did not exist)."""
    from advisor.analysis.features import NOT_OBSERVED, definition_features, derive
    from advisor.analysis.sizing import sizing_summary, whatif_features

    job = {
        "name": "bare",
        "command_name": "glueetl",
        "glue_version": "4.0",
        "worker_type": "G.1X",
        "number_of_workers": 10,
        "region": "us-east-1",
        "timeout_min": 60,
        "default_arguments": "{}",
    }
    features = {**definition_features(job, "2026-11-30"), **NOT_OBSERVED}
    features.update(
        runs_month=30,
        failed_runs_month=9,
        failure_rate=0.3,
        timeout_runs_month=1,
        failed_usd_month=5.0,
        failed_dpu_hours_month=11.0,
        cost_usd_month=20.0,
        dpu_hours_month=45.0,
        top_failure_cause="out_of_memory",
        top_failure_cause_usd_month=4.0,
        memory_failures_executor=5,
        memory_failures_driver=1,
        retry_usd_month=2.0,
        retry_dpu_hours_month=4.5,
        retry_attempts_usd_month=3.0,
        retry_share=0.15,
        retry_runs_month=6,
        failed_retry_runs_month=4,
        runtime_p50_s=600,
        runtime_p99_s=900,
        minimum_excess_dpu_hours_month=0.0,
        timeout_usd_month=1.0,
    )
    derive(features)
    features.update(whatif_features(None))
    features.update(sizing_summary(features))
    fired = []
    for rule in RULES:
        outcome = rule.evaluate(features)  # raises RuleError on a text that cannot render
        if outcome.fired:
            fired.append(rule.id)
    assert {"oom_risk", "failed_run_waste", "retry_waste", "timeout_risk"} <= set(fired)
