"""A grid's rows as the grid shows them, rebuilt on the server for its CSV export: filtered by
the grid's filterModel and sorted by its columnState the way AG Grid does (its text and number
filters, its default comparator, a severity column by rank), so the file is the table on the
screen and no cell is taken from the browser."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable
from functools import cmp_to_key
from typing import Any

import pandas as pd

from advisor.report.labels import csv_safe
from dashboards.data import SEVERITY_RANK

Row = dict[str, Any]


def severity_rank(value: Any) -> int:
    """A severity's rank, or that of the severity a cell starts with ("high: Job ..."), as
    assets/dashAgGridFunctions.js rankComparator reads it; -1 (before every other) if none."""
    return SEVERITY_RANK.get(str(value if value is not None else "").split(":")[0], -1)


# ---- filters: AG Grid's agTextColumnFilter and agNumberColumnFilter -------------------------


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _text_passes(kind: str, value: Any, wanted: Any) -> bool:
    """One text condition, case-insensitive as AG Grid's default; a missing cell passes only
    the negative conditions."""
    if value is None:
        return kind in ("notEqual", "notContains", "blank")
    if kind in ("blank", "notBlank"):
        return _blank(value) == (kind == "blank")
    if wanted is None:
        return False
    cell, text = str(value).lower(), str(wanted).lower()
    tests: dict[str, Callable[[], bool]] = {
        "contains": lambda: text in cell,
        "notContains": lambda: text not in cell,
        "equals": lambda: cell == text,
        "notEqual": lambda: cell != text,
        "startsWith": lambda: cell.startswith(text),
        "endsWith": lambda: cell.endswith(text),
    }
    return tests.get(kind, lambda: False)()


def _number_passes(kind: str, value: Any, low: Any, high: Any) -> bool:
    """One number condition; a missing cell passes only "blank" (AG Grid's defaults)."""
    if value is None:
        return kind == "blank"
    if kind in ("blank", "notBlank"):
        return kind == "notBlank"
    if low is None:
        return kind == "notEqual"
    tests: dict[str, Callable[[], bool]] = {
        "equals": lambda: value == low,
        "notEqual": lambda: value != low,
        "greaterThan": lambda: value > low,
        "greaterThanOrEqual": lambda: value >= low,
        "lessThan": lambda: value < low,
        "lessThanOrEqual": lambda: value <= low,
        "inRange": lambda: high is not None and low < value < high,
    }
    return tests.get(kind, lambda: False)()


def _condition_passes(condition: dict[str, Any], value: Any) -> bool:
    kind = condition.get("type") or "contains"
    if condition.get("filterType") == "number":
        return _number_passes(kind, value, condition.get("filter"), condition.get("filterTo"))
    return _text_passes(kind, value, condition.get("filter"))


def passes(model: dict[str, Any], value: Any) -> bool:
    """Whether a cell passes its column's filter model: one condition, or several joined by
    AND or OR."""
    conditions = model.get("conditions") or [model]
    join = any if model.get("operator") == "OR" else all
    return join(_condition_passes({**model, **c}, value) for c in conditions)


def filter_rows(rows: list[Row], filter_model: dict[str, Any] | None) -> list[Row]:
    """The rows every column's filter lets through."""
    model = filter_model or {}
    return [r for r in rows if all(passes(m, r.get(field)) for field, m in model.items())]


# ---- sort: the grid's columnState, AG Grid's comparators ------------------------------------


def sort_rules(column_state: list[dict[str, Any]] | None) -> list[dict[str, str]]:
    """The grid's sort (its columnState: a column's sort and sortIndex), first sort first."""
    sorted_columns = [c for c in column_state or [] if c.get("sort") in ("asc", "desc")]
    sorted_columns.sort(key=lambda c: c.get("sortIndex") or 0)
    return [{"column_id": c["colId"], "direction": c["sort"]} for c in sorted_columns]


def _compare(a: Any, b: Any) -> int:
    """AG Grid's default comparator: a missing value first, then by value."""
    if a is None or b is None:
        return (a is not None) - (b is not None)
    return (a > b) - (a < b)


def sort_rows(
    rows: list[Row], rules: list[dict[str, str]], ranked: Iterable[str] = ()
) -> list[Row]:
    """The rows in the grid's order: by each rule in turn (a `ranked` column by severity rank),
    descending the comparator's reverse, ties in the rows' own order (AG Grid's sort is
    stable)."""
    by_rank = set(ranked)

    def compare(left: Row, right: Row) -> int:
        for rule in rules:
            column = rule["column_id"]
            a, b = left.get(column), right.get(column)
            result = severity_rank(a) - severity_rank(b) if column in by_rank else _compare(a, b)
            if result:
                return result if rule.get("direction") != "desc" else -result
        return 0

    return sorted(rows, key=cmp_to_key(compare))


def shown_rows(
    rows: list[Row],
    filter_model: dict[str, Any] | None,
    column_state: list[dict[str, Any]] | None,
    ranked: Iterable[str] = (),
) -> list[Row]:
    """The grid's rows as it shows them: filtered, then sorted."""
    return sort_rows(filter_rows(rows, filter_model), sort_rules(column_state), ranked)


def rows_csv(rows: list[Row], columns: Iterable[str] | None = None) -> str:
    """Rows as CSV, every field (`columns` first, in that order); a cell a spreadsheet would run
    as a formula is quoted as text (labels.csv_safe)."""
    frame = pd.DataFrame(rows)
    first = [c for c in columns or [] if c in frame.columns]
    frame = frame[first + [c for c in frame.columns if c not in first]]
    buffer = io.StringIO()
    frame.map(csv_safe).to_csv(buffer, index=False)
    return buffer.getvalue()
