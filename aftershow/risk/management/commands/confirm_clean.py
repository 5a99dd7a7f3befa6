"""``aftershow confirm_clean [--shop ID] [--user NAME]``: confirm every clean order at once."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.management.base import BaseCommand, CommandError, CommandParser

from aftershow.accounts.models import User
from aftershow.risk.management.commands._shop import add_shop_argument, shop_from
from aftershow.risk.services import orders_confirm_clean


class Command(BaseCommand):
    help = "Confirm every screened READY order without an open flag, in one transaction."

    def add_arguments(self, parser: CommandParser) -> None:
        add_shop_argument(parser)
        parser.add_argument(
            "--user",
            help="Record the confirmation as this user's (owner or operator); default: system",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        user = None
        if options.get("user"):
            user = User.objects.filter(username=options["user"]).first()
            if user is None:
                raise CommandError(f"No user {options['user']!r}")
        try:
            confirmed = orders_confirm_clean(by=user, shop=shop_from(options))
        except PermissionDenied as error:
            raise CommandError(f"{options['user']} may not confirm orders") from error
        self.stdout.write(f"confirmed {confirmed} orders")
