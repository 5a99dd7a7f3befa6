"""Run the TikTok sandbox standalone.

``python -m aftershow.sandbox.tiktok --port 9100 --app-key K --app-secret S`` serves until
interrupted and prints one JSON line: the base URL, the shop id/cipher and a token pair. Point a
shop's API and auth base URLs at that base URL. ``--stream-viewers N`` also plays a live stream.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from datetime import timedelta
from types import FrameType

from .sandbox import TikTokSandbox
from .simulator import StreamSpec

DEMO_PRODUCTS = (
    (
        "Oversized Logo Tee",
        [("TEE-BLK-M", "19.99", 6.2), ("TEE-BLK-L", "19.99", 6.8), ("TEE-WHT-M", "19.99", 6.2)],
    ),
    ("Cozy Fleece Hoodie", [("HOOD-GRY-M", "44.00", 18.5), ("HOOD-GRY-L", "44.00", 19.4)]),
    ("Glow Serum 30 ml", [("SERUM-30", "24.50", 3.1)]),
    ("Live Exclusive Mug", [("MUG-LIVE", "14.00", 14.0)]),
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m aftershow.sandbox.tiktok")
    parser.add_argument("--port", type=int, default=9100)
    parser.add_argument("--app-key", default="sandbox_app_key")
    parser.add_argument("--app-secret", default="sandbox_app_secret")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--shop-name", default="Demo Shop")
    parser.add_argument("--speed", type=float, default=1.0, help="virtual clock speed factor")
    parser.add_argument("--webhook", default="", help="ORDER_STATUS_CHANGE webhook address")
    parser.add_argument("--stream-viewers", type=int, default=0, help="play a live stream")
    parser.add_argument("--stream-conversion", type=float, default=0.02)
    parser.add_argument("--stream-minutes", type=int, default=180)
    args = parser.parse_args(argv)

    sandbox = TikTokSandbox(app_key=args.app_key, app_secret=args.app_secret, seed=args.seed)
    sandbox.clock.set_speed(args.speed)
    base_url = sandbox.start(port=args.port)
    shop = sandbox.store.create_shop(name=args.shop_name, region="US")
    for title, skus in DEMO_PRODUCTS:
        sandbox.store.add_product(
            shop.id,
            title,
            skus=[
                {"seller_sku": sku, "price": price, "weight_oz": weight}
                for sku, price, weight in skus
            ],
        )
    if args.webhook:
        sandbox.store.set_webhook_address(shop.id, args.webhook)
    tokens = sandbox.store.issue_tokens()
    plan = None
    if args.stream_viewers:
        plan = sandbox.simulate_live_stream(
            StreamSpec(
                viewers=args.stream_viewers,
                conversion_rate=args.stream_conversion,
                duration=timedelta(minutes=args.stream_minutes),
                seed=args.seed,
            )
        )
        sandbox.play(plan)
    print(
        json.dumps(
            {
                "base_url": base_url,
                "app_key": args.app_key,
                "shop_id": shop.id,
                "shop_cipher": shop.cipher,
                "shop_name": shop.name,
                "access_token": tokens.access_token,
                "access_token_expire_in": tokens.access_token_expire_in,
                "refresh_token": tokens.refresh_token,
                "refresh_token_expire_in": tokens.refresh_token_expire_in,
                "auth_code": sandbox.store.issue_auth_code(),
                "stream_orders": len(plan.orders) if plan else 0,
            }
        ),
        flush=True,
    )

    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    stop.wait()
    sandbox.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
