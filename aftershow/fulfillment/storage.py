"""Label files on disk, under ``label_dir()``: written atomically, named by purchase."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from aftershow.fulfillment.conf import label_dir


def label_file_write(*, name: str, data: bytes) -> str:
    """Store ``data`` as ``name`` (e.g. ``"purchase-12.png"``); returns the relative path.

    Written to a temporary file and renamed, so a reader never sees half a label.
    """
    directory = label_dir()
    handle, temporary = tempfile.mkstemp(dir=directory, prefix=".tmp-")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.replace(temporary, directory / name)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return name


def label_file_path(relative_path: str) -> Path:
    """The stored file's absolute path; a path leading outside the label store is refused."""
    directory = label_dir().resolve()
    path = (directory / relative_path).resolve()
    if directory not in path.parents:
        raise ValueError(f"label path outside the label store: {relative_path!r}")
    return path


def label_file_read(relative_path: str) -> bytes:
    return label_file_path(relative_path).read_bytes()
