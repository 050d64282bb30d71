"""The read API against its own OpenAPI document: the document is whole (every reference resolves,
every path parameter is declared), and any values of the documented parameters, however odd, get
JSON with a documented status: never a 5xx, a 4xx always says why."""

from __future__ import annotations

import json
import re
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.integration.test_read_api import call

ODD_TEXT = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=40)
VALUES = st.one_of(
    ODD_TEXT,
    st.integers(min_value=-(10**6), max_value=10**6).map(str),
    st.sampled_from(["", "0", "store", "utc", "Placed Order"]),
)


def document(stack) -> dict[str, Any]:
    status, body = call(stack, "GET", "/openapi.json")
    assert status == 200
    return body  # type: ignore[return-value]


def test_the_document_is_whole(stack):
    spec = document(stack)
    text = json.dumps(spec)
    for ref in set(re.findall(r'"\$ref": "#/components/schemas/([^"]+)"', text)):
        assert ref in spec["components"]["schemas"], ref
    for path, operations in spec["paths"].items():
        for operation in operations.values():
            declared = {p["name"] for p in operation.get("parameters", []) if p["in"] == "path" and p["required"]}
            assert declared == set(re.findall(r"{(\w+)}", path)), path
            assert "200" in operation["responses"] or "202" in operation["responses"], path


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_any_parameter_values_get_json_and_a_documented_status(stack, data):
    spec = document(stack)
    gets = [(path, op) for path, ops in spec["paths"].items() for verb, op in ops.items() if verb == "get"]
    path, operation = data.draw(st.sampled_from(gets))
    query: dict[str, str] = {}
    for parameter in operation.get("parameters", []):
        value = data.draw(VALUES)
        if parameter["in"] == "path":
            path = path.replace("{" + parameter["name"] + "}", value.replace("/", "_") or "x")
        elif parameter.get("required") or data.draw(st.booleans()):
            query[parameter["name"]] = value
    status, body = call(stack, "GET", path, query)
    assert status in (200, 400, 404), (path, query, status, body)
    assert isinstance(body, (dict, list)), (path, query, body)
    if status != 200:
        assert isinstance(body, dict) and body.get("error"), (path, query, body)
