"""The Dash app: overview, jobs, one job, findings. It reads the store only (what `advisor
analyze` wrote), opens it per request from the server's config, and keeps nothing in module
globals. Dash renders every string as text, so names from AWS are never markup."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

import dash_bootstrap_components as dbc
import pandas as pd
from dash import Dash, Input, Output, State, dash_table, dcc, html, no_update
from dash.dash_table.Format import Format, Scheme, Symbol

from advisor.analysis.whatif import figure as whatif_figure
from advisor.report.labels import csv_safe, job_type, money
from advisor.report.recommend import recommendation
from advisor.store import Store
from dashboards import data, figures

SEVERITY_COLOURS = {
    "critical": "danger",
    "high": "warning",
    "medium": "info",
    "low": "primary",
    "info": "secondary",
}


def _money(value: float | None, unpriced_runs: int = 0) -> str:
    return money(value, unpriced_runs)


# table cells stay numbers (so they sort as numbers) and are shown as the CLI prints them:
# dollars as labels.money ($1,234.56), rates as percentages, runtimes in minutes
def _usd_format(missing: str = "—") -> Format:
    return Format(scheme=Scheme.fixed, precision=2, group=True, symbol=Symbol.yes).nully(missing)


MONEY = _usd_format()
PERCENT = Format(scheme=Scheme.percentage, precision=1).nully("—")
MINUTES = Format(scheme=Scheme.fixed, precision=1, group=True).nully("—")
COUNT = Format(scheme=Scheme.fixed, precision=0, group=True).nully("—")


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
        md=3,
    )


def overview(store: Store) -> html.Div:
    k = data.kpis(store)
    savings = data.findings(store, include_resolved=False)
    top = []
    if not savings.empty:
        with_money = savings[savings["savings_usd_month"].fillna(0) > 0].head(10)
        top = [
            {
                "saving": _money(r.savings_usd_month),
                "job": r.job_name,
                "severity": r.severity,
                "finding": r.title,
                "fix": r.fix,
            }
            for r in with_money.itertuples()
        ]
    return html.Div(
        [
            html.H2("Fleet overview"),
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
                                    for k_, v in data.DIMENSIONS.items()
                                ],
                            ),
                            graph(id="overview-cost"),
                        ],
                        md=8,
                    ),
                    dbc.Col(
                        graph(
                            figures.findings_by_severity(k["findings_by_severity"]),
                            id="overview-severity",
                        ),
                        md=4,
                    ),
                ]
            ),
            html.H4("Top savings opportunities"),
            dash_table.DataTable(
                id="overview-savings",
                data=top,
                columns=[
                    {"name": c, "id": c} for c in ("saving", "job", "severity", "finding", "fix")
                ],
                style_cell={"whiteSpace": "normal", "textAlign": "left", "fontSize": 13},
            ),
        ]
    )


JOB_COLUMNS = [
    ("job", "job", "text", None),
    ("type", "type", "text", None),
    ("workers", "workers", "text", None),
    ("cost_last_7d", "cost, last 7 days", "numeric", _usd_format("unpriced")),
    ("unpriced_runs_7d", "unpriced runs, 7 days", "numeric", COUNT),
    ("trend", "8 weeks", "text", None),
    ("runs_28d", "runs, 28 days", "numeric", COUNT),
    ("failure_rate", "failure rate", "numeric", PERCENT),
    ("p50_min", "p50 (min)", "numeric", MINUTES),
    ("p95_min", "p95 (min)", "numeric", MINUTES),
    ("worst_finding", "worst open finding", "text", None),
    ("saving_month", "saving / month", "numeric", MONEY),
]


def _column(column_id: str, name: str, kind: str, fmt: Format | None) -> dict[str, Any]:
    column: dict[str, Any] = {"name": name, "id": column_id, "type": kind}
    if fmt is not None:
        column["format"] = fmt
    return column


def jobs_page(store: Store) -> html.Div:
    return html.Div(
        [
            html.H2("Jobs"),
            html.P(
                "Sort by any column, filter with the boxes under the headers; click a job to "
                "open it.",
                className="text-muted",
            ),
            dash_table.DataTable(
                id="jobs-table",
                data=data.jobs_table(store),
                columns=[_column(*c) for c in JOB_COLUMNS],
                sort_action="native",
                filter_action="native",
                page_size=25,
                style_cell={"textAlign": "left", "fontSize": 13, "whiteSpace": "normal"},
                style_data_conditional=[
                    {"if": {"column_id": "job"}, "cursor": "pointer", "color": "#0d6efd"}
                ],
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


def job_page(store: Store, job: str) -> html.Div:
    definition = store.job(job)
    if definition is None:
        return _not_found("Unknown job", f"No job named {job} in the store.")
    rec = recommendation(store, job)
    seen = data.telemetry(store, definition)
    whatif = store.stored_whatif(job)
    head = rec["job"]
    summary = rec["summary"]
    workers = (
        f"{head['number_of_workers']} x {head['worker_type']}"
        if head["number_of_workers"]
        else f"MaxCapacity {head['max_capacity']}"
    )
    blocks: list[Any] = [
        html.H2(job, id="job-title"),
        html.P(
            f"{job_type(definition.get('command_name'))} on Glue {head['glue_version']}, "
            f"{workers}, {head['execution_class']}, "
            f"Auto Scaling {'on' if head['autoscaling'] else 'off'}. "
            f"Last {rec['window']['days']} days: {summary['runs']} runs, "
            f"{summary['dpu_hours']:,.1f} DPU-hours, {_money(summary['usd'])}, failure rate "
            f"{(summary['failure_rate'] or 0):.0%}.",
            className="lead",
        ),
        graph(
            figures.runs_over_time(data.job_runs(store, job), data.job_versions(store, job)),
            id="job-runs",
        ),
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
    figure = figures.title_below_toolbar(whatif_figure(whatif))
    return html.Div(graph(figure, id="job-whatif"))


FINDING_FILTERS = ("problem", "severity", "job_name", "status")
FINDING_COLUMNS = [
    ("severity", "severity", "text", None),
    ("job_name", "job", "text", None),
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
                            placeholder=column.replace("_", " "),
                        ),
                        md=3,
                    )
                    for column, values in options.items()
                ],
                className="g-2 mb-2",
            ),
            html.Div(id="findings-count", className="text-muted mb-2"),
            dbc.Button(
                "Export CSV", id="findings-export", color="secondary", size="sm", className="mb-2"
            ),
            dcc.Download(id="findings-download"),
            dash_table.DataTable(
                id="findings-table",
                columns=[_column(*c) for c in FINDING_COLUMNS],
                # sorted on the server: severity by rank, never alphabetically
                sort_action="custom",
                sort_mode="single",
                sort_by=[],
                page_size=25,
                style_cell={"textAlign": "left", "fontSize": 13, "whiteSpace": "normal"},
            ),
        ]
    )


def filter_findings(frame: pd.DataFrame, selected: dict[str, list[str] | None]) -> pd.DataFrame:
    for column, values in selected.items():
        if values and not frame.empty:
            frame = frame[frame[column].isin(values)]
    return frame


def sort_findings(frame: pd.DataFrame, sort_by: list[dict[str, str]] | None) -> pd.DataFrame:
    """Most severe first by default; a clicked column sorts as its values mean (severity by
    rank, dollars as numbers), the default order breaking ties."""
    frame = data.by_severity(frame)
    if frame.empty:
        return frame
    for rule in reversed(sort_by or []):
        column = rule["column_id"]
        if column not in frame.columns:
            continue
        frame = frame.sort_values(
            column,
            ascending=rule.get("direction") != "desc",
            kind="stable",
            na_position="last",
            key=(lambda c: c.map(data.SEVERITY_RANK)) if column == "severity" else None,
        )
    return frame


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows for a DataTable; a missing number is None (shown by its column's format)."""
    if frame.empty:
        return []
    return frame.astype(object).where(frame.notna(), None).to_dict("records")


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
        ],
    )
    app.layout = html.Div([dcc.Location(id="url"), nav, dbc.Container(id="page", fluid=True)])

    @app.callback(Output("page", "children"), Input("url", "pathname"))
    def route(pathname: str | None) -> Any:
        path = pathname or "/"
        with_store = store()
        try:
            if path.startswith("/job/"):
                return job_page(with_store, unquote(path.removeprefix("/job/")))
            if path == "/jobs":
                return jobs_page(with_store)
            if path == "/findings":
                return findings_page(with_store)
            if path in ("/", ""):
                return overview(with_store)
            return _not_found(
                "Page not found", f"There is no page at {path}: it may have moved or never existed."
            )
        finally:
            with_store.close()

    @app.callback(Output("overview-cost", "figure"), Input("overview-by", "value"))
    def overview_cost(by: str) -> Any:
        with_store = store()
        try:
            series = data.cost_over_time(with_store, by)
            return figures.stacked_cost(series, data.DIMENSIONS[by])
        finally:
            with_store.close()

    @app.callback(
        Output("url", "pathname"),
        Input("jobs-table", "active_cell"),
        State("jobs-table", "derived_viewport_data"),
        prevent_initial_call=True,
    )
    def open_job(cell: dict | None, rows: list[dict] | None) -> Any:
        if not cell or not rows or cell.get("column_id") != "job":
            return no_update
        return "/job/" + quote(rows[cell["row"]]["job"], safe="")

    filters = [Input(f"filter-{c}", "value") for c in FINDING_FILTERS]

    def filtered(values: tuple[list[str] | None, ...], sort_by: list | None) -> pd.DataFrame:
        with_store = store()
        try:
            selected = dict(zip(FINDING_FILTERS, values, strict=True))
            return sort_findings(filter_findings(data.findings(with_store), selected), sort_by)
        finally:
            with_store.close()

    @app.callback(
        Output("findings-table", "data"),
        Output("findings-count", "children"),
        Input("findings-table", "sort_by"),
        *filters,
    )
    def show_findings(sort_by: list | None, *values: list[str] | None) -> Any:
        rows = _records(filtered(values, sort_by))
        return rows, f"{len(rows)} findings"

    @app.callback(
        Output("findings-download", "data"),
        Input("findings-export", "n_clicks"),
        State("findings-table", "sort_by"),
        *[State(f"filter-{c}", "value") for c in FINDING_FILTERS],
        prevent_initial_call=True,
    )
    def export(_clicks: int, sort_by: list | None, *values: list[str] | None) -> Any:
        buffer = io.StringIO()
        filtered(values, sort_by).map(csv_safe).to_csv(buffer, index=False)
        return {"content": buffer.getvalue(), "filename": "glue-advisor-findings.csv"}

    return app
