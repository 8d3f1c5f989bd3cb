"""`advisor facts`: the Glue facts registry as a document, each fact beside its source page."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table

from advisor import facts
from advisor.report.text import numbers_kept_whole


def _resolve(node: Any) -> Any:
    """The registry with every `source` key replaced by its page (url, title, checked)."""
    if isinstance(node, dict):
        return {
            key: facts.source(value)
            if key == "source" and isinstance(value, str)
            else _resolve(value)
            for key, value in node.items()
        }
    if isinstance(node, list):
        return [_resolve(v) for v in node]
    return node


def facts_document() -> dict[str, Any]:
    registry = facts.registry()
    return {key: _resolve(value) for key, value in registry.items() if key != "sources"} | {
        "sources": registry["sources"]
    }


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value) or "-"
    return str(value)


def _table(title: str, *columns: str, numbers: tuple[str, ...] = ()) -> Table:
    """A facts table: `numbers` right-justified, every other column short values kept on
    one line (versions, dates, worker types) except the prose ones (PROSE)."""
    table = Table(title=title, title_justify="left")
    for name in columns:
        table.add_column(
            name, justify="right" if name in numbers else "left", no_wrap=name not in PROSE
        )
    return table


# columns of sentences and lists: they wrap (numbers and the rest are never cut)
PROSE = ("executor cores/heap GB", "job types", "facts")


def _print(console: Console, table: Table) -> None:
    console.print(numbers_kept_whole(table))


def print_facts(console: Console) -> None:
    registry = facts.registry()
    sources = registry["sources"]

    def cite(key: str) -> str:
        return f"[{list(sources).index(key) + 1}]" if key in sources else "?"

    versions = _table(
        "Glue versions",
        "version",
        "Spark",
        "Python",
        "Scala",
        "end of support",
        "end of life",
        "min billed s",
        "default timeout min",
        "source",
        numbers=("min billed s", "default timeout min"),
    )
    for name, v in registry["versions"].items():
        versions.add_row(
            name,
            _cell(v.get("spark")),
            _cell(v.get("python")),
            _cell(v.get("scala")),
            _cell(v.get("end_of_support")),
            _cell(v.get("end_of_life")),
            _cell(v.get("minimum_billed_s")),
            _cell(v.get("default_timeout_min")),
            cite(v["source"]),
        )
    _print(console, versions)
    console.print(
        f"default for new jobs: {registry['default_version']['value']}; "
        f"auto resolves to {registry['auto_version']['resolves_to']}"
    )
    workers = _table(
        "Worker types",
        "type",
        "DPU",
        "vCPU",
        "memory GB",
        "disk GB",
        "executor cores/heap GB",
        "job types",
        "versions",
        "source",
        numbers=("DPU", "vCPU", "memory GB", "disk GB"),
    )
    for name, w in registry["worker_types"].items():
        shapes = "; ".join(f"{s['from']}+: {s['cores']}/{s['heap_gb']}" for s in w["executor"])
        allowed = ", ".join(w["versions"]) if w.get("versions") else f"{w.get('min_version')}+"
        workers.add_row(
            name,
            f"{w['dpu']} {w['unit']}",
            _cell(w["vcpu"]),
            _cell(w["memory_gb"]),
            _cell(w["disk_gb"]),
            shapes or "-",
            _cell(w["job_types"]),
            allowed,
            cite(w["source"]),
        )
    _print(console, workers)
    features = _table("Execution classes and features", "feature", "facts", "source")
    for name, entry in registry["features"].items():
        detail = "; ".join(f"{k}: {_cell(v)}" for k, v in entry.items() if k != "source")
        features.add_row(name, detail, cite(entry["source"]))
    limits = registry["limits"]
    features.add_row(
        "limits",
        "; ".join(f"{k}: {_cell(v)}" for k, v in limits.items() if k != "source"),
        cite(limits["source"]),
    )
    _print(console, features)
    kinds = sorted({k for region in registry["rates"].values() for k in region})
    headers = [kind.replace("_", " ") for kind in kinds]  # a header may wrap at its spaces
    title = "Rates (USD per DPU-hour; * = not confirmed)"
    rates = _table(title, "region", *headers, numbers=tuple(headers))
    for region, entries in registry["rates"].items():
        row = [region]
        for kind in kinds:
            e = entries.get(kind)
            row.append(
                "-"
                if not e or e.get("usd") is None
                else f"{e['usd']:g}{'' if e.get('confirmed') else '*'}"
            )
        rates.add_row(*row)
    _print(console, rates)
    console.print("Sources:")
    for index, page in enumerate(sources.values(), 1):
        console.print(
            f"  [{index}] {page['title']}: {page['url']} (checked {page['checked']})",
            soft_wrap=True,
            markup=False,
            highlight=False,
        )
