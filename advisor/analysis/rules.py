"""The rule engine: load and validate rules/*.yaml, evaluate them on features, render findings.

A rule only compares precomputed features with thresholds (a fixed operator table, nothing is
eval'd) and fills format strings; arithmetic lives in features.py. A comparison on a missing
feature is false; a rule whose required data source is absent is "not evaluated", never passing.
"""

from __future__ import annotations

import functools
import json
import operator
import string
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from advisor.analysis.runstats import SEVERITIES
from advisor.identity import UNKNOWN_REGION, argument_label
from advisor.safe_text import shell_word

_OPS: dict[str, Callable[[Any, Any], bool]] = {
    "eq": operator.eq,
    "ne": operator.ne,
    "gt": operator.gt,
    "gte": operator.ge,
    "lt": operator.lt,
    "lte": operator.le,
    "in": lambda a, b: a in b,
    "not_in": lambda a, b: a not in b,
}


class RuleError(Exception):
    """A rule file that is invalid, or a rule that failed while evaluating."""


@dataclass
class Outcome:
    rule_id: str
    fired: bool
    severity: str | None = None
    title: str = ""
    message: str = ""
    advice: list[str] = field(default_factory=list)
    remediation: dict[str, str] = field(default_factory=dict)
    evidence: dict[str, Any] = field(default_factory=dict)
    savings_dpu_hours_month: float | None = None
    savings_usd_month: float | None = None
    # Glue job fields to set ("DefaultArguments.--x" for one argument): outputs turn this into
    # an `aws glue update-job` and a Terraform snippet from the job's real definition
    change: dict[str, Any] = field(default_factory=dict)


# job fields whose values are numbers in Glue's API
NUMERIC_FIELDS = {"NumberOfWorkers": int, "Timeout": int, "MaxCapacity": float, "MaxRetries": int}


def render_change(spec: Mapping[str, Any], values: Mapping[str, Any]) -> dict[str, Any]:
    """A rule's `change` with its values filled in; a field whose value is unknown is left out."""
    out: dict[str, Any] = {}
    for key, template in spec.items():
        if template is None:  # a field the change removes (MaxCapacity when moving to workers)
            out[key] = None
            continue
        try:
            text = _FORMATTER.format(template, **values) if isinstance(template, str) else template
        except RuleError:  # a feature this job lacks: that field is not part of the change
            continue
        if text in ("unknown", "None", ""):
            continue
        cast = NUMERIC_FIELDS.get(key)
        try:
            out[key] = cast(float(text)) if cast else text
        except (TypeError, ValueError):
            continue
    return out


class _SafeFormatter(string.Formatter):
    """str.format over features, without attribute or index access."""

    def get_field(self, field_name: str, args: Any, kwargs: Any) -> Any:
        if not field_name.isidentifier():
            raise RuleError(f"only plain names may be formatted, not {field_name!r}")
        if field_name not in kwargs:
            raise RuleError(f"the text uses {{{field_name}}}, which has no value")
        return kwargs[field_name], field_name

    def format_field(self, value: Any, format_spec: str) -> str:
        # a feature the data could not provide (one branch of an `any` fired) reads "unknown"
        return "unknown" if value is None else super().format_field(value, format_spec)


_FORMATTER = _SafeFormatter()


@dataclass
class Rule:
    spec: dict[str, Any]
    path: Path | None = None

    @property
    def id(self) -> str:
        return self.spec["id"]

    def params(self, overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
        return {**self.spec.get("params", {}), **(overrides or {})}

    # ---- conditions ------------------------------------------------------------------------

    def holds(
        self,
        condition: Mapping[str, Any],
        features: Mapping[str, Any],
        params: Mapping[str, Any] | None = None,
    ) -> bool:
        """Evaluate a condition tree; `$name` always names a parameter, never a feature."""
        params = self.params() if params is None else params
        if "all" in condition:
            return all(self.holds(c, features, params) for c in condition["all"])
        if "any" in condition:
            return any(self.holds(c, features, params) for c in condition["any"])
        if "not" in condition:
            return not self.holds(condition["not"], features, params)
        if condition["feature"] not in features:
            return False
        left = features[condition["feature"]]
        right = condition.get("value")
        if isinstance(right, str) and right.startswith("$"):
            right = params.get(right[1:])
        if condition["op"] not in ("eq", "ne", "in", "not_in") and (left is None or right is None):
            return False
        try:
            return bool(_OPS[condition["op"]](left, right))
        except TypeError:
            return False

    def severity(self, values: Mapping[str, Any]) -> str:
        """The highest band the severity feature reaches. A rule that fired found a problem
        present in the data: it is at least `low` however little money is at stake."""
        spec = self.spec["severity"]
        value = values.get(spec["feature"])
        if not isinstance(value, int | float):
            return "low"
        below = spec.get("direction") == "below"
        reached = "low"
        for band in SEVERITIES[1:]:
            threshold = spec["bands"].get(band)
            if threshold is not None and ((value <= threshold) if below else (value >= threshold)):
                reached = band
        return reached

    # ---- evaluation ------------------------------------------------------------------------

    def evaluate(
        self, features: Mapping[str, Any], overrides: Mapping[str, Any] | None = None
    ) -> Outcome:
        params = self.params(overrides)
        values = {**params, **features}  # texts may show both
        if not self.holds(self.spec["when"], features, params):
            return Outcome(self.id, False)
        text = dict(values)
        # texts and commands name the job as AWS does; the key stays the finding's job
        text["job_name"] = features.get("glue_name") or features.get("job_name")
        # as one shell word: the name in an `advisor` command (as `advisor fix` finds it) and
        # in an `aws glue` one
        key = features.get("job_name")
        text["job_arg"] = shell_word(argument_label(key) if key else str(text["job_name"] or ""))
        text["glue_name_arg"] = shell_word(str(text["job_name"] or ""))
        # commands name the job's region (the same name may run in several); one not known
        # is left to the shell's
        region = features.get("region")
        text["region"] = region if region and region != UNKNOWN_REGION else "$AWS_REGION"
        advice = [
            _FORMATTER.format(a["text"], **text)
            for a in self.spec["advice"]
            if "when" not in a or self.holds(a["when"], values)
        ]
        savings = self.spec["savings"]
        remediation = {
            k: _FORMATTER.format(v, **text) for k, v in (self.spec.get("remediation") or {}).items()
        }
        return Outcome(
            self.id,
            True,
            self.severity(values),
            self.spec["title"],
            " ".join(_FORMATTER.format(self.spec["message"], **text).split()),
            advice,
            remediation,
            {k: features.get(k) for k in self.spec.get("evidence", [])},
            _number(features.get(savings.get("dpu_hours_month", ""))),
            _number(features.get(savings.get("usd_month", ""))),
            render_change(self.spec.get("change") or {}, text),
        )


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


# libyaml's safe loader where PyYAML has it: the same objects, several times faster
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@functools.cache
def _validator() -> jsonschema.protocols.Validator:
    """Built once: checking the schema itself on every rule cost 45 ms a rule."""
    schema = json.loads(resources.files("advisor.data").joinpath("rule.schema.json").read_text())
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def default_rules_dir() -> Path:
    return Path(__file__).resolve().parents[2] / "rules"


def load_rule(path: Path, validate: bool = True) -> Rule:
    """The rule in `path`, checked against the rule schema unless `validate` is False (for
    files known to have passed: the same bytes, checked by the same code)."""
    try:
        spec = yaml.load(path.read_text(), Loader=_LOADER)
        error = (
            jsonschema.exceptions.best_match(_validator().iter_errors(spec)) if validate else None
        )
        if error is not None:
            raise error
    except yaml.YAMLError as exc:
        raise RuleError(f"{path.name}: not valid YAML: {exc}") from exc
    except jsonschema.ValidationError as exc:
        where = "/".join(str(p) for p in exc.absolute_path) or "(top)"
        raise RuleError(f"{path.name}: {where}: {exc.message}") from exc
    if spec["id"] != path.stem:
        raise RuleError(f"{path.name}: id {spec['id']!r} must equal the file name")
    unknown = sorted(_params_used(spec) - set(spec.get("params") or {}))
    if unknown:
        raise RuleError(f"{path.name}: uses undefined parameter(s) {', '.join(unknown)}")
    return Rule(spec, path)


def _params_used(node: Any) -> set[str]:
    """Every `$name` a rule's conditions compare with."""
    if isinstance(node, dict):
        found = set()
        for key, value in node.items():
            if key == "examples":
                continue
            if key == "value" and isinstance(value, str) and value.startswith("$"):
                found.add(value[1:])
            else:
                found |= _params_used(value)
        return found
    if isinstance(node, list):
        return set().union(*(_params_used(v) for v in node)) if node else set()
    return set()


def load_rules(folder: Path | None = None, validate: bool = True) -> list[Rule]:
    folder = folder or default_rules_dir()
    return [load_rule(path, validate) for path in sorted(folder.glob("*.yaml"))]


def check_examples(rule: Rule) -> list[str]:
    """Run a rule's own examples; return what went wrong (empty when all pass)."""
    failures = []
    for example in rule.spec["examples"]:
        try:
            outcome = rule.evaluate(example["features"], example.get("params"))
        except RuleError as exc:
            failures.append(f"{example['name']}: {exc}")
            continue
        expect = example["expect"]
        if expect == "none":
            if outcome.fired:
                failures.append(f"{example['name']}: fired, expected nothing")
            continue
        if not outcome.fired:
            failures.append(f"{example['name']}: did not fire")
            continue
        if outcome.severity != expect["severity"]:
            failures.append(
                f"{example['name']}: severity {outcome.severity}, expected {expect['severity']}"
            )
        for needle in example.get("advice_contains", []):
            if not any(needle in text for text in outcome.advice):
                failures.append(f"{example['name']}: no advice contains {needle!r}")
        for needle in example.get("message_contains", []):
            if needle not in outcome.message:
                failures.append(f"{example['name']}: message lacks {needle!r}")
    return failures


def rule_rows() -> list[dict[str, Any]]:
    """Every rule as `advisor rules list` shows it (and the MCP server's rules tool)."""
    return [
        {
            "id": r.id,
            "problem": r.spec["problem"],
            "category": r.spec["category"],
            "scope": r.spec["scope"],
            "requires": r.spec["requires"],
            "title": r.spec["title"],
        }
        for r in load_rules()
    ]
