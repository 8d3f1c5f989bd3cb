"""The facts registry: every fact sourced and dated, read through advisor.facts, and stated
nowhere else (no rule, pricing, what-if or fix code may hard-code a fact the registry holds)."""

from __future__ import annotations

import ast
import json
import re
from datetime import date
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from advisor import facts
from advisor.cli import main

ROOT = Path(__file__).resolve().parent.parent
REGISTRY = facts.registry()
_NAMES = "|".join(re.escape(n) for n in REGISTRY["worker_types"])
_SIZED_NAMES = "|".join(re.escape(n) for n in REGISTRY["worker_types"] if n != "Standard")
WORKER_NAME = re.compile(rf"^(?:{_NAMES})$")
WORKER_IN_TEXT = re.compile(rf"(?<![\w.])(?:{_SIZED_NAMES})(?![\w])")
GLUE_VERSION_IN_TEXT = re.compile(r"Glue (?:version )?\d\.\d")


def _registry_numbers() -> set[float]:
    """Numbers that are Glue facts: rates, Python shell sizes, timeouts and limits."""
    numbers = {
        float(e["usd"])
        for region in REGISTRY["rates"].values()
        for e in region.values()
        if e.get("usd") is not None
    }
    numbers |= set(facts.python_shell_capacities()) - {1.0}
    numbers |= {float(v["default_timeout_min"]) for v in REGISTRY["versions"].values()}
    numbers.add(float(REGISTRY["limits"]["timeout_max_min"]))
    return numbers


def _walk_sources(source_entry_key: str | None, node: object, path: str = "") -> list[str]:
    found = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "source":
                found.append(f"{path}: {value}")
            found += _walk_sources(source_entry_key, value, f"{path}/{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            found += _walk_sources(source_entry_key, value, f"{path}[{i}]")
    return found


def test_every_fact_names_a_known_source_with_a_page_and_a_date():
    sources = REGISTRY["sources"]
    for key, page in sources.items():
        assert page["url"].startswith("https://"), key
        date.fromisoformat(page["checked"])
    cited = _walk_sources(None, {k: v for k, v in REGISTRY.items() if k != "sources"})
    assert len(cited) > 50
    for entry in cited:
        where, key = entry.rsplit(": ", 1)
        assert key in sources, f"{where} cites unknown source {key!r}"
    for section in ("versions", "worker_types", "features"):
        for name, entry in REGISTRY[section].items():
            assert "source" in entry, f"{section}/{name} has no source"
    for region, kinds in REGISTRY["rates"].items():
        for kind, rate in kinds.items():
            assert {"usd", "confirmed", "source"} <= set(rate), f"{region}/{kind}"
            assert rate["usd"] is None or rate["usd"] > 0


def test_versions_past_end_of_life_cannot_run_and_the_default_is_known():
    # AWS's version support policy: 0.9, 1.0 and 2.0 reached end of life on 2026-04-01
    for version in ("0.9", "1.0", "2.0"):
        assert facts.version_status(version, "2026-11-30").status == "end_of_life"
        assert facts.version_status(version, "2026-03-31").status == "end_of_support"
    for version in ("4.0", "5.0", "5.1", "6.0"):
        assert facts.version_status(version, "2026-11-30").status == "supported"
    assert set(REGISTRY["versions"]) >= {"0.9", "1.0", "2.0", "3.0", "4.0", "5.0", "5.1", "6.0"}
    assert REGISTRY["default_version"]["value"] in REGISTRY["versions"]
    assert facts.version_key("auto") == facts.version_key(REGISTRY["auto_version"]["resolves_to"])
    assert facts.minimum_billed_s("1.0", "glueetl") > facts.minimum_billed_s("4.0", "glueetl")


def test_heap_per_task_is_the_same_on_every_general_purpose_type_from_glue_3():
    # a bigger G worker does not give a running task more memory; an R worker does
    per_core = {t: facts.heap_per_core_gb(t, "4.0") for t in ("G.1X", "G.2X", "G.4X", "G.8X")}
    assert len({round(v, 3) for v in per_core.values()}) == 1
    assert facts.heap_per_core_gb("R.1X", "4.0") > per_core["G.1X"]
    # Glue 1.0/2.0 ran 8 cores in a G.1X executor
    assert facts.executor_shape("G.1X", "2.0")[0] > facts.executor_shape("G.1X", "4.0")[0]


def test_worker_types_and_features_follow_version_and_job_type():
    assert "Standard" not in facts.allowed_worker_types("2.0", "glueetl")
    assert not facts.worker_type_allowed("Standard", "2.0", "glueetl")
    assert facts.worker_type_allowed("Standard", "1.0", "glueetl")
    assert facts.worker_type_allowed("G.025X", "3.0", "gluestreaming")
    assert not facts.worker_type_allowed("G.025X", "4.0", "glueetl")
    assert not facts.worker_type_allowed("R.1X", "3.0", "glueetl")
    assert facts.feature_allowed("flex", "3.0", "glueetl", "G.1X")
    assert not facts.feature_allowed("flex", "2.0", "glueetl", "G.1X")
    assert not facts.feature_allowed("flex", "4.0", "gluestreaming", "G.1X")
    assert facts.feature_allowed("auto_scaling", "4.0", "gluestreaming", "G.025X")
    assert not facts.feature_allowed("auto_scaling", "2.0", "glueetl", "G.1X")
    assert facts.feature_allowed("observability_metrics", "4.0", "glueetl")
    assert not facts.feature_allowed("observability_metrics", "3.0", "glueetl")
    for name in REGISTRY["worker_types"]:
        info = facts.worker_type(name)
        assert info.dpu > 0 and info.vcpu > 0 and info.memory_gb > 0 and info.disk_gb > 0


def _python_files() -> list[Path]:
    files = [*(ROOT / "advisor").rglob("*.py"), *(ROOT / "dashboards").rglob("*.py")]
    return [p for p in files if p.name != "facts.py"]


def _constants(tree: ast.AST) -> list[ast.Constant]:
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.FunctionDef | ast.ClassDef | ast.AsyncFunctionDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    return [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and id(node) not in docstrings
    ]


def test_no_code_hard_codes_a_fact_the_registry_holds():
    numbers = _registry_numbers()
    offenders = []
    for path in _python_files():
        tree = ast.parse(path.read_text())
        for node in _constants(tree):
            value = node.value
            where = f"{path.relative_to(ROOT)}:{node.lineno}"
            if isinstance(value, str) and WORKER_NAME.match(value) and value != "Standard":
                offenders.append(f"{where} worker type {value!r}")
            elif isinstance(value, str) and WORKER_IN_TEXT.search(value):
                offenders.append(f"{where} worker type in text {value[:60]!r}")
            elif (isinstance(value, float) and value in numbers and not value.is_integer()) or (
                isinstance(value, int) and not isinstance(value, bool) and value in (2880, 10080)
            ):
                offenders.append(f"{where} number {value}")
    assert not offenders, "facts stated outside the registry:\n" + "\n".join(offenders)


def _rule_texts(spec: dict) -> list[tuple[str, str]]:
    """The parts of a rule a user reads or a fix applies (examples and references excluded)."""
    texts = [("title", spec["title"]), ("message", spec["message"])]
    texts += [("advice", a["text"]) for a in spec.get("advice", [])]
    texts += [(f"remediation.{k}", v) for k, v in (spec.get("remediation") or {}).items()]
    texts += [(f"change.{k}", str(v)) for k, v in (spec.get("change") or {}).items()]
    texts += [("when", json.dumps(spec["when"]))]
    texts += [("advice.when", json.dumps(a.get("when"))) for a in spec.get("advice", [])]
    return texts


@pytest.mark.parametrize("path", sorted((ROOT / "rules").glob("*.yaml")), ids=lambda p: p.stem)
def test_no_rule_hard_codes_a_fact_the_registry_holds(path):
    spec = yaml.safe_load(path.read_text())
    numbers = {n for n in _registry_numbers() if n != int(n)}  # 0.44, 0.0625 ... not 480
    offenders = []
    for where, text in _rule_texts(spec):
        if WORKER_IN_TEXT.search(text):
            offenders.append(f"{where}: worker type in {text[:80]!r}")
        if GLUE_VERSION_IN_TEXT.search(text):
            offenders.append(f"{where}: Glue version in {text[:80]!r}")
        for number in numbers:
            if re.search(rf"(?<![\d.]){re.escape(repr(number))}(?![\d])", text):
                offenders.append(f"{where}: {number} in {text[:80]!r}")
    assert not offenders, "\n".join(offenders)


def test_the_facts_command_prints_every_fact_with_its_source():
    result = CliRunner().invoke(main, ["facts", "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["versions"]["2.0"]["end_of_life"] == "2026-04-01"
    assert data["versions"]["2.0"]["source"]["url"].startswith("https://docs.aws.amazon.com/")
    text = CliRunner().invoke(main, ["facts"])
    assert text.exit_code == 0
    assert "end of life" in text.output and "G.1X" in text.output
    assert "glue-version-support-policy" in text.output


def test_glue_1_0_on_python_3_left_support_with_its_own_date():
    """Glue 1.0's Python 3 runtime was supported until 2022-09-30, its Python 2 until
    2022-06-01 (glue-version-support-policy.html): a job is judged by the runtime it uses."""
    assert facts.version_status("1.0", "2022-07-01", "3").status == "supported"
    assert facts.version_status("1.0", "2022-07-01", "2").status == "end_of_support"
    assert facts.version_status("1.0", "2022-10-01", "3").end_of_support == "2022-09-30"
    assert facts.version_status("1.0", "2022-10-01").end_of_support == "2022-06-01"
