"""The burst: a live stream's orders processed in one action, until TikTok took every tracking
number.

- ``burst_1000_s`` / ``burst_10000_s``: machine time of ``burst_process`` (release and
  screening, confirm all clean, parcels, carrier choice, sandbox-carrier labels, the batch PDFs
  written to disk by a second process meanwhile, shipping, then the tracking push through the
  task queue to the TikTok sandbox over loopback HTTP) until TikTok answered every shipped
  parcel's tracking number (accepted, or refused with TikTok's reason). Deployed as the README
  deploys aftershow: two ``db_worker`` processes and the ``sync_engine`` process; the TikTok
  sandbox, once it holds the stream's orders, is served by a process of its own (a fork), as
  TikTok's servers are not in aftershow's process. The orders were pulled from the sandbox
  beforehand (as the demo's stream leaves them), and the tasks that set-up queued have run;
  median of 3 runs for 1,000, one for 10,000.
- ``burst_1000_cpu_s`` / ``burst_10000_cpu_s``: the same runs in CPU seconds of every process
  taking part but PostgreSQL's server: this one, the PDF process, the workers, the engine and
  the sandbox (read from /proc).
- Side-by-side switches, each naming the way it was measured before 2026-11-27:
  ``AFTERSHOW_BURST_WORKERS=thread`` (two worker loops in this process),
  ``AFTERSHOW_BURST_ENGINE=queue`` (the engine as the workers' queue task),
  ``AFTERSHOW_BURST_SANDBOX=thread`` (the sandbox's threads in this process),
  ``AFTERSHOW_BURST_PDF=inline`` (the PDFs drawn in this process, as the web button does).
- ``label_rate_ratio`` is measured once, by ``benchmarks.labels`` (its 600-label batch), not
  here: both suites writing the key made the later run silently replace the earlier figure.
- ``burst_peak_rss_mb``: peak resident memory of the benchmark process (10,000 included). The
  PDF process's own is not reported: with the workers as processes, the children's peak that
  ``getrusage`` gives would be theirs.

Keys without an engine suffix are the SQLite run (the figures the issue asks for); the
PostgreSQL run writes the same keys with ``_postgres``.

Run by benchmarks/run.py as ``python -m benchmarks.burst sqlite|postgres``; prints one JSON line.
"""

from __future__ import annotations

import json
import os
import resource
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aftershow.settings")
django.setup()

from django.core.management import call_command  # noqa: E402
from django_tasks import TaskResultStatus  # noqa: E402
from django_tasks_db.models import DBTaskResult  # noqa: E402

from aftershow.core.worker import WorkerThread  # noqa: E402
from aftershow.demo.burst import burst_clock_start, burst_world_create  # noqa: E402
from aftershow.fulfillment.labels.sandbox import SandboxCarrier  # noqa: E402
from aftershow.fulfillment.pipeline import BurstSummary, burst_process  # noqa: E402
from aftershow.sandbox.tiktok import TikTokSandbox, VirtualClock  # noqa: E402
from benchmarks.procs import children_cpu, process_cpu  # noqa: E402

APP_KEY, APP_SECRET = "bench_burst_key", "bench_burst_secret"
REPEATS = {1_000: 3, 10_000: 1}
# "1000:1" runs one 1,000-order burst only (a quick look; the figures say which sizes ran).
if os.environ.get("AFTERSHOW_BURST_SIZES"):
    REPEATS = {
        int(size): int(repeats)
        for size, repeats in (
            part.split(":") for part in os.environ["AFTERSHOW_BURST_SIZES"].split(",")
        )
    }
WORKER_LOOPS = 2
# "process": two ``aftershow db_worker`` processes, as a deployment runs them (two push tasks
# then push side by side on two cores); "thread": two worker loops in this process.
WORKERS = os.environ.get("AFTERSHOW_BURST_WORKERS", "process")
# "process": the stock sync engine in its own ``aftershow sync_engine`` process, as the README
# deploys it; "queue": as the workers' task.
ENGINE = os.environ.get("AFTERSHOW_BURST_ENGINE", "process")
# "process": once the world is set up, the TikTok sandbox is served by a forked process of its
# own (TikTok's servers do not share aftershow's interpreter lock); "thread": threads of this
# process.
SANDBOX = os.environ.get("AFTERSHOW_BURST_SANDBOX", "process")
WORKER_COMMAND = ["db_worker", "--queue-name", "*", "--interval", "0.1", "--no-startup-delay"]
# "process" (the default, as ``aftershow process_burst`` and the demo run it) or "inline".
PDF = os.environ.get("AFTERSHOW_BURST_PDF", "process")


class ServiceProcesses:
    """``aftershow`` commands running beside the burst as a deployment runs them (``db_worker``
    polling every 0.1 s, the in-process loops' interval; ``sync_engine``); their CPU is read
    from /proc so that the burst's figure counts it."""

    def __init__(self, commands: list[list[str]]) -> None:
        self.processes: list[subprocess.Popen[bytes]] = []
        self.start(commands)

    def start(self, commands: list[list[str]]) -> None:
        self.processes += [
            subprocess.Popen(
                [sys.executable, "-m", "aftershow.cli", *command],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            for command in commands
        ]

    def cpu(self) -> float:
        """CPU seconds the processes have used so far."""
        return sum(process_cpu(process.pid) for process in self.processes)

    def wait_idle(self, timeout: float = 60.0) -> None:
        """Until Django is loaded in each and they only poll (their CPU grows by little)."""
        deadline = time.monotonic() + timeout
        last = self.cpu()
        while time.monotonic() < deadline:
            time.sleep(0.5)
            now = self.cpu()
            if now - last < 0.1:
                return
            last = now
        raise SystemExit("the worker processes did not settle")

    def stop(self) -> None:
        for process in self.processes:
            process.send_signal(signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


class SandboxProcess:
    """The sandbox, its store as the world's set-up left it, served by a forked child on the
    same port. Forked while this process has no other thread (the sandbox's own are stopped
    first, the workers are not started yet), and the child runs only the sandbox, which never
    touches the database; it leaves through ``os._exit``."""

    def __init__(self, sandbox: TikTokSandbox) -> None:
        host, port = sandbox.base_url.removeprefix("http://").rsplit(":", 1)
        sandbox.stop()
        deadline = time.monotonic() + 10  # its last connections' threads end on their own
        while threading.active_count() != 1 and time.monotonic() < deadline:
            time.sleep(0.01)
        if threading.active_count() != 1:
            names = [thread.name for thread in threading.enumerate()]
            raise SystemExit(f"cannot fork the sandbox: this process has other threads {names}")
        self.pid = os.fork()
        if self.pid == 0:  # the child
            code = 0
            try:
                stop = threading.Event()
                signal.signal(signal.SIGTERM, lambda *_args: stop.set())
                sandbox.start(port=int(port), host=host)
                while not stop.wait(0.2):
                    pass
                sandbox.stop()
            except BaseException:
                code = 1
            finally:
                os._exit(code)
        deadline = time.monotonic() + 30
        while True:  # until the child serves
            try:
                socket.create_connection((host, int(port)), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise SystemExit("the sandbox process did not start") from None
                time.sleep(0.02)

    def cpu(self) -> float:
        return process_cpu(self.pid)

    def stop(self) -> None:
        os.kill(self.pid, signal.SIGTERM)
        os.waitpid(self.pid, 0)


def wait_queue_empty(timeout: float = 120.0) -> None:
    """Until the tasks the world's set-up queued are done: the burst's clock then times the
    burst's own work only."""
    deadline = time.monotonic() + timeout
    while DBTaskResult.objects.filter(status=TaskResultStatus.READY).exists():
        if time.monotonic() > deadline:
            raise SystemExit("the world's queued tasks did not finish")
        time.sleep(0.1)


def one_burst(orders: int, seed: int) -> tuple[float, float, BurstSummary, TikTokSandbox]:
    sandbox = TikTokSandbox(
        app_key=APP_KEY,
        app_secret=APP_SECRET,
        seed=seed,
        clock=VirtualClock(start=burst_clock_start(), speed=0),
    )
    sandbox.start()
    shop, plan = burst_world_create(
        sandbox=sandbox,
        app_key=APP_KEY,
        app_secret=APP_SECRET,
        orders=orders,
        seed=seed,
        shop_name=f"Burst {seed}",
    )
    served = SandboxProcess(sandbox) if SANDBOX == "process" else None
    # Two workers, as a deployment runs two ``db_worker`` processes: a whole batch shipped at
    # once queues two push tasks, which push side by side.
    threads = [WorkerThread() for _ in range(WORKER_LOOPS)] if WORKERS == "thread" else []
    workers = [[*WORKER_COMMAND, "--no-reload"]] * (WORKER_LOOPS if WORKERS == "process" else 0)
    # The engine first, and settled (holding its lease) before any worker starts: the queue's
    # engine task that the world's set-up queued then finds the lease taken and ends, instead
    # of holding a worker for its 30 s run while the process waits for the lease.
    processes = ServiceProcesses([["sync_engine"]] if ENGINE == "process" else [])
    try:
        processes.wait_idle()
        processes.start(workers)
        for thread in threads:
            thread.start()
        wait_queue_empty()
        processes.wait_idle()

        def cpu_now() -> float:
            others = processes.cpu() + (served.cpu() if served is not None else 0.0)
            return time.process_time() + children_cpu() + others

        started = time.perf_counter()
        cpu_started = cpu_now()
        summary = burst_process(
            shop=shop,
            provider=SandboxCarrier(shop),
            tracking_timeout=900,
            parallel_pdf=PDF == "process",
        )
        elapsed = time.perf_counter() - started
        cpu = cpu_now() - cpu_started
    finally:
        for thread in threads:
            thread.stop()
        processes.stop()
        if served is not None:
            served.stop()
        else:
            sandbox.stop()
    # Every shipped parcel's tracking is answered: accepted, or refused with its reason (TikTok
    # refuses parcels that combine orders it holds as separate packages; they stay listed).
    answered = summary.tracking_accepted + summary.tracking_failed
    if (
        summary.tracking_waiting
        or answered != summary.shipped
        or summary.tracking_accepted < 0.8 * len(plan.orders)
    ):
        raise SystemExit(
            f"burst of {len(plan.orders)}: shipped {summary.shipped}, tracking accepted "
            f"{summary.tracking_accepted}, errors {summary.errors[:3]}"
        )
    steps = ", ".join(f"{step.name} {step.seconds:.2f}" for step in summary.steps)
    print(
        f"  burst {len(plan.orders)}: {elapsed:.2f} s ({cpu:.2f} s CPU), "
        f"{summary.shipped} shipped, {summary.tracking_accepted} tracking accepted, "
        f"{summary.tracking_failed} refused, {summary.in_review} in review: {steps}",
        file=sys.stderr,
        flush=True,
    )
    return elapsed, cpu, summary, sandbox


def main(engine: str) -> dict[str, float]:
    call_command("migrate", verbosity=0)
    suffix = "" if engine == "sqlite" else f"_{engine}"
    figures: dict[str, float] = {}
    seed = 300
    for orders, repeats in REPEATS.items():
        runs, cpu_runs = [], []
        for _ in range(repeats):
            seed += 1
            elapsed, cpu, _summary, _sandbox = one_burst(orders, seed)
            runs.append(elapsed)
            cpu_runs.append(cpu)
        figures[f"burst_{orders}_s{suffix}"] = round(statistics.median(runs), 3)
        figures[f"burst_{orders}_cpu_s{suffix}"] = round(statistics.median(cpu_runs), 3)
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    figures[f"burst_peak_rss_mb{suffix}"] = round(peak_kib / 1024, 1)
    return figures


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1])))
