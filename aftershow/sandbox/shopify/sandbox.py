"""A strict Shopify Admin GraphQL sandbox on 127.0.0.1 (API version 2026-04).

``POST /admin/api/2026-04/graphql.json`` with ``{"query", "variables"}``. Checks, answered as
Shopify answers (channel-apis.md §2):

1. injected fault, if any: HTTP 429 with ``Retry-After``, HTTP 500, or a timeout;
2. ``X-Shopify-Access-Token`` is a live token (401), ``Content-Type: application/json`` (415);
3. the document parses, its variables match their declared types, its fields, arguments and
   selections exist in the schema slice of :mod:`.schema` (errors with HTTP 200);
4. the requested cost is at most 1,000 (``MAX_COST_EXCEEDED``) and the token's scopes cover
   each root field (``ACCESS_DENIED``);
5. the cost bucket (leaky, 2,000 points restoring 100 a second by default) holds the
   requested cost, else ``THROTTLED``; after execution the points the query did not use
   (fewer nodes returned than ``first`` allowed) go back to the bucket; every answer carries
   ``extensions.cost`` (requested, actual, throttle status);
6. ``inventorySetQuantities``: the ``@idempotent(key:)`` directive and ``changeFromQuantity`` on
   every quantity are mandatory (2026-04); a key reused with other variables answers
   ``IDEMPOTENCY_KEY_PARAMETER_MISMATCH``, a key still in progress
   ``IDEMPOTENCY_CONCURRENT_REQUEST``, a finished one replays its first answer; a stale
   ``changeFromQuantity`` answers ``CHANGE_FROM_QUANTITY_STALE`` and nothing of the call is
   applied.

A ``timeout`` fault holds the call past the client's timeout and *then* executes it and drops
the answer: the late write Shopify's compare-and-set exists for. The idempotency key is taken
on arrival, so a retry while it waits is told the request is in progress.
"""

from __future__ import annotations

import re
from typing import Any

from aftershow.sandbox.loopback import (
    FaultInjector,
    LoopbackSandbox,
    LoopbackServer,
    Request,
    Response,
)

from .graphql import Field, GraphQLSyntaxError, Operation, parse, substitute
from .resolvers import Resolvers
from .schema import (
    MAX_QUERY_COST,
    MUTATION_COST,
    GraphQLError,
    check_variables,
    execute,
    requested_cost,
)
from .store import Order, Store, Variant, gid
from .webhooks import WebhookSender, order_payload

API_VERSION = "2026-04"
INVALID_TOKEN = "[API] Invalid API key or access token (unrecognized login or wrong password)"
_PATH = re.compile(r"/admin/api/(?P<version>\d{4}-\d{2})/graphql\.json")
ROOT_SCOPES = {
    "inventorySetQuantities": "write_inventory",
    "nodes": "read_inventory",
    "orders": "read_orders",
    "order": "read_orders",
    "shop": "",
}


class ShopifySandbox(LoopbackSandbox):
    def __init__(
        self,
        *,
        shop_domain: str = "aftershow-sandbox.myshopify.com",
        app_secret: str = "shpss_sandbox_secret",  # noqa: S107 - a loopback sandbox's own
        seed: int = 0,
    ) -> None:
        self.shop_domain = shop_domain
        self.app_secret = app_secret
        self.store = Store(shop_domain=shop_domain)
        for _ in range(seed):
            self.store.next_id()
        self.faults = FaultInjector()
        self.server = LoopbackServer(self._handle, name="shopify")
        self.webhooks = WebhookSender(
            shop_domain=shop_domain, secret=app_secret, api_version=API_VERSION
        )
        self.location_id = gid("Location", 1)
        self.resolvers = Resolvers(self.store, self.faults)

    # -- lifecycle -------------------------------------------------------------------------

    @property
    def graphql_path(self) -> str:
        return f"/admin/api/{API_VERSION}/graphql.json"

    # -- helpers for tests and the demo ----------------------------------------------------

    def issue_token(self, scopes: frozenset[str] | None = None) -> str:
        return self.store.issue_token(scopes) if scopes is not None else self.store.issue_token()

    def add_variant(
        self, sku: str, *, quantity: int = 0, price: str = "19.99", product_title: str = ""
    ) -> Variant:
        return self.store.add_variant(
            product_title=product_title or f"Product {sku}",
            sku=sku,
            title="Default Title",
            price=price,
            quantity=quantity,
        )

    def quantity(self, sku: str, name: str = "available") -> int:
        with self.store.lock:
            variant = self.store.variant_by_sku(sku)
            return self.store.levels[(variant.item_number, 1)][name]

    def history(self, sku: str) -> list[int]:
        with self.store.lock:
            return list(self.store.history[self.store.variant_by_sku(sku).item_number])

    def timed_history(self, sku: str) -> list[tuple[float, int]]:
        """(time.monotonic() when applied, quantity) per ``available`` write."""
        with self.store.lock:
            item = self.store.variant_by_sku(sku).item_number
            return list(zip(self.store.history_at[item], self.store.history[item], strict=True))

    def subscribe(self, topic: str, address: str) -> None:
        """What ``webhookSubscriptionCreate`` (or the app's configuration) sets up."""
        with self.store.lock:
            self.store.webhooks[topic] = address

    def create_order(self, *, lines: list[tuple[str, int]], **kwargs: Any) -> Order:
        """A paid order that reserves its units, announced on ``orders/create`` if subscribed."""
        order = self.store.create_order(lines=lines, **kwargs)
        self._announce("orders/create", order)
        return order

    def cancel_order(self, order: Order, **kwargs: Any) -> Order:
        cancelled = self.store.cancel_order(order.number, **kwargs)
        self._announce("orders/cancelled", cancelled)
        return cancelled

    def webhook_for(self, topic: str, order: Order) -> tuple[dict[str, str], bytes]:
        """A signed delivery, for tests that post it themselves."""
        with self.store.lock:
            payload = order_payload(order)
        return self.webhooks.build(topic, payload, event_id=f"{order.number}-{topic}")

    def _announce(self, topic: str, order: Order) -> None:
        with self.store.lock:
            address = self.store.webhooks.get(topic)
        if address:
            headers, body = self.webhook_for(topic, order)
            self.webhooks.send(address, topic, headers, body)

    # -- HTTP ------------------------------------------------------------------------------

    def _handle(self, request: Request) -> Response | None:
        found = _PATH.fullmatch(request.path)
        if request.method != "POST" or found is None:
            return Response.json(404, {"errors": "Not Found"})
        if found.group("version") != API_VERSION:
            return Response.json(
                404, {"errors": f"API version {found.group('version')} is not served"}
            )
        fault = self.faults.draw()
        if fault == "429":
            return Response.json(
                429,
                {"errors": "Exceeded 2 calls per second for api client. Reduce request rates."},
                {"Retry-After": f"{float(self.faults.retry_after):.1f}"},
            )
        if fault == "500":
            return Response.json(
                500,
                {
                    "errors": [
                        {
                            "message": "Internal error. Looks like something went wrong.",
                            "extensions": {"code": "INTERNAL_SERVER_ERROR"},
                        }
                    ]
                },
            )
        token = request.headers.get("X-Shopify-Access-Token") or ""
        with self.store.lock:
            scopes = self.store.tokens.get(token)
        if scopes is None:
            return Response.json(
                401,
                {"errors": INVALID_TOKEN},
            )
        if request.media_type != "application/json":
            return Response.json(415, {"errors": "Unsupported Media Type: send application/json"})
        try:
            body = request.json_body()
        except (UnicodeDecodeError, ValueError):
            body = None
        if not isinstance(body, dict) or not isinstance(body.get("query"), str):
            return Response.json(
                400, {"errors": {"query": "Required parameter missing or invalid"}}
            )
        variables = body.get("variables") or {}
        if not isinstance(variables, dict):
            return Response.json(400, {"errors": {"variables": "must be an object"}})
        return self._graphql(body["query"], variables, scopes, stall=fault == "timeout")

    def _graphql(
        self, query: str, variables: dict[str, Any], scopes: frozenset[str], *, stall: bool
    ) -> Response | None:
        try:
            operation = parse(query)
        except GraphQLSyntaxError as error:
            return Response.json(
                200,
                {
                    "errors": [
                        {
                            "message": str(error),
                            "locations": [{"line": error.line, "column": error.column}],
                        }
                    ]
                },
            )
        try:
            check_variables(operation, variables)
            cost = requested_cost(operation, variables)
            self._check_roots(operation, variables, scopes)
        except GraphQLError as error:
            return Response.json(200, {"errors": [error.as_dict()]})
        if cost > MAX_QUERY_COST:
            too_costly = GraphQLError(
                f"Query cost is {cost}, which exceeds the single query max cost limit "
                f"({MAX_QUERY_COST}).",
                "MAX_COST_EXCEEDED",
            )
            return Response.json(
                200, {"errors": [too_costly.as_dict()], "extensions": self._cost(cost, None)}
            )
        if not self.store.bucket.take(cost):
            throttled = {
                "message": "Throttled",
                "extensions": {
                    "code": "THROTTLED",
                    "documentation": "https://shopify.dev/api/usage/rate-limits",
                },
            }
            return Response.json(200, {"errors": [throttled], "extensions": self._cost(cost, None)})
        root = (
            self.resolvers.mutation_root(operation, variables, stall)
            if operation.kind == "mutation"
            else self.resolvers.query_root()
        )
        if stall and operation.kind == "query":
            self.faults.stall()
        meter = [MUTATION_COST if operation.kind == "mutation" else 0]
        try:
            data = execute(
                "Mutation" if operation.kind == "mutation" else "QueryRoot",
                root,
                operation.selections,
                variables,
                meter,
            )
        except GraphQLError as error:
            return Response.json(
                200, {"errors": [error.as_dict()], "extensions": self._cost(cost, cost)}
            )
        # Shopify charges what the query actually returned and gives the rest back.
        actual = min(cost, meter[0])
        self.store.bucket.refund(cost - actual)
        if stall:
            return None
        return Response.json(200, {"data": data, "extensions": self._cost(cost, actual)})

    def _cost(self, requested: int, actual: int | None) -> dict[str, Any]:
        return {
            "cost": {
                "requestedQueryCost": requested,
                "actualQueryCost": actual,
                "throttleStatus": self.store.bucket.status(),
            }
        }

    def _check_roots(
        self, operation: Operation, variables: dict[str, Any], scopes: frozenset[str]
    ) -> None:
        if operation.kind == "mutation" and len(operation.selections) != 1:
            raise GraphQLError("The sandbox runs one mutation per request", "BAD_REQUEST")
        for selection in operation.selections:
            if not isinstance(selection, Field):
                raise GraphQLError("Fragments are not allowed on the root type in this sandbox")
            needed = ROOT_SCOPES.get(selection.name, "")
            if needed and needed not in scopes:
                raise GraphQLError(
                    f"Access denied for {selection.name} field. Required access: `{needed}` "
                    "access scope.",
                    "ACCESS_DENIED",
                )
            directives = {directive.name: directive for directive in selection.directives}
            unknown = set(directives) - ({"idempotent"} if operation.kind == "mutation" else set())
            if unknown:
                raise GraphQLError(f"Directive '{sorted(unknown)[0]}' is not supported here")
            if selection.name != "inventorySetQuantities":
                continue
            key = (
                substitute(directives["idempotent"].arguments.get("key"), variables)
                if "idempotent" in directives
                else None
            )
            if not isinstance(key, str) or not key:
                raise GraphQLError(
                    "The @idempotent(key:) directive is required for inventorySetQuantities "
                    "since 2026-04.",
                    "BAD_REQUEST",
                )
            data = substitute(selection.arguments.get("input"), variables) or {}
            for index, quantity in enumerate(data.get("quantities") or []):
                if "changeFromQuantity" not in quantity:
                    raise GraphQLError(
                        f"input.quantities.{index}.changeFromQuantity is required since "
                        "2026-04: pass null to skip the compare-and-set.",
                        "BAD_REQUEST",
                    )
