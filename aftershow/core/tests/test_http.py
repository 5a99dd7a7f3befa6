"""The outbound HTTP wrapper: retries on network errors, 5xx and 429 (honouring Retry-After),
no retry on terminal errors, a fresh request per attempt, one record per attempt."""

from __future__ import annotations

import httpx
import pytest

from aftershow.core.http import (
    Exchange,
    OutboundHttp,
    Outcome,
    RetryableChannelError,
    TerminalChannelError,
    parse_retry_after,
)


def _wrapper(responses, *, max_attempts=4):
    """Replies in turn from ``responses`` (an int status, a (status, headers) pair or an
    exception); records every attempt and every sleep."""
    replies = iter(responses)
    seen: list[httpx.Request] = []
    sleeps: list[float] = []
    records: list[Exchange] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        reply = next(replies)
        if isinstance(reply, Exception):
            raise reply
        status, headers = reply if isinstance(reply, tuple) else (reply, {})
        return httpx.Response(status, headers=headers, json={"ok": status})

    http = OutboundHttp(
        channel="test",
        recorder=records.append,
        max_attempts=max_attempts,
        max_retry_wait=60,
        sleep=sleeps.append,
        transport=httpx.MockTransport(handler),
    )
    return http, seen, sleeps, records


def _build(counter=[0]):  # noqa: B006 - counts requests built across attempts
    def build():
        counter[0] += 1
        return httpx.Request("GET", f"http://127.0.0.1/thing?n={counter[0]}")

    return build


def test_retries_429_honouring_retry_after_then_succeeds():
    http, seen, sleeps, records = _wrapper([(429, {"Retry-After": "7"}), 500, 200])
    response = http.send(_build())
    assert response.status_code == 200
    assert len(seen) == 3
    assert sleeps[0] == 7.0
    assert len(sleeps) == 2
    assert [r.outcome for r in records] == [Outcome.RETRYABLE, Outcome.RETRYABLE, Outcome.OK]
    assert [r.attempt for r in records] == [1, 2, 3]
    # Every attempt is a freshly built request (a signed API needs a fresh timestamp).
    assert len({str(request.url) for request in seen}) == 3


def test_network_errors_are_retried():
    http, seen, _, records = _wrapper([httpx.ConnectError("refused"), 200])
    assert http.send(_build()).status_code == 200
    assert len(seen) == 2
    assert records[0].outcome == Outcome.RETRYABLE
    assert "ConnectError" in records[0].error


def test_terminal_error_is_not_retried():
    http, seen, sleeps, records = _wrapper([400, 200])
    with pytest.raises(TerminalChannelError):
        http.send(_build())
    assert len(seen) == 1
    assert sleeps == []
    assert [r.outcome for r in records] == [Outcome.TERMINAL]


def test_gives_up_after_max_attempts_with_the_retryable_error():
    http, seen, _, _ = _wrapper([503, 503, 503], max_attempts=3)
    with pytest.raises(RetryableChannelError) as raised:
        http.send(_build())
    assert raised.value.status_code == 503
    assert len(seen) == 3


def test_retry_after_is_capped():
    http, _, sleeps, _ = _wrapper([(429, {"Retry-After": "3600"}), 200])
    http.send(_build())
    assert sleeps == [60]


@pytest.mark.parametrize(
    ("value", "expected"), [("12", 12.0), (None, None), ("soon", None), ("", None)]
)
def test_parse_retry_after(value, expected):
    assert parse_retry_after(value) == expected


def test_parse_retry_after_http_date_in_the_past_is_zero():
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0
