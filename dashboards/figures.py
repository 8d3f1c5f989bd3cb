"""Pure figure builders: data in, plotly figure out (no store, no Dash)."""

from __future__ import annotations

from typing import Any

import orjson
import pandas as pd
import plotly.graph_objects as go

from advisor.report.labels import plain

STATE_COLOURS = {
    "SUCCEEDED": "#2b6cb0",
    "FAILED": "#c53030",
    "TIMEOUT": "#dd6b20",
    "ERROR": "#9b2c2c",
    "STOPPED": "#718096",
}


def _layout(fig: go.Figure, title: str, height: int = 340) -> go.Figure:
    fig.update_layout(
        title=title,
        template="plotly_white",
        height=height,
        margin={"l": 50, "r": 20, "t": 50, "b": 40},
        legend={"orientation": "h", "y": -0.2},
    )
    return fig


def empty(title: str, why: str) -> go.Figure:
    fig = go.Figure()
    fig.add_annotation(text=plain(why), showarrow=False, x=0.5, y=0.5, xref="paper", yref="paper")
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return _layout(fig, title, 240)


def stacked_cost(series: pd.DataFrame, label: str) -> go.Figure:
    """Daily cost stacked by group (from data.cost_over_time)."""
    if series.empty:
        return empty("Cost per day", "no priced runs yet: run `advisor analyze`")
    fig = go.Figure()
    order = series.groupby("group")["usd"].sum().sort_values(ascending=False).index
    for group in order:
        part = series[series["group"] == group]
        fig.add_trace(go.Bar(x=part["day"], y=part["usd"], name=plain(group)))
    fig.update_layout(barmode="stack", yaxis_title="USD", xaxis_title=None)
    return _layout(fig, f"Cost per day by {label}")


def runs_over_time(runs: pd.DataFrame, versions: list[dict[str, Any]]) -> go.Figure:
    """Duration (top) and cost (bottom) of every run, failures coloured, anomalies ringed,
    job-definition changes as dotted lines."""
    if runs.empty:
        return empty("Runs", "no runs of this job in the store")
    from plotly.subplots import make_subplots

    fig = make_subplots(
        rows=2,
        cols=1,
        shared_xaxes=True,
        vertical_spacing=0.08,
        subplot_titles=("runtime (min)", "cost per run (USD)"),
    )
    for state, part in runs.groupby("state"):
        colour = STATE_COLOURS.get(state, "#4a5568")
        text = part["id"].map(plain)
        fig.add_trace(
            go.Scatter(
                x=part["started_on"],
                y=part["execution_time_s"] / 60,
                mode="markers",
                name=plain(state),
                marker={"color": colour, "size": 6},
                text=text,
                hovertemplate="%{text}<br>%{y:.1f} min<extra></extra>",
            ),
            row=1,
            col=1,
        )
        fig.add_trace(
            go.Scatter(
                x=part["started_on"],
                y=part["cost_usd"],
                mode="markers",
                name=plain(state),
                showlegend=False,
                marker={"color": colour, "size": 6},
                text=text,
                hovertemplate="%{text}<br>$%{y:.2f}<extra></extra>",
            ),
            row=2,
            col=1,
        )
    anomalies = runs[runs["anomaly"].notna()]
    if not anomalies.empty:
        reasons = anomalies["anomaly_reasons"].map(
            lambda r: plain("; ".join(orjson.loads(r or "[]")))
        )
        fig.add_trace(
            go.Scatter(
                x=anomalies["started_on"],
                y=anomalies["execution_time_s"] / 60,
                mode="markers",
                name="anomaly",
                marker={
                    "symbol": "circle-open",
                    "size": 14,
                    "color": "#d69e2e",
                    "line": {"width": 2},
                },
                text=reasons,
                hovertemplate="%{text}<extra>anomaly</extra>",
            ),
            row=1,
            col=1,
        )
    for version in versions[1:]:
        when = version["valid_from"] or version["first_seen"]
        if when:
            fig.add_vline(
                x=pd.Timestamp(when).to_pydatetime(), line_dash="dot", line_color="#805ad5"
            )
    return _layout(fig, "Runs over time (dotted: job definition changed)", 480)


def cloudwatch_panel(
    metrics: pd.DataFrame, names: tuple[str, ...], title: str, percent: bool = False
) -> go.Figure:
    part = metrics[metrics["metric"].isin(names)] if not metrics.empty else metrics
    if part.empty:
        return empty(title, "not collected for this job (enable --enable-metrics)")
    fig = go.Figure()
    for name, rows in part.groupby("metric"):
        values = rows["value"] * (100 if percent else 1)
        fig.add_trace(
            go.Scatter(
                x=rows["started_on"],
                y=values,
                mode="lines+markers",
                name=plain(str(name).rsplit(".", 1)[-1]),
            )
        )
    if percent:
        fig.update_yaxes(title="%", range=[0, 105])
    return _layout(fig, title, 280)


def stage_panel(stages: list[dict[str, Any]]) -> go.Figure:
    """Task-duration spread per stage (box from the stored quantiles) and disk spill."""
    timed = [s for s in stages if s.get("tasks") and s.get("task_ms_median") is not None]
    if not timed:
        return empty("Stages of the latest event log", "no event log reduced for this job")
    from plotly.subplots import make_subplots

    fig = make_subplots(
        rows=1,
        cols=2,
        column_widths=[0.7, 0.3],
        subplot_titles=("task duration (s)", "disk spill (GB)"),
    )
    labels = [f"{s['stage_id']}.{s['attempt']}" for s in timed]
    fig.add_trace(
        go.Box(
            x=labels,
            q1=[s["task_ms_p25"] / 1000 for s in timed],
            median=[s["task_ms_median"] / 1000 for s in timed],
            q3=[s["task_ms_p75"] / 1000 for s in timed],
            lowerfence=[s["task_ms_min"] / 1000 for s in timed],
            upperfence=[s["task_ms_max"] / 1000 for s in timed],
            name="tasks",
            hovertext=[f"{s['tasks']} tasks" for s in timed],
        ),
        row=1,
        col=1,
    )
    fig.add_trace(
        go.Bar(
            x=labels,
            y=[(s["disk_bytes_spilled"] or 0) / 1e9 for s in timed],
            name="spill",
            marker_color="#c05621",
        ),
        row=1,
        col=2,
    )
    return _layout(fig, "Stages of the latest event log (stage.attempt)", 320)


def findings_by_severity(counts: dict[str, int]) -> go.Figure:
    order = ["critical", "high", "medium", "low", "info"]
    colours = ["#b00020", "#d9480f", "#b7791f", "#2b6cb0", "#718096"]
    fig = go.Figure(go.Bar(x=order, y=[counts.get(s, 0) for s in order], marker_color=colours))
    return _layout(fig, "Open findings by severity", 260)
