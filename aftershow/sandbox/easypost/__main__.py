"""Run the EasyPost fake standalone.

``python -m aftershow.sandbox.easypost --port 9200 --api-key K`` prints one JSON line with the
``api_base`` and serves until interrupted."""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from types import FrameType

from .server import EasyPostSandbox


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m aftershow.sandbox.easypost")
    parser.add_argument("--port", type=int, default=9200)
    parser.add_argument("--api-key", default="EZTK_sandbox_key")
    args = parser.parse_args(argv)
    sandbox = EasyPostSandbox(api_keys={args.api_key})
    api_base = sandbox.start(port=args.port)
    print(json.dumps({"api_base": api_base, "api_key": args.api_key}), flush=True)
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
