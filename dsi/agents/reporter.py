"""The oracle reporter: pushes the market price to the feed, with the faults real feeds have.

`observe(price)` is called once per lab step with the true market price. Faults:
- `latency` (steps): the feed reports the price of `latency` steps ago;
- `outage`: nothing is submitted (the feed ages and goes stale);
- `frozen`: the feed keeps submitting the same stuck value (LUNA 2022);
- `bad_print(factor)`: the next submission is `factor` x the market (one bad source), once.
"""

from __future__ import annotations

WAD = 10**18


class Reporter:
    def __init__(self, protocol, latency: int = 0):
        self.p = protocol
        self.latency = latency
        self.outage = False
        self.frozen_at: float | None = None
        self._bad_factor: float | None = None
        self._seen: list[float] = []
        self.submitted: list[float | None] = []

    def bad_print(self, factor: float) -> None:
        self._bad_factor = factor

    def freeze(self, value: float) -> None:
        self.frozen_at = value

    def observe(self, price: float) -> float | None:
        self._seen.append(price)
        if self.outage:
            self.submitted.append(None)
            return None
        if self.frozen_at is not None:
            value = self.frozen_at
        else:
            value = self._seen[max(0, len(self._seen) - 1 - self.latency)]
        if self._bad_factor is not None:
            value, self._bad_factor = value * self._bad_factor, None
        self.p.feed.submit(int(value * WAD), sender=self.p.reporter)
        self.submitted.append(value)
        return value
