"""``python -m aftershow.sandbox.paypal``: the PayPal Payouts sandbox on 127.0.0.1 until Ctrl-C.

Prints the environment variables that point aftershow's payout pages at it.
"""

from __future__ import annotations

import argparse
import threading

from aftershow.sandbox.paypal import PayPalSandbox


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=8091)
    parser.add_argument("--client-id", default="demo-client-id")
    parser.add_argument("--client-secret", default="demo-client-secret")
    args = parser.parse_args()
    sandbox = PayPalSandbox(client_id=args.client_id, client_secret=args.client_secret)
    base_url = sandbox.start(port=args.port)
    print(f"AFTERSHOW_PAYPAL_BASE_URL={base_url}")
    print(f"AFTERSHOW_PAYPAL_CLIENT_ID={args.client_id}")
    print(f"AFTERSHOW_PAYPAL_CLIENT_SECRET={args.client_secret}", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        sandbox.stop()


if __name__ == "__main__":
    main()
