"""SQL execution facts: files and bytes read and written, from plan metrics and their values.

The plan only declares metrics (name + accumulator id); values arrive in driver accumulator
updates (file counts and sizes are driver-side) and in stage accumulables. AQE plan updates
declare new accumulator ids, so both plans are walked.
"""

from __future__ import annotations

from typing import Any

from advisor.collect.redact import redacted_excerpt
from advisor.sparklog.failures import first_line

# plan metric name -> summary key
FILE_METRICS = {
    "number of files read": "files_read",
    "size of files read": "files_read_bytes",
    "number of written files": "files_written",
    "written output": "files_written_bytes",
}


class SqlAcc:
    def __init__(self) -> None:
        self.executions: dict[int, dict[str, Any]] = {}
        self.accum_owner: dict[int, tuple[int, str]] = {}  # accumulator id -> (execution, key)
        self.driver_values: dict[int, float] = {}
        self.stage_values: dict[int, float] = {}

    def _walk(self, execution_id: int, plan: dict[str, Any] | None) -> None:
        stack = [plan] if plan else []
        while stack:
            node = stack.pop()
            for metric in node.get("metrics") or []:
                key = FILE_METRICS.get(metric.get("name"))
                if key is not None and "accumulatorId" in metric:
                    self.accum_owner[int(metric["accumulatorId"])] = (execution_id, key)
            stack.extend(node.get("children") or [])

    def _execution(self, execution_id: int) -> dict[str, Any]:
        return self.executions.setdefault(
            execution_id,
            {
                "execution_id": execution_id,
                "description": None,
                "start_ms": None,
                "end_ms": None,
                "error": None,
            },
        )

    def start(self, e: dict[str, Any]) -> None:
        execution_id = int(e["executionId"])
        execution = self._execution(execution_id)
        execution["description"] = redacted_excerpt(e.get("description"), 200)
        execution["start_ms"] = e.get("time")
        self._walk(execution_id, e.get("sparkPlanInfo"))

    def adaptive_update(self, e: dict[str, Any]) -> None:
        self._walk(int(e["executionId"]), e.get("sparkPlanInfo"))

    def end(self, e: dict[str, Any]) -> None:
        execution = self._execution(int(e["executionId"]))  # its start may be in another worker
        execution["end_ms"] = e.get("time")
        error = e.get("errorMessage")
        execution["error"] = first_line(error) if error else None

    # Values are kept even before their plan is seen (a parallel reducer may hold the plan in
    # another worker); rows() keeps only those a plan declared. Both maps are bounded by the
    # number of SQL metrics, not by tasks.
    def driver_updates(self, e: dict[str, Any]) -> None:
        for accum_id, value in e.get("accumUpdates") or []:
            accum_id = int(accum_id)
            self.driver_values[accum_id] = self.driver_values.get(accum_id, 0) + float(value)

    def stage_accumulables(self, accumulables: list[dict[str, Any]]) -> None:
        for accum in accumulables:
            accum_id = accum.get("ID")
            name = accum.get("Name") or ""
            if isinstance(accum_id, int) and not name.startswith("internal."):
                try:
                    value = float(accum.get("Value"))
                except (TypeError, ValueError):
                    continue
                # an accumulator's value is cumulative: the latest stage holds the total
                self.stage_values[accum_id] = max(self.stage_values.get(accum_id, 0), value)

    def merge(self, other: SqlAcc) -> None:
        for execution_id, execution in other.executions.items():
            mine = self.executions.setdefault(execution_id, execution)
            for key, value in execution.items():
                if mine.get(key) is None:
                    mine[key] = value
        self.accum_owner.update(other.accum_owner)
        for accum_id, value in other.driver_values.items():
            self.driver_values[accum_id] = self.driver_values.get(accum_id, 0) + value
        for accum_id, value in other.stage_values.items():
            self.stage_values[accum_id] = max(self.stage_values.get(accum_id, 0), value)

    def rows(self) -> list[dict[str, Any]]:
        totals: dict[int, dict[str, float]] = {}
        for accum_id, (execution_id, key) in self.accum_owner.items():
            value = self.driver_values.get(accum_id, self.stage_values.get(accum_id))
            if value is None:
                continue
            bucket = totals.setdefault(execution_id, {})
            bucket[key] = bucket.get(key, 0) + value
        rows = []
        for execution_id, execution in sorted(self.executions.items()):
            values = totals.get(execution_id, {})
            rows.append(
                {
                    **execution,
                    **{k: int(values[k]) if k in values else None for k in FILE_METRICS.values()},
                }
            )
        return rows
