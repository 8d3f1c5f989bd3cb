"""Settings from advisor.toml (current folder, or ADVISOR_CONFIG) and ADVISOR_* variables."""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from advisor.store import resolve_db_path


@dataclass
class Config:
    db_path: Path
    rates: dict[str, dict[str, Any]] = field(default_factory=dict)
    raw: dict[str, Any] = field(default_factory=dict)


def load_config(db: str | None = None, path: str | None = None) -> Config:
    """`--db` > ADVISOR_DB > advisor.toml [store] db > ./advisor.db."""
    config_path = Path(path or os.environ.get("ADVISOR_CONFIG") or "advisor.toml")
    raw: dict[str, Any] = {}
    if config_path.exists():
        with config_path.open("rb") as handle:
            raw = tomllib.load(handle)
    db_from_file = (raw.get("store") or {}).get("db")
    return Config(
        db_path=resolve_db_path(db or os.environ.get("ADVISOR_DB") or db_from_file),
        rates=raw.get("rates") or {},
        raw=raw,
    )
