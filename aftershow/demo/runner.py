"""The main job on the embedded default: a simulated live stream pulled into aftershow.

``aftershow demo`` starts the TikTok sandbox in this process, connects a demo shop to it through
the real authorization flow, registers webhooks, then plays a live stream whose orders reach
aftershow the way TikTok's do: signed webhooks, detail fetches on the queue, and the
reconciliation poll as the safety net.
"""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Protocol

from django.core.management import call_command
from django.core.servers.basehttp import (
    ThreadedWSGIServer,
    WSGIRequestHandler,
    get_internal_wsgi_application,
)
from django.db import close_old_connections, connections
from django.db.models import Count
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from aftershow.accounts.models import Role, User
from aftershow.core.timeutils import utcnow
from aftershow.core.worker import WorkerThread
from aftershow.creators.models import Creator, LiveSession, LiveSessionStatus
from aftershow.creators.services import live_session_attribute_orders
from aftershow.demo.alerts import demo_alerts_start, demo_alerts_summary
from aftershow.demo.catalog import demo_catalog_create, demo_stock_receive, demo_warehouse_create
from aftershow.demo.channels import demo_channels_start, demo_channels_summary
from aftershow.demo.creators import demo_creators_attach, demo_creators_pull, demo_creators_summary
from aftershow.fulfillment.labels.sandbox import SandboxCarrier
from aftershow.fulfillment.pipeline import (
    BURST_PROVIDER_ENV,
    BurstSummary,
    burst_process,
    summary_text,
)
from aftershow.integrations.models import PendingOrderFetch
from aftershow.integrations.tiktok.sync import TikTokConnector, shop_connect
from aftershow.orders.models import Order
from aftershow.sandbox.tiktok import StreamSpec, TikTokSandbox, VirtualClock
from aftershow.shops.models import Shop
from aftershow.stocksync.management.commands.sync_engine import engine_serve


class Output(Protocol):
    """Where progress goes: a management command's stdout, or any text stream."""

    def write(self, text: str, /) -> Any: ...

    def flush(self) -> None: ...


STREAM_DURATION = timedelta(hours=3)
REMORSE_WINDOW = timedelta(hours=1)
# Live conversion in the seed is 8-15 %; the viewer count follows from the order count.
CONVERSION_RATE = 0.08


@dataclass
class DemoSummary:
    orders_planned: int = 0
    orders_in_aftershow: int = 0
    by_status: dict[str, int] = field(default_factory=dict)
    by_state: dict[str, int] = field(default_factory=dict)
    attributed: int = 0
    steps: list[tuple[str, float]] = field(default_factory=list)
    total_seconds: float = 0.0
    burst: BurstSummary | None = None


class _LoopbackWSGIServer(ThreadedWSGIServer):
    def get_request(self) -> tuple[socket.socket, Any]:
        connection, address = super().get_request()
        # The handler writes headers and body separately: without TCP_NODELAY, Nagle's
        # algorithm and the client's delayed ACK stall every response by ~40 ms.
        connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return connection, address


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        return


@contextmanager
def loopback_server(port: int = 0) -> Iterator[str]:
    """Serve aftershow's WSGI app on 127.0.0.1 from a thread (webhooks in --no-serve mode)."""
    server = _LoopbackWSGIServer(("127.0.0.1", port), _QuietHandler, allow_reuse_address=True)
    server.daemon_threads = True
    server.set_app(get_internal_wsgi_application())
    thread = threading.Thread(target=server.serve_forever, daemon=True, name="aftershow-web")
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def _owner_login() -> tuple[str, str]:
    password = secrets.token_urlsafe(9)
    user, _ = User.objects.get_or_create(username="owner", defaults={"role": Role.OWNER})
    user.role = Role.OWNER
    user.is_staff = user.is_superuser = True
    user.set_password(password)
    user.save()
    return user.username, password


def _queue_is_idle(shop: Shop) -> bool:
    busy = DBTaskResult.objects.filter(
        status__in=[TaskResultStatus.READY, TaskResultStatus.RUNNING]
    ).exists()
    return not busy and not PendingOrderFetch.objects.filter(shop=shop).exists()


def _wait(condition: Callable[[], bool], *, timeout: float, interval: float = 0.1) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(interval)
    return condition()


class DemoRun:
    def __init__(self, *, orders: int, seed: int, stream_seconds: float, out: Output) -> None:
        self.orders = orders
        self.seed = seed
        self.stream_seconds = stream_seconds
        self.out = out
        self.summary = DemoSummary(orders_planned=orders)
        self.app_key = f"demo_{secrets.token_hex(4)}"
        self.app_secret = secrets.token_hex(16)
        self._started = time.monotonic()
        self._step_started = self._started

    def step(self, name: str) -> None:
        now = time.monotonic()
        self.summary.steps.append((name, now - self._step_started))
        self._step_started = now
        self.out.write(f"  {name:<42} {now - self._started:7.2f} s\n")
        self.out.flush()

    def prepare(self) -> tuple[TikTokSandbox, Shop, str, tuple[str, str]]:
        call_command("migrate", verbosity=0)
        self.step("database migrated")
        # The stream is replayed so that it ends, remorse window included, just before now:
        # every timestamp is in the past, as it would be after a real stream.
        stream_start = utcnow() - STREAM_DURATION - REMORSE_WINDOW - timedelta(minutes=2)
        sandbox = TikTokSandbox(
            app_key=self.app_key,
            app_secret=self.app_secret,
            seed=self.seed,
            clock=VirtualClock(start=stream_start, speed=0),
        )
        base_url = sandbox.start()
        remote_shop = sandbox.store.create_shop(name="aftershow Demo Shop", region="US")
        (shop,) = shop_connect(
            app_key=self.app_key,
            app_secret=self.app_secret,
            auth_code=sandbox.store.issue_auth_code(),
            api_base_url=base_url,
            auth_base_url=base_url,
        )
        mix = demo_catalog_create(sandbox=sandbox, remote_shop_id=remote_shop.id, shop=shop)
        # Stock on the shelf for the whole stream, so the burst ships rather than backorders.
        demo_stock_receive(warehouse=demo_warehouse_create(), units_per_sku=self.orders * 4)
        demo_channels_start()  # Shopify, Amazon and eBay sandboxes the stock sync keeps current
        self.inbox = demo_alerts_start(orders=self.orders, mix=mix)  # local alert inbox
        login = _owner_login()
        self.step("sandbox started, shop connected")
        self._mix = mix
        return sandbox, shop, remote_shop.id, login

    def play_stream(self, sandbox: TikTokSandbox, shop: Shop) -> LiveSession:
        creator, _ = Creator.objects.get_or_create(
            handle="glowwithmia", defaults={"display_name": "Mia", "followers": 250_000}
        )
        viewers = round(self.orders / CONVERSION_RATE)
        started_at = sandbox.clock.now()
        session = LiveSession.objects.create(
            creator=creator,
            shop=shop,
            title="Holiday glow-up live",
            status=LiveSessionStatus.LIVE,
            starts_at=started_at,
            viewers=viewers,
        )
        plan = sandbox.simulate_live_stream(
            StreamSpec(
                creator_handle=creator.handle,
                followers=creator.followers,
                viewers=viewers,
                conversion_rate=CONVERSION_RATE,
                duration=STREAM_DURATION,
                sku_mix=self._mix,
                seed=self.seed,
            )
        )
        demo_creators_attach(sandbox=sandbox, shop=shop, plan=plan, session=session)
        speed = STREAM_DURATION.total_seconds() / self.stream_seconds
        sandbox.play(plan, speed=speed)
        sandbox.wait_played(timeout=self.stream_seconds * 4 + 60)
        sandbox.clock.set_speed(0)
        session.status = LiveSessionStatus.ENDED
        session.ends_at = started_at + STREAM_DURATION
        session.save(update_fields=["status", "ends_at"])
        self.summary.orders_planned = len(plan.orders)
        self.step(f"stream played ({len(plan.orders)} orders)")
        # The hour in which buyers may cancel passes; addresses appear, webhooks follow.
        sandbox.advance(REMORSE_WINDOW + timedelta(minutes=1))
        self.step("remorse window passed")
        return session

    def finish(self, sandbox: TikTokSandbox, shop: Shop, session: LiveSession) -> None:
        sandbox.webhooks.wait_idle(timeout=120)
        _wait(lambda: _queue_is_idle(shop), timeout=120)
        self.step("webhooks ingested")
        connector = TikTokConnector(shop)
        report = connector.pull_orders()
        self.step(f"reconciliation poll ({report.orders_seen} orders re-read)")
        demo_creators_pull(shop=shop)  # TikTok's affiliate orders first: they win
        self.summary.attributed = live_session_attribute_orders(session=session)
        self.count(shop)

    def count(self, shop: Shop) -> None:
        orders = Order.objects.filter(shop=shop)
        self.summary.orders_in_aftershow = orders.count()
        self.summary.by_status = dict(
            orders.values_list("platform_status").annotate(n=Count("id")).order_by()
        )
        self.summary.by_state = dict(orders.values_list("state").annotate(n=Count("id")).order_by())
        self.summary.total_seconds = time.monotonic() - self._started


def print_summary(summary: DemoSummary, out: Output) -> None:
    out.write("\nSummary\n")
    out.write(f"  orders in the stream       {summary.orders_planned}\n")
    out.write(f"  orders pulled into aftershow {summary.orders_in_aftershow}\n")
    for status, count in sorted(summary.by_status.items()):
        out.write(f"    {status:<24} {count}\n")
    out.write(f"  attributed to the live session {summary.attributed}\n")
    out.write(demo_creators_summary())
    out.write(f"  time taken                 {summary.total_seconds:.1f} s\n")
    out.write(demo_channels_summary())
    out.write(demo_alerts_summary())
    if summary.burst is not None:
        out.write("\n" + summary_text(summary.burst))


def run_no_serve(*, orders: int, seed: int, stream_seconds: float, out: Output) -> DemoSummary:
    run = DemoRun(orders=orders, seed=seed, stream_seconds=stream_seconds, out=out)
    sandbox, shop, _, _login = run.prepare()
    worker = WorkerThread()
    # The stock sync engine beside the worker, as `aftershow sync_engine` runs it: on the one
    # worker it held the queue for up to 30 s at a time, and the burst's tracking push waited.
    engine_stop = threading.Event()
    engine = threading.Thread(target=_serve_engine, args=(engine_stop,), name="aftershow-engine")
    try:
        with loopback_server() as web_url:
            TikTokConnector(shop).register_webhooks(address=f"{web_url}/webhooks/tiktok/")
            worker.start()
            engine.start()
            run.step("webhooks registered, worker running")
            session = run.play_stream(sandbox, shop)
            run.finish(sandbox, shop, session)
            # The one action after the stream: every label from the sandbox carrier, the
            # tracking pushed by the worker above to the sandbox.
            run.summary.burst = burst_process(shop=shop, provider=SandboxCarrier(shop))
            run.step("burst processed, tracking on TikTok")
            # TikTok now reports the shipped orders (AWAITING_COLLECTION) by webhook: take
            # them in before stopping, so the summary shows where every order stands.
            sandbox.webhooks.wait_idle(timeout=60)
            _wait(lambda: _queue_is_idle(shop), timeout=60)
            run.count(shop)
    finally:
        engine_stop.set()
        if engine.is_alive():
            engine.join(timeout=30)
        worker.stop()
        sandbox.stop()
        close_old_connections()
    counts = Counter(run.summary.by_status)
    assert sum(counts.values()) == run.summary.orders_in_aftershow
    return run.summary


def _serve_engine(stop: threading.Event) -> None:
    try:
        engine_serve(stop)
    finally:
        connections.close_all()


def _spawn(args: list[str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "aftershow.cli", *args])  # noqa: S603


def run_serving(
    *, orders: int, seed: int, stream_seconds: float, port: int, out: Output
) -> DemoSummary:
    """Serve the UI at 127.0.0.1:port with a worker and the scheduler, play the stream while
    the user watches, then keep serving until interrupted."""
    run = DemoRun(orders=orders, seed=seed, stream_seconds=stream_seconds, out=out)
    sandbox, shop, _, (username, password) = run.prepare()
    # The served app's "Process the burst" button buys sample labels, as the demo does.
    os.environ[BURST_PROVIDER_ENV] = "sandbox"
    processes = [
        _spawn(["runserver", f"127.0.0.1:{port}", "--noreload"]),
        # Quiet: the demo's own output (login, progress, summary) must stay readable.
        _spawn(["db_worker", "--interval", "0.2", "--verbosity", "0"]),
        _spawn(["scheduler"]),
        # The stock sync engine in its own process, as the README deploys it for streams.
        _spawn(["sync_engine"]),
    ]
    web_url = f"http://127.0.0.1:{port}"
    try:
        # Generous: on a loaded 2-core machine runserver's checks alone can take over 30 s.
        if not _wait(lambda: _is_listening(port), timeout=120):
            raise RuntimeError(f"the web server did not start on {web_url}")
        TikTokConnector(shop).register_webhooks(address=f"{web_url}/webhooks/tiktok/")
        out.write(
            f"\n  aftershow is at {web_url}/  log in as {username} / {password}\n"
            f"  the live stream starts now: orders appear as they arrive.\n\n"
        )
        session = run.play_stream(sandbox, shop)
        run.finish(sandbox, shop, session)
        print_summary(run.summary, out)
        out.write(
            f"\n  Process the whole burst with one click: {web_url}/fulfillment/process/\n"
            f"\n  Still serving {web_url}/ (log in as {username} / {password}). Ctrl-C stops.\n"
        )
        while all(process.poll() is None for process in processes):
            time.sleep(1)
    except KeyboardInterrupt:
        pass
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=15)
        sandbox.stop()
    return run.summary


def _is_listening(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.2)
        return probe.connect_ex(("127.0.0.1", port)) == 0
