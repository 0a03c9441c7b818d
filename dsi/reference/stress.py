"""Reference twin of the stress monitor (`contracts/governance/StressMonitor.vy`,
`contracts/math/stress.vy`) and of the governor's stress composition (`RiskGovernor._value`).

Integers throughout, rounded as on chain, so a sequence of readings gives the contract's level
exactly; tests drive both with the same sequence and compare every level and every applied word.
"""

from __future__ import annotations

from dataclasses import dataclass, field

WAD = 10**18
MAX_UINT = 2**256 - 1
LEVELS = 3
VOL, VELOCITY, COVERAGE, ORACLE, UTILISATION = range(5)
NAMES = ("vol", "velocity", "coverage", "oracle", "utilisation")
UP, DOWN = 1, 2

DEFAULT_THRESHOLDS = (
    (125 * 10**16, 150 * 10**16, 200 * 10**16),
    (4 * 10**16, 8 * 10**16, 15 * 10**16),
    (5 * 10**16, 0, 0),
    (300, 3_600, MAX_UINT),
    (8 * 10**17, MAX_UINT, MAX_UINT),
)


def level_of(reading: int, t, higher_worse: bool, hysteresis: int, entering: bool) -> int:
    """`stress._level`: how many thresholds the reading is at or past (holding: relaxed)."""
    n = 0
    for i, x in enumerate(t):
        if higher_worse:
            if x == MAX_UINT:
                continue
            if not entering:
                x = max(x * (WAD - hysteresis) // WAD, 1)
            if reading >= x:
                n = i + 1
        else:
            if x == 0:
                continue
            if not entering:
                x = -(-x * (WAD + hysteresis) // WAD)
            if reading <= x:
                n = i + 1
    return n


def ema(prev: int, x: int, dt: int, tau: int) -> int:
    """`stress._ema`."""
    if prev == 0:
        return x
    w = min(dt, tau)
    if x >= prev:
        return prev + (x - prev) * w // tau
    return prev - (-(-(prev - x) * w // tau))


def ratio_up(x: int, y: int) -> int:
    return MAX_UINT if y == 0 else -(-x * WAD // y)


@dataclass
class Sources:
    """What the monitor reads in one poke: the oracle's (price, status), the vol index (None:
    unreadable), the fund's coverage of open interest, the engine's short units."""

    price: int
    fresh: bool
    vol: int | None
    coverage: int
    short_units: int


@dataclass
class Monitor:
    thresholds: tuple = DEFAULT_THRESHOLDS
    hysteresis: int = 10**17
    vol_tau: int = 7 * 86_400
    price_tau: int = 3_600
    cooldown: int = 6 * 3_600
    oi_capacity: int = 100_000 * WAD
    level: int = 0
    calm_since: int = 0
    vol_ema: int = 0
    price_ema: int = 0
    unfresh_since: int = 0
    poked_at: int = 0
    changes: list = field(default_factory=list)  # (time, level)

    def readings(self, now: int, s: Sources) -> tuple[list[int], int, int]:
        """(values, enter, hold) as `StressMonitor._evaluate`."""
        values = [0] * 5
        if s.vol is not None and self.vol_ema:
            values[VOL] = ratio_up(s.vol, self.vol_ema)
        if s.price and self.price_ema:
            values[VELOCITY] = ratio_up(abs(s.price - self.price_ema), self.price_ema)
        values[COVERAGE] = s.coverage
        if not (s.fresh and s.vol is not None) and self.unfresh_since:
            values[ORACLE] = now - self.unfresh_since
        values[UTILISATION] = ratio_up(s.short_units, self.oi_capacity)
        enter = max(level_of(values[i], self.thresholds[i], i != COVERAGE, self.hysteresis, True) for i in range(5))
        hold = max(level_of(values[i], self.thresholds[i], i != COVERAGE, self.hysteresis, False) for i in range(5))
        return values, enter, hold

    def poke(self, now: int, s: Sources) -> int:
        dt = now - self.poked_at
        _, enter, hold = self.readings(now, s)
        if s.vol is not None:
            self.vol_ema = ema(self.vol_ema, s.vol, dt, self.vol_tau)
        if s.price:
            self.price_ema = ema(self.price_ema, s.price, dt, self.price_tau)
        if s.fresh and s.vol is not None:
            self.unfresh_since = 0
        elif self.unfresh_since == 0:
            self.unfresh_since = now
        prev = self.level
        if enter > prev:
            self.level = enter
            self.calm_since = now
        elif hold >= prev:
            self.calm_since = now
        elif now >= self.calm_since + self.cooldown:
            self.level = prev - 1
            self.calm_since = now
        self.poked_at = now
        if self.level != prev:
            self.changes.append((now, self.level))
        return self.level

    def relax_bound(self) -> int:
        """Seconds from the indicators normalising to baseline, at most (with a poke at least
        every `cooldown`): one cooldown per level."""
        return self.level * self.cooldown


def stressed_value(approved: int, base: int, level: int, per_level: int, tighter: int, lo: int, hi: int,
                   from_level: int = 1) -> int:
    """`RiskGovernor._value`: the tighter of `base` (the guardian's value while pending, else
    the approved one) and the approved value moved (level - from_level + 1) x per_level once
    level >= from_level, clamped to [lo, hi]."""
    if level == 0 or per_level == 0 or level < from_level:
        return base
    move = (level + 1 - from_level) * per_level
    if tighter == UP:
        return max(base, approved + min(move, hi - approved))
    return min(base, approved - min(move, approved - lo))
