"""Reference for the settlement price (`ProtocolOracle.settle`, `TwapOracle.median_twap`).

Written from the specification, not from the Vyper code:

- `sub_window_median(path, start, end, parts)`: split [start, end] into `parts` equal
  sub-windows (boundaries floored to whole seconds), take the time-weighted mean price of each
  from a piecewise-constant price path, and return the median (the mean of the middle two for
  an even count). One block at any price moves at most one sub-window.
- `arithmetic_twap(path, start, end)`: the plain time-weighted mean the protocol used to settle
  at (moved by (r - 1) x blocktime / window by one block at r x spot).
- `feed_at(rounds, t, max_age, any_lateness)`: the feed reading settlement uses for time t.
- `settle(feed, pool, witness, deviation, after_delay, late_feed)`: the rule: the feed when feed
  and pool agree within `deviation`, else after the delay the median of the readings that exist.

A price path is a list of (time, price) steps sorted by time: the price is `price` from `time`
until the next step.
"""

from __future__ import annotations

from statistics import median

AGREED, MEDIAN, LATE_FEED = 1, 2, 3


def _mean(path, a: int, b: int) -> float:
    total = 0.0
    for i, (t, price) in enumerate(path):
        t_next = path[i + 1][0] if i + 1 < len(path) else float("inf")
        lo, hi = max(a, t), min(b, t_next)
        if hi > lo:
            total += price * (hi - lo)
    return total / (b - a)


def arithmetic_twap(path, start: int, end: int) -> float:
    return _mean(path, start, end)


def sub_window_median(path, start: int, end: int, parts: int = 30) -> float:
    bounds = [start + (end - start) * i // parts for i in range(parts + 1)]
    return float(median(_mean(path, a, b) for a, b in zip(bounds, bounds[1:])))


def feed_at(rounds, t: int, max_age: int, any_lateness: bool = False) -> float:
    """`rounds`: [(updated_at, answer)] in push order. The round in effect at t if younger than
    max_age then, else the first round within max_age after t (any time with any_lateness)."""
    before = [r for r in rounds if r[0] <= t]
    after = [r for r in rounds if r[0] > t]
    if before and t - before[-1][0] <= max_age:
        return before[-1][1]
    if after and (any_lateness or after[0][0] - t <= max_age):
        return after[0][1]
    return 0


def settle(feed: float, pool: float, witness: float, deviation: float, after_delay: bool,
           late_feed: float = 0) -> tuple[float, int]:
    """(price, rule); (0, 0) while deferred. Readings of 0 do not exist."""
    if feed and pool and abs(feed - pool) <= deviation * pool:
        return feed, AGREED
    if not after_delay:
        return 0, 0
    readings = sorted(x for x in (feed, pool, witness) if x)
    if readings:
        return float(median(readings)), MEDIAN
    return (late_feed, LATE_FEED) if late_feed else (0, 0)
