"""Pure figure builders: data in, plotly figure out (no store, no Dash)."""

from __future__ import annotations

from typing import Any

import orjson
import pandas as pd
import plotly.graph_objects as go

from advisor.identity import run_label
from advisor.report.labels import money, plain, size
from advisor.report.whatif_figure import whatif_figure

STATE_COLOURS = {
    "SUCCEEDED": "#2b6cb0",
    "FAILED": "#c53030",
    "TIMEOUT": "#dd6b20",
    "ERROR": "#9b2c2c",
    "STOPPED": "#718096",
}


# plotly's toolbar (modebar) floats over the top right of a chart; titles sit in a band below
# it, so a long title in a narrow panel never runs under the toolbar
MODEBAR_PX = 30
TITLE_PX = 26
GRAPH_CONFIG = {
    "displayModeBar": "hover",
    "displaylogo": False,
    "modeBarButtonsToRemove": ["select2d", "lasso2d"],
}
# a legend names a series as a reader would; the CloudWatch metric is in its hover
METRIC_LABELS = {
    "glue.driver.jvm.heap.usage": "driver heap",
    "glue.ALL.jvm.heap.usage": "executors heap",
    "glue.driver.workerUtilization": "worker utilisation",
    "glue.driver.ExecutorAllocationManager.executors.numberMaxNeededExecutors": (
        "executors needed"
    ),
    "glue.driver.ExecutorAllocationManager.executors.numberAllExecutors": "executors allocated",
}


def title_below_toolbar(
    fig: go.Figure, title: str | None = None, height: int = 450, subtitles: bool = False
) -> go.Figure:
    """Put the title (the figure's own when `title` is None) left, under the toolbar's band."""
    text = title if title is not None else (fig.layout.title.text or "")
    fig.update_layout(
        title={
            "text": text,
            "x": 0.01,
            "xanchor": "left",
            "yref": "container",
            "y": 1 - MODEBAR_PX / height,
            "yanchor": "top",
        },
        height=height,
        margin={"t": MODEBAR_PX + TITLE_PX + (22 if subtitles else 8)},
    )
    return fig


def _layout(fig: go.Figure, title: str, height: int = 340, subtitles: bool = False) -> go.Figure:
    fig.update_layout(
        template="plotly_white",
        margin={"l": 50, "r": 20, "b": 40},
        legend={"orientation": "h", "y": -0.2},
    )
    return title_below_toolbar(fig, title, height, subtitles)


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


def runs_over_time(
    runs: pd.DataFrame,
    versions: list[dict[str, Any]],
    changes: list[dict[str, Any]] | None = None,
) -> go.Figure:
    """Duration (top) and cost (bottom) of every run, failures coloured, anomalies ringed,
    job-definition changes as dotted lines; each configuration change (`changes`: {"at",
    "label", "status"}) a dotted line in its status's colour, labelled with its effect."""
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
        text = part["id"].map(lambda run: plain(run_label(run)))  # the Glue run id
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
    marked = mark_changes(fig, changes or [])
    for when in definition_changes(versions, runs["started_on"].min()):
        if when not in marked:  # a change's own mark says more
            fig.add_vline(x=when.to_pydatetime(), line_dash="dot", line_color="#805ad5")
    title = "Runs over time (dotted: job definition or configuration changed)"
    return _layout(fig, title, 480, subtitles=True)


# a configuration change's mark, by its status (changes.py); unjudged ones are amber
CHANGE_COLOURS = {"saving": "#2f855a", "costing": "#c53030", "neutral": "#4a5568"}
UNJUDGED_COLOUR = "#b7791f"


def mark_changes(fig: go.Figure, changes: list[dict[str, Any]]) -> set[pd.Timestamp]:
    """Each change as a dotted line over both charts with its label at the top of the runtime
    chart (staggered, so two close changes stay readable); the instants marked."""
    marked = set()
    for index, change in enumerate(sorted(changes, key=lambda c: c["at"])):
        when = _utc(change["at"])
        colour = CHANGE_COLOURS.get(change["status"], UNJUDGED_COLOUR)
        fig.add_vline(x=when.to_pydatetime(), line_dash="dot", line_color=colour, line_width=2)
        fig.add_annotation(
            x=when.to_pydatetime(),
            xref="x",
            y=1 - 0.12 * (index % 3),
            yref="y domain",
            text=plain(change["label"]),
            showarrow=False,
            xanchor="left",
            yanchor="top",
            xshift=3,
            font={"size": 12, "color": colour},
            bgcolor="rgba(255,255,255,0.85)",
            name="change",
        )
        marked.add(when)
    return marked


def _utc(when: Any) -> pd.Timestamp:
    stamp = pd.Timestamp(when)
    return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")


def definition_changes(versions: list[dict[str, Any]], first_run: pd.Timestamp) -> list:
    """When the job's definition changed, after its first run shown. Every stored version
    counts, the first too: its valid_from is the job's LastModifiedOn, a change the store
    first saw as it was (only a version's first_seen, the time it was collected, is no change
    when it is the first)."""
    out = []
    for index, version in enumerate(versions):
        when = version["valid_from"] or (version["first_seen"] if index else None)
        if not when:
            continue
        stamp = _utc(when)
        if stamp > first_run and stamp not in out:
            out.append(stamp)
    return sorted(out)


def cloudwatch_panel(
    metrics: pd.DataFrame,
    names: tuple[str, ...],
    title: str,
    percent: bool = False,
    missing: str = "not collected for this job (enable --enable-metrics)",
) -> go.Figure:
    """One line per metric over the job's runs, in time order; `missing` says why there is
    nothing to draw."""
    part = metrics[metrics["metric"].isin(names)] if not metrics.empty else metrics
    if part.empty:
        return empty(title, missing)
    fig = go.Figure()
    for name in names:  # the panel's own order, so colours and legend are stable
        rows = part[part["metric"] == name].sort_values("started_on")
        if rows.empty:
            continue
        values = rows["value"] * (100 if percent else 1)
        fig.add_trace(
            go.Scatter(
                x=rows["started_on"],
                y=values,
                mode="lines+markers",
                name=plain(METRIC_LABELS.get(name, name)),
                hovertemplate=f"%{{x|%b %-d %H:%M}}<br>%{{y:,.1f}}{'%' if percent else ''}"
                f"<br>{plain(name)}<extra>%{{fullData.name}}</extra>",
            )
        )
    if percent:
        fig.update_yaxes(title="%", range=[0, 105])
    # a third of the page wide: a few unrotated dates, not one a day turned on their side
    fig.update_xaxes(nticks=4, tickformat="%b %-d", tickangle=0)
    return _layout(fig, title, 300)


def stage_panel(
    stages: list[dict[str, Any]], missing: str = "no event log reduced for this job"
) -> go.Figure:
    """Task-duration spread per stage (box from the stored quantiles; a stage whose tasks all
    took the same time is one labelled point) and disk spill ("no spill" when there is none)."""
    timed = [s for s in stages if s.get("tasks") and s.get("task_ms_median") is not None]
    if not timed:
        return empty("Stages of the latest event log", missing)
    from plotly.subplots import make_subplots

    fig = make_subplots(
        rows=1,
        cols=2,
        column_widths=[0.7, 0.3],
        subplot_titles=("task duration (s)", "disk spill (GB)"),
    )
    labels = [f"{s['stage_id']}.{s['attempt']}" for s in timed]

    def single(s: dict[str, Any]) -> bool:
        low, high = s.get("task_ms_min"), s.get("task_ms_max")
        return s["tasks"] == 1 or low is None or high is None or low == high

    spread = [(label, s) for label, s in zip(labels, timed, strict=True) if not single(s)]
    if spread:
        fig.add_trace(
            go.Box(
                x=[label for label, _ in spread],
                q1=[s["task_ms_p25"] / 1000 for _, s in spread],
                median=[s["task_ms_median"] / 1000 for _, s in spread],
                q3=[s["task_ms_p75"] / 1000 for _, s in spread],
                lowerfence=[s["task_ms_min"] / 1000 for _, s in spread],
                upperfence=[s["task_ms_max"] / 1000 for _, s in spread],
                name="tasks",
                orientation="v",
                hovertext=[f"{s['tasks']} tasks" for _, s in spread],
            ),
            row=1,
            col=1,
        )
    points = [(label, s) for label, s in zip(labels, timed, strict=True) if single(s)]
    if points:
        fig.add_trace(
            go.Scatter(
                x=[label for label, _ in points],
                y=[s["task_ms_median"] / 1000 for _, s in points],
                mode="markers+text",
                text=[f"{s['task_ms_median'] / 1000:,.2f} s" for _, s in points],
                textposition="top center",
                marker={"color": "#2b6cb0", "size": 9, "symbol": "diamond"},
                name="one duration",
                hovertext=[f"{s['tasks']} task(s), all the same time" for _, s in points],
                cliponaxis=False,
            ),
            row=1,
            col=1,
        )
    # every stage on the x axis in stage order, whichever trace drew it
    fig.update_xaxes(type="category", categoryorder="array", categoryarray=labels, row=1, col=1)
    if points:  # autorange ignores a point's label: room for it inside the plot, under the title
        fig.update_yaxes(range=duration_range(timed), row=1, col=1)
    spilled = [s["disk_bytes_spilled"] or 0 for s in timed]
    if any(spilled):
        fig.add_trace(
            go.Bar(
                x=labels,
                y=[b / 1e9 for b in spilled],
                name="spill",
                marker_color="#c05621",
                hovertext=[size(b) for b in spilled],
            ),
            row=1,
            col=2,
        )
    else:
        fig.update_xaxes(visible=False, row=1, col=2)
        fig.update_yaxes(visible=False, row=1, col=2)
        low, high = fig.layout.xaxis2.domain
        fig.add_annotation(
            text="no spill",
            showarrow=False,
            x=(low + high) / 2,
            y=0.5,
            xref="paper",
            yref="paper",
            font={"size": 14},
            name="no-spill",
        )
    return _layout(fig, "Stages of the latest event log (stage.attempt)", 340, subtitles=True)


def duration_range(stages: list[dict[str, Any]], headroom: float = 0.3) -> list[float]:
    """The task-duration axis (seconds) of the stages: from their shortest task (never below
    zero) to their longest, with `headroom` of the span above it for a point's label."""
    seconds = [
        s[f"task_ms_{q}"] / 1000
        for s in stages
        for q in ("min", "median", "max")
        if s.get(f"task_ms_{q}") is not None
    ]
    low, high = min(seconds), max(seconds)
    span = (high - low) or high or 1.0
    return [max(0.0, low - 0.1 * span), high + headroom * span]


def findings_by_severity(counts: dict[str, int]) -> go.Figure:
    order = ["critical", "high", "medium", "low", "info"]
    colours = ["#b00020", "#d9480f", "#b7791f", "#2b6cb0", "#718096"]
    fig = go.Figure(go.Bar(x=order, y=[counts.get(s, 0) for s in order], marker_color=colours))
    return _layout(fig, "Open findings by severity", 260)


def whatif_frontier(result: dict[str, Any]) -> go.Figure:
    """The what-if frontier of one job (the figure `advisor whatif --plot` writes, built in
    advisor/report/whatif_figure.py), its title under the toolbar."""
    return title_below_toolbar(whatif_figure(result))


def bill_by_category(rows: list[dict[str, Any]], month: str) -> go.Figure:
    """The month's bill by category (bill.categories rows): billed beside computed, a bar
    each, its figure beside it; a category the advisor does not compute (or an adjustment)
    has only its billed."""
    names = [plain(r.get("label") or r["category"]) for r in rows]
    fig = go.Figure()
    for side, colour in (("billed", "#2b6cb0"), ("computed", "#a0aec0")):
        values = [r[f"{side}_usd"] for r in rows]
        fig.add_trace(
            go.Bar(
                y=names,
                x=values,
                name=side,
                orientation="h",
                marker_color=colour,
                text=[dollars(v) for v in values],
                textposition="outside",
                cliponaxis=False,
                hovertemplate=f"%{{y}}<br>{side} %{{text}}<extra></extra>",
            )
        )
    fig.update_layout(barmode="group", xaxis_title="USD")
    fig.update_yaxes(autorange="reversed", automargin=True)
    fig.update_xaxes(range=bar_range([r[f"{s}_usd"] for r in rows for s in ("billed", "computed")]))
    return _layout(fig, f"The {month} bill by category", max(260, 90 + 46 * len(rows)))


def dollars(value: float | None) -> str:
    """Dollars as the CLI prints them, "-$25.00" below zero; "" for none."""
    if value is None:
        return ""
    return ("-" if value <= -0.005 else "") + money(abs(value))


def bar_range(values: list[float | None], room: float = 0.3) -> list[float]:
    """The value axis of bars labelled outside their ends: `room` of the span beyond the
    longest each way, so no label runs off the plot or over the category names."""
    known = [v for v in values if v is not None] or [0.0]
    low, high = min(0.0, *known), max(0.0, *known)
    span = (high - low) or 1.0
    return [low - room * span if low < 0 else 0.0, high + room * span]
