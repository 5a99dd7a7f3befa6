"""The ``aftershow`` console command: a thin wrapper over Django's management commands.

``aftershow demo --orders 800 --no-serve`` is ``django-admin demo --orders 800 --no-serve`` with
the settings module set, so everything a user scripts is one command.
"""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aftershow.settings")
    from django.core.management import execute_from_command_line

    args = sys.argv if argv is None else argv
    execute_from_command_line(["aftershow", *args[1:]])


if __name__ == "__main__":
    main()
