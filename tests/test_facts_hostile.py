"""Facts lines written by another program, of the wrong shape: each is named and skipped (exit
4), the good lines load, and nothing aborts the import or the commands after it."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from advisor.cli import main
from advisor.sparklog.reader import find_logs
from advisor.sparklog.reduce import summarize_paths
from advisor.store import Store

SAMPLE = Path(__file__).resolve().parent.parent / "sample_metrics"


@pytest.fixture(scope="module")
def good() -> dict:
    [log] = find_logs(str(SAMPLE / "eventlogs" / "notebook-alice-3f2a"))
    [summary] = summarize_paths([log.location])
    return summary


def damaged(good: dict, **changes) -> dict:
    facts = copy.deepcopy(good)
    facts["app_id"] = f"app-{len(json.dumps(changes))}-{sorted(changes)[0]}"
    for key, value in changes.items():
        if value is KeyError:
            facts.pop(key, None)
        else:
            facts[key] = value
    return facts


def test_wrongly_typed_facts_are_skipped_one_by_one(good, tmp_path):
    broken_stage = copy.deepcopy(good["stage_list"])
    del broken_stage[0]["parent_ids"]  # left out by a writer: no parents, not an error
    lines = [
        good,
        damaged(good, stage_list="x"),
        damaged(good, complete=None),
        damaged(good, data_loss=10**30),
        damaged(good, executor_list=[1, 2]),
        damaged(good, sql_executions={"a": 1}),
        damaged(good, properties=["spark.x"]),
        damaged(good, duration_ms=10**30),
        damaged(good, stage_list=broken_stage, app_id="app-no-parents"),
    ]
    facts = tmp_path / "facts.jsonl"
    facts.write_text("\n".join(json.dumps(line) for line in lines) + "\n")
    db = tmp_path / "a.db"
    Store(db).close()  # an empty store to load into
    result = CliRunner().invoke(main, ["import-facts", "--db", str(db), str(facts)])
    assert result.exit_code == 4, result.output
    assert "Traceback" not in result.output
    for line in range(2, 9):
        assert f"facts.jsonl:{line}" in result.output, line
    stored = {row["app_id"] for row in Store(db).db["spark_apps"].rows}
    assert stored == {good["app_id"], "app-no-parents"}
