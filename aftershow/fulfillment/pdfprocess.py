"""The burst's batch PDFs, drawn by a second Python process while the parcels ship.

Drawing a 600-label PDF is about a second of CPU, all of it Python holding the interpreter
lock, and the burst's other steps and its tracking push run on one core too. ``burst_process``
therefore starts ``python -m aftershow.fulfillment.pdfprocess`` when it begins (its imports
load on the other core during screening), reads each batch into a ``sheets.BatchSheet`` as
soon as its labels are bought (plain values, every text translated, two queries a batch) and
hands it over, ships and waits for the tracking meanwhile, then collects the paths.

The child imports reportlab and ``sheets`` only, never Django, and touches no database: about
0.3 s of start-up against 1.2-1.4 s for a process that sets Django up (and 3-4 s where
``PYTHONDONTWRITEBYTECODE`` leaves no compiled modules for it, as here: ``make`` compiles them).
A fresh interpreter rather than ``fork``: the burst's process has threads (the in-process task
worker, in the demo and the benchmark the sandbox's HTTP server), and a fork taken while one of
them holds a C library's lock (SQLite's allocator mutex was caught so) leaves the child
deadlocked on it.

Protocol: the parent writes one pickle per batch on the child's stdin, ``(BatchSheet, path)``,
as soon as the batch's labels are bought (the child draws it while the next batch's are), then
closes it; the child writes each PDF (a temporary file renamed), answers one JSON line
``{"paths": [...]}`` on stdout and exits 0. Anything else (an
error, a crash, a timeout) makes the parent draw the same sheets itself: writing a batch's PDF
again only replaces the file.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import pickle
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from aftershow.fulfillment.sheets import BatchSheet, sheet_write

if TYPE_CHECKING:
    from aftershow.fulfillment.models import LabelBatch

RESULT_TIMEOUT_SECONDS = 600.0
logger = logging.getLogger(__name__)


def can_draw_elsewhere() -> bool:
    """A second process gains nothing on one core."""
    return (os.cpu_count() or 1) > 1


class PdfProcess:
    """The second process, started ahead of the work."""

    def __init__(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "aftershow.fulfillment.pdfprocess"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )
        self.jobs: list[tuple[BatchSheet, str]] = []

    def add(self, batch: LabelBatch, directory: Path) -> None:
        """Read the batch's sheet here (the database is this process's) and hand it over: the
        child starts drawing it at once."""
        from aftershow.fulfillment.documents import batch_pdf_path, batch_sheet

        job = (batch_sheet(batch), str(batch_pdf_path(batch, directory)))
        self.jobs.append(job)
        if self.process.stdin is None:
            return
        try:
            self.process.stdin.write(pickle.dumps(job, protocol=pickle.HIGHEST_PROTOCOL))
            self.process.stdin.flush()
        except OSError:  # the child is gone: result() draws the PDFs here
            self.close_input()

    def close_input(self) -> None:
        """Nothing more to draw: the child answers once it has drawn what it was given."""
        stdin, self.process.stdin = self.process.stdin, None  # communicate() reads stdout only
        if stdin is not None:
            with contextlib.suppress(OSError):  # the child is gone: result() says so
                stdin.close()

    def result(self, *, timeout: float = RESULT_TIMEOUT_SECONDS) -> list[str]:
        """The PDFs' paths once written, by the child or, if it failed, by this process."""
        paths: list[str] | None = None
        try:
            self.close_input()
            output, _ = self.process.communicate(timeout=timeout)
            if self.process.returncode == 0 and output.strip():
                paths = [str(path) for path in json.loads(output)["paths"]]
        except (subprocess.TimeoutExpired, ValueError, KeyError) as error:
            logger.warning("The batch PDF process failed (%r): drawing them here", error)
            self.process.kill()
            self.process.wait()
        if paths is None or len(paths) != len(self.jobs):
            if self.jobs:
                logger.warning(
                    "The batch PDF process ended with %s: drawing them here",
                    self.process.returncode,
                )
            paths = [sheet_write(sheet, Path(path)) for sheet, path in self.jobs]
        return paths

    def cancel(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()


def main() -> int:
    paths = []
    while True:  # one pickled job after another, until the parent closes the input
        try:
            # Our parent wrote it: the same code, trusted input.
            sheet, path = pickle.load(sys.stdin.buffer)  # noqa: S301
        except EOFError:
            break
        paths.append(sheet_write(sheet, Path(path)))
    sys.stdout.write(json.dumps({"paths": paths}) + "\n")
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
