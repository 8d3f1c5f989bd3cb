"""Fuzzing the importer: any JSON, any field types -> never an uncaught exception, nothing lost."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from advisor.collect.importer import import_directory
from advisor.store import Store

scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(10**12), 10**12)
    | st.floats(allow_nan=False)
    | st.text(max_size=30)
)
json_values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=20,
)
run_fields = {
    "Id": st.text(min_size=1, max_size=20) | json_values,
    "JobName": st.sampled_from(["a", "b"]) | json_values,
    "StartedOn": st.sampled_from(
        ["2026-11-01T10:00:00+00:00", "2026-11-01T10:00:00Z", "yesterday", ""]
    )
    | json_values,
    "ExecutionTime": st.integers(0, 10**6) | json_values,
    "NumberOfWorkers": st.integers(0, 500) | json_values,
    "DPUSeconds": st.floats(0, 1e7, allow_nan=False) | json_values,
    "Arguments": st.dictionaries(st.text(max_size=10), st.text(max_size=20)) | json_values,
    "JobRunState": st.sampled_from(["SUCCEEDED", "FAILED", "RUNNING"]) | json_values,
}
runs = st.fixed_dictionaries({}, optional=run_fields)
documents = (
    st.fixed_dictionaries({"JobRuns": st.lists(runs, max_size=6)})
    | st.lists(st.fixed_dictionaries({"JobRuns": st.lists(runs, max_size=3)}), max_size=3)
    | json_values
)


def stored_json(raw: bytes) -> bool:
    """True when the bytes are a valid runs document (so no file-level error is expected)."""
    try:
        doc = json.loads(raw)
    except ValueError:
        return False
    pages = doc if isinstance(doc, list) else [doc]
    return all(isinstance(p, dict) and isinstance(p.get("JobRuns"), list) for p in pages)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    document=documents,
    jobs=json_values | st.just({"Jobs": [{"Name": "a"}, {"Nope": 1}]}),
    garbage=st.binary(max_size=50),
)
def test_importer_never_raises_and_accounts_for_every_record(document, jobs, garbage):
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "fleet"
        (root / "job-runs").mkdir(parents=True)
        (root / "jobs.json").write_text(json.dumps(jobs))
        (root / "job-runs" / "a.json").write_text(json.dumps(document))
        (root / "job-runs" / "b.json").write_bytes(garbage)
        store = Store(Path(tmp) / "advisor.db")
        report = import_directory(store, root)
        stored = {r["glue_run_id"] for r in store.db["job_runs"].rows}
        items = {e["item"] for e in report.errors}
        if garbage.strip() not in (b"", b"[]", b"{}") and not stored_json(garbage):
            assert "job-runs/b.json" in items
        if "job-runs/a.json" not in items:
            pages = document if isinstance(document, list) else [document]
            records = [r for page in pages for r in page["JobRuns"]]
            for index, record in enumerate(records):  # stored, or named in an error
                assert f"job-runs/a.json#JobRuns[{index}]" in items or record["Id"] in stored
        store.close()
