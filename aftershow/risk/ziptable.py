"""ZIP code → state, from the ``zipcodes`` package's offline database, in a form that loads fast.

``zipcodes.matching()`` scans all 42,789 records on every call (2-5 ms each, seconds for a
burst), and ``zipcodes.list_all()`` builds 42,789 dicts (0.7-2 s per process). This module keeps
the same ZIP → state pairs in ``data/zip_states.txt`` (36 KB, run-length encoded) and answers
``zip_state`` from its ~10,000 runs with a binary search (loaded in a few milliseconds; building
the full 42,789-entry dict took 50-70 ms, paid by the first screening of every process).
``python -m aftershow.risk.ziptable`` regenerates the file from ``zipcodes``; a test checks
that the file still equals ``zipcodes``' data, so upgrading the package without regenerating
fails the suite.

Format: a ``#`` header line, then one line per run of states, ``ST tok,tok,...``. ZIPs are
read as integers in ascending order; each token is the gap from the previous ZIP (``d``), or a
gap and a count of consecutive ZIPs that follow it (``d+n``).
"""

from __future__ import annotations

import sys
from bisect import bisect_right
from dataclasses import dataclass
from functools import cache
from pathlib import Path

TABLE_PATH = Path(__file__).resolve().parent / "data" / "zip_states.txt"


def encode(pairs: dict[str, str], *, source: str) -> str:
    runs: list[tuple[int, int, str]] = []  # (first zip, count, state)
    for zip_code, state in sorted((int(z), s) for z, s in pairs.items()):
        if runs and runs[-1][2] == state and runs[-1][0] + runs[-1][1] == zip_code:
            runs[-1] = (runs[-1][0], runs[-1][1] + 1, state)
        else:
            runs.append((zip_code, 1, state))
    parts, previous, current_state = [f"# ZIP -> state, generated from {source}"], 0, ""
    for first, count, state in runs:
        token = f"{first - previous}" if count == 1 else f"{first - previous}+{count - 1}"
        if state != current_state:
            parts.append(f"\n{state} {token}")
            current_state = state
        else:
            parts.append(f",{token}")
        previous = first + count - 1
    return "".join(parts) + "\n"


@dataclass(frozen=True)
class ZipRuns:
    """Runs of consecutive ZIP codes (as integers) of one state, ascending: ``firsts[i]`` to
    ``lasts[i]`` are all ZIPs of ``states[i]``; ZIPs between runs do not exist."""

    firsts: tuple[int, ...]
    lasts: tuple[int, ...]
    states: tuple[str, ...]


def decode_runs(text: str) -> ZipRuns:
    firsts: list[int] = []
    lasts: list[int] = []
    states: list[str] = []
    previous = 0
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        state, tokens = line.split(" ", 1)
        for token in tokens.split(","):
            gap, _, extra = token.partition("+")
            first = previous + int(gap)
            previous = first + (int(extra) if extra else 0)
            firsts.append(first)
            lasts.append(previous)
            states.append(state)
    return ZipRuns(tuple(firsts), tuple(lasts), tuple(states))


def decode(text: str) -> dict[str, str]:
    runs = decode_runs(text)
    return {
        f"{zip_code:05d}": state
        for first, last, state in zip(runs.firsts, runs.lasts, runs.states, strict=True)
        for zip_code in range(first, last + 1)
    }


@cache
def zip_runs() -> ZipRuns:
    return decode_runs(TABLE_PATH.read_text(encoding="ascii"))


def zip_state(zip_code: str) -> str:
    """The state, territory or military "state" (AA, AE, AP) of a 5-digit ZIP code; "" when
    ``zipcodes`` does not know it."""
    if len(zip_code) != 5 or not zip_code.isdigit():
        return ""
    number = int(zip_code)
    runs = zip_runs()
    index = bisect_right(runs.firsts, number) - 1
    if index < 0 or number > runs.lasts[index]:
        return ""
    return runs.states[index]


@cache
def state_codes() -> frozenset[str]:
    """Every state, territory and military "state" that has a ZIP code."""
    return frozenset(zip_runs().states)


@cache
def zip_states() -> dict[str, str]:
    """Every US ZIP code (5 digits) known to ``zipcodes``, with its state, territory or
    military "state" (AA, AE, AP). Builds 42,789 entries: lookups use ``zip_state``."""
    return decode(TABLE_PATH.read_text(encoding="ascii"))


def from_zipcodes() -> tuple[dict[str, str], str]:
    """The pairs as ``zipcodes`` holds them (slow: seconds), and the package version."""
    import zipcodes

    records = zipcodes.list_all()  # type: ignore[no-untyped-call]
    pairs = {record["zip_code"]: record["state"] for record in records}
    return pairs, f"zipcodes {zipcodes.__version__}"


def main() -> None:
    pairs, source = from_zipcodes()
    TABLE_PATH.write_text(encode(pairs, source=source), encoding="ascii")
    sys.stdout.write(f"wrote {len(pairs)} ZIP codes to {TABLE_PATH}\n")


if __name__ == "__main__":
    main()
