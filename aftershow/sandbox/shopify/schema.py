"""The slice of the Admin GraphQL schema the sandbox serves: validation, cost and execution.

Before anything runs, an operation is checked against the types below the way Shopify's
GraphQL layer checks it (unknown fields and arguments, selections on scalars or missing on
objects, variables of the wrong type, connections without ``first``/``last``) and its
requested cost is computed: scalars and enums cost 0, objects 1, a connection 2 plus ``first``
times the cost of one node, a mutation 10 (shopify.dev "API rate limits", channel-apis.md
§2.2). Execution then walks plain dicts: a field's value may be a callable taking the field's
arguments.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .graphql import Field, InlineFragment, Operation, Variable, substitute, variables_used

MUTATION_COST = 10
MAX_QUERY_COST = 1000
MAX_INPUT_ARRAY = 250  # "Input arrays max 250 items for all APIs"


@dataclass(frozen=True)
class F:
    type: str
    args: dict[str, str] = field(default_factory=dict)


CONNECTION_ARGS = {"first": "Int", "last": "Int", "after": "String", "before": "String"}
SCALARS = {"ID", "String", "Int", "Float", "Boolean", "DateTime", "Decimal", "URL", "Money"}
ENUMS: dict[str, set[str]] = {
    "CurrencyCode": {"USD", "CAD", "EUR", "GBP"},
    "OrderSortKeys": {"CREATED_AT", "UPDATED_AT", "PROCESSED_AT", "ID"},
    "CountryCode": {"US", "CA"},
    "InventorySetQuantitiesUserErrorCode": {"_"},  # values are the sandbox's to answer
    "OrderDisplayFinancialStatus": {"_"},
    "OrderDisplayFulfillmentStatus": {"_"},
}
INPUT_OBJECTS: dict[str, dict[str, str]] = {
    "InventorySetQuantitiesInput": {
        "name": "String!",
        "reason": "String!",
        "referenceDocumentUri": "String",
        "quantities": "[InventoryQuantityInput!]!",
        "ignoreCompareQuantity": "Boolean",
    },
    "InventoryQuantityInput": {
        "inventoryItemId": "ID!",
        "locationId": "ID!",
        "quantity": "Int!",
        "changeFromQuantity": "Int",
        "compareQuantity": "Int",
    },
}
_MONEY_BAG = "MoneyBag!"
OBJECTS: dict[str, dict[str, F]] = {
    "QueryRoot": {
        "nodes": F("[Node]!", {"ids": "[ID!]!"}),
        "order": F("Order", {"id": "ID!"}),
        "orders": F(
            "OrderConnection!",
            {
                **CONNECTION_ARGS,
                "query": "String",
                "sortKey": "OrderSortKeys",
                "reverse": "Boolean",
            },
        ),
        "shop": F("Shop!"),
    },
    "Mutation": {
        "inventorySetQuantities": F(
            "InventorySetQuantitiesPayload", {"input": "InventorySetQuantitiesInput!"}
        ),
    },
    "Shop": {"id": F("ID!"), "name": F("String!"), "myshopifyDomain": F("String!")},
    "InventorySetQuantitiesPayload": {
        "inventoryAdjustmentGroup": F("InventoryAdjustmentGroup"),
        "userErrors": F("[InventorySetQuantitiesUserError!]!"),
    },
    "InventorySetQuantitiesUserError": {
        "code": F("InventorySetQuantitiesUserErrorCode"),
        "field": F("[String!]"),
        "message": F("String!"),
    },
    "InventoryAdjustmentGroup": {
        "id": F("ID!"),
        "createdAt": F("DateTime!"),
        "reason": F("String!"),
        "referenceDocumentUri": F("String"),
        "changes": F(
            "[InventoryChange!]!", {"inventoryItemIds": "[ID!]", "quantityNames": "[String!]"}
        ),
    },
    "InventoryChange": {
        "name": F("String!"),
        "delta": F("Int!"),
        "quantityAfterChange": F("Int"),
        "item": F("InventoryItem"),
        "location": F("Location"),
    },
    "ProductVariant": {
        "id": F("ID!"),
        "sku": F("String"),
        "title": F("String!"),
        "inventoryItem": F("InventoryItem!"),
        "product": F("Product!"),
    },
    "Product": {"id": F("ID!"), "title": F("String!")},
    "InventoryItem": {
        "id": F("ID!"),
        "sku": F("String"),
        "tracked": F("Boolean!"),
        "variant": F("ProductVariant!"),
        "inventoryLevel": F("InventoryLevel", {"locationId": "ID!"}),
    },
    "InventoryLevel": {
        "id": F("ID!"),
        "location": F("Location!"),
        "quantities": F("[InventoryQuantity!]!", {"names": "[String!]!"}),
    },
    "InventoryQuantity": {"name": F("String!"), "quantity": F("Int!")},
    "Location": {"id": F("ID!"), "name": F("String!")},
    "OrderConnection": {
        "nodes": F("[Order!]!"),
        "edges": F("[OrderEdge!]!"),
        "pageInfo": F("PageInfo!"),
    },
    "OrderEdge": {"node": F("Order!"), "cursor": F("String!")},
    "LineItemConnection": {
        "nodes": F("[LineItem!]!"),
        "edges": F("[LineItemEdge!]!"),
        "pageInfo": F("PageInfo!"),
    },
    "LineItemEdge": {"node": F("LineItem!"), "cursor": F("String!")},
    "PageInfo": {
        "hasNextPage": F("Boolean!"),
        "hasPreviousPage": F("Boolean!"),
        "startCursor": F("String"),
        "endCursor": F("String"),
    },
    "Order": {
        "id": F("ID!"),
        "name": F("String!"),
        "createdAt": F("DateTime!"),
        "updatedAt": F("DateTime!"),
        "processedAt": F("DateTime!"),
        "cancelledAt": F("DateTime"),
        "closed": F("Boolean!"),
        "displayFinancialStatus": F("OrderDisplayFinancialStatus"),
        "displayFulfillmentStatus": F("OrderDisplayFulfillmentStatus!"),
        "currencyCode": F("CurrencyCode!"),
        "subtotalPriceSet": F("MoneyBag"),
        "totalPriceSet": F(_MONEY_BAG),
        "totalTaxSet": F("MoneyBag"),
        "totalShippingPriceSet": F(_MONEY_BAG),
        "totalDiscountsSet": F("MoneyBag"),
        "customer": F("Customer"),
        "shippingAddress": F("MailingAddress"),
        "lineItems": F("LineItemConnection!", dict(CONNECTION_ARGS)),
    },
    "LineItem": {
        "id": F("ID!"),
        "name": F("String!"),
        "title": F("String!"),
        "variantTitle": F("String"),
        "sku": F("String"),
        "quantity": F("Int!"),
        "variant": F("ProductVariant"),
        "product": F("Product"),
        "originalUnitPriceSet": F(_MONEY_BAG),
        "totalDiscountSet": F(_MONEY_BAG),
    },
    "MoneyBag": {"shopMoney": F("MoneyV2!"), "presentmentMoney": F("MoneyV2!")},
    "MoneyV2": {"amount": F("Decimal!"), "currencyCode": F("CurrencyCode!")},
    "Customer": {"id": F("ID!"), "displayName": F("String!")},
    "MailingAddress": {
        "name": F("String"),
        "address1": F("String"),
        "address2": F("String"),
        "city": F("String"),
        "provinceCode": F("String"),
        "zip": F("String"),
        "countryCodeV2": F("CountryCode"),
        "phone": F("String"),
    },
}
INTERFACES: dict[str, dict[str, F]] = {"Node": {"id": F("ID!")}}
NODE_TYPES = {"ProductVariant", "Product", "InventoryItem", "Location", "Order", "LineItem"}


class GraphQLError(Exception):
    def __init__(self, message: str, code: str = "", path: list[str] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.path = path

    def as_dict(self) -> dict[str, Any]:
        error: dict[str, Any] = {"message": str(self)}
        if self.path:
            error["path"] = self.path
        if self.code:
            error["extensions"] = {"code": self.code}
        return error


def base_type(type_text: str) -> str:
    return type_text.replace("[", "").replace("]", "").replace("!", "")


def _fields_of(type_name: str) -> dict[str, F]:
    return OBJECTS.get(type_name) or INTERFACES[type_name]


# -- input values -----------------------------------------------------------------------------


def input_problems(type_text: str, value: Any, where: str) -> list[str]:
    """Why ``value`` is not a valid ``type_text`` (empty when it is)."""
    if value is None:
        return [f"{where}: Expected value to not be null"] if type_text.endswith("!") else []
    inner = type_text.removesuffix("!")
    if inner.startswith("["):
        if not isinstance(value, list):
            value = [value]  # GraphQL coerces a single value into a list
        if len(value) > MAX_INPUT_ARRAY:
            return [
                f"{where}: The input array size of {len(value)} is greater than the maximum "
                f"allowed of {MAX_INPUT_ARRAY}."
            ]
        return [
            problem
            for index, item in enumerate(value)
            for problem in input_problems(inner[1:-1], item, f"{where}.{index}")
        ]
    if inner in INPUT_OBJECTS:
        if not isinstance(value, dict):
            return [f"{where}: Expected an input object {inner}"]
        declared = INPUT_OBJECTS[inner]
        problems = [
            f"{where}.{name}: Field is not defined on {inner}"
            for name in value
            if name not in declared
        ]
        for name, field_type in declared.items():
            problems += input_problems(field_type, value.get(name), f"{where}.{name}")
        return problems
    valid: dict[str, Callable[[Any], bool]] = {
        "Int": lambda v: isinstance(v, int) and not isinstance(v, bool) and -(2**31) <= v < 2**31,
        "Float": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
        "Boolean": lambda v: isinstance(v, bool),
        "ID": lambda v: isinstance(v, str | int) and not isinstance(v, bool),
    }
    check = valid.get(inner)
    if check is None:
        check = (lambda v: isinstance(v, str) and v in ENUMS[inner]) if inner in ENUMS else None
    if check is None:
        check = lambda v: isinstance(v, str)  # noqa: E731 - String, DateTime, URL, Decimal
    return [] if check(value) else [f"{where}: Could not coerce value {value!r} to {inner}"]


def check_variables(operation: Operation, variables: dict[str, Any]) -> None:
    for name, definition in operation.variables.items():
        if base_type(definition.type) not in (SCALARS | set(ENUMS) | set(INPUT_OBJECTS)):
            raise GraphQLError(f"{definition.type} isn't a defined input type (on ${name})")
        problems = input_problems(definition.type, variables.get(name, definition.default), name)
        if problems:
            raise GraphQLError(
                f"Variable ${name} of type {definition.type} was provided invalid value for "
                + "; ".join(problems),
                "INVALID_VARIABLE",
            )


# -- validation and cost ------------------------------------------------------------------------


def requested_cost(operation: Operation, variables: dict[str, Any]) -> int:
    """Validate the operation against the schema and answer its requested cost."""
    root = "Mutation" if operation.kind == "mutation" else "QueryRoot"
    used: set[str] = set()
    cost = _selections_cost(root, operation.selections, operation, variables, used)
    undeclared = used - set(operation.variables)
    if undeclared:
        raise GraphQLError(f"Variable ${sorted(undeclared)[0]} is used but not declared")
    unused = set(operation.variables) - used
    if unused:
        raise GraphQLError(f"Variable ${sorted(unused)[0]} is declared but never used")
    return cost + (MUTATION_COST if operation.kind == "mutation" else 0)


def _selections_cost(
    type_name: str,
    selections: list[Field | InlineFragment],
    operation: Operation,
    variables: dict[str, Any],
    used: set[str],
) -> int:
    total = 0
    for selection in selections:
        if isinstance(selection, InlineFragment):
            condition = selection.type_condition or type_name
            spreadable = (
                condition in NODE_TYPES if type_name in INTERFACES else condition == type_name
            )
            if condition not in OBJECTS or not spreadable:
                raise GraphQLError(f"Fragment on {condition} can't be spread inside {type_name}")
            total += _selections_cost(condition, selection.selections, operation, variables, used)
            continue
        total += _field_cost(type_name, selection, operation, variables, used)
    return total


def _field_cost(
    type_name: str, node: Field, operation: Operation, variables: dict[str, Any], used: set[str]
) -> int:
    if node.name == "__typename":
        return 0
    spec = _fields_of(type_name).get(node.name)
    if spec is None:
        raise GraphQLError(
            f"Field '{node.name}' doesn't exist on type '{type_name}'", "undefinedField"
        )
    arguments = _checked_arguments(type_name, node, spec, operation, variables, used)
    target = base_type(spec.type)
    if target in SCALARS or target in ENUMS:
        if node.selections:
            raise GraphQLError(f"Selections can't be made on scalars (field '{node.name}')")
        return 0
    if not node.selections:
        raise GraphQLError(
            f"Field must have selections (field '{node.name}' returns {target} but has no "
            "selections)"
        )
    if target.endswith("Connection"):
        size = arguments.get("first") or arguments.get("last")
        if not isinstance(size, int) or size < 1 or size > MAX_INPUT_ARRAY:
            raise GraphQLError(
                f"You must provide a `first` or `last` value of 1 to {MAX_INPUT_ARRAY} to "
                f"paginate the `{node.name}` connection."
            )
        per_node = 0
        for child in node.selections:
            if isinstance(child, Field) and child.name in ("nodes", "edges"):
                per_node += _field_cost(target, child, operation, variables, used)
            elif isinstance(child, Field) and child.name != "__typename":
                _field_cost(target, child, operation, variables, used)  # validated, free
        return 2 + size * per_node
    inner = _selections_cost(target, node.selections, operation, variables, used)
    if target.endswith("Edge"):
        return inner
    count = len(arguments.get("ids") or []) if node.name == "nodes" and "ids" in arguments else 1
    return count * (1 + inner)


def _checked_arguments(
    type_name: str,
    node: Field,
    spec: F,
    operation: Operation,
    variables: dict[str, Any],
    used: set[str],
) -> dict[str, Any]:
    for name, raw in node.arguments.items():
        if name not in spec.args:
            raise GraphQLError(
                f"Field '{node.name}' doesn't accept argument '{name}'", "argumentNotAccepted"
            )
        referenced = variables_used(raw)
        undeclared = referenced - set(operation.variables)
        if undeclared:
            raise GraphQLError(f"Variable ${sorted(undeclared)[0]} is used but not declared")
        used |= referenced
        if isinstance(raw, Variable) and raw.name in operation.variables:
            declared = operation.variables[raw.name].type
            if base_type(declared) != base_type(spec.args[name]):
                raise GraphQLError(
                    f"Type mismatch on variable ${raw.name} and argument {name} "
                    f"({declared} / {spec.args[name]})"
                )
    for directive in node.directives:
        for raw in directive.arguments.values():
            used |= variables_used(raw)
    arguments = {name: substitute(raw, variables) for name, raw in node.arguments.items()}
    for name, arg_type in spec.args.items():
        problems = input_problems(arg_type, arguments.get(name), name)
        if problems:
            raise GraphQLError(
                f"Argument '{name}' on Field '{node.name}' has an invalid value: "
                + "; ".join(problems),
                "argumentLiteralsIncompatible",
            )
    return arguments


# -- execution --------------------------------------------------------------------------------


def execute(
    type_name: str,
    value: Any,
    selections: list[Field | InlineFragment],
    variables: dict[str, Any],
    meter: list[int] | None = None,
) -> Any:
    """Resolve ``selections`` on ``value`` (a dict; callables get the field's arguments).

    ``meter[0]`` adds up the actual cost: the requested-cost rules applied to what was
    returned (a connection's nodes as returned, not as many as ``first`` allowed).
    """
    if value is None:
        return None
    if isinstance(value, list):
        return [execute(type_name, item, selections, variables, meter) for item in value]
    concrete = value.get("__typename", type_name) if type_name in INTERFACES else type_name
    if meter is not None:
        meter[0] += _weight(concrete)
    return _select(concrete, type_name, value, selections, variables, meter)


def _weight(type_name: str) -> int:
    if type_name in ("QueryRoot", "Mutation", "PageInfo") or type_name.endswith("Edge"):
        return 0
    return 2 if type_name.endswith("Connection") else 1


def _select(
    concrete: str,
    type_name: str,
    value: dict[str, Any],
    selections: list[Field | InlineFragment],
    variables: dict[str, Any],
    meter: list[int] | None,
) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for selection in selections:
        if isinstance(selection, InlineFragment):
            if selection.type_condition in (None, concrete):
                result.update(
                    _select(concrete, concrete, value, selection.selections, variables, meter)
                )
            continue
        if selection.name == "__typename":
            result[selection.key] = concrete
            continue
        spec = _fields_of(concrete if concrete in OBJECTS else type_name)[selection.name]
        raw = value.get(selection.name)
        if callable(raw):
            arguments = {name: substitute(v, variables) for name, v in selection.arguments.items()}
            raw = raw(arguments)
        target = base_type(spec.type)
        if target in SCALARS or target in ENUMS:
            result[selection.key] = raw
        else:
            result[selection.key] = execute(target, raw, selection.selections, variables, meter)
    return result


def connection(
    items: list[dict[str, Any]],
    arguments: dict[str, Any],
    key: Callable[[dict[str, Any]], Any],
) -> dict[str, Any]:
    """A page of ``items`` (sorted by ``key``) after the ``after`` cursor. Cursors are opaque
    and carry the last item's sort key, not a position, so a page continues after the same
    item however the list changed meanwhile (as Shopify's do)."""
    after = arguments.get("after")
    if after:
        try:
            last = json.loads(base64.urlsafe_b64decode(after.encode()))
        except (ValueError, binascii.Error) as error:
            raise GraphQLError(f"Invalid cursor {after!r}", "BAD_REQUEST") from error
        items = [item for item in items if _comparable(key(item)) > _comparable(last)]
    size = arguments.get("first") or len(items)
    page = items[:size]
    cursors = [base64.urlsafe_b64encode(json.dumps(key(node)).encode()).decode() for node in page]
    return {
        "nodes": page,
        "edges": [{"node": node, "cursor": c} for node, c in zip(page, cursors, strict=True)],
        "pageInfo": {
            "hasNextPage": len(items) > size,
            "hasPreviousPage": bool(after),
            "startCursor": cursors[0] if cursors else None,
            "endCursor": cursors[-1] if cursors else None,
        },
    }


def _comparable(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value
