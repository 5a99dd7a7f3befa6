"""The proof every channel shares: pushes under faults converge and lose no update.

A minimal stand-in for the sync engine, driving any :class:`InventoryChannel`. Per SKU it
keeps the latest intended quantity and the last quantity the channel confirmed. Each round it
takes the next intended value of every SKU (a sale happened), then pushes the latest intended
value of every unsettled SKU: coalesced, so a value superseded before it landed is never sent
again. Each intended value has its own idempotency key; the compare quantity is the last one
confirmed; a stale answer updates what is confirmed from what the channel says it holds.

``assert_no_lost_update`` checks the sandbox's own history of applied writes: every value ever
applied is one that was intended, in intended order, so an older value never overwrote a newer
one, and the last one applied is the last one intended.
"""

from __future__ import annotations

import random
import uuid
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from aftershow.core.http import ChannelError
from aftershow.integrations.inventory_push import InventoryChannel, PushStatus, QuantityUpdate


@dataclass(frozen=True)
class Listing:
    sku_code: str
    remote_product_id: str
    remote_sku_id: str


@dataclass
class DriveReport:
    rounds: int = 0
    pushes: int = 0
    statuses: Counter[str] = field(default_factory=Counter)


def falling_sequences(
    sku_codes: Sequence[str], *, steps: int, start: int = 500, seed: int = 1
) -> dict[str, list[int]]:
    """Strictly falling quantities (units selling during a stream), distinct per SKU, so every
    applied value tells which intended step it came from."""
    rng = random.Random(seed)
    sequences = {}
    for code in sku_codes:
        value = start + rng.randrange(100)
        values = []
        for _ in range(steps):
            value -= rng.randrange(1, 6)
            values.append(value)
        sequences[code] = values
    return sequences


def drive(
    channel: InventoryChannel,
    listings: Sequence[Listing],
    sequences: Mapping[str, Sequence[int]],
    *,
    initial: Mapping[str, int],
    use_compare: bool,
    batch_size: int = 0,
    max_rounds: int = 80,
) -> DriveReport:
    """``batch_size``: how many updates go in one ``push_quantities`` (0: all pending)."""
    by_code = {listing.sku_code: listing for listing in listings}
    keys = {
        (code, step): str(uuid.uuid4())
        for code, seq in sequences.items()
        for step in range(len(seq))
    }
    confirmed: dict[str, int] = dict(initial)
    pending: dict[str, int] = {}
    steps = max(len(seq) for seq in sequences.values())
    report = DriveReport()
    step = 0
    while step < steps or pending:
        if step < steps:
            for code, seq in sequences.items():
                if step < len(seq):
                    pending[code] = step
            step += 1
        updates = [
            QuantityUpdate(
                sku_code=code,
                remote_product_id=by_code[code].remote_product_id,
                remote_sku_id=by_code[code].remote_sku_id,
                quantity=sequences[code][index],
                compare_quantity=confirmed.get(code) if use_compare else None,
                idempotency_key=keys[(code, index)],
            )
            for code, index in pending.items()
        ]
        size = batch_size or len(updates)
        results = []
        for start in range(0, len(updates), size):
            batch = updates[start : start + size]
            answered = channel.push_quantities(batch)
            assert [result.update for result in answered] == batch
            results += answered
        report.rounds += 1
        report.pushes += len(updates)
        for result in results:
            code = result.update.sku_code
            report.statuses[result.status] += 1
            if result.status == PushStatus.APPLIED:
                confirmed[code] = result.update.quantity
                del pending[code]
            elif result.status == PushStatus.STALE:
                remote = result.remote_quantity
                if remote is None:  # the connector could not read it back: read it here
                    try:
                        remote = channel.read_quantities([code]).get(code)
                    except ChannelError:
                        remote = None
                if remote is not None:
                    confirmed[code] = remote
            else:
                assert result.status == PushStatus.FAILED, result
        assert report.rounds <= max_rounds, f"not settled after {max_rounds} rounds: {pending}"
    return report


def assert_no_lost_update(sequence: Sequence[int], history: Sequence[int], final: int) -> None:
    assert final == sequence[-1]
    assert history, "nothing was ever applied"
    assert history[-1] == sequence[-1]
    position = {value: index for index, value in enumerate(sequence)}
    steps = [position[value] for value in history]  # KeyError: a value never intended
    assert steps == sorted(steps), f"an older value overwrote a newer one: {history}"
