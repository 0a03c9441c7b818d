# pragma version ~=0.4.3
# pragma nonreentrancy on
"""
@title DSI spot TWAP oracle
@custom:contract-name TwapOracle
@license GNU Affero General Public License v3.0 only
@notice Time-weighted average price of the WETH/USD spot pool, read from
        the pool's Uniswap-v2-style cumulative price (WAD USD per WETH times
        seconds) through an observation ring buffer.

        Glossary:
        - observation: (timestamp, cumulative) read from the pool's
          `current_cumulative()` when `update()` is called; packed in one
          storage slot (timestamp in the top 40 bits) so a read touches one
          slot per probe.
        - cardinality: how many ring slots are in use (grows up to
          `cardinality_next`, at most 1,024); the oldest observation is
          overwritten when the ring is full.
        - min_spacing: seconds between two observations; `update()` is a
          no-op sooner, so spamming it cannot flush the history.

        Reading the cumulative at a past time t: the two observations around
        t are found by binary search and the cumulative is interpolated
        linearly between them. That is exact when the pool was not touched
        between the two (keepers call `update()` every block or every
        `min_spacing`); the price at the current block comes from the pool
        itself, so the newest part of a window is always exact.

        Guards: `twap(window)` reverts when the history is shorter than the
        window, never silently averaging over a shorter one. The pool writes
        its accumulator on the first touch of each block from the reserves
        before that trade, so a same-transaction pump never enters it; a
        price held for k blocks moves a TWAP over `window` seconds by about
        k * blocktime / window of the move.
"""

from ..market import ISpotPool

from snekmate.auth import ownable
initializes: ownable
# @dev The owner tunes `min_spacing` within hard bounds.

exports: (ownable.owner, ownable.transfer_ownership)

MAX_CARDINALITY: constant(uint256) = 1_024
MIN_SPACING_MAX: constant(uint256) = 3_600
WINDOW_MAX: constant(uint256) = 7 * 86_400
TS_SHIFT: constant(uint256) = 216
CUM_MASK: constant(uint256) = (1 << 216) - 1
MASK16: constant(uint256) = 65_535
MAX_PARTS: constant(uint256) = 32

pool: public(immutable(ISpotPool))

# @dev Packed observations: timestamp << 216 | cumulative. Index i holds
# the i-th write modulo `cardinality`.
observations: public(HashMap[uint256, uint256])
# @dev index (slot of the newest observation), cardinality (slots in use) and
# cardinality_next (slots the ring may grow to), 16 bits each in one slot
# so a read pays for one cold storage load, not three.
ring: uint256
min_spacing: public(uint256)


event ObservationWritten:
    index: uint256
    timestamp: uint256
    cumulative: uint256


event CardinalityGrown:
    cardinality_next: uint256


event MinSpacingSet:
    min_spacing: uint256


@deploy
def __init__(pool_: ISpotPool, cardinality_: uint256, min_spacing_: uint256):
    """
    @param pool_ The spot pool whose accumulator is observed.
    @param cardinality_ Ring size to grow into, 2 .. 1,024.
    @param min_spacing_ Seconds between observations, 1 .. 3,600.
    """
    ownable.__init__()
    assert pool_.address != empty(address), "twap: zero pool"
    assert cardinality_ >= 2 and cardinality_ <= MAX_CARDINALITY, "twap: cardinality out of bounds"
    assert min_spacing_ >= 1 and min_spacing_ <= MIN_SPACING_MAX, "twap: spacing out of bounds"
    pool = pool_
    self.min_spacing = min_spacing_
    cumulative: uint256 = 0
    ts: uint256 = 0
    cumulative, ts = staticcall pool_.current_cumulative()
    self.observations[0] = self._pack(ts, cumulative)
    self.ring = self._ring(0, 1, cardinality_)


@external
def update() -> bool:
    """
    @notice Write an observation of the pool's cumulative price now, unless
            the newest one is younger than `min_spacing`. Anyone may call.
    @return bool True when an observation was written.
    """
    ring: uint256 = self.ring
    idx: uint256 = ring & MASK16
    card: uint256 = (ring >> 16) & MASK16
    card_next: uint256 = ring >> 32
    newest: uint256 = self.observations[idx]
    if block.timestamp < (newest >> TS_SHIFT) + self.min_spacing:
        return False
    cumulative: uint256 = 0
    ts: uint256 = 0
    cumulative, ts = staticcall pool.current_cumulative()
    # Grow into a new slot while below cardinality_next, else overwrite the oldest.
    nxt: uint256 = idx + 1
    if nxt == card:
        if card < card_next:
            card += 1
        else:
            nxt = 0
    self.ring = self._ring(nxt, card, card_next)
    self.observations[nxt] = self._pack(ts, cumulative)
    log ObservationWritten(index=nxt, timestamp=ts, cumulative=cumulative)
    return True


@external
def grow(cardinality_next_: uint256):
    """
    @notice Allow the ring to hold up to `cardinality_next_` observations
            (never shrinks). Anyone may pay for more history.
    """
    assert cardinality_next_ <= MAX_CARDINALITY, "twap: cardinality out of bounds"
    ring: uint256 = self.ring
    assert cardinality_next_ > ring >> 32, "twap: cardinality not larger"
    self.ring = self._ring(ring & MASK16, (ring >> 16) & MASK16, cardinality_next_)
    log CardinalityGrown(cardinality_next=cardinality_next_)


@external
def set_min_spacing(min_spacing_: uint256):
    """
    @notice Owner only: seconds between observations, within 1 .. 3,600.
    """
    ownable._check_owner()
    assert min_spacing_ >= 1 and min_spacing_ <= MIN_SPACING_MAX, "twap: spacing out of bounds"
    self.min_spacing = min_spacing_
    log MinSpacingSet(min_spacing=min_spacing_)


@view
@external
def twap(window: uint256) -> uint256:
    """
    @notice Average pool price (WAD USD per WETH) over the last `window`
            seconds, rounded down. Reverts when the history is shorter.
    """
    assert window != 0, "twap: zero window"
    assert window <= WINDOW_MAX, "twap: window too long"
    assert block.timestamp >= window, "twap: history shorter than window"
    start: uint256 = block.timestamp - window
    assert start >= self._oldest_ts(), "twap: history shorter than window"
    return (self._cumulative_now() - self._cumulative_at(start)) // window


@view
@external
def try_twap(window: uint256) -> (bool, uint256):
    """
    @notice `twap(window)` without reverting: (False, 0) when the history is
            shorter than the window (or the window is out of bounds).
    """
    if window == 0 or window > WINDOW_MAX or block.timestamp < window:
        return False, 0
    start: uint256 = block.timestamp - window
    if start < self._oldest_ts():
        return False, 0
    return True, (self._cumulative_now() - self._cumulative_at(start)) // window


@view
@external
def twap_between(start: uint256, end: uint256) -> uint256:
    """
    @notice Average pool price over [start, end] (unix seconds), rounded
            down. Used for settlement: the window ending at expiry.
    """
    assert end > start, "twap: empty interval"
    assert end <= block.timestamp, "twap: interval in the future"
    assert start >= self._oldest_ts(), "twap: history shorter than window"
    return (self._cumulative_at(end) - self._cumulative_at(start)) // (end - start)


@view
@external
def median_twap(start: uint256, end: uint256, parts: uint256) -> uint256:
    """
    @notice The median of the `parts` sub-window TWAPs that split [start,
            end] evenly (the mean of the middle two, rounded down, for an
            even count), WAD USD per WETH. Used as the pool's settlement
            reference: a price held for k blocks moves at most k of the
            sub-windows, so while k < parts / 2 the median stays between
            untouched sub-windows whatever the size of the move (an
            arithmetic mean moves by (r - 1) x k x blocktime / window).
            The guarantee assumes an observation at least every sub-window
            (keepers `update` every block): a trade inside an unobserved
            gap is spread over the sub-windows the gap spans. Gas ~8k per
            sub-window (one interpolated cumulative per boundary).
    @param parts 2 .. 32; end - start must be >= parts seconds.
    """
    assert parts >= 2 and parts <= MAX_PARTS, "twap: parts out of bounds"
    assert end <= block.timestamp, "twap: interval in the future"
    assert end >= start + parts, "twap: interval too short"
    assert start >= self._oldest_ts(), "twap: history shorter than window"
    values: uint256[MAX_PARTS] = empty(uint256[MAX_PARTS])
    t0: uint256 = start
    c0: uint256 = self._cumulative_at(start)
    for i: uint256 in range(1, MAX_PARTS + 1):
        if i > parts:
            break
        t1: uint256 = start + (end - start) * i // parts
        c1: uint256 = self._cumulative_at(t1)
        v: uint256 = (c1 - c0) // (t1 - t0)
        # insertion into the sorted prefix values[0 .. i - 1)
        j: uint256 = i - 1
        for _: uint256 in range(MAX_PARTS):
            if j == 0 or values[j - 1] <= v:
                break
            values[j] = values[j - 1]
            j -= 1
        values[j] = v
        t0 = t1
        c0 = c1
    if parts % 2 == 1:
        return values[parts // 2]
    return (values[parts // 2 - 1] + values[parts // 2]) // 2


@view
@external
def oldest_timestamp() -> uint256:
    """
    @notice Timestamp of the oldest observation still in the ring.
    """
    return self._oldest_ts()


@view
@external
def observation(i: uint256) -> (uint256, uint256):
    """
    @notice Unpacked (timestamp, cumulative) of ring slot `i`.
    """
    o: uint256 = self.observations[i]
    return o >> TS_SHIFT, o & CUM_MASK


@view
@external
def index() -> uint256:
    """
    @notice Ring slot of the newest observation.
    """
    return self.ring & MASK16


@view
@external
def cardinality() -> uint256:
    """
    @notice Ring slots in use.
    """
    return (self.ring >> 16) & MASK16


@view
@external
def cardinality_next() -> uint256:
    """
    @notice Ring slots the ring may grow to.
    """
    return self.ring >> 32


@pure
@internal
def _ring(idx: uint256, card: uint256, card_next: uint256) -> uint256:
    return idx | (card << 16) | (card_next << 32)


@pure
@internal
def _pack(ts: uint256, cumulative: uint256) -> uint256:
    assert cumulative <= CUM_MASK, "twap: cumulative overflow"
    return (ts << TS_SHIFT) | cumulative


@view
@internal
def _oldest_slot() -> uint256:
    # While the ring grows the newest is the last slot and the oldest is 0;
    # once it wraps, the oldest is the slot after the newest. Both cases:
    ring: uint256 = self.ring
    return ((ring & MASK16) + 1) % ((ring >> 16) & MASK16)


@view
@internal
def _oldest_ts() -> uint256:
    return self.observations[self._oldest_slot()] >> TS_SHIFT


@view
@internal
def _cumulative_now() -> uint256:
    cumulative: uint256 = 0
    ts: uint256 = 0
    cumulative, ts = staticcall pool.current_cumulative()
    return cumulative


@view
@internal
def _cumulative_at(t: uint256) -> uint256:
    """
    @dev Pool cumulative at time t (oldest observation <= t <= now):
         exact at observations and now, linear in between.
    """
    if t == block.timestamp:
        return self._cumulative_now()
    ring: uint256 = self.ring
    idx: uint256 = ring & MASK16
    card: uint256 = (ring >> 16) & MASK16
    newest: uint256 = self.observations[idx]
    newest_ts: uint256 = newest >> TS_SHIFT
    if t >= newest_ts:
        # Between the newest observation and now.
        if t == newest_ts:
            return newest & CUM_MASK
        now_cum: uint256 = self._cumulative_now()
        c0: uint256 = newest & CUM_MASK
        return c0 + (now_cum - c0) * (t - newest_ts) // (block.timestamp - newest_ts)
    # Search the ring in chronological order: position p is slot
    # (oldest + p) % cardinality; find the last observation with ts <= t.
    # Interpolation search (observations are usually evenly spaced, so the
    # first guess lands on the answer and the second confirms it: 2 cold
    # reads instead of 10), falling back to bisection whenever a step fails
    # to halve the interval, so the worst case stays logarithmic.
    oldest: uint256 = (idx + 1) % card
    lo: uint256 = 0
    hi: uint256 = card - 1  # the newest, whose ts > t
    ts_lo: uint256 = self.observations[oldest] >> TS_SHIFT
    ts_hi: uint256 = newest_ts
    bisect: bool = False
    for _: uint256 in range(24):  # <= 2 * log2(1024) + 4 probes
        width: uint256 = hi - lo
        if width <= 1:
            break
        mid: uint256 = 0
        if bisect:
            mid = lo + width // 2
        else:
            mid = lo + (t - ts_lo) * width // (ts_hi - ts_lo)
            mid = max(lo + 1, min(mid, hi - 1))
        ts_mid: uint256 = self.observations[(oldest + mid) % card] >> TS_SHIFT
        if ts_mid <= t:
            lo = mid
            ts_lo = ts_mid
            if not bisect and mid + 1 < hi:
                # Confirm the guess from the other side.
                ts_next: uint256 = self.observations[(oldest + mid + 1) % card] >> TS_SHIFT
                if ts_next > t:
                    hi = mid + 1
                    ts_hi = ts_next
                else:
                    lo = mid + 1
                    ts_lo = ts_next
        else:
            hi = mid
            ts_hi = ts_mid
            if not bisect and mid - 1 > lo:
                ts_prev: uint256 = self.observations[(oldest + mid - 1) % card] >> TS_SHIFT
                if ts_prev <= t:
                    lo = mid - 1
                    ts_lo = ts_prev
                else:
                    hi = mid - 1
                    ts_hi = ts_prev
        bisect = (hi - lo) * 2 > width
    before: uint256 = self.observations[(oldest + lo) % card]
    after: uint256 = self.observations[(oldest + hi) % card]
    t0: uint256 = before >> TS_SHIFT
    t1: uint256 = after >> TS_SHIFT
    assert t0 <= t, "twap: history shorter than window"
    c0: uint256 = before & CUM_MASK
    if t == t0:
        return c0
    return c0 + ((after & CUM_MASK) - c0) * (t - t0) // (t1 - t0)
