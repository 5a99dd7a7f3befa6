"""Model fields shared by the apps."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from cryptography.fernet import InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models

# Money: 14 digits with 2 decimals covers any order or payout total (up to 10^12).
MONEY_MAX_DIGITS = 14
MONEY_DECIMAL_PLACES = 2


class MoneyField(models.DecimalField):  # type: ignore[type-arg]
    """A Decimal amount; the currency sits in a sibling ``currency`` field on the model."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max_digits", MONEY_MAX_DIGITS)
        kwargs.setdefault("decimal_places", MONEY_DECIMAL_PLACES)
        kwargs.setdefault("default", Decimal("0.00"))
        super().__init__(*args, **kwargs)


def currency_field() -> models.CharField:  # type: ignore[type-arg]
    return models.CharField(max_length=3, default="USD", help_text="ISO 4217 code")


def _fernet() -> MultiFernet:
    from cryptography.fernet import Fernet

    keys = getattr(settings, "CREDENTIAL_KEYS", None)
    if not keys:
        raise ImproperlyConfigured("CREDENTIAL_KEYS must hold at least one Fernet key")
    return MultiFernet([Fernet(key) for key in keys])


class EncryptedJSONField(models.TextField):  # type: ignore[type-arg]
    """A JSON object stored encrypted with Fernet (AES-128-CBC + HMAC); never queried by value.

    Keys come from ``settings.CREDENTIAL_KEYS``: the first encrypts, every key decrypts, so keys
    can be rotated by prepending a new one.
    """

    def from_db_value(self, value: str | None, expression: Any, connection: Any) -> Any:
        if value is None:
            return None
        try:
            plain = _fernet().decrypt(value.encode())
        except InvalidToken as error:
            raise ImproperlyConfigured(
                "Stored credentials cannot be decrypted with CREDENTIAL_KEYS"
            ) from error
        return json.loads(plain)

    def to_python(self, value: Any) -> Any:
        return value

    def get_prep_value(self, value: Any) -> str | None:
        if value is None:
            return None
        payload = json.dumps(value, sort_keys=True).encode()
        return _fernet().encrypt(payload).decode()
