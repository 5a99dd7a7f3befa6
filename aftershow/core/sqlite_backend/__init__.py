"""Django's SQLite backend with fair write-lock waits (see ``base``)."""
