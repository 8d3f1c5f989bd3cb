"""Options every verb shares, in one place for the CLI and the commands registered on it."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import click

DB_HELP = "SQLite store (default ./advisor.db; env ADVISOR_DB); before or after the verb."
# the verbs that never read a store (they read rules, facts or the logs given): no --db
STORELESS_VERBS = ("eventlog", "facts", "rules")
ROOT_DB_HELP = (
    "SQLite store (default ./advisor.db; env ADVISOR_DB); before or after the verb, for every "
    f"verb but {', '.join(STORELESS_VERBS)}, which read no store."
)


def db_from_anywhere(ctx: click.Context, _param: Any, value: str | None) -> str | None:
    """`advisor --db X import` and `advisor import --db X` mean the same; after the verb wins."""
    return value or ctx.find_root().params.get("db") or os.environ.get("ADVISOR_DB") or None


def db_option(func: Callable) -> Callable:
    return click.option("--db", "db", metavar="PATH", callback=db_from_anywhere, help=DB_HELP)(func)


def _account_id(_ctx: click.Context, _param: Any, value: str | None) -> str | None:
    """An AWS account id is 12 digits ('unknown' names data imported without one)."""
    if value is not None and value != "unknown" and not (len(value) == 12 and value.isdigit()):
        raise click.BadParameter(f"{value!r} is not an AWS account id (12 digits)")
    return value


def account_option(help_text: str) -> Callable[[Callable], Callable]:
    return click.option("--account", metavar="ID", callback=_account_id, help=help_text)


def place_options(func: Callable) -> Callable:
    """--account and --region: which job a name means when several accounts or regions have
    one, and which jobs a total counts."""
    func = click.option(
        "--region",
        metavar="R",
        help="Only jobs in this region (a job name may exist in several).",
    )(func)
    return account_option("Only jobs in this AWS account (a job name may exist in several).")(func)


def format_option(*choices: str, help: str = "Output format (json is for scripts).") -> Callable:
    """--format FMT (as `fmt`), the first choice the default."""
    return click.option(
        "--format",
        "fmt",
        type=click.Choice(choices),
        default=choices[0],
        show_default=True,
        help=help,
    )
