"""Parse GraphQL operations: the executable subset a Shopify Admin client sends.

One operation per document (query or mutation, named or not) with variable definitions,
fields with aliases, arguments and directives, nested selections and inline fragments
(``... on ProductVariant { }``). Named fragments and subscriptions are refused: the sandbox
is strict about what it understands rather than guessing. Values: variables, ints, floats,
strings (with escapes), booleans, null, enums, lists and input objects.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

_TOKEN = re.compile(
    r"""
    (?P<skip>[\s,\ufeff]+|\#[^\n]*)
    |(?P<spread>\.\.\.)
    |(?P<punct>[!$()\[\]{}:=@|&])
    |(?P<number>-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?)
    |(?P<string>"(?:[^"\\\n]|\\.)*")
    |(?P<name>[_A-Za-z][_0-9A-Za-z]*)
    """,
    re.VERBOSE,
)


class GraphQLSyntaxError(ValueError):
    def __init__(self, message: str, line: int, column: int) -> None:
        super().__init__(message)
        self.line = line
        self.column = column


@dataclass(frozen=True)
class Variable:
    name: str


@dataclass(frozen=True)
class EnumValue:
    name: str


@dataclass
class Directive:
    name: str
    arguments: dict[str, Any]


@dataclass
class Field:
    name: str
    alias: str | None = None
    arguments: dict[str, Any] = field(default_factory=dict)
    directives: list[Directive] = field(default_factory=list)
    selections: list[Field | InlineFragment] = field(default_factory=list)
    line: int = 0
    column: int = 0

    @property
    def key(self) -> str:
        return self.alias or self.name


@dataclass
class InlineFragment:
    type_condition: str | None
    selections: list[Field | InlineFragment]


@dataclass
class VariableDefinition:
    name: str
    type: str  # as written: "InventorySetQuantitiesInput!", "[ID!]!"
    default: Any = None

    @property
    def required(self) -> bool:
        return self.type.endswith("!") and self.default is None


@dataclass
class Operation:
    kind: str  # "query" or "mutation"
    name: str | None
    variables: dict[str, VariableDefinition]
    selections: list[Field | InlineFragment]


@dataclass
class _Token:
    kind: str
    value: str
    line: int
    column: int


def _tokens(source: str) -> list[_Token]:
    tokens = []
    position = 0
    while position < len(source):
        found = _TOKEN.match(source, position)
        line = source.count("\n", 0, position) + 1
        column = position - source.rfind("\n", 0, position)
        if found is None:
            raise GraphQLSyntaxError(f"Unexpected character {source[position]!r}", line, column)
        kind = found.lastgroup or ""
        if kind != "skip":
            tokens.append(_Token(kind, found.group(), line, column))
        position = found.end()
    tokens.append(_Token("eof", "", source.count("\n") + 1, len(source) - source.rfind("\n")))
    return tokens


class _Parser:
    def __init__(self, source: str) -> None:
        self.tokens = _tokens(source)
        self.position = 0

    @property
    def current(self) -> _Token:
        return self.tokens[self.position]

    def fail(self, message: str | None = None) -> GraphQLSyntaxError:
        token = self.current
        shown = token.value or "end of document"
        return GraphQLSyntaxError(
            message or f"Parse error on {shown!r} at [{token.line}, {token.column}]",
            token.line,
            token.column,
        )

    def peek(self, value: str) -> bool:
        return self.current.value == value and self.current.kind in ("punct", "spread", "name")

    def take(self, value: str | None = None, kind: str | None = None) -> _Token:
        token = self.current
        if (value is not None and token.value != value) or (
            kind is not None and token.kind != kind
        ):
            raise self.fail()
        if token.kind == "eof":
            raise self.fail()
        self.position += 1
        return token

    # -- document --------------------------------------------------------------------------

    def document(self) -> Operation:
        if self.peek("{"):
            operation = Operation("query", None, {}, self.selection_set())
        else:
            kind = self.take(kind="name").value
            if kind == "fragment":
                raise self.fail("Named fragments are not supported by this sandbox")
            if kind not in ("query", "mutation"):
                raise self.fail(f"Unsupported operation type {kind!r}")
            name = self.take(kind="name").value if self.current.kind == "name" else None
            variables = self.variable_definitions() if self.peek("(") else {}
            if self.peek("@"):
                raise self.fail("Directives on operations are not supported by this sandbox")
            operation = Operation(kind, name, variables, self.selection_set())
        if self.current.kind != "eof":
            raise self.fail("Only one operation per document is supported by this sandbox")
        return operation

    def variable_definitions(self) -> dict[str, VariableDefinition]:
        self.take("(")
        definitions = {}
        while not self.peek(")"):
            self.take("$")
            name = self.take(kind="name").value
            self.take(":")
            type_text = self.type_reference()
            default = None
            if self.peek("="):
                self.take("=")
                default = self.value(constant=True)
            definitions[name] = VariableDefinition(name, type_text, default)
        self.take(")")
        return definitions

    def type_reference(self) -> str:
        if self.peek("["):
            self.take("[")
            inner = self.type_reference()
            self.take("]")
            text = f"[{inner}]"
        else:
            text = self.take(kind="name").value
        if self.peek("!"):
            self.take("!")
            text += "!"
        return text

    def selection_set(self) -> list[Field | InlineFragment]:
        self.take("{")
        selections: list[Field | InlineFragment] = []
        while not self.peek("}"):
            if self.current.kind == "spread":
                self.take()
                if not self.peek("on"):
                    raise self.fail("Named fragments are not supported by this sandbox")
                self.take("on")
                condition = self.take(kind="name").value
                selections.append(InlineFragment(condition, self.selection_set()))
            else:
                selections.append(self.field())
        self.take("}")
        if not selections:
            raise self.fail("A selection set cannot be empty")
        return selections

    def field(self) -> Field:
        start = self.take(kind="name")
        node = Field(start.value, line=start.line, column=start.column)
        if self.peek(":"):
            self.take(":")
            node.alias, node.name = node.name, self.take(kind="name").value
        if self.peek("("):
            node.arguments = self.arguments()
        while self.peek("@"):
            self.take("@")
            name = self.take(kind="name").value
            node.directives.append(Directive(name, self.arguments() if self.peek("(") else {}))
        if self.peek("{"):
            node.selections = self.selection_set()
        return node

    def arguments(self) -> dict[str, Any]:
        self.take("(")
        arguments = {}
        while not self.peek(")"):
            name = self.take(kind="name").value
            self.take(":")
            if name in arguments:
                raise self.fail(f"There can be only one argument named {name!r}")
            arguments[name] = self.value()
        self.take(")")
        return arguments

    def value(self, *, constant: bool = False) -> Any:
        token = self.current
        if token.value == "$" and token.kind == "punct":
            if constant:
                raise self.fail("Variables are not allowed in default values")
            self.take()
            return Variable(self.take(kind="name").value)
        if token.kind == "number":
            self.take()
            return float(token.value) if re.search(r"[.eE]", token.value) else int(token.value)
        if token.kind == "string":
            self.take()
            return json.loads(token.value)
        if token.value == "[":
            self.take("[")
            items = []
            while not self.peek("]"):
                items.append(self.value(constant=constant))
            self.take("]")
            return items
        if token.value == "{":
            self.take("{")
            fields = {}
            while not self.peek("}"):
                name = self.take(kind="name").value
                self.take(":")
                fields[name] = self.value(constant=constant)
            self.take("}")
            return fields
        if token.kind == "name":
            self.take()
            return {"true": True, "false": False, "null": None}.get(
                token.value, EnumValue(token.value)
            )
        raise self.fail()


def parse(source: str) -> Operation:
    return _Parser(source).document()


def substitute(value: Any, variables: dict[str, Any]) -> Any:
    """Replace variable references with the request's values (enums become their names)."""
    if isinstance(value, Variable):
        return variables.get(value.name)
    if isinstance(value, EnumValue):
        return value.name
    if isinstance(value, list):
        return [substitute(item, variables) for item in value]
    if isinstance(value, dict):
        return {key: substitute(item, variables) for key, item in value.items()}
    return value


def variables_used(value: Any) -> set[str]:
    if isinstance(value, Variable):
        return {value.name}
    if isinstance(value, list):
        return set().union(*(variables_used(item) for item in value)) if value else set()
    if isinstance(value, dict):
        return set().union(*(variables_used(item) for item in value.values())) if value else set()
    return set()
