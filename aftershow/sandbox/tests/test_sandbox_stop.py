"""``TikTokSandbox.stop()`` stops every loopback server it started, the document host too."""

from __future__ import annotations

import socket
from urllib.parse import urlsplit

from aftershow.sandbox.tiktok import TikTokSandbox


def test_stop_closes_the_document_host() -> None:
    sandbox = TikTokSandbox(app_key="k", app_secret="s" * 20, seed=3)
    sandbox.start()
    url = urlsplit(sandbox.fulfillment.documents.publish(b"%PDF-1.4", name="label"))
    assert url.hostname == "127.0.0.1" and url.port is not None
    with socket.create_connection((url.hostname, url.port), timeout=2):
        pass  # listening

    sandbox.stop()

    assert sandbox.fulfillment.documents._server is None
    try:
        with socket.create_connection((url.hostname, url.port), timeout=2):
            refused = False
    except OSError:
        refused = True
    assert refused, "the document host still accepts connections after stop()"
