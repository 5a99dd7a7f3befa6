"""The one choke point for outbound HTTP.

Every connector sends through :class:`OutboundHttp`: a mandatory timeout, retries only on
network errors, HTTP 5xx and throttling (honouring ``Retry-After``), terminal errors raised as
such, and one record per attempt handed to a recorder (the integration log). Credentials never
reach the recorder: only the method, the path and the outcome do.
"""

from __future__ import annotations

import functools
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from enum import StrEnum
from typing import Any

import httpx
from django.conf import settings
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential_jitter,
)

from aftershow.core.timeutils import utcnow


@functools.cache
def _tls_context() -> ssl.SSLContext:
    """Loading the CA bundle costs milliseconds: do it once per process, not per client."""
    return ssl.create_default_context()


class Outcome(StrEnum):
    OK = "ok"
    RETRYABLE = "retryable"
    TERMINAL = "terminal"


class ChannelError(Exception):
    """A call to a platform failed; ``code`` is the platform's own error code when it sent one."""

    def __init__(
        self, message: str, *, code: str = "", status_code: int | None = None, request_id: str = ""
    ) -> None:
        super().__init__(message)
        self.code = code
        self.status_code = status_code
        self.request_id = request_id


class RetryableChannelError(ChannelError):
    """Network error, 5xx or throttling: worth another attempt after ``retry_after`` seconds."""

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class TerminalChannelError(ChannelError):
    """The platform refused the request; repeating it unchanged cannot succeed."""


@dataclass(frozen=True)
class Exchange:
    """One attempt, as written to the integration log."""

    channel: str
    method: str
    path: str
    attempt: int
    outcome: Outcome
    status_code: int | None
    duration_ms: int
    error_code: str = ""
    error: str = ""
    request_id: str = ""


Recorder = Callable[[Exchange], None]
# Turns a response into its outcome: return normally for success or raise a ChannelError.
Classifier = Callable[[httpx.Response], None]


def parse_retry_after(value: str | None) -> float | None:
    """``Retry-After`` is either delta-seconds or an HTTP date (RFC 9110 section 10.2.3)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - utcnow()).total_seconds())


def default_classifier(response: httpx.Response) -> None:
    if response.status_code == 429 or response.status_code >= 500:
        raise RetryableChannelError(
            f"HTTP {response.status_code}",
            status_code=response.status_code,
            retry_after=parse_retry_after(response.headers.get("Retry-After")),
        )
    if response.status_code >= 400:
        raise TerminalChannelError(
            f"HTTP {response.status_code}: {response.text[:200]}", status_code=response.status_code
        )


class OutboundHttp:
    def __init__(
        self,
        *,
        channel: str,
        recorder: Recorder | None = None,
        timeout: float | None = None,
        max_attempts: int | None = None,
        max_retry_wait: float | None = None,
        sleep: Callable[[float], None] = time.sleep,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.channel = channel
        self.recorder = recorder
        self.max_attempts = max_attempts or settings.HTTP_MAX_ATTEMPTS
        self.max_retry_wait = (
            settings.HTTP_MAX_RETRY_WAIT_SECONDS if max_retry_wait is None else max_retry_wait
        )
        self.sleep = sleep
        self._client = httpx.Client(
            timeout=timeout or settings.HTTP_TIMEOUT_SECONDS,
            transport=transport,
            verify=_tls_context(),
        )
        self._backoff = wait_exponential_jitter(multiplier=0.2, max=self.max_retry_wait, jitter=0.2)

    def close(self) -> None:
        self._client.close()

    def _wait(self, state: RetryCallState) -> float:
        error = state.outcome.exception() if state.outcome else None
        if isinstance(error, RetryableChannelError) and error.retry_after is not None:
            return min(error.retry_after, self.max_retry_wait)
        return float(self._backoff(state))

    def send(
        self, build: Callable[[], httpx.Request], *, classify: Classifier = default_classifier
    ) -> httpx.Response:
        """Send the request ``build()`` makes, rebuilding it for every attempt.

        Rebuilding matters for signed APIs: the signature carries a timestamp that must be
        fresh after a long ``Retry-After``.
        """
        retrying = Retrying(
            stop=stop_after_attempt(self.max_attempts),
            wait=self._wait,
            retry=retry_if_exception_type(RetryableChannelError),
            sleep=self.sleep,
            reraise=True,
        )
        attempts = iter(range(1, self.max_attempts + 1))
        return retrying(lambda: self._attempt(build, classify, next(attempts)))

    def _attempt(
        self, build: Callable[[], httpx.Request], classify: Classifier, attempt: int
    ) -> httpx.Response:
        request = build()
        attempt_started = time.monotonic()
        status_code: int | None = None
        try:
            try:
                response = self._client.send(request)
            except httpx.TransportError as error:
                raise RetryableChannelError(f"{type(error).__name__}: {error}") from error
            status_code = response.status_code
            classify(response)
        except ChannelError as error:
            self._record(request, attempt, attempt_started, status_code, error)
            raise
        self._record(request, attempt, attempt_started, status_code, None)
        return response

    def _record(
        self,
        request: httpx.Request,
        attempt: int,
        started: float,
        status_code: int | None,
        error: ChannelError | None,
    ) -> None:
        if self.recorder is None:
            return
        if error is None:
            outcome = Outcome.OK
        elif isinstance(error, RetryableChannelError):
            outcome = Outcome.RETRYABLE
        else:
            outcome = Outcome.TERMINAL
        self.recorder(
            Exchange(
                channel=self.channel,
                method=request.method,
                path=request.url.path,
                attempt=attempt,
                outcome=outcome,
                status_code=status_code,
                duration_ms=int((time.monotonic() - started) * 1000),
                error_code=error.code if error else "",
                error=str(error) if error else "",
                request_id=error.request_id if error else "",
            )
        )
