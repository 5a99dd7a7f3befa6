"""``aftershow demo``: a simulated live stream pulled into aftershow, end to end."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from aftershow.demo.filemode import run_file_mode
from aftershow.demo.runner import print_summary, run_no_serve, run_serving


class Command(BaseCommand):
    help = (
        "Start the TikTok sandbox, connect a demo shop and play a live stream. "
        "With --no-serve, run it to completion on compressed time and print a summary."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--orders", type=int, default=800, help="orders in the stream")
        parser.add_argument(
            "--no-serve", action="store_true", help="run to completion without the web UI"
        )
        parser.add_argument("--seed", type=int, default=2026, help="makes the stream repeatable")
        parser.add_argument(
            "--file-mode",
            action="store_true",
            help=(
                "no API access: the stream comes as a Seller Center export, is imported, "
                "processed, and its tracking written as TikTok's bulk upload XLSX"
            ),
        )
        parser.add_argument(
            "--output", type=Path, default=None, help="where --file-mode writes its files"
        )
        parser.add_argument("--port", type=int, default=8000, help="web UI port (serve mode)")
        parser.add_argument(
            "--stream-seconds",
            type=float,
            default=None,
            help="real seconds the three-hour stream takes (default: 8 with --no-serve, 90 served)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        orders = options["orders"]
        if orders < 1:
            self.stderr.write("--orders must be at least 1")
            raise SystemExit(2)
        self.stdout.write(f"aftershow demo: a live stream of {orders} orders\n")
        if options["file_mode"]:
            result = run_file_mode(
                orders=orders, seed=options["seed"], out=self.stdout, directory=options["output"]
            )
            if result.burst is None:
                raise SystemExit(1)
            return
        if options["no_serve"]:
            summary = run_no_serve(
                orders=orders,
                seed=options["seed"],
                stream_seconds=options["stream_seconds"] or 8.0,
                out=self.stdout,
            )
            print_summary(summary, self.stdout)
            if summary.orders_in_aftershow != summary.orders_planned:
                self.stderr.write(
                    f"expected {summary.orders_planned} orders, aftershow has "
                    f"{summary.orders_in_aftershow}"
                )
                raise SystemExit(1)
            return
        run_serving(
            orders=orders,
            seed=options["seed"],
            stream_seconds=options["stream_seconds"] or 90.0,
            port=options["port"],
            out=self.stdout,
        )
