"""The four published request-signing vectors, the worked example and the webhook vector
(channel-apis.md §1.4, §1.5, Appendix B)."""

from __future__ import annotations

import pytest

from aftershow.integrations.tiktok.signing import (
    is_multipart,
    request_signature,
    webhook_signature,
    webhook_signature_is_valid,
)

DOC_QUERY = {
    "app_key": "68xu9ks5p4i8",
    "shop_cipher": "ROW_xkMbgAAAeVAQra0eZWebFQq5aIK",
    "timestamp": "1696909648",
}


@pytest.mark.parametrize(
    ("secret", "path", "query", "body", "expected"),
    [
        (  # A: EcomPHP tests/ClientTest.php
            "app_secret",
            "/test-api",
            {"foo": "bar"},
            b"",
            "d3cb7fe11ecae942802ceeca67e7cf10120cc12f1517d45fbc1c8cfe5413c80f",
        ),
        (  # B: TikTok's documented example (GET, no body)
            "e59af819cc",
            "/event/202309/webhooks",
            DOC_QUERY,
            b"",
            "ed58e1b5e59865c22a7b828c1cab65007441f43cc91a6cb2f2cdc638e0995a37",
        ),
        (  # C: the same with a JSON body
            "e59af819cc",
            "/event/202309/webhooks",
            DOC_QUERY,
            b'{"event_type":"PACKAGE_UPDATE","address":"https://partner.tiktokshop.com"}',
            "701dd6deb2389fe4c469b89bd37fc56f96a6da6afeb4d01c9077a65169752fa7",
        ),
        (  # D: Get Authorized Shops, the official example
            "e59af819cc",
            "/authorization/202309/shops",
            {"app_key": "29a39d", "timestamp": "1623812664"},
            b"",
            "b596b73e0cc6de07ac26f036364178ab16b0a907af13d43f0a0cd2345f582dc8",
        ),
        (  # Appendix B: search orders with page_size and a body
            "e59af819cc",
            "/order/202309/orders/search",
            {**DOC_QUERY, "page_size": "50"},
            b'{"order_status":"AWAITING_SHIPMENT","update_time_ge":1696900000}',
            "132ee9076dfe88ce683b5ad430ee570be91cf86c28e966f1e5f45afff6052eb9",
        ),
    ],
    ids=["A", "B", "C", "D", "appendix-B"],
)
def test_request_signature_matches_published_vectors(secret, path, query, body, expected):
    signature = request_signature(
        app_secret=secret, path=path, query=query, body=body, content_type="application/json"
    )
    assert signature == expected


def test_sign_and_access_token_are_not_signed():
    with_extras = {**DOC_QUERY, "sign": "whatever", "access_token": "tok"}
    assert (
        request_signature(app_secret="e59af819cc", path="/event/202309/webhooks", query=with_extras)
        == "ed58e1b5e59865c22a7b828c1cab65007441f43cc91a6cb2f2cdc638e0995a37"
    )


def test_signature_covers_body_bytes_not_json_meaning():
    reordered = b'{"address":"https://partner.tiktokshop.com","event_type":"PACKAGE_UPDATE"}'
    signature = request_signature(
        app_secret="e59af819cc", path="/event/202309/webhooks", query=DOC_QUERY, body=reordered
    )
    assert signature != "701dd6deb2389fe4c469b89bd37fc56f96a6da6afeb4d01c9077a65169752fa7"


def test_multipart_body_is_not_signed():
    assert is_multipart("multipart/form-data; boundary=abc")
    assert not is_multipart("application/json")
    signed = request_signature(
        app_secret="app_secret",
        path="/test-api",
        query={"foo": "bar"},
        body=b"--abc binary",
        content_type="multipart/form-data; boundary=abc",
    )
    assert signed == "d3cb7fe11ecae942802ceeca67e7cf10120cc12f1517d45fbc1c8cfe5413c80f"


WEBHOOK_BODY = (
    b'{"type":1,"shop_id":"7494726673780148744","timestamp":1664095733,"data":'
    b'{"order_id":"576684019603311365","order_status":"AWAITING_SHIPMENT","update_time":1664095610}}'
)
WEBHOOK_SIGNATURE = "21109834de72ec53c9959716d8514ae388ce1f123e5ffdcafc46713fcdf62b27"


def test_webhook_signature_vector():
    assert (
        webhook_signature(app_key="fake_app_key", app_secret="fake_app_secret", body=WEBHOOK_BODY)
        == WEBHOOK_SIGNATURE
    )


@pytest.mark.parametrize(
    ("signature", "valid"),
    [
        (WEBHOOK_SIGNATURE, True),
        (WEBHOOK_SIGNATURE.upper(), True),
        (WEBHOOK_SIGNATURE[:-1] + "0", False),
        ("", False),
        (None, False),
    ],
)
def test_webhook_signature_check(signature, valid):
    assert (
        webhook_signature_is_valid(
            app_key="fake_app_key",
            app_secret="fake_app_secret",
            body=WEBHOOK_BODY,
            signature=signature,
        )
        is valid
    )
