"""A read-only view of the synthesized templates, and helpers to compare them with the catalog."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from infra import catalog

REPO = Path(__file__).resolve().parents[2]
STAGES = ("dev", "prod")


def missing_function_code() -> list[str]:
    return [f.name for f in catalog.FUNCTIONS if not (REPO / "functions" / f.name / "app.py").is_file()]


@dataclass
class Stage:
    name: str
    template: dict[str, Any]
    metadata: dict[str, Any]

    @property
    def resources(self) -> dict[str, dict[str, Any]]:
        resources: dict[str, dict[str, Any]] = self.template["Resources"]
        return resources

    def of_type(self, type_: str) -> dict[str, dict[str, Any]]:
        return {k: r for k, r in self.resources.items() if r["Type"] == type_}

    def at(self, path: str, type_: str | None = None) -> tuple[str, dict[str, Any]]:
        """The one resource whose construct path (below the stack) is `path`."""
        full = f"{catalog.SERVICE_NAME}-{self.name}/{path}"
        found = [
            (k, r)
            for k, r in self.resources.items()
            if r.get("Metadata", {}).get("aws:cdk:path") == full and (type_ is None or r["Type"] == type_)
        ]
        assert len(found) == 1, f"expected one resource at {full}, found {[k for k, _ in found]}"
        return found[0]

    def logical_id(self, path: str, type_: str | None = None) -> str:
        return self.at(path, type_)[0]


@dataclass
class Synth:
    outdir: Path
    stages: dict[str, Stage]
    validation_report: dict[str, Any]

    @property
    def dev(self) -> Stage:
        return self.stages["dev"]

    @property
    def prod(self) -> Stage:
        return self.stages["prod"]

    def all(self) -> Iterator[Stage]:
        return iter(self.stages.values())

    @property
    def region(self) -> str:
        """The one region the stacks were synthesized for (the test environment's, tests/conftest.py)."""
        manifest = json.loads((self.outdir / "manifest.json").read_text())
        (region,) = {
            artifact["environment"].rsplit("/", 1)[-1]
            for artifact in manifest["artifacts"].values()
            if artifact["type"] == "aws:cloudformation:stack"
        }
        return str(region)


def ref(value: Any) -> str:
    """A readable form of a CloudFormation reference: `X`, `X.Arn`, `X.Arn/index/*`, or the literal."""
    if isinstance(value, str):
        return value
    if "Ref" in value:
        return str(value["Ref"])
    if "Fn::GetAtt" in value:
        return ".".join(str(part) for part in value["Fn::GetAtt"])
    if "Fn::Join" in value:
        separator, parts = value["Fn::Join"]
        return str(separator).join(ref(p) for p in parts)
    return json.dumps(value, sort_keys=True)


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]
