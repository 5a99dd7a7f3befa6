"""Validate requests and responses against Amazon's own Swagger 2.0 models.

The subset the SP-API models use, and no more: ``$ref`` to ``#/definitions``, ``type``
(object, array, string, integer, number, boolean), ``required``, ``properties``,
``additionalProperties`` (true, false or a schema), ``items``, ``enum``, ``minItems``/
``maxItems``, ``minLength``/``maxLength``, ``minimum``/``maximum`` and ``format: date-time``;
parameters ``in: path|query|body`` with ``collectionFormat: csv`` arrays. No dependency: the
project does not carry a JSON-schema library for this one use.

``validate`` returns a list of readable problems (empty: valid), each with the JSON path of
the offending value.
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote

CONTRACTS = Path(__file__).parent / "contracts"
_TYPES: dict[str, tuple[type, ...]] = {
    "object": (dict,),
    "array": (list,),
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
}


@dataclass(frozen=True)
class Operation:
    method: str
    template: str
    spec: dict[str, Any]

    @property
    def operation_id(self) -> str:
        return str(self.spec["operationId"])


class Contract:
    def __init__(self, document: dict[str, Any]) -> None:
        if document.get("swagger") != "2.0":
            raise ValueError("not a Swagger 2.0 document")
        self.document = document
        self.definitions: dict[str, Any] = document.get("definitions", {})
        self._routes = [
            (method.upper(), template, _template_regex(template), spec)
            for template, item in document["paths"].items()
            for method, spec in item.items()
            if method != "parameters"
        ]

    # -- lookup ----------------------------------------------------------------------------

    def match(self, method: str, path: str) -> tuple[Operation, dict[str, str]] | None:
        """The operation for a raw (still percent-encoded) path, and its decoded path params."""
        for route_method, template, pattern, spec in self._routes:
            found = pattern.fullmatch(path)
            if found and route_method == method:
                params = {name: unquote(value) for name, value in found.groupdict().items()}
                return Operation(route_method, template, spec), params
        return None

    def operation(self, operation_id: str) -> Operation:
        for method, template, _, spec in self._routes:
            if spec.get("operationId") == operation_id:
                return Operation(method, template, spec)
        raise KeyError(operation_id)

    def definition(self, name: str) -> dict[str, Any]:
        return dict(self.definitions[name])

    # -- requests --------------------------------------------------------------------------

    def validate_request(
        self,
        operation: Operation,
        *,
        path_params: dict[str, str],
        query: dict[str, list[str]],
        body: Any = None,
    ) -> list[str]:
        problems: list[str] = []
        declared = operation.spec.get("parameters", [])
        known_query = {p["name"] for p in declared if p["in"] == "query"}
        problems += [
            f"query: unknown parameter {name!r}" for name in query if name not in known_query
        ]
        for parameter in declared:
            where, name = parameter["in"], parameter["name"]
            if where == "body":
                if body is None:
                    if parameter.get("required"):
                        problems.append("body: required")
                    continue
                problems += self.validate(parameter["schema"], body, "body")
                continue
            if where == "path":
                raw = [path_params[name]] if name in path_params else []
            elif where == "query":
                raw = query.get(name, [])
            else:  # headers are the gateway's business
                continue
            if not raw:
                if parameter.get("required"):
                    problems.append(f"{where}: {name} is required")
                continue
            problems += self._validate_parameter(parameter, raw[-1], f"{where}.{name}")
        return problems

    def _validate_parameter(self, parameter: dict[str, Any], text: str, where: str) -> list[str]:
        if parameter.get("type") == "array":
            values = (
                text.split(",") if parameter.get("collectionFormat", "csv") == "csv" else [text]
            )
            problems = self.validate(
                {
                    key: parameter[key]
                    for key in ("items", "minItems", "maxItems")
                    if key in parameter
                }
                | {"type": "array"},
                [_coerce(parameter.get("items", {}), value) for value in values],
                where,
            )
        else:
            problems = self.validate(parameter, _coerce(parameter, text), where)
        return problems

    # -- schemas ---------------------------------------------------------------------------

    def response_schema(self, operation: Operation, status: int) -> dict[str, Any] | None:
        response = operation.spec["responses"].get(str(status))
        return None if response is None else response.get("schema")

    def validate_response(self, operation: Operation, status: int, body: Any) -> list[str]:
        schema = self.response_schema(operation, status)
        if schema is None:
            return [f"status {status} is not a documented response of {operation.operation_id}"]
        return self.validate(schema, body, "response")

    def validate(self, schema: dict[str, Any], instance: Any, where: str = "$") -> list[str]:
        while "$ref" in schema:
            schema = self.definitions[schema["$ref"].removeprefix("#/definitions/")]
        expected = schema.get("type")
        if expected is None and "properties" in schema:
            expected = "object"
        if expected is not None:
            accepted = _TYPES[expected]
            is_bool = isinstance(instance, bool)
            if not isinstance(instance, accepted) or (is_bool and expected != "boolean"):
                return [f"{where}: expected {expected}, got {type(instance).__name__}"]
        problems: list[str] = []
        if "enum" in schema and instance not in schema["enum"]:
            problems.append(f"{where}: {instance!r} is not one of {schema['enum']}")
        if isinstance(instance, dict):
            problems += self._validate_object(schema, instance, where)
        elif isinstance(instance, list):
            problems += self._validate_array(schema, instance, where)
        elif isinstance(instance, str):
            problems += _validate_string(schema, instance, where)
        elif isinstance(instance, int | float) and not isinstance(instance, bool):
            if "minimum" in schema and instance < schema["minimum"]:
                problems.append(f"{where}: {instance} is below the minimum {schema['minimum']}")
            if "maximum" in schema and instance > schema["maximum"]:
                problems.append(f"{where}: {instance} is above the maximum {schema['maximum']}")
        return problems

    def _validate_object(
        self, schema: dict[str, Any], instance: dict[str, Any], where: str
    ) -> list[str]:
        problems = [
            f"{where}: {name!r} is required"
            for name in schema.get("required", [])
            if name not in instance
        ]
        properties = schema.get("properties", {})
        extra = schema.get("additionalProperties", True)
        for name, value in instance.items():
            if name in properties:
                problems += self.validate(properties[name], value, f"{where}.{name}")
            elif extra is False:
                problems.append(f"{where}: unknown property {name!r}")
            elif isinstance(extra, dict):
                problems += self.validate(extra, value, f"{where}.{name}")
        return problems

    def _validate_array(self, schema: dict[str, Any], instance: list[Any], where: str) -> list[str]:
        problems = []
        if "minItems" in schema and len(instance) < schema["minItems"]:
            problems.append(f"{where}: fewer than {schema['minItems']} items")
        if "maxItems" in schema and len(instance) > schema["maxItems"]:
            problems.append(f"{where}: more than {schema['maxItems']} items")
        item_schema = schema.get("items")
        if item_schema is not None:
            for index, value in enumerate(instance):
                problems += self.validate(item_schema, value, f"{where}[{index}]")
        return problems


@functools.cache
def load_contract(name: str) -> Contract:
    """One of the vendored models, parsed once per process."""
    return Contract(json.loads((CONTRACTS / name).read_text()))


def _validate_string(schema: dict[str, Any], instance: str, where: str) -> list[str]:
    problems = []
    if "minLength" in schema and len(instance) < schema["minLength"]:
        problems.append(f"{where}: shorter than {schema['minLength']}")
    if "maxLength" in schema and len(instance) > schema["maxLength"]:
        problems.append(f"{where}: longer than {schema['maxLength']}")
    if schema.get("format") == "date-time":
        try:
            datetime.fromisoformat(instance)
        except ValueError:
            problems.append(f"{where}: {instance!r} is not an ISO 8601 date-time")
    return problems


def _coerce(schema: dict[str, Any], text: str) -> Any:
    """Query and path values arrive as text; type them as the parameter declares."""
    kind = schema.get("type")
    try:
        if kind == "integer":
            return int(text)
        if kind == "number":
            return float(text)
    except ValueError:
        return text
    if kind == "boolean" and text in ("true", "false"):
        return text == "true"
    return text


def _template_regex(template: str) -> re.Pattern[str]:
    parts = re.split(r"(\{[^}]+\})", template)
    regex = "".join(
        f"(?P<{part[1:-1]}>[^/]+)" if part.startswith("{") else re.escape(part) for part in parts
    )
    return re.compile(regex)
