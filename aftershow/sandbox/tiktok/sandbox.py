"""``TikTokSandbox``: the store, the HTTP server, the clock, webhooks and faults, wired together."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from datetime import timedelta
from types import TracebackType

from .affiliate import register_affiliate
from .clock import Timeline, VirtualClock
from .faults import FaultInjector
from .fulfillment import register_fulfillment
from .handlers import register_all
from .orders import gc_paused
from .server import Gateway, SandboxHTTPServer
from .simulator import StreamPlan, StreamSpec, plan_live_stream
from .store import OrderEvent, SandboxStore
from .webhooks import TIKTOK_RETRY_SCHEDULE, WebhookAttempt, WebhookDispatcher

TICK_SECONDS = 0.05  # how often, in real time, due events are applied while the server runs


class TikTokSandbox:
    """A strict TikTok Shop Partner API on 127.0.0.1 (API host and auth host paths)."""

    def __init__(
        self,
        app_key: str = "sandbox_app_key",
        app_secret: str = "sandbox_app_secret",  # noqa: S107 - a loopback sandbox's own secret
        *,
        seed: int = 0,
        clock: VirtualClock | None = None,
        webhook_retry_schedule: Sequence[timedelta] = TIKTOK_RETRY_SCHEDULE,
        webhook_workers: int = 4,
        webhook_timeout: float = 5.0,
    ) -> None:
        self.app_key = app_key
        self.app_secret = app_secret
        self.clock = clock or VirtualClock()
        self.timeline = Timeline()
        self.store = SandboxStore(clock=self.clock, timeline=self.timeline, seed=seed)
        self.faults = FaultInjector()
        self.webhooks = WebhookDispatcher(
            app_key=app_key,
            app_secret=app_secret,
            clock=self.clock,
            timeline=self.timeline,
            ids=self.store.ids,
            retry_schedule=webhook_retry_schedule,
            workers=webhook_workers,
            timeout=webhook_timeout,
        )
        self.store.on_order_event = self._on_order_event
        self.gateway = Gateway(
            app_key=app_key,
            app_secret=app_secret,
            store=self.store,
            faults=self.faults,
            clock=self.clock,
            timeline=self.timeline,
        )
        register_all(self.gateway)
        self.fulfillment = register_fulfillment(self.gateway)
        self.affiliate = register_affiliate(self.gateway)
        self._server: SandboxHTTPServer | None = None
        self._threads: list[threading.Thread] = []
        self._players: list[threading.Thread] = []
        self._stopping = threading.Event()

    # -- lifecycle -------------------------------------------------------------------------

    def start(self, port: int = 0, host: str = "127.0.0.1") -> str:
        """Serve on ``host:port`` (0: a free port) and return the base URL."""
        if self._server is not None:
            raise RuntimeError("the sandbox is already running")
        self._stopping.clear()
        self._server = SandboxHTTPServer((host, port), self.gateway)
        serve = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.02},
            name="tts-sandbox-http",
            daemon=True,
        )
        tick = threading.Thread(target=self._tick, name="tts-sandbox-clock", daemon=True)
        self._threads = [serve, tick]
        for thread in self._threads:
            thread.start()
        return self.base_url

    @property
    def base_url(self) -> str:
        if self._server is None:
            raise RuntimeError("the sandbox is not running: call start() first")
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def stop(self) -> None:
        self._stopping.set()
        for player in self._players:
            player.join(timeout=5)
        if self._server is not None:
            self._server.shutdown()
            self._server.close_connections()
            self._server.server_close()
            self._server = None
        for thread in self._threads:
            thread.join(timeout=5)
        self._threads = []
        self.webhooks.close()
        self.fulfillment.close()  # the document host, if a test fetched a label

    def __enter__(self) -> TikTokSandbox:
        if self._server is None:
            self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def _tick(self) -> None:
        while not self._stopping.wait(TICK_SECONDS):
            self.timeline.run_due(self.clock.epoch())

    # -- virtual time ----------------------------------------------------------------------

    def advance(self, delta: timedelta) -> None:
        """Move virtual time forward and apply everything that fell due, in due order."""
        self.clock.advance(delta)
        self.run_due()

    def run_due(self) -> int:
        return self.timeline.run_due(self.clock.epoch())

    # -- live streams ----------------------------------------------------------------------

    def simulate_live_stream(self, spec: StreamSpec) -> StreamPlan:
        """Plan a stream (nothing lands in the store yet): see :mod:`.simulator`."""
        with gc_paused():
            return plan_live_stream(self.store, spec, now=self.clock.now())

    def release_all(self, plan: StreamPlan) -> None:
        """Land the whole stream now: history first, then every order.

        The virtual clock first jumps to the end of the stream if it is behind, so no order
        is in the future; remorse windows and cancellations that fell due are then applied at
        their own instants (with their webhooks).
        """
        self.clock.jump_to(plan.end)
        with gc_paused():
            self.store.insert_history(plan.history_orders, plan.history_returns)
            self.store.insert_orders(order.draft for order in plan.orders)
            self.run_due()

    def play(self, plan: StreamPlan, *, speed: float | None = None) -> None:
        """Release the stream's orders as virtual time reaches them, in a background thread.

        ``speed`` sets the clock's speed factor (e.g. 540 replays three hours in 20 seconds);
        None keeps the current one. Past orders of returning buyers land at once.
        """
        if speed is not None:
            self.clock.set_speed(speed)
        player = threading.Thread(
            target=self._play, args=(plan,), name="tts-sandbox-play", daemon=True
        )
        self._players.append(player)
        player.start()

    def _play(self, plan: StreamPlan) -> None:
        self.store.insert_history(plan.history_orders, plan.history_returns)
        pending = sorted(plan.orders, key=lambda order: order.draft.create_time)
        index = 0
        while index < len(pending) and not self._stopping.is_set():
            now = self.clock.epoch()
            batch_end = index
            while batch_end < len(pending) and pending[batch_end].draft.create_time <= now:
                batch_end += 1
            if batch_end > index:
                self.store.insert_orders(order.draft for order in pending[index:batch_end])
                index = batch_end
                continue
            wait = self.clock.real_seconds_until(pending[index].draft.create_time)
            self._stopping.wait(min(wait, TICK_SECONDS))
        # Played means the stream is over, not just that its last order landed.
        end = plan.end.timestamp()
        while self.clock.epoch() < end and not self._stopping.is_set():
            self._stopping.wait(min(self.clock.real_seconds_until(end), TICK_SECONDS))
        self.run_due()

    def wait_played(self, timeout: float | None = None) -> bool:
        """Block until every :meth:`play` has released all its orders and its stream ended."""
        for player in list(self._players):
            player.join(timeout)
            if player.is_alive():
                return False
        self._players = [p for p in self._players if p.is_alive()]
        return True

    # -- webhooks --------------------------------------------------------------------------

    def _on_order_event(self, event: OrderEvent) -> None:
        address = self.store.webhook_address(event.shop_id, "ORDER_STATUS_CHANGE")
        if address:
            self.webhooks.publish_order_status(
                shop_id=event.shop_id,
                address=address,
                order_id=event.order_id,
                status=event.status,
                update_time=event.update_time,
            )

    @property
    def webhook_log(self) -> list[WebhookAttempt]:
        """Every delivery attempt so far, in the order they completed."""
        return self.webhooks.log

    def redeliver(self, notification_id: str) -> WebhookAttempt:
        return self.webhooks.redeliver(notification_id)
