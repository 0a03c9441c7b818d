"""Real market data for the lab, from `../shared/data` (see its SOURCES.md): ETH/USDT bars and
Deribit DVOL. Nothing here is synthetic; 1-minute files are read as 5-minute bars (the close of
every fifth minute)."""

from __future__ import annotations

import csv
from datetime import datetime, timezone
from pathlib import Path

DEFAULT = "../shared/data"


class DataMissing(FileNotFoundError):
    pass


def data_dir(path: str | None = None) -> Path:
    root = Path(path or DEFAULT)
    if not root.is_absolute():
        root = (Path(__file__).resolve().parent.parent / root).resolve()
    if not root.is_dir():
        raise DataMissing(f"data: no market data folder at {root} (the lab reads ../shared/data by default; "
                          "pass --data PATH to point at a copy)")
    return root


def _ts(text: str) -> int:
    text = text.replace("Z", "")
    dt = datetime.fromisoformat(text)
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return int(dt.timestamp())


def load_bars(file: str, start: str | None = None, end: str | None = None, folder: str | None = None,
              bar_s: int = 300) -> list[tuple[int, float]]:
    """(bar open time, close) of `bar_s`-second bars in [start, end) from a file of 1-minute or
    `bar_s` bars: a 1-minute file gives the close of the last minute of each bar."""
    path = data_dir(folder) / file
    if not path.exists():
        raise DataMissing(f"data: {path} is missing")
    rows = list(_rows(path, start, end))
    if len(rows) < 2:
        raise DataMissing(f"data: {path} has fewer than two bars in {start} .. {end}")
    step = rows[1][0] - rows[0][0]
    if step == bar_s:
        return rows
    if bar_s % step:
        raise ValueError(f"data: cannot resample {step}-second bars to {bar_s} s")
    return [(t + step - bar_s, c) for t, c in rows if (t + step) % bar_s == 0]


def _rows(path: Path, start, end):
    lo = _ts(start) if start else None
    hi = _ts(end) if end else None
    with path.open() as fh:
        for row in csv.DictReader(fh):
            t = _ts(row["timestamp_utc"])
            if (lo is None or t >= lo) and (hi is None or t < hi):
                yield t, float(row["close"])


def dvol(day: str, folder: str | None = None) -> float | None:
    """ETH DVOL close (annualised fraction, 0.75 = 75%) of the day before `day` (YYYY-MM-DD),
    from the file of the matching crash window; None when there is none (March 2020)."""
    root = data_dir(folder)
    want = _ts(day + "T00:00:00") - 86_400
    for path in sorted(root.glob("eth_dvol_1d_*_deribit.csv")):
        for t, close in _rows(path, None, None):
            if t == want:
                return close / 100
    return None
