"""The hook ``inventory.ledger`` calls where a stock level changes (kept import-light: the
ledger is on every order's path, Apprise is not)."""

from __future__ import annotations

import logging

from django.db import transaction

logger = logging.getLogger(__name__)


def stock_changed() -> None:
    """After the surrounding transaction commits, make sure one alert evaluation is queued.

    Registered once per transaction however many levels it changes (Django keeps the pending
    callbacks as ``(savepoint ids, callback, robust)`` tuples). Robust: a queue hiccup after the
    commit must not turn a stock change that succeeded into an error; the periodic evaluation
    catches up.
    """
    connection = transaction.get_connection()
    if connection.in_atomic_block and any(
        entry[1] is _request_evaluation for entry in connection.run_on_commit
    ):
        return
    transaction.on_commit(_request_evaluation, robust=True)


def _request_evaluation() -> None:
    from aftershow.alerts.services import stock_evaluation_request

    stock_evaluation_request()
