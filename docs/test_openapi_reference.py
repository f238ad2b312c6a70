"""The web API page's renderer reads OpenAPI 3.0 and 3.1 alike and drops nothing in silence."""

from __future__ import annotations

import copy
import json
import re
import sys
from pathlib import Path
from typing import Any

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "_ext"))

from openapi_reference import _Renderer  # noqa: E402 - found through the path set just above

DOCUMENT: dict[str, Any] = json.loads((HERE.parent / "src" / "fastfun" / "openapi.json").read_text())


def rendered(document: dict[str, Any]) -> tuple[str, list[str]]:
    """The page's text and the warnings the build would fail on."""
    renderer = _Renderer(document, "openapi.json", "webapi")
    warnings: list[str] = []
    renderer.warn = lambda where, message: warnings.append(f"{where}: {message}")  # type: ignore[method-assign]
    return "\n".join(node.astext() for node in renderer.render()), warnings


def as_3_1(document: dict[str, Any]) -> dict[str, Any]:
    """The same API written the 3.1 way: nullable as a "null" type, bounds as numbers."""
    new = copy.deepcopy(document)
    new["openapi"] = "3.1.0"

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.pop("nullable", False):
                if "oneOf" in node:
                    node["oneOf"].append({"type": "null"})
                else:
                    node["type"] = [node["type"], "null"]
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(new)
    return new


def test_every_operation_and_schema_of_the_document_has_a_section() -> None:
    text, warnings = rendered(DOCUMENT)
    assert warnings == []
    for path, item in DOCUMENT["paths"].items():
        for method in item:
            assert f"{method.upper()} {path}\n" in text
    for name in DOCUMENT["components"]["schemas"]:
        assert f"Schema {name}\n" in text


def test_nullable_reads_the_same_in_3_0_and_3_1() -> None:
    schema = {"nullable": True, "oneOf": [{"type": "integer"}, {"type": "string", "enum": ["Fizz"]}]}
    document = {"openapi": "3.0.3", "info": {}, "paths": {}, "components": {"schemas": {"S": schema}}}
    text, warnings = rendered(as_3_1(document))
    assert warnings == []
    assert 'Schema S\n\ninteger or string, one of "Fizz" or null' in text
    assert text.replace("3.1.0", "3.0.3") == rendered(document)[0]


def test_the_document_reads_the_same_in_3_0_and_3_1() -> None:
    version = re.compile(r"OpenAPI 3\.[01]\.\d+")
    text, _ = rendered(DOCUMENT)
    assert version.sub("", rendered(as_3_1(DOCUMENT))[0]) == version.sub("", text)


@pytest.mark.parametrize(
    ("schema", "shown"),
    [
        ({"type": ["string", "null"], "format": "date"}, "string (date) or null"),
        ({"oneOf": [{"type": "integer", "minimum": 1}, {"type": "null"}]}, "integer, >= 1 or null"),
        ({"type": "integer", "exclusiveMinimum": 0}, "integer, above 0"),
        ({"type": "integer", "minimum": 0, "exclusiveMinimum": True}, "integer, above 0"),
        ({"const": "success"}, 'exactly "success"'),
        ({"type": "array", "items": {"type": "string"}, "maxItems": 3}, "array of string, at most 3 items"),
    ],
)
def test_a_schema_is_shown_as_one_line(schema: dict[str, Any], shown: str) -> None:
    document = {"openapi": "3.1.0", "info": {}, "paths": {}, "components": {"schemas": {"S": schema}}}
    text, warnings = rendered(document)
    assert warnings == []
    assert f"Schema S\n\n{shown}" in text


def test_a_keyword_it_cannot_show_fails_the_build() -> None:
    document = copy.deepcopy(DOCUMENT)
    document["components"]["schemas"]["Notification"]["discriminator"] = {"propertyName": "kind"}
    document["paths"]["/healthz"]["get"]["requestBody"] = {"content": {}}
    _, warnings = rendered(document)
    assert sorted(warnings) == [
        "components/schemas/Notification: the keyword 'discriminator' is not rendered by openapi_reference",
        "paths//healthz/get: the keyword 'requestBody' is not rendered by openapi_reference",
    ]
