"""Reference twin of `contracts/margin/RiskArrays.vy`: quantised, packed per-series risk arrays.

A series' array holds its mark m0 and its 33 scenario values v_j (WAD USD per option, the
order of `dsi/reference/margin.py::PortfolioParams.scenarios`) at the refresh spot S0, each
quantised to Q = 1e-9 USD as floor(x / Q) in a 51-bit lane, five lanes per 256-bit word, behind
two header words. A margin check takes per-unit scenario deltas from the lanes, conservatively:

    short:  (floor(v_j / Q) + 1 - floor(m0 / Q)) * Q   >= v_j - m0_up     (more loss)
    long:   (floor(v_j / Q) - floor(m0 / Q) - 1) * Q   <= v_j - m0        (less gain)

so every cached delta is on the protocol's side of the live one by more than 0 and at most
2Q per option, and the cached requirement exceeds the live one (same spot and time) by at most
`requirement_bound`. Integers throughout: this twin reproduces the contract's storage words
and its scenario PnL exactly, given the same integer inputs.
"""

from __future__ import annotations

import math

WAD = 10**18
QUANTUM = 10**9  # 1e-9 USD in WAD
LANE_BITS = 51
LANES = 5
LANE_MASK = 2**LANE_BITS - 1
HEADER_WORDS = 2
VALUE_WORDS = 7
MARK_LANE = 33
NUM_SCENARIOS = 33
NUM_GRID = 27
IS_CALL_BIT = 2**192
SPOT_MULT = [m * 10**15 for m in (820, 865, 910, 955, 1000, 1045, 1090, 1135, 1180, 340, 500, 2000, 3000)]


def quantise(x_wei: int) -> int:
    """floor(x / Q); must fit a lane."""
    q = x_wei // QUANTUM
    if q > LANE_MASK:
        raise OverflowError("riskarrays: value too large")
    return q


def pack(spot: int, refreshed_at: int, vol_updated: int, strike: int, expiry: int, is_call: bool,
         mark: int, values: list[int]) -> list[int]:
    """The nine storage words of an array (marks and values in WAD, floored in wei)."""
    words = [0] * (HEADER_WORDS + VALUE_WORDS)
    words[0] = spot | (refreshed_at << 128) | (vol_updated << 192)
    words[1] = strike | (expiry << 128) | (IS_CALL_BIT if is_call else 0)
    lanes = [quantise(v) for v in values] + [quantise(mark)]
    for lane, q in enumerate(lanes):
        words[HEADER_WORDS + lane // LANES] |= q << (LANE_BITS * (lane % LANES))
    return words


def lanes(words: list[int]) -> tuple[int, list[int]]:
    """(mark lane, the 33 value lanes) of packed words."""
    def lane(i):
        return (words[HEADER_WORDS + i // LANES] >> (LANE_BITS * (i % LANES))) & LANE_MASK
    return lane(MARK_LANE), [lane(j) for j in range(NUM_SCENARIOS)]


def _tdiv(a: int, b: int) -> int:
    """Vyper's signed `//`: truncation toward zero."""
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b > 0) else -q


def cached_deltas(words: list[int], short: bool) -> list[int]:
    """Per-unit scenario deltas (WAD USD) the contract takes from an array."""
    m0, vals = lanes(words)
    m0 = m0 - 1 if short else m0 + 1
    return [(q - m0) * QUANTUM for q in vals]


def cached_pnl(entries: list[tuple[list[int], int]]) -> list[int]:
    """Scenario PnL (WAD USD, before the tail weight and WETH) of positions given as
    (array words, signed WAD amount), as the contract sums them."""
    out = [0] * NUM_SCENARIOS
    for words, amount in entries:
        m0, vals = lanes(words)
        m0 = m0 - 1 if amount < 0 else m0 + 1
        f = amount * QUANTUM
        for j, q in enumerate(vals):
            out[j] += _tdiv((q - m0) * f, WAD)
    return out


def live_pnl(entries: list[tuple[list[int], int, int]]) -> list[int]:
    """The same from live integers: (scenario values, mark, signed amount) per position."""
    out = [0] * NUM_SCENARIOS
    for vals, mark, amount in entries:
        for j, v in enumerate(vals):
            out[j] += _tdiv((v - mark) * amount, WAD)
    return out


def finish_pnl(pnl: list[int], weth: int, spot: int, tail_weight: int) -> list[int]:
    """Add WETH collateral revalued at `spot` and weight the tail scenarios, as the contract."""
    out = list(pnl)
    if weth:
        held = weth * spot // WAD
        for j in range(NUM_GRID + 4):
            mult = SPOT_MULT[j // 3] if j < NUM_GRID else SPOT_MULT[9 + j - NUM_GRID]
            out[j] += _tdiv((mult - WAD) * held, WAD)
    for j in range(NUM_GRID, NUM_GRID + 4):
        out[j] = _tdiv(out[j] * tail_weight, WAD)
    return out


def requirement(pnl: list[int], shorts: int, spot: int, factor: int, contingency: int) -> int:
    """worst loss x factor (rounded up) + contingency x spot per short option (rounded up)."""
    loss = -min(0, min(pnl))
    extra = -(-(contingency * spot // WAD) * shorts // WAD)
    return -(-loss * factor // WAD) + extra


def requirement_bound(amounts: list[int], factor: int) -> int:
    """Upper bound (wei) of cached - live requirement at the refresh spot and time: each
    position's per-scenario PnL is off by < 2Q per option plus 1 wei of truncation."""
    per_scenario = sum(2 * QUANTUM * abs(a) // WAD + 2 for a in amounts)
    return math.ceil(per_scenario * factor / WAD) + 1
