"""Two in-process transports for the real BigCommerce client, and the shape comparison.

`PublishedApi` answers from the hand-written fixtures; `SandboxApi` asks the sandbox store. The
client under test is the production `BigCommerceClient`, so a fixture is parsed exactly as a
live answer would be (status codes, `data` unwrapping, paging, 204 as empty).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, get_args
from urllib.parse import parse_qsl, urlsplit

import urllib3
from pydantic import AliasChoices, BaseModel
from pydantic.fields import FieldInfo

from bcsync.adapters.bigcommerce import BigCommerceClient
from bcsync_ops.sandbox import SandboxStore

PUBLISHED = Path(__file__).parent / "published"
# A published answer: a fixture (200), a status and a fixture (e.g. 201 for a creation), or None (204).
Route = str | tuple[int, str] | None
STORE_HASH = "sandbox"
TOKEN = "sandbox-access-token"


def published(name: str) -> Any:
    return json.loads((PUBLISHED / name).read_text())


@dataclass
class Exchange:
    method: str
    path: str
    query: dict[str, str]
    status: int
    body: Any


@dataclass
class Transport:
    """Stands in for urllib3's pool: the client's requests are answered in-process."""

    exchanges: list[Exchange] = field(default_factory=list)

    def request(self, method: str, url: str, body: bytes | None = None, **_: Any) -> urllib3.HTTPResponse:
        parts = urlsplit(url)
        path = parts.path.removeprefix(f"/stores/{STORE_HASH}")
        query = dict(parse_qsl(parts.query))
        sent = json.loads(body) if body else None
        status, answer = self.answer(method, path, query, sent)
        self.exchanges.append(Exchange(method, path, query, status, answer))
        data = b"" if answer is None else json.dumps(answer).encode()
        return urllib3.HTTPResponse(body=data, status=status, headers={"Content-Type": "application/json"})

    def answer(self, method: str, path: str, query: dict[str, str], body: Any) -> tuple[int, Any]:
        raise NotImplementedError

    def client(self) -> BigCommerceClient:
        return BigCommerceClient(
            api_url="https://api.bigcommerce.com",
            store_hash=STORE_HASH,
            access_token=TOKEN,
            http=self,  # type: ignore[arg-type]
            budget_seconds=5,
            sleep=lambda _: None,
        )


@dataclass
class PublishedApi(Transport):
    """Answers `(method, path)` with a fixture file (None: 204 No Content), page 1 only unless
    the route names later pages as `path?page=N`."""

    routes: Mapping[str, Route] = field(default_factory=dict)

    def answer(self, method: str, path: str, query: dict[str, str], body: Any) -> tuple[int, Any]:
        page = query.get("page", "1")
        key = f"{method} {path}" + (f"?page={page}" if page != "1" else "")
        if key not in self.routes:
            return 404, {"status": 404, "title": f"no published answer for {key}"}
        route = self.routes[key]
        if route is None:
            return 204, None
        status, name = route if isinstance(route, tuple) else (200, route)
        return status, published(name)


@dataclass
class SandboxApi(Transport):
    store: SandboxStore | None = None

    def answer(self, method: str, path: str, query: dict[str, str], body: Any) -> tuple[int, Any]:
        assert self.store is not None
        status, payload, _ = self.store.answer(f"/stores/{STORE_HASH}{path}", query, TOKEN, method=method, body=body)
        return status, payload


# ---------------------------------------------------------------------- shapes
def json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    return {str: "string", list: "array", dict: "object"}[type(value)]


def shape_errors(answer: Any, reference: Any, where: str = "$") -> list[str]:
    """Where `answer` leaves the published `reference`: a field it does not have, or another JSON
    type (null matches anything: nullable fields). Array items are compared with every published
    item merged, so a published array must show each kind of item the answer holds."""
    kind, expected = json_type(answer), json_type(reference)
    if "null" in (kind, expected):
        return []
    if kind != expected:
        return [f"{where}: {kind}, published as {expected}"]
    if kind == "object":
        errors = []
        for key, value in answer.items():
            if key not in reference:
                errors.append(f"{where}.{key}: not in the published shape")
            else:
                errors += shape_errors(value, reference[key], f"{where}.{key}")
        return errors
    if kind == "array" and answer:
        if not reference:
            return [f"{where}: items where the published array shows none"]
        merged = _merged(reference)
        return [error for index, item in enumerate(answer) for error in shape_errors(item, merged, f"{where}[{index}]")]
    return []


def _merged(items: list[Any]) -> Any:
    if not all(isinstance(item, dict) for item in items):
        return items[0]
    merged: dict[str, Any] = {}
    for item in items:
        for key, value in item.items():
            if merged.get(key) is None:
                merged[key] = value
    return merged


# ---------------------------------------------------------------------- model fields
def unpublished_fields(model: type[BaseModel], data: Any, where: str = "$") -> list[str]:
    """Fields `model` reads that the published `data` does not have: a model reading a field
    BigCommerce never sends parses to its default, silently. An empty object (`{}` billing
    before it is filled) or an empty array says nothing about its items, so it is skipped."""
    if isinstance(data, list):
        return [
            error for index, item in enumerate(data) for error in unpublished_fields(model, item, f"{where}[{index}]")
        ]
    if not isinstance(data, dict) or not data:
        return []
    errors = []
    for name, info in model.model_fields.items():
        aliases = _aliases(name, info)
        present = [alias for alias in aliases if alias in data]
        if not present:
            errors.append(f"{where}.{'|'.join(aliases)}: read by {model.__name__}, not published")
            continue
        nested = _model_in(info.annotation)
        if nested is not None:
            errors += unpublished_fields(nested, data[present[0]], f"{where}.{present[0]}")
    return errors


def _aliases(name: str, info: FieldInfo) -> list[str]:
    choices = info.validation_alias
    if isinstance(choices, AliasChoices):
        return [str(choice) for choice in choices.choices]
    return [str(choices or info.alias or name)]


def _model_in(annotation: Any) -> type[BaseModel] | None:
    """The model inside `Model`, `Model | None` or `list[Model]`."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for argument in get_args(annotation):
        found = _model_in(argument)
        if found is not None:
            return found
    return None
