"""``.. openapi-reference:: PATH``: an OpenAPI 3.0 or 3.1 document rendered at build time.

Each operation becomes a section (method and path, summary, parameters, responses with their
headers and body schemas) and each component schema a section that ``$ref`` links point to.
Nullable types are read both ways: 3.0's ``nullable: true`` and 3.1's ``type: [..., "null"]``
or a ``{"type": "null"}`` alternative. A keyword this renderer does not know is a warning (an
error under ``-W``), never dropped in silence, so a new field in the document cannot vanish
from the page.

Why not sphinxcontrib-openapi (0.10.0, tried): it shows no response bodies except as invented
examples (``"message": 1``, ``"year": 1``, the build's own date as ``date``), lists the
response headers twice, and its directive emits reStructuredText, so it cannot sit in a
Markdown page.
"""

from __future__ import annotations

import http
import json
from pathlib import Path
from typing import Any

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective

logger = logging.getLogger(__name__)

# The schema keywords rendered below; any other is reported.
SCHEMA_KEYWORDS = frozenset(
    {
        "$ref", "type", "format", "enum", "const", "nullable", "oneOf", "anyOf", "allOf", "items",
        "properties", "required", "additionalProperties", "minimum", "maximum", "exclusiveMinimum",
        "exclusiveMaximum", "minLength", "maxLength", "pattern", "minItems", "maxItems",
        "uniqueItems", "multipleOf", "description", "title", "example", "examples", "default",
        "readOnly", "writeOnly", "deprecated",
    }
)  # fmt: skip
OPERATION_KEYWORDS = frozenset({"summary", "description", "parameters", "responses", "operationId", "tags"})
PARAMETER_KEYWORDS = frozenset({"name", "in", "required", "description", "schema", "deprecated", "example"})
RESPONSE_KEYWORDS = frozenset({"description", "headers", "content"})
HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


def _code(text: str) -> nodes.literal:
    return nodes.literal(text, text)


def _json(value: Any) -> str:
    return str(json.dumps(value, ensure_ascii=False))


class _Renderer:
    def __init__(self, document: dict[str, Any], source: str, docname: str) -> None:
        self.document = document
        self.source = source
        self.docname = docname

    def warn(self, where: str, message: str) -> None:
        logger.warning("%s: %s: %s", self.source, where, message, location=self.docname)

    def check_keys(self, where: str, mapping: dict[str, Any], known: frozenset[str]) -> None:
        for key in sorted(set(mapping) - known):
            if not key.startswith("x-"):
                self.warn(where, f"the keyword {key!r} is not rendered by openapi_reference")

    def resolve(self, item: dict[str, Any]) -> dict[str, Any]:
        """A parameter or response, its local ``$ref`` followed."""
        while "$ref" in item:
            target: Any = self.document
            for part in item["$ref"].removeprefix("#/").split("/"):
                target = target[part]
            item = target
        return item

    # -- schemas --------------------------------------------------------------------------

    def schema_anchor(self, name: str) -> str:
        return nodes.make_id(f"schema-{name}")

    def type_of(self, schema: dict[str, Any], where: str) -> list[nodes.Node]:
        """One line saying what a value may be: types, formats, bounds, enums, null."""
        self.check_keys(where, schema, SCHEMA_KEYWORDS)
        if "$ref" in schema:
            name = schema["$ref"].rsplit("/", 1)[-1]
            ref = nodes.reference("", "", internal=True, refid=self.schema_anchor(name))
            ref += nodes.Text(name)
            return [ref]
        out: list[nodes.Node] = []
        alternatives = schema.get("oneOf") or schema.get("anyOf")
        if alternatives:
            for i, alternative in enumerate(alternatives):
                if i:
                    out.append(nodes.Text(" or "))
                out += self.type_of(alternative, f"{where}/oneOf/{i}")
        if "allOf" in schema:
            for i, part in enumerate(schema["allOf"]):
                if i:
                    out.append(nodes.Text(" and "))
                out += self.type_of(part, f"{where}/allOf/{i}")
        types = schema.get("type")
        names = [types] if isinstance(types, str) else list(types or [])
        if schema.get("nullable") and "null" not in names:
            names.append("null")
        for name in names:
            if out:
                out.append(nodes.Text(" or "))
            if name == "array" and "items" in schema:
                out.append(nodes.Text("array of "))
                out += self.type_of(schema["items"], f"{where}/items")
            else:
                out.append(nodes.Text(name))
            if name != "null" and "format" in schema:
                out.append(nodes.Text(f" ({schema['format']})"))
        if not out and ("enum" not in schema and "const" not in schema):
            out.append(nodes.Text("any value"))
        out += self.constraints(schema, leading=bool(out))
        return out

    def constraints(self, schema: dict[str, Any], leading: bool) -> list[nodes.Node]:
        parts: list[list[nodes.Node]] = []
        if "enum" in schema:
            values: list[nodes.Node] = [nodes.Text("one of ")]
            for i, value in enumerate(schema["enum"]):
                if i:
                    values.append(nodes.Text(", "))
                values.append(_code(_json(value)))
            parts.append(values)
        if "const" in schema:
            parts.append([nodes.Text("exactly "), _code(_json(schema["const"]))])
        low, high = schema.get("minimum"), schema.get("maximum")
        for key, word in (("exclusiveMinimum", "above"), ("exclusiveMaximum", "below")):
            value = schema.get(key)
            if isinstance(value, bool):  # 3.0: a flag on minimum/maximum
                if value:
                    bound = low if key == "exclusiveMinimum" else high
                    parts.append([nodes.Text(f"{word} {bound}")])
                    if key == "exclusiveMinimum":
                        low = None
                    else:
                        high = None
            elif value is not None:  # 3.1: the bound itself
                parts.append([nodes.Text(f"{word} {value}")])
        if low is not None and high is not None:
            parts.append([nodes.Text(f"{low}..{high}")])
        elif low is not None:
            parts.append([nodes.Text(f">= {low}")])
        elif high is not None:
            parts.append([nodes.Text(f"<= {high}")])
        for key, text in (
            ("minLength", "at least {} characters"),
            ("maxLength", "at most {} characters"),
            ("minItems", "at least {} items"),
            ("maxItems", "at most {} items"),
            ("multipleOf", "a multiple of {}"),
        ):
            if key in schema:
                parts.append([nodes.Text(text.format(schema[key]))])
        if schema.get("uniqueItems"):
            parts.append([nodes.Text("items unique")])
        if "pattern" in schema:
            parts.append([nodes.Text("matching "), _code(schema["pattern"])])
        if "default" in schema:
            parts.append([nodes.Text("default "), _code(_json(schema["default"]))])
        examples = list(schema.get("examples", []))
        if "example" in schema:
            examples.insert(0, schema["example"])
        if examples:
            shown: list[nodes.Node] = [nodes.Text("e.g. ")]
            for i, value in enumerate(examples):
                if i:
                    shown.append(nodes.Text(", "))
                shown.append(_code(_json(value)))
            parts.append(shown)
        for flag in ("readOnly", "writeOnly", "deprecated"):
            if schema.get(flag):
                parts.append([nodes.Text(flag)])
        if not parts:
            return []
        out: list[nodes.Node] = []
        for i, part in enumerate(parts):
            if i or leading:
                out.append(nodes.Text("; " if i else ", "))
            out += part
        return out

    def schema_body(self, schema: dict[str, Any], where: str) -> list[nodes.Node]:
        """The schema's type line, its description, and its properties as a nested list."""
        line = nodes.paragraph()
        line += self.type_of(schema, where)
        body: list[nodes.Node] = [line]
        if "description" in schema:
            body.append(nodes.paragraph(text=schema["description"]))
        body += self.properties(schema, where)
        return body

    def properties(self, schema: dict[str, Any], where: str) -> list[nodes.Node]:
        if "properties" not in schema:
            return []
        required = set(schema.get("required", []))
        items = nodes.bullet_list()
        for name, sub in schema["properties"].items():
            item = nodes.list_item()
            line = nodes.paragraph()
            line += _code(name)
            line += nodes.Text(" (required): " if name in required else " (optional): ")
            line += self.type_of(sub, f"{where}/properties/{name}")
            if "description" in sub:
                line += nodes.Text(f" — {sub['description']}")
            item += line
            item += self.properties(sub, f"{where}/properties/{name}")
            if sub.get("type") == "array" and isinstance(sub.get("items"), dict):
                item += self.properties(sub["items"], f"{where}/properties/{name}/items")
            items += item
        extra = schema.get("additionalProperties")
        out: list[nodes.Node] = [items]
        if extra is False:
            out.append(nodes.paragraph(text="No other properties."))
        return out

    # -- operations -----------------------------------------------------------------------

    def parameters(self, operation: dict[str, Any], where: str) -> list[nodes.Node]:
        if not operation.get("parameters"):
            return []
        items = nodes.bullet_list()
        for i, raw in enumerate(operation["parameters"]):
            parameter = self.resolve(raw)
            here = f"{where}/parameters/{i}"
            self.check_keys(here, parameter, PARAMETER_KEYWORDS)
            line = nodes.paragraph()
            line += _code(parameter["name"])
            required = "required" if parameter.get("required") else "optional"
            line += nodes.Text(f" ({parameter['in']}, {required}): ")
            line += self.type_of(parameter.get("schema", {}), f"{here}/schema")
            if "description" in parameter:
                line += nodes.Text(f" — {parameter['description']}")
            items += nodes.list_item("", line)
        return [nodes.rubric(text="Parameters"), items]

    def responses(self, operation: dict[str, Any], where: str) -> list[nodes.Node]:
        answers = nodes.definition_list()
        for status, raw in operation.get("responses", {}).items():
            response = self.resolve(raw)
            here = f"{where}/responses/{status}"
            self.check_keys(here, response, RESPONSE_KEYWORDS)
            try:
                reason = http.HTTPStatus(int(status)).phrase
            except ValueError:
                reason = ""
            term = nodes.term()
            term += _code(f"{status} {reason}".strip())
            definition = nodes.definition()
            definition += nodes.paragraph(text=response.get("description", ""))
            headers = response.get("headers", {})
            if headers:
                listed = nodes.bullet_list()
                for name, raw_header in headers.items():
                    header = self.resolve(raw_header)
                    line = nodes.paragraph()
                    line += nodes.Text("header ")
                    line += _code(name)
                    line += nodes.Text(": ")
                    line += self.type_of(header.get("schema", {}), f"{here}/headers/{name}/schema")
                    if "description" in header:
                        line += nodes.Text(f" — {header['description']}")
                    listed += nodes.list_item("", line)
                definition += listed
            for media, content in response.get("content", {}).items():
                line = nodes.paragraph()
                line += nodes.Text("body ")
                line += _code(media)
                line += nodes.Text(": ")
                definition += line
                schema = content.get("schema", {})
                block = nodes.block_quote()
                block += self.schema_body(schema, f"{here}/content/{media}/schema")
                definition += block
            answers += nodes.definition_list_item("", term, definition)
        return [nodes.rubric(text="Responses"), answers]

    def render(self) -> list[nodes.Node]:
        doc = self.document
        version = str(doc.get("openapi", ""))
        if not version.startswith(("3.0.", "3.1.")):
            self.warn("openapi", f"version {version!r}: this renderer reads OpenAPI 3.0 and 3.1")
        info = doc.get("info", {})
        intro = nodes.paragraph()
        intro += nodes.Text(
            f"{info.get('title', '')}, version {info.get('version', '?')} (OpenAPI {version}). "
        )
        intro += nodes.Text(info.get("description", ""))
        out: list[nodes.Node] = [intro]
        for path, item in doc.get("paths", {}).items():
            for method in HTTP_METHODS:
                if method not in item:
                    continue
                operation = item[method]
                where = f"paths/{path}/{method}"
                self.check_keys(where, operation, OPERATION_KEYWORDS)
                title = f"{method.upper()} {path}"
                section = nodes.section(ids=[nodes.make_id(title)])
                section += nodes.title(text=title)
                if "summary" in operation:
                    section += nodes.paragraph(text=operation["summary"] + ".")
                if "description" in operation:
                    section += nodes.paragraph(text=operation["description"])
                shared = {"parameters": item.get("parameters", []) + operation.get("parameters", [])}
                section += self.parameters(shared, where)
                section += self.responses(operation, where)
                out.append(section)
        schemas = doc.get("components", {}).get("schemas", {})
        for name, schema in schemas.items():
            section = nodes.section(ids=[self.schema_anchor(name)])
            section += nodes.title(text=f"Schema {name}")
            section += self.schema_body(schema, f"components/schemas/{name}")
            out.append(section)
        return out


class OpenAPIReference(SphinxDirective):
    required_arguments = 1

    def run(self) -> list[nodes.Node]:
        relative, absolute = self.env.relfn2path(self.arguments[0], self.env.docname)
        self.env.note_dependency(relative)  # the page is rebuilt whenever the document changes
        document = json.loads(Path(absolute).read_text(encoding="utf-8"))
        return _Renderer(document, self.arguments[0], self.env.docname).render()


def setup(app: Sphinx) -> dict[str, Any]:
    app.add_directive("openapi-reference", OpenAPIReference)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
