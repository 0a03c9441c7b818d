"""Reference twin of `RiskGovernor`'s bound on one risk-parameter word (issue 15 §1).

An update from the approved value `a` to `v` at time `t` passes iff:
- lo <= v <= hi;
- |v - a| <= step;
- when it changes the value: the ring slot it would overwrite (the MAX_UPDATES-th update back)
  is older than the window, and the sum of |change| over the updates of the last `window`
  seconds (t - window, t], this one included, is <= cap.

The property the governor promises, `max_window_drift(history, window) <= cap`, follows: any
window's updates are all in the ring when the last of them is made, and that update checked them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

MAX_UPDATES = 8


@dataclass
class WordBound:
    value: int
    lo: int
    hi: int
    step: int
    cap: int
    window: int
    history: list[tuple[int, int]] = field(default_factory=list)  # (time, |change|) of every accepted change

    def verdict(self, t: int, v: int) -> str | None:
        """None when an update to `v` at `t` passes, else the governor's revert reason."""
        if not self.lo <= v <= self.hi:
            return "governor: value out of bounds"
        delta = abs(v - self.value)
        if delta > self.step:
            return "governor: step too large"
        if delta == 0:
            return None
        if len(self.history) >= MAX_UPDATES and self.history[-MAX_UPDATES][0] + self.window > t:
            return "governor: too many updates in window"
        if sum(d for (u, d) in self.history if u + self.window > t) + delta > self.cap:
            return "governor: drift cap exceeded"
        return None

    def apply(self, t: int, v: int) -> None:
        delta = abs(v - self.value)
        if delta:
            self.history.append((t, delta))
        self.value = v


def max_window_drift(history: list[tuple[int, int]], window: int) -> int:
    """The largest sum of |change| over the updates of any `window` seconds, (s - window, s]."""
    return max((sum(d for (u, d) in history if end - window < u <= end) for end, _ in history), default=0)
