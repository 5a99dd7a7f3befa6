"""The burst's batch PDFs, drawn by a second Python process while the parcels ship.

Drawing a 600-label PDF is about a second of CPU, all of it Python holding the interpreter
lock; the burst's other steps run on one core too. ``burst_process`` therefore starts
``python -m aftershow.fulfillment.pdfprocess`` when it begins (so that the interpreter and
Django are ready by the time the labels are bought), hands it the batch ids once the labels are
bought, ships and waits for the tracking meanwhile, then collects the paths.

A fresh interpreter rather than ``fork``: the burst's process has threads (the in-process task
worker, in the demo and the benchmark the sandbox's HTTP server), and a fork taken while one of
them holds a C library's lock (SQLite's allocator mutex was caught so) leaves the child
deadlocked on it.

Protocol: the parent writes one JSON line on the child's stdin (``{"databases": {alias: name},
"language": code, "batches": [ids], "directory": path}``, or an empty line: nothing to draw);
the child writes one JSON line (``{"paths": [...]}``) on stdout and exits 0. Anything else
(an error, a crash, a timeout) makes the parent draw the PDFs itself: writing a batch's PDF
again only replaces the file.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from aftershow.fulfillment.models import LabelBatch

RESULT_TIMEOUT_SECONDS = 600.0
logger = logging.getLogger(__name__)


def batch_pdf_write(batch: LabelBatch, directory: Path) -> str:
    """Write the batch's PDF as ``batch-<id>.pdf`` (a temporary file renamed: never half a
    file under the final name, whichever process writes it)."""
    from aftershow.fulfillment.documents import batch_pdf

    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"batch-{batch.pk}.pdf"
    temporary = path.with_suffix(f".pdf.{os.getpid()}.tmp")
    temporary.write_bytes(batch_pdf(batch=batch))
    temporary.replace(path)
    return str(path)


def can_draw_elsewhere() -> bool:
    """A second process sees only committed rows (not those of an open transaction, e.g. a
    test's), cannot open an in-memory SQLite database, and gains nothing on one core."""
    from django.db import connections

    wrappers = list(connections.all())
    return (os.cpu_count() or 1) > 1 and not any(
        wrapper.in_atomic_block or (wrapper.vendor == "sqlite" and wrapper.is_in_memory_db())  # type: ignore[attr-defined]
        for wrapper in wrappers
    )


class PdfProcess:
    """The second process, started ahead of the work."""

    def __init__(self) -> None:
        from django.conf import settings

        # pytest-django sets the settings module in its own configuration, not the environment.
        environment = dict(os.environ)
        environment["DJANGO_SETTINGS_MODULE"] = (
            os.environ.get("DJANGO_SETTINGS_MODULE")
            or getattr(settings, "SETTINGS_MODULE", None)
            or "aftershow.settings"
        )
        self.process = subprocess.Popen(
            [sys.executable, "-m", "aftershow.fulfillment.pdfprocess"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=environment,
            text=True,
        )
        self.batches: list[LabelBatch] = []
        self.directory = Path()

    def submit(self, batches: list[LabelBatch], directory: Path) -> None:
        from django.db import connections
        from django.utils import translation

        self.batches, self.directory = batches, directory
        job = {
            "databases": {
                wrapper.alias: str(wrapper.settings_dict["NAME"]) for wrapper in connections.all()
            },
            "language": translation.get_language(),
            "batches": [batch.pk for batch in batches],
            "directory": str(directory),
        }
        stdin, self.process.stdin = self.process.stdin, None  # communicate() reads stdout only
        assert stdin is not None
        try:
            stdin.write(json.dumps(job) + "\n" if batches else "\n")
            stdin.close()
        except OSError:  # the child is gone: result() draws the PDFs here
            pass

    def result(self, *, timeout: float = RESULT_TIMEOUT_SECONDS) -> list[str]:
        """The PDFs' paths once written, by the child or, if it failed, by this process."""
        paths: list[str] | None = None
        try:
            output, _ = self.process.communicate(timeout=timeout)
            if self.process.returncode == 0 and output.strip():
                paths = [str(path) for path in json.loads(output)["paths"]]
        except (subprocess.TimeoutExpired, ValueError, KeyError) as error:
            logger.warning("The batch PDF process failed (%r): drawing them here", error)
            self.process.kill()
            self.process.wait()
        if paths is None or len(paths) != len(self.batches):
            if self.batches:
                logger.warning(
                    "The batch PDF process ended with %s: drawing them here",
                    self.process.returncode,
                )
            paths = [batch_pdf_write(batch, self.directory) for batch in self.batches]
        return paths

    def cancel(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()


def main() -> int:
    # stdout carries the answer only: whatever else is printed (logging set up on stdout, say)
    # goes to stderr.
    answer, sys.stdout = sys.stdout, sys.stderr
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aftershow.settings")
    import django

    django.setup()
    from django.db import connections
    from django.utils import translation

    from aftershow.fulfillment.models import LabelBatch

    line = sys.stdin.readline()
    if not line.strip():
        return 0
    job = json.loads(line)
    # The parent's database names: under a test runner they are the test databases.
    for alias, name in job["databases"].items():
        connections[alias].settings_dict["NAME"] = name
    translation.activate(job["language"] or "en")
    directory = Path(job["directory"])
    batches = LabelBatch.objects.in_bulk(job["batches"])
    paths = [batch_pdf_write(batches[int(pk)], directory) for pk in job["batches"]]
    answer.write(json.dumps({"paths": paths}) + "\n")
    answer.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
