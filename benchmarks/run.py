"""`make bench`: run every benchmark on SQLite and on PostgreSQL in one run, then write the
figures to benchmarks/results.json (merged) and docs/benchmarks.md.

Each database gets its own worker process (settings are read from the environment at start),
so the SQLite and PostgreSQL figures come from the same code, the same machine and the same run.
PostgreSQL runs in a throwaway cluster started the way CI starts it; where its binaries are
missing, its keys are skipped and the report says so.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results.json"
REPORT = ROOT / "docs" / "benchmarks.md"
# Scratch databases and files; AFTERSHOW_BENCH_WORK lets two runs on one machine stay apart.
WORK = Path(os.environ.get("AFTERSHOW_BENCH_WORK", ROOT / "benchmarks" / ".work"))
PG_PORT = os.environ.get("AFTERSHOW_BENCH_PG_PORT", "54339")

# Each suite is a module in benchmarks/ with a main(engine) -> dict of figures.
SUITES = ["ingest", "imports", "creator_metrics", "labels", "burst", "sync", "statements"]


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = ""
    try:
        kib = int(Path("/proc/meminfo").read_text().split()[1])
        memory = f", {kib / 1024 / 1024:.0f} GiB"
    except (OSError, ValueError, IndexError):
        pass
    return f"{os.cpu_count()} cores, {cpu}{memory}, {platform.system()} {platform.release()}"


def run_suite(suite: str, engine: str, env: dict[str, str]) -> dict[str, object]:
    output = subprocess.run(
        [sys.executable, "-m", f"benchmarks.{suite}", engine],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    sys.stderr.write(output.stderr)
    return json.loads(output.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description="Run the benchmarks (all by default).")
    parser.add_argument(
        "--suite", action="append", choices=SUITES, help="run only this suite (repeatable)"
    )
    parser.add_argument(
        "--engine", choices=["sqlite", "postgres"], action="append", help="only this database"
    )
    arguments = parser.parse_args()
    suites = arguments.suite or SUITES
    engines = arguments.engine or ["sqlite", "postgres"]
    WORK.mkdir(parents=True, exist_ok=True)
    base_env = {**os.environ, "AFTERSHOW_LOG_LEVEL": "ERROR", "AFTERSHOW_VAR_DIR": str(WORK)}
    figures: dict[str, object] = {}
    notes: list[str] = []

    sqlite_env = {**base_env, "AFTERSHOW_SQLITE_PATH": str(WORK / "bench.sqlite3")}
    for suite in suites if "sqlite" in engines else []:
        for path in WORK.glob("bench.sqlite3*"):
            path.unlink()
        print(f"== {suite} on SQLite", flush=True)
        figures.update(run_suite(suite, "sqlite", sqlite_env))

    if "postgres" not in engines:
        return finish(figures, notes, suites, engines)
    cluster = tempfile.mkdtemp(prefix="aftershow-bench-pg.")
    os.chmod(cluster, 0o755)
    started = subprocess.run(
        [str(ROOT / "scripts" / "pg_cluster.sh"), "start", cluster, PG_PORT],
        capture_output=True,
        text=True,
    )
    if started.returncode != 0:
        notes.append(f"PostgreSQL skipped: {started.stderr.strip() or 'cluster did not start'}")
        print(notes[-1], flush=True)
    else:
        try:
            pg_env = {
                **base_env,
                "AFTERSHOW_DB_ENGINE": "postgresql",
                "PGHOST": "127.0.0.1",
                "PGPORT": PG_PORT,
                "PGUSER": "postgres",
                "PGDATABASE": "aftershow_bench",
            }
            for suite in suites:
                subprocess.run(
                    [
                        "dropdb",
                        "--if-exists",
                        "-h",
                        "127.0.0.1",
                        "-p",
                        PG_PORT,
                        "-U",
                        "postgres",
                        "aftershow_bench",
                    ],
                    check=True,
                )
                subprocess.run(
                    [
                        "createdb",
                        "-h",
                        "127.0.0.1",
                        "-p",
                        PG_PORT,
                        "-U",
                        "postgres",
                        "aftershow_bench",
                    ],
                    check=True,
                )
                print(f"== {suite} on PostgreSQL", flush=True)
                figures.update(run_suite(suite, "postgres", pg_env))
        finally:
            subprocess.run([str(ROOT / "scripts" / "pg_cluster.sh"), "stop", cluster], check=False)

    return finish(figures, notes, suites, engines)


def finish(
    figures: dict[str, object], notes: list[str], suites: list[str], engines: list[str]
) -> int:
    merged = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    merged.update(figures)
    RESULTS.write_text(json.dumps(merged, indent=2, sort_keys=True) + "\n")
    if suites != SUITES or len(engines) < 2:
        # A partial run: say which figures it refreshed (the rest are from earlier runs).
        notes.append(
            "last run: `python -m benchmarks.run "
            + " ".join(f"--suite {suite}" for suite in suites)
            + "".join(f" --engine {engine}" for engine in engines if len(engines) < 2)
            + f"` on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC refreshed "
            + ", ".join(f"`{key}`" for key in sorted(figures))
        )
    write_report(merged, notes)
    print(json.dumps(figures, indent=2, sort_keys=True))
    return 0


DESCRIPTIONS = {
    "sync_p50_s": "sale → all 4 channels updated during a 1,000-order burst, median (s)",
    "sync_p99_s": "sale → all 4 channels updated during a 1,000-order burst, p99 (s)",
    "api_calls_per_sale_per_channel": "outbound API calls (retries included) per sale per channel",
    "alloc_orders_per_s_sqlite": "allocation at ingest (order + stock + ledger), SQLite (orders/s)",
    "alloc_orders_per_s_postgres": "allocation at ingest, PostgreSQL, 2 processes (orders/s)",
    "raw_alloc_tx_per_s_sqlite": "raw SQL: conditional UPDATE + ledger INSERT, SQLite (tx/s)",
    "raw_alloc_tx_per_s_postgres": "raw SQL loop, PostgreSQL, 2 worker processes (tx/s)",
    "pull_1000_s_sqlite": "pull 1,000 orders from the sandbox into the database, SQLite (s)",
    "pull_10000_s_sqlite": "pull 10,000 orders, SQLite (s)",
    "pull_1000_s_postgres": "pull 1,000 orders, PostgreSQL (s)",
    "pull_10000_s_postgres": "pull 10,000 orders, PostgreSQL (s)",
    "webhook_orders_per_s_sqlite": (
        "webhook ingest: signed webhook → detail fetch → order stored, SQLite (orders/s)"
    ),
    "webhook_orders_per_s_postgres": "webhook ingest, PostgreSQL (orders/s)",
    "burst_1000_s": (
        "1,000-order burst on SQLite: process (screen, confirm, labels, PDF, ship) until TikTok "
        "(sandbox) accepted every tracking number, deployed as the README says: two db_worker "
        "processes, sync_engine (s; target ≤ 3)"
    ),
    "burst_10000_s": "10,000-order burst, the same, SQLite (s)",
    "burst_1000_cpu_s": (
        "the 1,000-order burst in CPU seconds of every process taking part (the burst's, the PDF "
        "process, the workers, the engine, the sandbox), SQLite"
    ),
    "burst_10000_cpu_s": "the 10,000-order burst in CPU seconds, the same processes, SQLite",
    "burst_peak_rss_mb": "peak resident memory of the burst benchmark (10,000 included, MB)",
    "burst_1000_s_postgres": "1,000-order burst, PostgreSQL (s)",
    "burst_10000_s_postgres": "10,000-order burst, PostgreSQL (s)",
    "burst_1000_cpu_s_postgres": "the 1,000-order burst in client CPU seconds, PostgreSQL",
    "burst_10000_cpu_s_postgres": "the 10,000-order burst in client CPU seconds, PostgreSQL",
    "burst_peak_rss_mb_postgres": "peak resident memory of the burst benchmark, PostgreSQL (MB)",
    "label_rate_ratio": (
        "labels/s of batch_pdf ÷ labels/s of reportlab drawing the same layout, side by side, "
        "CPU seconds of the thread, median of 9 pairs (target ≥ 0.5)"
    ),
    "label_rate_ratio_wall": "the same pairs timed by the wall clock",
    "labels_1000_s_sqlite": "1,000 labels: parcels → carriers → labels → PDFs, SQLite (s)",
    "labels_1000_s_postgres": "1,000 labels, PostgreSQL (s)",
    "labels_1000_cpu_s_sqlite": "the same in CPU seconds of the process, SQLite",
    "labels_1000_cpu_s_postgres": "the same in client CPU seconds, PostgreSQL",
    "labels_peak_rss_mb_sqlite": "peak resident memory of the labels benchmark, SQLite (MB)",
    "labels_peak_rss_mb_postgres": "peak resident memory of the labels benchmark, PostgreSQL (MB)",
    "creator_metrics_100k_s": (
        "creator metrics and S/A/B tiers recomputed over 100,000 orders, 200 creators, SQLite (s)"
    ),
    "creator_metrics_100k_s_postgres": "creator metrics and tiers, 100,000 orders, PostgreSQL (s)",
    "creator_metrics_100k_cpu_s": "the same recompute in CPU seconds of the process, SQLite",
    "creator_metrics_100k_cpu_s_postgres": "the same in client CPU seconds, PostgreSQL",
    "creator_metrics_100k_queries": "SQL statements of one recompute (aggregates), SQLite",
    "creator_metrics_100k_queries_postgres": "SQL statements of one recompute, PostgreSQL",
    "statements_100k_s": (
        "monthly statements for 100,000 order lines, 200 creators, with every XLSX, SQLite "
        "(s; target ≤ 5)"
    ),
    "statements_100k_generate_s": "the statements part (sweep, figures, carry-ins), SQLite (s)",
    "statements_100k_xlsx_s": (
        "the 200 XLSX files (94,000 detail rows) written by 2 processes, SQLite (s)"
    ),
    "statements_100k_cpu_s": "the whole statements run in CPU seconds, both processes, SQLite",
    "statements_100k_remake_s": "remaking the month's unchanged drafts once, SQLite (s)",
    "statements_100k_remake_s_postgres": "remaking the unchanged drafts once, PostgreSQL (s)",
    "statements_100k_s_postgres": "monthly statements with XLSX, 100,000 lines, PostgreSQL (s)",
    "statements_100k_generate_s_postgres": "the statements part, PostgreSQL (s)",
    "statements_100k_xlsx_s_postgres": "the 200 XLSX files, PostgreSQL (s)",
    "statements_100k_cpu_s_postgres": "the statements run in client CPU seconds, PostgreSQL",
    "import_100k_rows_s": "import a 100,000-row Seller Center order export, SQLite (s)",
    "import_100k_peak_rss_mb": "peak resident memory of that import's process, SQLite (MB)",
    "import_100k_cpu_s": "CPU time of that import's process, SQLite (s)",
    "import_100k_reader_cpu_s": "CPU time of its reader process (reads and parses), SQLite (s)",
    "import_100k_reader_peak_rss_mb": "peak resident memory of the reader process, SQLite (MB)",
    "import_100k_reader_cpu_s_postgres": "CPU time of the reader process, PostgreSQL (s)",
    "import_100k_reader_peak_rss_mb_postgres": "peak memory of the reader, PostgreSQL (MB)",
    "import_100k_rows_s_postgres": "import a 100,000-row order export, PostgreSQL (s)",
    "import_100k_cpu_s_postgres": "CPU time of that import's process, PostgreSQL (s)",
    "import_100k_peak_rss_mb_postgres": "peak resident memory of that import, PostgreSQL (MB)",
}


def write_report(figures: dict[str, object], notes: list[str]) -> None:
    today = datetime.now(UTC).strftime("%Y-%m-%d")
    lines = [
        "# Benchmarks",
        "",
        "Written by `make bench` (`benchmarks/run.py`); do not edit by hand.",
        "",
        f"- date: {today}",
        f"- machine: {machine()}",
        "- command: `make bench`",
        "- medians of repeated runs where a figure says so in `benchmarks/`; the machine is shared",
        "  and noisy, so compare figures from one run only.",
        "- PostgreSQL: a throwaway local cluster with default durability settings (fsync on).",
        "",
        "| figure | value | what |",
        "|---|---|---|",
    ]
    for key in sorted(figures):
        lines.append(f"| `{key}` | {figures[key]} | {DESCRIPTIONS.get(key, '')} |")
    lines += ["", *[f"- {note}" for note in notes]]
    # The sections written by hand under the table (how each figure was measured) are kept.
    existing = REPORT.read_text() if REPORT.exists() else ""
    sections = existing[existing.index("\n## ") :] if "\n## " in existing else ""
    REPORT.write_text("\n".join(lines).rstrip() + "\n" + sections)


if __name__ == "__main__":
    raise SystemExit(main())
