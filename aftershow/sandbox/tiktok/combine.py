"""Search Combinable Packages and Combine Package of the sandbox (channel-apis.md §1.7).

``GET /fulfillment/202309/combinable_packages/search`` (``page_size`` 1 to 50, ``page_token``)
answers ``combinable_packages[{id, order_ids}]``: per group of a shop's orders that TikTok would
let the seller ship as one package, the package the others would join and every order of the
group. ``POST /fulfillment/202309/packages/combine`` takes ``combinable_packages[{id,
order_ids}]`` and answers ``packages[{id, order_ids}]`` for what it combined and ``errors[{code,
message, detail{package_id}}]`` for what it did not; one entry failing does not stop the others.

The rules are TikTok's Seller Center ones (market-anchors.md, "Combine"): the same buyer, the
same recipient address and the same delivery option; every order ``AWAITING_SHIPMENT`` with no
cancellation request; at most 20 orders in a package; only before the package ships (and, here,
before a TikTok Shipping label is bought for it). An order split into several packages does not
combine. TikTok documents no error code for an entry that breaks them: ``21011060`` is the
sandbox's own, like ``21011046`` (see the docstring of :mod:`.fulfillment`).
"""

from __future__ import annotations

from typing import Any

from .errors import ApiError, invalid_param
from .fulfillment_state import PackageBook, SandboxPackage, package_error

COMBINE_MAX_ORDERS = 20
NOT_COMBINABLE = 21011060
PAGE_SIZE_MAX = 50


def _key(order: dict[str, Any]) -> tuple[str, ...]:
    address = order["recipient_address"]
    return (
        order["user_id"],
        order["delivery_option_id"],
        order["shipping_type"],
        str(address.get("full_address", "")),
        str(address.get("postal_code", "")),
        str(address.get("name", "")),
    )


class CombiningBook(PackageBook):
    """The package book with the two endpoints (the fulfillment endpoints extend it)."""

    # -- rules (the caller holds the book's lock) --------------------------------------------

    def _why_not(self, shop_id: str, order: dict[str, Any]) -> str:
        """Why ``order`` cannot be combined now; "" when it can."""
        if order["status"] != "AWAITING_SHIPMENT":
            return f"order {order['id']} is {order['status']}, not AWAITING_SHIPMENT"
        if order.get("is_buyer_request_cancel"):
            return f"the buyer asked to cancel order {order['id']}"
        live = [i for i in order["line_items"] if i["display_status"] != "CANCELLED"]
        packages = {item["package_id"] for item in live}
        if len(packages) != 1:
            return f"order {order['id']} is split into several packages"
        package = self._package_of(shop_id, order, packages.pop())
        if package.shipped_at is not None or package.service is not None:
            return f"package {package.id} of order {order['id']} is shipped or labelled"
        return ""

    def _groups(self, shop_id: str) -> list[tuple[str, list[str]]]:
        def combinable(order: dict[str, Any]) -> tuple[tuple[str, ...], str, str] | None:
            if self._why_not(shop_id, order):
                return None
            return _key(order), order["id"], self._package_id(order)

        groups: dict[tuple[str, ...], list[tuple[str, str]]] = {}
        for found in self.store.read_orders(shop_id, "AWAITING_SHIPMENT", combinable):
            if found is not None:
                key, order_id, package_id = found
                groups.setdefault(key, []).append((order_id, package_id))
        offered = []
        for orders in groups.values():
            if len({package_id for _, package_id in orders}) < 2:
                continue  # one order, or orders already combined into one package
            for start in range(0, len(orders), COMBINE_MAX_ORDERS):
                chunk = orders[start : start + COMBINE_MAX_ORDERS]
                if len(chunk) > 1:
                    offered.append((chunk[0][1], [order_id for order_id, _ in chunk]))
        return offered

    @staticmethod
    def _package_id(order: dict[str, Any]) -> str:
        return str(order["line_items"][0]["package_id"])

    # -- endpoints ----------------------------------------------------------------------------

    def search_combinable(self, shop_id: str, query: dict[str, str]) -> dict[str, Any]:
        try:
            size = int(query.get("page_size", ""))
        except ValueError:
            size = 0
        if not 1 <= size <= PAGE_SIZE_MAX:
            raise invalid_param(f"page_size must be 1 to {PAGE_SIZE_MAX}")
        token = query.get("page_token", "")
        if token and not token.isdigit():
            raise invalid_param("page_token is invalid")
        offset = int(token or 0)
        with self._lock:
            groups = self._groups(shop_id)
        page = groups[offset : offset + size]
        following = offset + size
        return {
            "combinable_packages": [{"id": pid, "order_ids": oids} for pid, oids in page],
            "next_page_token": str(following) if following < len(groups) else "",
            "total_count": len(groups),
        }

    def combine_packages(self, shop_id: str, body: dict[str, Any]) -> dict[str, Any]:
        entries = body.get("combinable_packages")
        if not isinstance(entries, list) or not entries:
            raise invalid_param("combinable_packages must list at least one package")
        combined, errors = [], []
        for entry in entries:
            package_id = str(entry.get("id", "")) if isinstance(entry, dict) else ""
            try:
                order_ids = entry.get("order_ids") if isinstance(entry, dict) else None
                if not package_id or not isinstance(order_ids, list) or not order_ids:
                    raise invalid_param("every combinable package needs an id and order_ids")
                combined.append(self._combine_one(shop_id, package_id, [str(o) for o in order_ids]))
            except ApiError as error:
                self.rejections[error.code] += 1
                errors.append(package_error(error, package_id))
        return {"packages": combined, "errors": errors}

    def _combine_one(self, shop_id: str, package_id: str, order_ids: list[str]) -> dict[str, Any]:
        too_many = ApiError(NOT_COMBINABLE, f"a package holds at most {COMBINE_MAX_ORDERS} orders")
        if len(set(order_ids)) > COMBINE_MAX_ORDERS:
            raise too_many
        with self._lock:
            target = self._find_package(shop_id, package_id)
            wanted = dict.fromkeys([*target.order_ids, *order_ids])
            orders = {order_id: self._order(shop_id, order_id) for order_id in wanted}
            if len(orders) > COMBINE_MAX_ORDERS:
                raise ApiError(
                    NOT_COMBINABLE, f"a package holds at most {COMBINE_MAX_ORDERS} orders"
                )
            if target.order_id not in order_ids and not set(target.order_ids) & set(order_ids):
                raise ApiError(NOT_COMBINABLE, f"package {package_id} holds none of these orders")
            head = orders[target.order_id]
            for order in orders.values():
                if order["id"] in target.order_ids and order["id"] != target.order_id:
                    continue  # already in the package
                reason = self._why_not(shop_id, order)
                if reason:
                    raise ApiError(NOT_COMBINABLE, f"cannot combine: {reason}")
                if _key(order) != _key(head):
                    raise ApiError(
                        NOT_COMBINABLE,
                        f"cannot combine: order {order['id']} has another buyer, address or "
                        "delivery option",
                    )
            for order_id in [o for o in orders if o not in target.order_ids]:
                self._move_into(shop_id, order_id, target)
            return {"id": target.id, "order_ids": target.order_ids}

    def _move_into(self, shop_id: str, order_id: str, target: SandboxPackage) -> None:
        now = self.clock.timestamp()

        def move(order: dict[str, Any]) -> None:
            for item in order["line_items"]:
                old = self._packages.get(item["package_id"])
                if old is not None and old is not target:
                    old.line_item_ids = [i for i in old.line_item_ids if i != item["id"]]
                if item["display_status"] != "CANCELLED":
                    item["package_id"] = target.id
                    target.line_item_ids.append(item["id"])
            order["packages"] = [{"id": target.id}]
            order["split_or_combine_tag"] = "COMBINED"
            order["update_time"] = now

        self.store.update_order(order_id, move)
        target.combined_order_ids.append(order_id)
        target.update_time = now
        for package_id in [p for p, o in self._order_of_package.items() if o == order_id]:
            if package_id != target.id:
                self._packages.pop(package_id, None)  # emptied: "does not exist" from now on
