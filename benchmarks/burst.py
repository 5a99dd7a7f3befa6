"""The burst: a live stream's orders processed in one action, until TikTok took every tracking
number.

- ``burst_1000_s`` / ``burst_10000_s``: machine time of ``burst_process`` (release and
  screening, confirm all clean, parcels, carrier choice, sandbox-carrier labels, the batch PDFs
  written to disk by a second process meanwhile, shipping, then the tracking push through the
  task queue and two in-process worker loops to the TikTok sandbox over loopback HTTP) until
  TikTok answered every shipped parcel's tracking number (accepted, or refused with TikTok's
  reason). ``AFTERSHOW_BURST_WORKERS=process`` runs the two workers as ``db_worker`` processes
  instead (their CPU read from /proc and counted). The orders were pulled from the sandbox
  beforehand (as the demo's stream leaves them); median of 3 runs for 1,000, one for 10,000.
- ``burst_1000_cpu_s`` / ``burst_10000_cpu_s``: the same runs in CPU seconds of this process
  and of the second process that draws the batch PDFs meanwhile (the sandbox and the workers are
  threads of this process, so this counts everything but PostgreSQL's server), plus the worker
  processes' when they are processes. ``AFTERSHOW_BURST_PDF=inline`` draws the PDFs in this
  process instead (the web button's way), for a side-by-side comparison.
- ``label_rate_ratio`` is measured once, by ``benchmarks.labels`` (its 600-label batch), not
  here: both suites writing the key made the later run silently replace the earlier figure.
- ``burst_peak_rss_mb``: peak resident memory of the benchmark process (10,000 included);
  ``burst_pdf_process_peak_rss_mb``: that of the largest PDF process it started (absent when
  none ran, or when the workers are processes: their peak would be mixed in).

Keys without an engine suffix are the SQLite run (the figures the issue asks for); the
PostgreSQL run writes the same keys with ``_postgres``.

Run by benchmarks/run.py as ``python -m benchmarks.burst sqlite|postgres``; prints one JSON line.
"""

from __future__ import annotations

import json
import os
import resource
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

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
# "process": two ``aftershow db_worker`` processes, as a deployment runs them (the push and the
# stock sync then use the machine's second core); "thread": two worker loops in this process
# (the method before 2026-11-27, one core for everything but the PDF process).
WORKERS = os.environ.get("AFTERSHOW_BURST_WORKERS", "thread")
# "process": the stock sync engine in its own ``aftershow sync_engine`` process, as the README
# deploys it; "queue": as the workers' task (the method before 2026-11-27).
ENGINE = os.environ.get("AFTERSHOW_BURST_ENGINE", "process")
WORKER_COMMAND = ["db_worker", "--queue-name", "*", "--interval", "0.1", "--no-startup-delay"]
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
# "process" (the default, as ``aftershow process_burst`` and the demo run it) or "inline".
PDF = os.environ.get("AFTERSHOW_BURST_PDF", "process")


class ServiceProcesses:
    """``aftershow`` commands running beside the burst as a deployment runs them (``db_worker``
    polling every 0.1 s, the in-process loops' interval; ``sync_engine``); their CPU is read
    from /proc so that the burst's figure counts it."""

    def __init__(self, commands: list[list[str]]) -> None:
        self.processes = [
            subprocess.Popen([sys.executable, "-m", "aftershow.cli", *command])
            for command in commands
        ]

    def cpu(self) -> float:
        """CPU seconds the processes have used so far."""
        total = 0
        for process in self.processes:
            fields = Path(f"/proc/{process.pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime
        return total / CLOCK_TICKS

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


def wait_queue_empty(timeout: float = 120.0) -> None:
    """Until the tasks the world's set-up queued are done: the burst's clock then times the
    burst's own work only."""
    deadline = time.monotonic() + timeout
    while DBTaskResult.objects.filter(status=TaskResultStatus.READY).exists():
        if time.monotonic() > deadline:
            raise SystemExit("the world's queued tasks did not finish")
        time.sleep(0.1)


def children_cpu() -> float:
    """CPU seconds of this process's finished children: the second process that draws the
    batch PDFs (``fulfillment.pdfprocess``) counts in the burst's CPU figure."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


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
    # Two workers, as a deployment runs two ``db_worker`` processes: the stock sync engine
    # (woken by the shipments' stock movements) holds one for up to 30 s, and the tracking
    # push must not queue behind it.
    threads = [WorkerThread() for _ in range(WORKER_LOOPS)] if WORKERS == "thread" else []
    commands = [[*WORKER_COMMAND, "--no-reload"]] * (WORKER_LOOPS if WORKERS == "process" else 0)
    commands += [["sync_engine"]] if ENGINE == "process" else []
    # Started before the in-process loops: the engine's lease is the process's, and the queue's
    # engine task (queued by the world's set-up) finds it taken.
    processes = ServiceProcesses(commands) if commands else None
    try:
        if processes is not None:
            processes.wait_idle()
        for thread in threads:
            thread.start()
        wait_queue_empty()
        if processes is not None:
            processes.wait_idle()

        def cpu_now() -> float:
            workers = processes.cpu() if processes is not None else 0.0
            return time.process_time() + children_cpu() + workers

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
        if processes is not None:
            processes.stop()
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
    # The PDF process's own peak (the largest child's): not part of the figure above. Only when
    # one ran: with the second process off there is nothing to report, not a zero.
    # (Worker processes are children too: then the figure would be theirs.)
    child_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    if child_kib and WORKERS == "thread":
        figures[f"burst_pdf_process_peak_rss_mb{suffix}"] = round(child_kib / 1024, 1)
    return figures


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1])))
