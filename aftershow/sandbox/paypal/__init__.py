"""A strict PayPal Payouts sandbox on 127.0.0.1 (see :mod:`.sandbox`)."""

from aftershow.sandbox.paypal.sandbox import PayPalSandbox

__all__ = ["PayPalSandbox"]
