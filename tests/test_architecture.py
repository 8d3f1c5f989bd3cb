"""Data flows one way: collect -> store -> analysis -> report / dashboard, and the event-log
reducer (advisor/sparklog/) stays pure: logs and facts in, facts out.

Every import is read with `ast`, including imports inside functions (the lazy ones) and
`importlib.import_module("...")` with a literal name, so a rule cannot be dodged by moving an
import into a function body.
"""

from __future__ import annotations

import ast
import functools
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# the one place advisor/ may reach into dashboards/: the CLI is the composition root, and
# `advisor dashboard` (and `advisor demo`) start the Dash app. Nothing else may.
ALLOWED_DASHBOARD_IMPORTS = {("advisor.cli", "dashboards.app")}

RULES = {
    # package -> ((forbidden import, its allowed exceptions), ...)
    "advisor.sparklog": (
        ("advisor.store", ()),
        # redaction is shared with the reducer: failure messages and SQL descriptions are
        # excerpted redacted, and summaries printed by `advisor summarize` are redacted too
        ("advisor.collect", ("advisor.collect.redact",)),
        ("advisor.analysis", ()),
        ("advisor.report", ()),
        ("dashboards", ()),
    ),
    "advisor.analysis": (
        ("plotly", ()),
        ("dash", ()),
        ("advisor.report", ()),
        ("dashboards", ()),
    ),
    "advisor.report": (("advisor.collect", ()),),
}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def is_module(name: str) -> bool:
    path = ROOT.joinpath(*name.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def within(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def imports_of(source: str, module: str, is_package: bool = False) -> set[str]:
    """Every module `module` imports, wherever the import statement sits. `from a import b`
    counts as importing `a.b` when that is a module of this repository, else `a`."""
    package = module if is_package else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                full = f"{base}.{alias.name}"
                found.add(full if is_module(full) else base)
        elif (
            isinstance(node, ast.Call)
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
            and (
                (isinstance(node.func, ast.Attribute) and node.func.attr == "import_module")
                or (
                    isinstance(node.func, ast.Name)
                    and node.func.id in {"import_module", "__import__"}
                )
            )
        ):
            found.add(node.args[0].value)
    return found


@functools.cache
def graph() -> dict[str, set[str]]:
    """module -> the modules it imports, for every module under advisor/."""
    return {
        module_name(path): imports_of(
            path.read_text(encoding="utf-8"), module_name(path), path.name == "__init__.py"
        )
        for path in sorted((ROOT / "advisor").rglob("*.py"))
    }


def modules_in(package: str) -> dict[str, set[str]]:
    return {name: deps for name, deps in graph().items() if within(name, package)}


@pytest.mark.parametrize("package", sorted(RULES))
def test_layer_imports_only_what_it_may(package):
    modules = modules_in(package)
    assert modules, f"no modules found in {package}"
    broken = sorted(
        f"{module} imports {dep}"
        for module, deps in modules.items()
        for dep in deps
        for forbidden, exceptions in RULES[package]
        if within(dep, forbidden) and not any(within(dep, ok) for ok in exceptions)
    )
    assert not broken, "\n".join(broken)


def test_nothing_in_advisor_imports_the_dashboard():
    broken = sorted(
        f"{module} imports {dep}"
        for module, deps in graph().items()
        for dep in deps
        if within(dep, "dashboards") and (module, dep) not in ALLOWED_DASHBOARD_IMPORTS
    )
    assert not broken, "\n".join(broken)


def test_the_allowed_exceptions_are_still_real():
    """An exception that no longer happens is removed, not left to allow a new one silently."""
    for module, dep in ALLOWED_DASHBOARD_IMPORTS:
        assert dep in graph()[module], f"{module} no longer imports {dep}: drop the exception"


def test_no_import_cycle_among_sparklog_modules():
    modules = modules_in("advisor.sparklog")
    edges = {name: {dep for dep in deps if dep in modules} for name, deps in modules.items()}
    done: set[str] = set()

    def visit(name: str, path: list[str]) -> list[str] | None:
        if name in path:
            return [*path[path.index(name) :], name]
        if name in done:
            return None
        for dep in sorted(edges[name]):
            cycle = visit(dep, [*path, name])
            if cycle:
                return cycle
        done.add(name)
        return None

    for name in sorted(edges):
        cycle = visit(name, [])
        assert cycle is None, "import cycle: " + " -> ".join(cycle)


def test_the_scan_sees_imports_inside_functions_and_relative_ones():
    source = """
import plotly.graph_objects as go
from . import parse
from .reader import find_logs


def lazy():
    from advisor.store import Store
    import importlib
    return importlib.import_module("dashboards.app")
"""
    found = imports_of(source, "advisor.sparklog.example")
    assert {
        "plotly.graph_objects",
        "advisor.sparklog.parse",
        "advisor.sparklog.reader",
        "advisor.store",
        "dashboards.app",
    } <= found
