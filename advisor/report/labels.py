"""Display names and small text helpers shared by every output (CLI, report, dashboard)."""

from __future__ import annotations

import html
from typing import Any

from advisor.identity import label, split_key

JOB_TYPES = {
    "glueetl": "Spark",
    "gluestreaming": "Spark streaming",
    "pythonshell": "Python shell",
    "glueray": "Ray",
}
_BARS = "▁▂▃▄▅▆▇█"


def priced_usd(rows: list[dict], key: str = "cost_usd") -> float | None:
    """Dollars of the rows with a known rate; None when none of them has one (unpriced is not
    $0.00)."""
    known = [r[key] for r in rows if r[key] is not None]
    if rows and not known:
        return None
    return round(sum(known), 2)


def money(value: float | None, unpriced_runs: int = 0) -> str:
    """Dollars as every output prints them; runs at an unknown rate are named, never $0.00."""
    if value is None:
        return f"unpriced ({unpriced_runs:,} runs)" if unpriced_runs else "unpriced"
    text = f"${value:,.2f}"
    return f"{text} + {unpriced_runs:,} unpriced runs" if unpriced_runs else text


# a spreadsheet runs a cell that starts with one of these as a formula (OWASP CSV injection)
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_safe(value: object) -> object:
    """A CSV cell a spreadsheet shows as text: a string that could start a formula gets a
    leading apostrophe. Numbers pass as they are (a negative number is not text)."""
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value


def plain(value: object) -> str:
    """Text for a plotly label or hover: plotly renders a subset of HTML there (<a href>, <b>),
    so a job name or message holding tags must be shown, not followed."""
    return html.escape(str(value), quote=False)


def md_text(value: object) -> str:
    """Data inside markdown: no raw HTML, no link or image syntax, no table break, one line."""
    text = html.escape(str(value), quote=False)
    for char in ("\\", "[", "]", "|", "`", "*", "_"):
        text = text.replace(char, "\\" + char)
    return " ".join(text.splitlines())


def md_prose(text: object) -> str:
    """Rule-written markdown (advice, notes): its formatting is kept, but a placeholder such as
    `s3://<bucket>/` outside code spans is text, not an HTML tag a renderer would swallow."""
    parts = str(text).split("`")
    return "`".join(
        part if index % 2 else html.escape(part, quote=False) for index, part in enumerate(parts)
    )


def job_type(command_name: str | None) -> str:
    return JOB_TYPES.get(command_name or "", command_name or "unknown")


def sparkline(values: list[float]) -> str:
    """Unicode bars, one per value, scaled to the largest."""
    top = max(values, default=0)
    if not top:
        return _BARS[0] * len(values)
    return "".join(_BARS[min(7, int(v / top * 7.999))] for v in values)


def size(value: float | None) -> str:
    """Bytes as the CLI prints them (decimal units), everywhere sizes are shown."""
    if value is None:
        return "—"
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if abs(value) < 1000:
            return f"{value:,.1f} {unit}" if unit != "B" else f"{value:,.0f} B"
        value /= 1000
    return f"{value:,.1f} PB"


# ---- accounts and regions ------------------------------------------------------------------


def in_place(key: str, account: str | None = None, region: str | None = None) -> bool:
    """Whether a job (or run) key is in the account and region asked for (None: any)."""
    key_account, key_region, _name = split_key(key)
    return account in (None, key_account) and region in (None, key_region)


def job_fields(key: str) -> dict[str, Any]:
    """How a JSON output names a job: `job_name` (its label, as the tables show it), its
    `account` and `region`, and `job_key` (account/region/name, which every command accepts)."""
    account, region, _name = split_key(key)
    return {"job_name": label(key), "account": account, "region": region, "job_key": key}


def place_text(account: str | None = None, region: str | None = None) -> str:
    """'account 123456789012, region eu-west-1' for a filter (empty when there is none)."""
    parts = ([f"account {account}"] if account else []) + ([f"region {region}"] if region else [])
    return ", ".join(parts)
