"""A strict local fake of EasyPost's shipment API on 127.0.0.1, for tests, the demo and benchmarks.

Pure Python (no Django)::

    sandbox = EasyPostSandbox(api_keys={"EZTK_test_key"})
    api_base = sandbox.start()          # http://127.0.0.1:PORT/v2
    client = easypost.EasyPostClient("EZTK_test_key", api_base=api_base)
    ...
    sandbox.stop()
"""

from .server import EasyPostSandbox, EasyPostStore

__all__ = ["EasyPostSandbox", "EasyPostStore"]
