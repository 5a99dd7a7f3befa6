"""The sandbox's GraphQL parser, on the constructs Admin API clients send."""

from __future__ import annotations

import pytest

from aftershow.sandbox.shopify.graphql import (
    EnumValue,
    Field,
    GraphQLSyntaxError,
    InlineFragment,
    Variable,
    parse,
    substitute,
)


def test_a_named_mutation_with_variables_aliases_directives_and_fragments():
    operation = parse(
        """
        # comments and commas are ignored,
        mutation Set($input: InventorySetQuantitiesInput!, $key: String!, $n: [ID!] = ["a"]) {
          result: inventorySetQuantities(input: $input) @idempotent(key: $key) {
            userErrors { code }
            ... on InventorySetQuantitiesPayload { userErrors { field } }
          }
        }
        """
    )
    assert (operation.kind, operation.name) == ("mutation", "Set")
    assert {name: v.type for name, v in operation.variables.items()} == {
        "input": "InventorySetQuantitiesInput!",
        "key": "String!",
        "n": "[ID!]",
    }
    assert operation.variables["n"].default == ["a"]
    assert (operation.variables["key"].required, operation.variables["n"].required) == (True, False)
    (field,) = operation.selections
    assert isinstance(field, Field)
    assert (field.key, field.name, field.arguments) == (
        "result",
        "inventorySetQuantities",
        {"input": Variable("input")},
    )
    assert [(d.name, d.arguments) for d in field.directives] == [
        ("idempotent", {"key": Variable("key")})
    ]
    assert isinstance(field.selections[1], InlineFragment)


def test_literal_values():
    (field,) = parse(
        '{ orders(first: 10, query: "sku:\\"A-1\\"", sortKey: UPDATED_AT, reverse: true, x: null,'
        " f: -1.5e2, o: {a: [1, 2]}) { nodes { id } } }"
    ).selections
    assert isinstance(field, Field)
    assert field.arguments == {
        "first": 10,
        "query": 'sku:"A-1"',
        "sortKey": EnumValue("UPDATED_AT"),
        "reverse": True,
        "x": None,
        "f": -150.0,
        "o": {"a": [1, 2]},
    }
    assert substitute(field.arguments["sortKey"], {}) == "UPDATED_AT"


@pytest.mark.parametrize(
    "source",
    [
        "{ shop { name }",
        "{ }",
        "subscription S { shop { name } }",
        "{ shop { name } } { shop { name } }",
        "{ shop(a: $x: 1) { name } }",
        "{ shop { name } } ~",
    ],
)
def test_syntax_errors(source):
    with pytest.raises(GraphQLSyntaxError):
        parse(source)
