"""The Dash app: overview (with the newest billed month and the other Glue costs), jobs, one
job (its configuration changes marked on its charts), findings, savings (every configuration
change and what it did). It reads the store only (what `advisor analyze` wrote), opens it per
request from the server's config, and keeps nothing in module globals. Dash renders every
string as text, so names from AWS are never markup.

A job is (account, region, name): pages name it by its label (identity.label: its Glue name,
or account/region/name when another place has a job of that name), and its page is
/job/<account>/<region>/<name>, each part URL-encoded (a Glue name may hold '/'). /job/<name>
opens the job when one place has it, else lists the places. Overview, jobs and findings filter
by account and region when the store holds more than one.

Tables are AG Grid (dash-ag-grid, served from its Dash bundle): cells hold numbers and show
them through d3-format valueFormatters, text is rendered as text (no HTML renderer), and a
click on a job cell opens its page by the row's id. Every grid has a filter under each header
and an Export CSV button whose file the server builds from the store, filtered and sorted as
the grid shows it (EXPORTS, dashboards/gridrows.py). An unknown URL draws "Page not found" and
comes with HTTP 404."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple
from urllib.parse import quote, unquote

import dash_ag_grid as dag
import dash_bootstrap_components as dbc
import pandas as pd
from dash import Dash, Input, Output, State, dcc, html, no_update
from flask import Response, request

from advisor.identity import job_key, label, split_key
from advisor.jobref import AmbiguousJob, JobNotFound, resolve_job
from advisor.report.labels import job_type, money
from advisor.report.recommend import recommendation
from advisor.store import Store
from dashboards import bill as billing
from dashboards import changes as config_changes
from dashboards import data, figures
from dashboards.gridrows import rows_csv, shown_rows
from dashboards.resources import NONE_COLLECTED, resource_rows

SEVERITY_COLOURS = {
    "critical": "danger",
    "high": "warning",
    "medium": "info",
    "low": "primary",
    "info": "secondary",
}


def _money(value: float | None, unpriced_runs: int = 0) -> str:
    return money(value, unpriced_runs)


# table cells stay numbers (so they sort and filter as numbers) and are shown as the CLI
# prints them: dollars as labels.money ($1,234.56), rates as percentages, runtimes in minutes
Formatter = dict[str, str]  # an AG Grid valueFormatter: {"function": <expression>}


def _formatter(spec: str, missing: str = "—") -> Formatter:
    """A valueFormatter showing a number in d3-format `spec` (dash-ag-grid evaluates it
    safely, with d3 in scope), and `missing` for a missing one."""
    return {
        "function": f"params.value == null ? {json.dumps(missing)} "
        f": d3.format({json.dumps(spec)})(params.value)"
    }


def _usd_format(missing: str = "—") -> Formatter:
    return _formatter("$,.2f", missing)


MONEY = _usd_format()


def _dollars(signed: bool, missing: str = "—") -> Formatter:
    """Dollars that may be negative (a credit, a difference), as the CLI prints them: "-$25.00",
    and with `signed` "+$1.76" (assets/dashAgGridFunctions.js usd)."""
    return {"function": f"usd(params.value, {json.dumps(signed)}, {json.dumps(missing)})"}


SIGNED = _dollars(signed=True)
PERCENT = _formatter(".1%")
MINUTES = _formatter(",.1f")
COUNT = _formatter(",.0f")
HOURS = MINUTES  # DPU-hours: one decimal, grouped
# a severity column sorts by rank (assets/dashAgGridFunctions.js), least severe first when
# ascending as gridrows.sort_rows does; never alphabetically
SEVERITY_COMPARATOR = {"function": f"rankComparator({json.dumps(list(data.SEVERITY_RANK))})"}
LINK_STYLE = {"cursor": "pointer", "color": "#0d6efd"}  # a job cell: a click opens its page
GRID_THEME = {"function": "themeQuartz.withParams({fontSize: 13, headerFontSize: 13})"}


def graph(figure: Any = None, **kwargs: Any) -> dcc.Graph:
    """A chart with the dashboard's toolbar settings (see figures.GRAPH_CONFIG)."""
    if figure is not None:
        kwargs["figure"] = figure
    return dcc.Graph(config=figures.GRAPH_CONFIG, **kwargs)


def _change(value: float | None) -> str:
    return "no earlier data" if value is None else f"{value:+.1%} on the period before"


def _card(title: str, value: str, note: str, card_id: str) -> dbc.Col:
    return dbc.Col(
        dbc.Card(
            dbc.CardBody(
                [
                    html.Div(title, className="text-muted small"),
                    html.H4(value, id=card_id, className="mb-0"),
                    html.Div(note, className="text-muted small"),
                ]
            )
        ),
        md=6,
        lg=3,  # two a row below 992 px: a dollar figure never breaks mid-number
    )


def job_href(key: str) -> str:
    """The page of a job: /job/<account>/<region>/<name>, each part URL-encoded."""
    return "/job/" + "/".join(quote(part, safe="") for part in split_key(key))


def place_filters(store: Store, prefix: str) -> dbc.Row:
    """The account and region dropdowns of a page (`prefix`-account, `prefix`-region), each
    shown only when the store holds more than one account, or region."""
    choices = data.place_choices(store)
    return dbc.Row(
        [
            dbc.Col(
                dcc.Dropdown(
                    id=f"{prefix}-{what}",
                    options=values,
                    multi=True,
                    placeholder=what,
                ),
                md=3,
                id=f"{prefix}-{what}-box",
                style=None if len(values) > 1 else {"display": "none"},
            )
            for what, values in choices.items()
        ],
        className="g-2 mb-2",
    )


def several_places(store: Store) -> bool:
    return len(data.store_places(store)) > 1


PLACE_COLUMNS = [
    ("account", "account", "text", None),
    ("region", "region", "text", None),
    ("jobs", "jobs", "numeric", COUNT),
    ("cost_7d", "cost, last 7 days", "numeric", _usd_format("unpriced")),
    ("cost_30d", "cost, last 30 days", "numeric", _usd_format("unpriced")),
    ("unpriced_runs_30d", "unpriced runs, 30 days", "numeric", COUNT),
    ("dpu_hours_30d", "DPU-hours, 30 days", "numeric", HOURS),
    ("failed_usd_30d", "failed runs, 30 days", "numeric", MONEY),
    ("saving_month", "saving / month", "numeric", MONEY),
    ("open_findings", "open findings", "numeric", COUNT),
]


def place_table(store: Store, table_id: str, rows: list[dict[str, Any]] | None = None) -> html.Div:
    """Cost by account and region; shown when the store holds more than one place."""
    many = several_places(store)
    if rows is None:
        rows = data.place_breakdown(store) if many else []
    return html.Div(
        [
            html.H4("Cost by account and region"),
            grid(table_id, rows, [_column(*c) for c in PLACE_COLUMNS]),
        ],
        id=f"{table_id}-box",
        className="mb-3",
        style=None if many else {"display": "none"},
    )


def _overview_summary(k: dict[str, Any]) -> list[Any]:
    return [
        html.P(
            f"Up to {k.get('newest_day', 'no data')}; {k.get('days', 0)} days of runs.",
            className="text-muted",
        ),
        dbc.Row(
            [
                _card(
                    "Cost, last 7 days",
                    _money(k.get("week_usd"), k.get("week_unpriced_runs", 0)),
                    _change(k.get("week_change")),
                    "kpi-week",
                ),
                _card(
                    "Cost, last 30 days",
                    _money(k.get("month_usd"), k.get("month_unpriced_runs", 0)),
                    f"{k.get('month_dpu_hours', 0):,.1f} DPU-hours; "
                    f"{_change(k.get('month_change'))}",
                    "kpi-month",
                ),
                _card(
                    "Burned by failed runs (30 days)",
                    _money(k.get("month_failed_usd")),
                    "FAILED, TIMEOUT and ERROR runs",
                    "kpi-failed",
                ),
                _card(
                    "Potential savings",
                    _money(k.get("savings_usd_month")) + "/month",
                    f"{sum(k['findings_by_severity'].values())} open findings; per job the "
                    "best set of fixes that combine, summed (never the findings' sum)",
                    "kpi-savings",
                ),
            ],
            className="g-3 mb-3",
        ),
    ]


def _top_savings(open_findings: pd.DataFrame) -> list[dict[str, Any]]:
    if open_findings.empty:
        return []
    with_money = open_findings[open_findings["savings_usd_month"].fillna(0) > 0].head(10)
    return [
        {
            "id": r.id,  # the finding's: the row's id in the grid
            "saving": r.savings_usd_month,
            "job": r.job_name,  # its label
            "job_key": r.job_key,
            "account": r.account,
            "region": r.region,
            "severity": r.severity,
            "finding": r.title,
            "fix": r.fix,
        }
        for r in with_money.itertuples()
    ]


BILL_COLUMNS = [
    ("label", "category", "text", None),
    ("computed_usd", "computed", "numeric", _dollars(signed=False)),
    ("billed_usd", "billed", "numeric", _dollars(signed=False)),
    ("difference_usd", "billed − computed", "numeric", SIGNED),
    ("detail", "detail", "text", None),
]
RESOURCE_COLUMNS = [
    ("kind", "kind", "text", None),
    ("name", "name", "text", None),
    ("state", "state", "text", None),
    ("cost_30d", "last 30 days", "numeric", _usd_format("unpriced")),
    ("findings", "findings", "severity", None),  # "critical: ...; ...": by its worst's rank
    ("saving_month", "saving / month", "numeric", MONEY),
    ("fix", "fix", "text", None),
]


def bill_section(store: Store, places: frozenset[str] | None = None) -> list[Any]:
    """The newest billed month by category, billed beside computed (a chart and a grid); one
    muted line saying where a bill comes from when the store has none."""
    bill = billing.newest_month(store, places)
    if bill is None:
        return [html.P(billing.WHERE_FROM, id="overview-bill-none", className="text-muted")]
    rows = billing.categories(bill)
    if not rows:
        return [
            html.P(
                f"No billing line of these accounts and regions in {bill.month}.",
                id="overview-bill-none",
                className="text-muted",
            )
        ]
    return [
        html.P(billing.headline(bill, rows), className="text-muted"),
        dbc.Row(
            [
                dbc.Col(
                    graph(figures.bill_by_category(rows, bill.month), id="overview-bill-chart"),
                    lg=5,
                ),
                dbc.Col(
                    grid(
                        "overview-bill",
                        rows,
                        [_column(*c) for c in BILL_COLUMNS],
                        row_id="category",
                    ),
                    lg=7,
                ),
            ],
            className="g-3",
        ),
    ]


def resources_section(store: Store, places: frozenset[str] | None = None) -> list[Any]:
    """Crawlers, interactive sessions and development endpoints: their 30 days' cost and
    findings, as `advisor resources` shows them."""
    as_of, rows = resource_rows(store, places)
    if as_of is None:
        return [html.P(NONE_COLLECTED, id="overview-resources-none", className="text-muted")]
    return [
        html.P(
            f"What each cost in the 30 days to {as_of[:16].replace('T', ' ')} UTC and what to "
            "change (`advisor resources`); a saving is the largest of its findings' (their "
            "fixes overlap).",
            className="text-muted",
        ),
        grid(
            "overview-resources",
            rows,
            _with_place_columns(store, RESOURCE_COLUMNS, "name"),
            row_id="id",
        ),
    ]


def overview_parts(store: Store, places: frozenset[str] | None = None) -> dict[str, Any]:
    """What the overview's filters change: KPIs, severities, top savings, cost by place, the
    bill and the other Glue costs."""
    open_findings = data.findings(store, include_resolved=False, places=places)
    k = data.kpis(store, places, open_findings)
    return {
        "summary": _overview_summary(k),
        "severity": figures.findings_by_severity(k["findings_by_severity"]),
        "savings": _top_savings(open_findings),
        "places": data.place_breakdown(store, places, open_findings)
        if several_places(store)
        else [],
        "bill": bill_section(store, places),
        "resources": resources_section(store, places),
    }


def overview(store: Store) -> html.Div:
    parts = overview_parts(store)
    many = several_places(store)
    dimensions = {k_: v for k_, v in data.DIMENSIONS.items() if many or k_ != "place"}
    return html.Div(
        [
            html.H2("Fleet overview"),
            place_filters(store, "overview"),
            html.Div(parts["summary"], id="overview-summary"),
            place_table(store, "overview-places", parts["places"]),
            dbc.Row(
                [
                    dbc.Col(
                        [
                            dcc.RadioItems(
                                id="overview-by",
                                value="job_name",
                                inline=True,
                                options=[
                                    {"label": f" by {v} ", "value": k_}
                                    for k_, v in dimensions.items()
                                ],
                            ),
                            graph(id="overview-cost"),
                        ],
                        md=8,
                    ),
                    dbc.Col(graph(parts["severity"], id="overview-severity"), md=4),
                ]
            ),
            html.H4("Top savings opportunities"),
            grid(
                "overview-savings",
                parts["savings"],
                _with_place_columns(store, SAVING_COLUMNS, "job"),
                row_id="id",
            ),
            html.H4("The bill", className="mt-4"),
            html.Div(parts["bill"], id="overview-bill-box"),
            html.H4("Other Glue costs", className="mt-4"),
            html.Div(parts["resources"], id="overview-resources-box", className="mb-4"),
        ]
    )


SAVING_COLUMNS = [
    ("saving", "saving", "numeric", MONEY),
    ("job", "job", "link", None),
    ("severity", "severity", "severity", None),
    ("finding", "finding", "text", None),
    ("fix", "fix", "text", None),
]
JOB_COLUMNS = [
    ("job", "job", "link", None),
    ("type", "type", "text", None),
    ("workers", "workers", "text", None),
    ("cost_last_7d", "cost, last 7 days", "numeric", _usd_format("unpriced")),
    ("unpriced_runs_7d", "unpriced runs, 7 days", "numeric", COUNT),
    ("trend", "8 weeks", "text", None),
    ("runs_28d", "runs, 28 days", "numeric", COUNT),
    ("failure_rate", "failure rate", "numeric", PERCENT),
    ("p50_min", "p50 (min)", "numeric", MINUTES),
    ("p95_min", "p95 (min)", "numeric", MINUTES),
    ("worst_finding", "worst open finding", "severity", None),  # "high: ...": by rank
    ("saving_month", "saving / month", "numeric", MONEY),
    # billed minus computed on the days of the newest billed month they differ; "—": no bill
    ("billed_vs_computed", "billed vs computed", "numeric", SIGNED),
]
PLACE_OF_ROW = [("account", "account", "text", None), ("region", "region", "text", None)]
# sentences get more of a table's width than figures do (flex: a share of the width, and at
# least WIDE_MIN_PX a share)
WIDE = {
    "finding": 2,
    "title": 2,
    "worst_finding": 2,
    "fix": 3,
    "findings": 2,
    "detail": 3,
    "fields": 3,
    "predicted_by": 2,
}
WIDE_MIN_PX = 80
# names that must not break mid-word (a rule id, an account id, a region): as wide as the
# longest needs, as a job is
NAMES = {"problem", "account", "region", "name", "category", "kind"}
# a dollar figure or a count needs less than text does ("$294.65" and its padding), unless
# its header's longest word needs more ("unpriced", "computed"): a header never breaks a word
NUMBER_MIN_PX = 80
HEADER_PAD_PX = 34  # a header cell's padding and its resize handle
# a cell that must stay on one line, and the width (px) that holds it: a job name sets its own
# (name_width), the 8-week sparkline's eight bars (about 10 px each) need this much
ONE_LINE = {"cellStyle": {"whiteSpace": "nowrap"}, "wrapText": False, "autoHeight": False}
SPARKLINE = {"trend": {**ONE_LINE, "minWidth": 124}}


def _column(column_id: str, name: str, kind: str, fmt: Formatter | None) -> dict[str, Any]:
    """An AG Grid column from a row of a column list: `kind` numeric (a number, sorted and
    filtered as one, shown through `fmt`), text, link (a job: a click opens it) or severity
    (sorted by rank); its header is the human `name`."""
    column: dict[str, Any] = {
        "field": column_id,
        "headerName": name,
        "cellDataType": "number" if kind == "numeric" else "text",
    }
    if fmt is not None:
        column["valueFormatter"] = fmt
    if kind == "numeric":
        column["minWidth"] = number_width(name)
    if kind == "link":
        column["cellStyle"] = LINK_STYLE
    if kind == "severity":
        column["comparator"] = SEVERITY_COMPARATOR
    if column_id in WIDE:
        column |= {"flex": WIDE[column_id], "minWidth": WIDE[column_id] * WIDE_MIN_PX}
    return column | SPARKLINE.get(column_id, {})


# a name in the grids' 13 px sans-serif is about this wide: px a character by its kind
# (capitals and m, w wide; digits wider than most letters; i, l, punctuation narrow), plus the
# cell's padding (15 px a side); a name longer than the cap wraps
CHAR_PX = {"wide": 10.5, "digit": 8.5, "narrow": 4.0, "other": 7.3}
CELL_PAD_PX, NAME_MIN_PX, NAME_MAX_PX = 36, 100, 420


def text_px(text: str) -> float:
    """About how wide `text` is in a grid cell's font, generously (a guess too narrow would
    break a name mid-word)."""

    def width(char: str) -> float:
        if char.isupper() or char in "mwMW@%":
            return CHAR_PX["wide"]
        if char.isdigit():
            return CHAR_PX["digit"]
        return CHAR_PX["narrow"] if char in "ijlrtf.,:;!|'/- " else CHAR_PX["other"]

    return sum(width(char) for char in text)


def number_width(header: str) -> int:
    """A number column's width: NUMBER_MIN_PX, or what its header's longest word needs."""
    longest = max((text_px(word) for word in header.split()), default=0.0)
    return max(NUMBER_MIN_PX, math.ceil(longest + HEADER_PAD_PX))


def name_width(rows: list[dict[str, Any]], field: str) -> int:
    """The width of a column holding its longest name on one line (up to NAME_MAX_PX): a
    name breaks mid-word only when it is longer than that."""
    widest = max((text_px(str(r.get(field) or "")) for r in rows), default=0.0)
    return int(min(NAME_MAX_PX, max(NAME_MIN_PX, widest + CELL_PAD_PX)))


def _sized(columns: list[dict[str, Any]], rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The columns, each of names (a job, a rule id, ...) as wide as its longest needs."""

    def of_names(column: dict[str, Any]) -> bool:
        return column.get("cellStyle") == LINK_STYLE or column["field"] in NAMES

    return [c | {"minWidth": name_width(rows, c["field"])} if of_names(c) else c for c in columns]


def grid(
    grid_id: str,
    rows: list[dict[str, Any]] | None,
    columns: list[dict[str, Any]],
    *,
    page_size: int | None = None,
    row_id: str | None = None,
    sizing_rows: list[dict[str, Any]] | None = None,
) -> html.Div:
    """A table with its CSV export (an Export CSV button over it, `grid_id`-export, whose file
    the server builds: see EXPORTS) and a filter box under each header. Every cell is text (no
    HTML renderer: names from AWS may hold markup); every row of a page and every column are
    in the page (autoHeight, no column virtualisation, rows in display order), so what a reader
    or a test sees is what is there. `row_id`: the field naming a row, which a click reports.
    Columns share the width (flex), none narrower than its minWidth; a column of names (a job,
    a rule id) is as wide as the longest of `sizing_rows` (default: `rows`) needs."""
    options: dict[str, Any] = {
        "domLayout": "autoHeight",
        "suppressColumnVirtualisation": True,
        "ensureDomOrder": True,
        "animateRows": False,
        "enableCellTextSelection": True,
        "theme": GRID_THEME,
    }
    if page_size:
        options |= {
            "pagination": True,
            "paginationPageSize": page_size,
            "paginationPageSizeSelector": False,
        }
    extra: dict[str, Any] = {"getRowId": f"params.data.{row_id} + ''"} if row_id else {}
    table = dag.AgGrid(
        id=grid_id,
        rowData=rows or [],
        columnDefs=_sized(columns, sizing_rows if sizing_rows is not None else rows or []),
        defaultColDef={
            "sortable": True,
            "flex": 1,
            "minWidth": 100,
            "filter": True,
            "floatingFilter": True,
            "wrapText": True,
            "autoHeight": True,
            "wrapHeaderText": True,
            "autoHeaderHeight": True,
        },
        dashGridOptions=options,
        **extra,
    )
    return html.Div(
        [
            html.Div(
                dbc.Button(
                    "Export CSV",
                    id=f"{grid_id}-export",
                    color="secondary",
                    outline=True,
                    size="sm",
                    title="The table as CSV: its filters and sort, every row",
                ),
                className="d-flex justify-content-end mb-1",
            ),
            dcc.Download(id=f"{grid_id}-download"),
            table,
        ],
        className="grid-with-export",
    )


def _with_place_columns(store: Store, columns: list[tuple], after: str) -> list[dict[str, Any]]:
    """The columns of a table of jobs, with account and region after `after` when the store
    holds more than one place."""
    out = []
    for column in columns:
        out.append(_column(*column))
        if column[0] == after and several_places(store):
            out += [_column(*c) for c in PLACE_OF_ROW]
    return out


def jobs_rows(store: Store, places: frozenset[str] | None = None) -> list[dict[str, Any]]:
    """The jobs grid's rows (data.jobs_table), each with its billed minus computed dollars on
    the days of the newest billed month they differ (None: no bill covers the job, or it
    neither ran nor was billed that month)."""
    differences = billing.job_differences(billing.newest_month(store))
    return [
        {**row, "billed_vs_computed": differences.get(row["job_key"])}
        for row in data.jobs_table(store, places)
    ]


def jobs_page(store: Store) -> html.Div:
    return html.Div(
        [
            html.H2("Jobs"),
            place_filters(store, "jobs"),
            place_table(store, "jobs-places"),
            html.P(
                "Sort by any column, filter with the boxes under the headers; click a job to "
                "open it. Billed vs computed: what AWS billed minus what the advisor computed on "
                "the days of the newest billed month they differ by more than a cent (— when no "
                "bill covers the job).",
                className="text-muted",
            ),
            grid(
                "jobs-table",
                jobs_rows(store),
                _with_place_columns(store, JOB_COLUMNS, "job"),
                page_size=25,
                row_id="job_key",
            ),
        ]
    )


def _not_found(title: str, why: str) -> html.Div:
    return html.Div(
        [
            html.H2(title, id="not-found"),
            html.P(why),
            dcc.Link("Back to the overview", href="/", id="not-found-home"),
        ]
    )


def _metrics_missing(seen: dict[str, bool], panel: str) -> str:
    """Why a Spark job's CloudWatch panel is empty: only what is really missing."""
    if panel == "utilization" and not seen["observability_on"]:
        return "worker utilisation needs --enable-observability-metrics"
    if not seen["metrics_on"]:
        return "not collected for this job (enable --enable-metrics)"
    if not seen["metrics_stored"]:
        return "metrics are on, but none are stored for its runs yet (advisor collect)"
    return "none stored for its runs"


def _spark_panels(store: Store, job: str, seen: dict[str, bool]) -> list[Any]:
    metrics = data.job_metrics(store, job)
    _app, stages = data.latest_stages(store, job)
    panels = data.CLOUDWATCH_PANELS
    charts = (
        ("heap", "JVM heap used (peak per run)", True),
        ("utilization", "Worker utilisation", True),
        ("executors", "Executors needed vs allocated", False),
    )
    return [
        dbc.Row(
            [
                dbc.Col(
                    graph(
                        figures.cloudwatch_panel(
                            metrics,
                            panels[key],
                            title,
                            percent=percent,
                            missing=_metrics_missing(seen, key),
                        ),
                        id=f"job-cloudwatch-{key}",
                    ),
                    md=4,
                )
                for key, title, percent in charts
            ]
        ),
        graph(
            figures.stage_panel(
                stages,
                "no event log reduced for this job"
                if seen["spark_ui_on"]
                else "no event logs: enable --enable-spark-ui and --spark-event-logs-path",
            ),
            id="job-stages",
        ),
    ]


def job_route(store: Store, rest: str) -> html.Div:
    """The page /job/<rest> names: /job/<account>/<region>/<name> (each part URL-encoded) is
    that job; /job/<name> is the one job of that name, or a list of the places that have one."""
    parts = rest.split("/", 2)
    if len(parts) == 3 and all(parts):
        key = job_key(*(unquote(part) for part in parts))
        if store.job(key) is not None:
            return job_page(store, key)
    name = unquote(rest)
    try:
        key = resolve_job(store, name)
    except AmbiguousJob as ambiguous:
        return ambiguous_page(store, name, ambiguous.keys)
    except JobNotFound:
        return _not_found("Unknown job", f"No job named {name} in the store.")
    return job_page(store, key)


def ambiguous_page(store: Store, name: str, keys: list[str]) -> html.Div:
    """A Glue name that jobs in several accounts or regions share: each place, linked."""
    items = []
    for key in keys:
        account, region, _name = split_key(key)
        items.append(
            html.Li(
                [
                    dcc.Link(f"{account} / {region}", href=job_href(key), className="job-place"),
                    html.Span(f" ({key})", className="text-muted"),
                ]
            )
        )
    return html.Div(
        [
            html.H2(name, id="job-ambiguous"),
            html.P(
                f"{len(keys)} jobs have this name, in more than one account or region: "
                "open the one you mean."
            ),
            html.Ul(items, id="job-places"),
        ]
    )


def _also_in(keys: list[str]) -> list[Any]:
    """Links to the jobs of the same Glue name in other places."""
    out: list[Any] = [" Also in: "] if keys else []
    for index, key in enumerate(keys):
        account, region, _name = split_key(key)
        out += [", "] if index else []
        out.append(dcc.Link(f"{account} / {region}", href=job_href(key), className="job-elsewhere"))
    return out


def _bill_line(store: Store, job: str) -> list[Any]:
    """What the newest billed month says of the job: on which days billed and computed differ
    and by how much (a flagged job), or that they agree; nothing when no bill covers it."""
    said = billing.job_line(billing.newest_month(store), job)
    if said is None:
        return []
    text, flagged = said
    return [html.P(text, id="job-bill", className="text-danger" if flagged else "text-muted")]


def _changes_list(changes: list[dict[str, Any]]) -> list[Any]:
    """The job's configuration changes, oldest first, under its charts."""
    if not changes:
        return []
    return [
        html.H5(f"Configuration changes ({len(changes)})"),
        html.Ul(
            [html.Li(config_changes.job_line(c), className="job-change") for c in changes],
            id="job-changes",
        ),
        html.P(
            [
                "A positive figure saves money. Every change in the store: ",
                dcc.Link("Savings", href="/savings"),
                ".",
            ],
            className="text-muted small",
        ),
    ]


def job_page(store: Store, job: str) -> html.Div:
    """The page of one job, by its key."""
    definition = store.job(job)
    if definition is None:
        return _not_found("Unknown job", f"No job {job} in the store.")
    account, region, glue_name = split_key(job)
    elsewhere = [j["name"] for j in store.jobs_named(glue_name) if j["name"] != job]
    rec = recommendation(store, job)
    seen = data.telemetry(store, definition)
    whatif = store.stored_whatif(job)
    if whatif:  # named as every output names the job (its title)
        whatif = {**whatif, "job_name": label(job)}
    head = rec["job"]
    summary = rec["summary"]
    changes = config_changes.store_changes(store, [job])  # once for the page
    workers = (
        f"{head['number_of_workers']} x {head['worker_type']}"
        if head["number_of_workers"]
        else f"MaxCapacity {head['max_capacity']}"
    )
    blocks: list[Any] = [
        html.H2(label(job), id="job-title"),
        html.P(
            [
                f"Account {account}, region {region}.",
                *_also_in(elsewhere),
            ],
            id="job-place",
            className="text-muted",
        ),
        html.P(
            f"{job_type(definition.get('command_name'))} on Glue {head['glue_version']}, "
            f"{workers}, {head['execution_class']}, "
            f"Auto Scaling {'on' if head['autoscaling'] else 'off'}. "
            f"Last {rec['window']['days']} days: {summary['runs']} runs, "
            f"{summary['dpu_hours']:,.1f} DPU-hours, {_money(summary['usd'])}, failure rate "
            f"{(summary['failure_rate'] or 0):.0%}.",
            className="lead",
        ),
        *_bill_line(store, job),
        graph(
            figures.runs_over_time(
                data.job_runs(store, job),
                data.job_versions(store, job),
                [
                    {
                        "at": c["changed_at"],
                        "label": config_changes.effect(c),
                        "status": c["status"],
                    }
                    for c in changes
                ],
            ),
            id="job-runs",
        ),
        *_changes_list(changes),
    ]
    if seen["spark"]:
        blocks += _spark_panels(store, job, seen)
    else:
        blocks.append(
            html.P(
                f"A {job_type(definition.get('command_name'))} job runs no Spark: no JVM, "
                "executor or stage panels apply to it.",
                id="job-not-spark",
                className="text-muted",
            )
        )
    findings = sorted(
        rec["findings"], key=lambda f: -data.SEVERITY_RANK.get(f["severity"], -1)
    )  # stable: by score within a severity
    blocks.append(html.H3(f"Findings ({len(findings)})"))
    for finding in findings:
        snippet = finding["remediation"].get("fix_command")
        blocks.append(
            dbc.Card(
                dbc.CardBody(
                    [
                        html.H5(
                            [
                                dbc.Badge(
                                    finding["severity"],
                                    color=SEVERITY_COLOURS[finding["severity"]],
                                    className="me-2",
                                ),
                                finding["title"],
                            ]
                        ),
                        html.P(finding["message"]),
                        html.Ul([html.Li(text) for text in finding["advice"]]),
                        html.P(
                            f"Saving: {_money(finding['savings']['usd_month'])}/month"
                            if finding["savings"]["usd_month"]
                            else "No saving claimed."
                        ),
                        html.Details(
                            [
                                html.Summary("Fix command and Terraform"),
                                html.Pre(snippet),
                                html.Pre(finding["remediation"].get("terraform") or ""),
                            ]
                        )
                        if snippet
                        else None,
                    ]
                ),
                className="mb-2 finding-card",
            )
        )
    if whatif:
        blocks += [html.H3("What-if"), _whatif_block(whatif)]
    return html.Div(blocks)


def _whatif_block(whatif: dict[str, Any]) -> html.Div:
    if not whatif["trusted"]:
        return html.Div(
            html.P(
                "The replay of the newest event log is not trusted: " + "; ".join(whatif["doubts"]),
                className="text-muted",
            )
        )
    return html.Div(graph(figures.whatif_frontier(whatif), id="job-whatif"))


PLACE_FILTERS = ("account", "region")
FINDING_FILTERS = (*PLACE_FILTERS, "problem", "severity", "job_name", "status")
FINDING_COLUMNS = [
    ("severity", "severity", "severity", None),
    ("job_name", "job", "link", None),
    ("problem", "problem", "text", None),
    ("title", "finding", "text", None),
    ("savings_usd_month", "saving / month", "numeric", MONEY),
    ("status", "status", "text", None),
    ("fix", "fix", "text", None),
]


def findings_page(store: Store) -> html.Div:
    frame = data.findings(store)
    options = {
        column: sorted(frame[column].dropna().unique()) if not frame.empty else []
        for column in FINDING_FILTERS
    }
    options.update(data.place_choices(store))  # every account and region the store holds
    options["severity"] = data.severities_present(frame)  # critical first, not alphabetical
    return html.Div(
        [
            html.H2("Findings"),
            dbc.Row(
                [
                    dbc.Col(
                        dcc.Dropdown(
                            id=f"filter-{column}",
                            options=values,
                            multi=True,
                            placeholder="job" if column == "job_name" else column,
                        ),
                        md=3,
                        id=f"filter-{column}-box",
                        # account and region only when there is a choice
                        style={"display": "none"}
                        if column in PLACE_FILTERS and len(values) < 2
                        else None,
                    )
                    for column, values in options.items()
                ],
                className="g-2 mb-2",
            ),
            html.Div(id="findings-count", className="text-muted mb-2"),
            # rows come most severe first; a clicked header sorts in the browser, severity by
            # rank (never alphabetically); the export follows the grid's filters and sort
            grid(
                "findings-table",
                [],
                _with_place_columns(store, FINDING_COLUMNS, "job_name"),
                page_size=25,
                row_id="id",
                sizing_rows=_records(frame),  # the grid's rows come by callback
            ),
        ]
    )


CHANGE_COLUMNS = [
    ("job", "job", "link", None),
    ("changed_at", "changed at (UTC)", "text", None),
    ("fields", "change (old -> new)", "text", None),
    ("status", "status", "text", None),
    ("realised_usd_month", "realised / month", "numeric", SIGNED),
    ("interval", "90% interval", "text", None),
    ("predicted_usd_month", "predicted / month", "numeric", SIGNED),
    ("predicted_by", "predicted by", "text", None),
    ("basis", "compared", "text", None),
]
NO_CHANGES = (
    "No configuration change in the store: changes are read from the job definitions and from "
    "the configuration each run ran with (`advisor collect`, or an import)."
)


def _signed(value: float) -> str:
    return ("-" if value < 0 else "+") + money(abs(value)) if abs(value) >= 0.005 else money(0.0)


def savings_headline(rows: list[dict[str, Any]]) -> list[Any]:
    """What the changes did a month: the realised savings (changes judged `saving`) and what
    changes cost (judged `costing`), as cards."""
    head = config_changes.ledger_headline(rows)
    return [
        dbc.Row(
            [
                _card(
                    "Realised savings",
                    _signed(head["saving_usd_month"]) + "/month",
                    f"{head['saving_changes']} change(s) saving",
                    "kpi-saved",
                ),
                _card(
                    "What changes cost",
                    _signed(head["costing_usd_month"]) + "/month",
                    f"{head['costing_changes']} change(s) costing",
                    "kpi-changes-cost",
                ),
                _card(
                    "Changes",
                    f"{head['changes']:,}",
                    f"{head['unjudged']} not judged yet (too early, or no baseline)",
                    "kpi-changes",
                ),
            ],
            className="g-3 mb-3",
        )
    ]


def savings_rows(store: Store, places: frozenset[str] | None = None) -> list[dict[str, Any]]:
    """The ledger's rows: every change of the jobs in `places` (changes_in_store, once)."""
    jobs = (
        None
        if places is None
        else [j["name"] for j in store.jobs() if data.in_places(j["name"], places)]
    )
    return config_changes.ledger_rows(config_changes.store_changes(store, jobs), places)


def savings_page(store: Store) -> html.Div:
    """The savings ledger: every configuration change in the store, what it did a month
    against what was predicted."""
    rows = savings_rows(store)
    return html.Div(
        [
            html.H2("Savings"),
            place_filters(store, "savings"),
            html.P(
                "Every configuration change in the store and what it did: the realised dollars "
                "a month at the job's current run rate with a 90% interval (a positive figure "
                "saves money), compared per GB read when the volume is known, else per run; "
                "beside what the finding that asked for it predicted (`advisor changes "
                "--since all`).",
                className="text-muted",
            ),
            html.Div(savings_headline(rows), id="savings-headline"),
            html.P(NO_CHANGES, className="text-muted") if not rows else None,
            grid(
                "savings-table",
                rows,
                _with_place_columns(store, CHANGE_COLUMNS, "job"),
                page_size=25,
                row_id="id",
            ),
        ]
    )


def filter_findings(frame: pd.DataFrame, selected: dict[str, list[str] | None]) -> pd.DataFrame:
    for column, values in selected.items():
        if values and not frame.empty:
            frame = frame[frame[column].isin(values)]
    return frame


def clicked_job(
    cell: dict[str, Any] | None, rows: list[dict[str, Any]] | None, column: str, row_id: str
) -> str | None:
    """The page of the job whose `column` cell was clicked: the row is found by its id (its
    `row_id` field, as the grid's getRowId names it), so sorting, filtering and paging never
    open another row's job."""
    if not cell or not rows or cell.get("colId") != column or cell.get("rowId") is None:
        return None
    clicked = str(cell["rowId"])
    row = next((r for r in rows if str(r.get(row_id)) == clicked), None)
    return job_href(row["job_key"]) if row and row.get("job_key") else None


def findings_csv(frame: pd.DataFrame) -> str:
    """The findings as CSV: the job's label (job_name), key, account and region with every
    other field; a cell a spreadsheet would run as a formula is quoted as text."""
    return rows_csv(_records(frame))


def findings_rows(store: Store, selected: dict[str, list[str] | None]) -> list[dict[str, Any]]:
    """The findings grid's rows: those the page's dropdowns choose, most severe first."""
    return _records(data.by_severity(filter_findings(data.findings(store), selected)))


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows for a grid; a missing number is None (shown by its column's formatter)."""
    if frame.empty:
        return []
    return frame.astype(object).where(frame.notna(), None).to_dict("records")


class Export(NamedTuple):
    """A grid's CSV export: its file name, the ids of the page's dropdowns its rows depend on
    (their values), and its rows from the store and those values, as the page builds them."""

    filename: str
    dropdowns: tuple[str, ...]
    rows: Callable[..., list[dict[str, Any]]]


def _savings_rows(store: Store, accounts: list[str] | None, regions: list[str] | None) -> list:
    places = data.selected_places(store, accounts, regions)
    return _top_savings(data.findings(store, include_resolved=False, places=places))


def _place_rows(store: Store, accounts: list[str] | None, regions: list[str] | None) -> list:
    if not several_places(store):
        return []
    return data.place_breakdown(store, data.selected_places(store, accounts, regions))


def _job_rows(store: Store, accounts: list[str] | None, regions: list[str] | None) -> list:
    return jobs_rows(store, data.selected_places(store, accounts, regions))


def _bill_rows(store: Store, accounts: list[str] | None, regions: list[str] | None) -> list:
    bill = billing.newest_month(store, data.selected_places(store, accounts, regions))
    return billing.categories(bill) if bill else []


def _resource_rows(store: Store, accounts: list[str] | None, regions: list[str] | None) -> list:
    return resource_rows(store, data.selected_places(store, accounts, regions))[1]


def _change_rows(store: Store, accounts: list[str] | None, regions: list[str] | None) -> list:
    return savings_rows(store, data.selected_places(store, accounts, regions))


def _finding_rows(store: Store, *values: list[str] | None) -> list:
    return findings_rows(store, dict(zip(FINDING_FILTERS, values, strict=True)))


OVERVIEW_PLACES = ("overview-account", "overview-region")
JOBS_PLACES = ("jobs-account", "jobs-region")
SAVINGS_PLACES = ("savings-account", "savings-region")
# every grid of every page: grid() gives each an Export CSV button, and create_app answers it
EXPORTS = {
    "overview-places": Export("glue-advisor-cost-by-place.csv", OVERVIEW_PLACES, _place_rows),
    "overview-savings": Export("glue-advisor-top-savings.csv", OVERVIEW_PLACES, _savings_rows),
    "overview-bill": Export("glue-advisor-bill.csv", OVERVIEW_PLACES, _bill_rows),
    "overview-resources": Export("glue-advisor-other-costs.csv", OVERVIEW_PLACES, _resource_rows),
    "jobs-places": Export("glue-advisor-cost-by-place.csv", JOBS_PLACES, _place_rows),
    "jobs-table": Export("glue-advisor-jobs.csv", JOBS_PLACES, _job_rows),
    "findings-table": Export(
        "glue-advisor-findings.csv", tuple(f"filter-{c}" for c in FINDING_FILTERS), _finding_rows
    ),
    "savings-table": Export("glue-advisor-changes.csv", SAVINGS_PLACES, _change_rows),
}
# columns sorted by severity rank (their cells a severity, or "severity: title")
RANKED = frozenset(
    c[0]
    for c in (*SAVING_COLUMNS, *JOB_COLUMNS, *FINDING_COLUMNS, *RESOURCE_COLUMNS)
    if c[2] == "severity"
)


def export_csv(
    rows: list[dict[str, Any]],
    filter_model: dict[str, Any] | None,
    column_state: list[dict[str, Any]] | None,
) -> str:
    """A grid's CSV: its rows through its filters (filterModel) in its order (columnState),
    its columns first as it shows them, then the row's other fields (a job's key, ...)."""
    shown = shown_rows(rows, filter_model, column_state, RANKED)
    return rows_csv(shown, [c["colId"] for c in column_state or [] if not c.get("hide")])


def _export_callback(app: Dash, store: Callable[[], Store], grid_id: str, export: Export) -> None:
    """Answer `grid_id`'s Export CSV button: the file is built here, from the store."""

    @app.callback(
        Output(f"{grid_id}-download", "data"),
        Input(f"{grid_id}-export", "n_clicks"),
        State(grid_id, "filterModel"),
        State(grid_id, "columnState"),
        *[State(dropdown, "value") for dropdown in export.dropdowns],
        prevent_initial_call=True,
    )
    def download(_clicks: int, model: dict | None, state: list | None, *values: Any) -> Any:
        with_store = store()
        try:
            rows = export.rows(with_store, *values)
        finally:
            with_store.close()
        return {"content": export_csv(rows, model, state), "filename": export.filename}


# the pages Dash draws; any other GET of a page is answered with the not-found page, as 404
PAGE_PATHS = ("/", "/jobs", "/findings", "/savings")


def serve_not_found_as_404(app: Dash) -> None:
    """An unknown URL's page (the app's HTML, which draws "Page not found") comes with HTTP
    404, so a link checker or crawler sees it is not a page."""

    prefix = app.config.routes_pathname_prefix.rstrip("/")

    @app.server.after_request
    def not_found_status(response: Response) -> Response:
        path = request.path.removeprefix(prefix) or "/"
        page = path in PAGE_PATHS or path.startswith("/job/")
        internal = path.startswith(("/_", "/assets/"))
        if (
            request.method == "GET"
            and response.status_code == 200
            and response.mimetype == "text/html"
            and not (page or internal)
        ):
            response.status_code = 404
        return response


def create_app(db_path: str | Path) -> Dash:
    # Bootstrap's CSS is served from assets/ (vendored, MIT): the app makes no outside request
    app = Dash(
        __name__,
        suppress_callback_exceptions=True,
        title="glue-advisor",
        serve_locally=True,
        assets_folder=str(Path(__file__).parent / "assets"),
    )
    app.server.config["ADVISOR_DB"] = str(db_path)

    def store() -> Store:
        return Store(app.server.config["ADVISOR_DB"])

    nav = dbc.NavbarSimple(
        brand="glue-advisor",
        brand_href="/",
        color="dark",
        dark=True,
        className="mb-3",
        children=[
            dbc.NavItem(dbc.NavLink("Overview", href="/")),
            dbc.NavItem(dbc.NavLink("Jobs", href="/jobs")),
            dbc.NavItem(dbc.NavLink("Findings", href="/findings")),
            dbc.NavItem(dbc.NavLink("Savings", href="/savings")),
        ],
    )
    app.layout = html.Div([dcc.Location(id="url"), nav, dbc.Container(id="page", fluid=True)])

    @app.callback(Output("page", "children"), Input("url", "pathname"))
    def route(pathname: str | None) -> Any:
        path = pathname or "/"
        with_store = store()
        try:
            if path.startswith("/job/"):
                return job_route(with_store, path.removeprefix("/job/"))
            if path == "/jobs":
                return jobs_page(with_store)
            if path == "/findings":
                return findings_page(with_store)
            if path == "/savings":
                return savings_page(with_store)
            if path in ("/", ""):
                return overview(with_store)
            return _not_found(
                "Page not found", f"There is no page at {path}: it may have moved or never existed."
            )
        finally:
            with_store.close()

    def places_of(
        with_store: Store, accounts: list[str] | None, regions: list[str] | None
    ) -> frozenset[str] | None:
        return data.selected_places(with_store, accounts, regions)

    @app.callback(
        Output("overview-cost", "figure"),
        Input("overview-by", "value"),
        Input("overview-account", "value"),
        Input("overview-region", "value"),
    )
    def overview_cost(by: str, accounts: list[str] | None, regions: list[str] | None) -> Any:
        with_store = store()
        try:
            places = places_of(with_store, accounts, regions)
            series = data.cost_over_time(with_store, by, places=places)
            return figures.stacked_cost(series, data.DIMENSIONS[by])
        finally:
            with_store.close()

    @app.callback(
        Output("overview-summary", "children"),
        Output("overview-severity", "figure"),
        Output("overview-savings", "rowData"),
        Output("overview-places", "rowData"),
        Output("overview-bill-box", "children"),
        Output("overview-resources-box", "children"),
        Input("overview-account", "value"),
        Input("overview-region", "value"),
        prevent_initial_call=True,  # the page is drawn unfiltered
    )
    def overview_filtered(accounts: list[str] | None, regions: list[str] | None) -> Any:
        with_store = store()
        try:
            parts = overview_parts(with_store, places_of(with_store, accounts, regions))
            return tuple(
                parts[k] for k in ("summary", "severity", "savings", "places", "bill", "resources")
            )
        finally:
            with_store.close()

    @app.callback(
        Output("savings-headline", "children"),
        Output("savings-table", "rowData"),
        Input("savings-account", "value"),
        Input("savings-region", "value"),
        prevent_initial_call=True,  # the page is drawn unfiltered
    )
    def savings_filtered(accounts: list[str] | None, regions: list[str] | None) -> Any:
        with_store = store()
        try:
            rows = savings_rows(with_store, places_of(with_store, accounts, regions))
            return savings_headline(rows), rows
        finally:
            with_store.close()

    @app.callback(
        Output("jobs-table", "rowData"),
        Output("jobs-places", "rowData"),
        Input("jobs-account", "value"),
        Input("jobs-region", "value"),
        prevent_initial_call=True,  # the page is drawn unfiltered
    )
    def jobs_filtered(accounts: list[str] | None, regions: list[str] | None) -> Any:
        with_store = store()
        try:
            places = places_of(with_store, accounts, regions)
            rows = data.place_breakdown(with_store, places) if several_places(with_store) else []
            return jobs_rows(with_store, places), rows
        finally:
            with_store.close()

    # a click on a job (its label) opens its page, by its key
    for table, column, row_id in (
        ("jobs-table", "job", "job_key"),
        ("overview-savings", "job", "id"),
        ("findings-table", "job_name", "id"),
        ("savings-table", "job", "id"),
    ):

        @app.callback(
            Output("url", "pathname", allow_duplicate=True),
            Input(table, "cellClicked"),
            State(table, "rowData"),
            prevent_initial_call=True,
        )
        def open_job(
            cell: dict | None, rows: list[dict] | None, column: str = column, row_id: str = row_id
        ) -> Any:
            return clicked_job(cell, rows, column, row_id) or no_update

    @app.callback(
        Output("findings-table", "rowData"),
        Output("findings-count", "children"),
        *[Input(f"filter-{c}", "value") for c in FINDING_FILTERS],
    )
    def show_findings(*values: list[str] | None) -> Any:
        with_store = store()
        try:  # most severe first; the grid sorts on a click
            rows = findings_rows(with_store, dict(zip(FINDING_FILTERS, values, strict=True)))
        finally:
            with_store.close()
        return rows, f"{len(rows)} findings"

    for grid_id, export in EXPORTS.items():
        _export_callback(app, store, grid_id, export)

    serve_not_found_as_404(app)
    return app
