"""Options every verb shares, in one place for the CLI and the commands registered on it."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import click

DB_HELP = "SQLite store (default ./advisor.db; env ADVISOR_DB); before or after the verb."


def db_from_anywhere(ctx: click.Context, _param: Any, value: str | None) -> str | None:
    """`advisor --db X import` and `advisor import --db X` mean the same; after the verb wins."""
    return value or ctx.find_root().params.get("db") or os.environ.get("ADVISOR_DB") or None


def db_option(func: Callable) -> Callable:
    return click.option("--db", "db", metavar="PATH", callback=db_from_anywhere, help=DB_HELP)(func)
