"""Reads template.yaml so the local stack builds what the deployed stack has, from one source."""

from __future__ import annotations

import copy
import functools
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

LOCAL_ACCOUNT = "000000000000"
LOCAL_REGION = "us-east-1"


class _CfnLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """YAML with CloudFormation's short-form tags (!Ref, !GetAtt, !Sub, ...); libyaml's parser
    where PyYAML has it (the template parses ~5x faster: every CLI command reads it)."""


def _intrinsic(loader: _CfnLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    name = "Ref" if suffix == "Ref" else f"Fn::{suffix}"
    value: Any
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
        if suffix == "GetAtt":
            value = str(value).split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    return {name: value}


_CfnLoader.add_multi_constructor("!", _intrinsic)


def load_template(path: Path) -> dict[str, Any]:
    """The template, parsed once per process and version of the file (a test provisions a stack
    from it each time); each caller gets a copy of its own."""
    return copy.deepcopy(_parsed(path.resolve(), path.stat().st_mtime_ns))


@functools.lru_cache(maxsize=4)
def _parsed(path: Path, modified_ns: int) -> dict[str, Any]:
    with path.open() as handle:
        document = yaml.load(handle, Loader=_CfnLoader)
    if not isinstance(document, dict) or "Resources" not in document:
        raise ValueError(f"{path} is not a CloudFormation template")
    return document


@dataclass
class Resolver:
    """Evaluates the intrinsics the template uses against local physical ids."""

    refs: dict[str, Any] = field(default_factory=dict)
    attributes: dict[tuple[str, str], Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.refs.setdefault("AWS::Region", LOCAL_REGION)
        self.refs.setdefault("AWS::AccountId", LOCAL_ACCOUNT)
        self.refs.setdefault("AWS::Partition", "aws")
        self.refs.setdefault("AWS::URLSuffix", "amazonaws.com")
        self.refs.setdefault("AWS::StackName", "bcsync-local")

    def resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            return [self.resolve(item) for item in value]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((key, argument),) = value.items()
            if key == "Ref":
                return self.refs[argument]
            if key == "Fn::GetAtt":
                return self.attributes[(argument[0], argument[1])]
            if key == "Fn::Sub":
                return self._sub(argument)
            if key == "Fn::Join":
                separator, parts = argument
                return separator.join(str(self.resolve(part)) for part in parts)
        return {key: self.resolve(inner) for key, inner in value.items()}

    def _sub(self, template: str) -> str:
        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if "." in name and not name.startswith("AWS::"):
                logical, attribute = name.split(".", 1)
                return str(self.attributes[(logical, attribute)])
            return str(self.refs[name])

        return re.sub(r"\$\{([^}]+)\}", replace, template)


def resources_of(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {
        name: resource.get("Properties", {})
        for name, resource in template["Resources"].items()
        if resource.get("Type") == kind
    }


def parameter_defaults(template: dict[str, Any]) -> dict[str, Any]:
    return {name: spec.get("Default") for name, spec in template.get("Parameters", {}).items()}
