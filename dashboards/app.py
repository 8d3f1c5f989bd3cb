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

from advisor.analysis.whatif import figure as whatif_figure
from advisor.report.labels import csv_safe, money
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
                        f"{sum(k['findings_by_severity'].values())} open findings",
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
                            dcc.Graph(id="overview-cost"),
                        ],
                        md=8,
                    ),
                    dbc.Col(
                        dcc.Graph(
                            figure=figures.findings_by_severity(k["findings_by_severity"]),
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
    ("job", "job", "text"),
    ("type", "type", "text"),
    ("workers", "workers", "text"),
    ("cost_last_7d", "cost, last 7 days ($)", "numeric"),
    ("unpriced_runs_7d", "unpriced runs, 7 days", "numeric"),
    ("trend", "8 weeks", "text"),
    ("runs_28d", "runs, 28 days", "numeric"),
    ("failure_rate", "failure rate", "numeric"),
    ("p50_min", "p50 (min)", "numeric"),
    ("p95_min", "p95 (min)", "numeric"),
    ("worst_finding", "worst open finding", "text"),
    ("saving_month", "saving ($/month)", "numeric"),
]


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
                columns=[{"name": n, "id": i, "type": t} for i, n, t in JOB_COLUMNS],
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


def job_page(store: Store, job: str) -> html.Div:
    definition = store.job(job)
    if definition is None:
        return html.Div([html.H2("Unknown job"), html.P(f"No job named {job} in the store.")])
    rec = recommendation(store, job)
    metrics = data.job_metrics(store, job)
    _app, stages = data.latest_stages(store, job)
    panels = data.CLOUDWATCH_PANELS
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
            f"{head['type']} on Glue {head['glue_version']}, {workers}, "
            f"{head['execution_class']}, Auto Scaling {'on' if head['autoscaling'] else 'off'}. "
            f"Last {rec['window']['days']} days: {summary['runs']} runs, "
            f"{summary['dpu_hours']:,.1f} DPU-hours, {_money(summary['usd'])}, failure rate "
            f"{(summary['failure_rate'] or 0):.0%}.",
            className="lead",
        ),
        dcc.Graph(
            id="job-runs",
            figure=figures.runs_over_time(data.job_runs(store, job), data.job_versions(store, job)),
        ),
        dbc.Row(
            [
                dbc.Col(
                    dcc.Graph(
                        figure=figures.cloudwatch_panel(
                            metrics, panels["heap"], "JVM heap used (peak per run)", percent=True
                        )
                    ),
                    md=4,
                ),
                dbc.Col(
                    dcc.Graph(
                        figure=figures.cloudwatch_panel(
                            metrics, panels["utilization"], "Worker utilisation", percent=True
                        )
                    ),
                    md=4,
                ),
                dbc.Col(
                    dcc.Graph(
                        figure=figures.cloudwatch_panel(
                            metrics, panels["executors"], "Executors needed vs allocated"
                        )
                    ),
                    md=4,
                ),
            ]
        ),
        dcc.Graph(id="job-stages", figure=figures.stage_panel(stages)),
        html.H3(f"Findings ({len(rec['findings'])})"),
    ]
    for finding in rec["findings"]:
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
    return html.Div(dcc.Graph(id="job-whatif", figure=whatif_figure(whatif)))


def findings_page(store: Store) -> html.Div:
    frame = data.findings(store)
    options = {
        column: sorted(frame[column].dropna().unique()) if not frame.empty else []
        for column in ("problem", "severity", "job_name", "status")
    }
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
                columns=[
                    {"name": n, "id": n}
                    for n in (
                        "severity",
                        "job_name",
                        "problem",
                        "title",
                        "savings_usd_month",
                        "status",
                        "fix",
                    )
                ],
                sort_action="native",
                page_size=25,
                style_cell={"textAlign": "left", "fontSize": 13, "whiteSpace": "normal"},
            ),
        ]
    )


FINDING_FILTERS = ("problem", "severity", "job_name", "status")


def filter_findings(frame: pd.DataFrame, selected: dict[str, list[str] | None]) -> pd.DataFrame:
    for column, values in selected.items():
        if values and not frame.empty:
            frame = frame[frame[column].isin(values)]
    return frame


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
            return overview(with_store)
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

    def filtered(values: tuple[list[str] | None, ...]) -> pd.DataFrame:
        with_store = store()
        try:
            selected = dict(zip(FINDING_FILTERS, values, strict=True))
            return filter_findings(data.findings(with_store), selected)
        finally:
            with_store.close()

    @app.callback(Output("findings-table", "data"), Output("findings-count", "children"), *filters)
    def show_findings(*values: list[str] | None) -> Any:
        frame = filtered(values)
        rows = frame.to_dict("records") if not frame.empty else []
        return rows, f"{len(rows)} findings"

    @app.callback(
        Output("findings-download", "data"),
        Input("findings-export", "n_clicks"),
        *[State(f"filter-{c}", "value") for c in FINDING_FILTERS],
        prevent_initial_call=True,
    )
    def export(_clicks: int, *values: list[str] | None) -> Any:
        buffer = io.StringIO()
        filtered(values).map(csv_safe).to_csv(buffer, index=False)
        return {"content": buffer.getvalue(), "filename": "glue-advisor-findings.csv"}

    return app
