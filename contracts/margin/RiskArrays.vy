# pragma version ~=0.4.3
# pragma nonreentrancy on
"""
@title DSI risk arrays: cached per-series scenario values for portfolio margin
@custom:contract-name RiskArrays
@license GNU Affero General Public License v3.0 only
@notice SPAN-style risk arrays. Revaluing every option of an account on the
        33 scenarios of `math/risk.vy` costs ~150k gas per position, so a
        32-position portfolio check would take ~9M. A series' scenario
        values do not depend on who holds it: `refresh(id)` computes them
        once, at the protocol-oracle price S0 and the series' current vol
        slice, and stores them packed; a margin check then needs only sums
        of position x stored entry.

        Glossary
        - array of a series: S0, the refresh time, the vol slice's
          `updated_at` at refresh, the series terms (strike, expiry,
          is_call), the mark m0 at S0 and the 33 scenario values v_j at S0
          (WAD USD per option), each quantised to Q = 1e-9 USD as
          floor(x / Q) in a 51-bit lane (values up to 2.25e6 USD per
          option; a larger one makes `refresh` revert and the series stays
          on the live path), five lanes per storage word: seven words hold
          v_0..v_32 and m0, two header words the rest. Nine cold reads per
          position instead of a 33-scenario revaluation.
        - valid: the array exists, the slice's `updated_at` is unchanged
          since the refresh, |spot / S0 - 1| <= `drift_tolerance`, the
          array is at most `max_age` seconds old and the series has not
          expired. Both limits are owner-set within hard bounds.
        - evaluate: the portfolio valuation the margin engine calls once
          per check with the whole position list. For every position it
          prices the mark live at the current spot and time (the equity is
          exact; the pricing runs in `RiskCalculator`), and takes the
          per-unit scenario deltas v_j - m0 from the array when the array
          is valid, or from a live revaluation (`scenario_values` at the
          current spot, deltas against the live mark) when it is not. A
          stale array is never used: the cache is an optimisation only.
          The slice's parameters are not copied into the array: validity
          needs the feed's `updated_at` anyway, and the same `slice` call
          returns them (one call per run of positions on one expiry).
          WETH collateral is revalued at the current spot in every
          scenario; tail scenarios count `tail_weight` of their PnL.

        Rounding (conservative; the protocol's side): a short's delta uses
        floor(v_j / Q) + 1 against floor(m0 / Q), a long's floor(v_j / Q)
        against floor(m0 / Q) + 1, so every cached delta overstates the
        loss of the live revaluation at S0 (which prices shorts' marks
        rounded up, values rounded down) by more than 0 and at most 2Q per
        option. Hence at the refresh spot and time, for every scenario:
        live PnL - 2Q * units - 1 wei per position <= cached PnL <= live
        PnL, and the cached requirement is >= the live one and exceeds it
        by at most factor * (2e-9 USD * option units + 1 wei per position)
        + 1 wei.

        Away from the refresh point (spot within the drift tolerance, at
        most `max_age` of time decay) the array is an approximation of the
        live grid, as in SPAN; the bounds keep it within a fraction of one
        4.5% grid step.
"""

from . import ISeries
from ..options import IProtocolOracle
from . import IVolFeed
from . import IRiskArrays
from . import RiskCalculator

from snekmate.auth import ownable
initializes: ownable
# @dev The owner sets the bounded validity limits.

from ..math import constants as c
# @dev WAD units.
from ..math import risk
# @dev The scenario table, the PortfolioParams struct and `_mark`: the live
#      mark is priced here (one internal call per position, no external call).
from ..math import svi
# @dev The slice struct.

exports: (ownable.owner, ownable.transfer_ownership)

MAX_POSITIONS: constant(uint256) = 32
STATUS_FRESH: constant(uint256) = 0
QUANTUM: constant(uint256) = 10 ** 9  # 1e-9 USD in WAD
LANE_BITS: constant(uint256) = 51
LANES: constant(uint256) = 5  # per word
LANE_MASK: constant(uint256) = 2 ** 51 - 1
TIME_MASK: constant(uint256) = 2 ** 64 - 1
HEADER_WORDS: constant(uint256) = 2
VALUE_WORDS: constant(uint256) = 7  # 35 lanes: v_0..v_32, m0 (lane 33), one spare
MARK_LANE: constant(uint256) = 33
DRIFT_MAX: constant(uint256) = 5 * 10 ** 16  # 5%
AGE_MIN: constant(uint256) = 60
AGE_MAX: constant(uint256) = 86_400
IS_CALL_BIT: constant(uint256) = 2 ** 192


series: public(immutable(ISeries))
oracle: public(immutable(IProtocolOracle))
vol_feed: public(immutable(IVolFeed))
calculator: public(immutable(RiskCalculator.__interface__))
pm_params: public(immutable(IRiskArrays.PortfolioParams))


struct RiskArray:
    spot: uint256  # S0, WAD USD
    refreshed_at: uint256
    vol_updated: uint256  # the slice's updated_at at refresh
    strike: uint256
    expiry: uint256
    is_call: bool
    mark: uint256  # floor(m0 / Q)
    values: uint256[risk.NUM_SCENARIOS]  # floor(v_j / Q)


# @dev Words 0, 1: header (S0 | refreshed_at << 128 | vol_updated << 192;
#      strike | expiry << 128 | is_call << 192); words 2..8: the lanes.
_arrays: HashMap[uint256, uint256[HEADER_WORDS + VALUE_WORDS]]
drift_tolerance: public(uint256)  # WAD, |spot / S0 - 1| allowed
max_age: public(uint256)  # seconds


event Refreshed:
    id: indexed(uint256)
    spot: uint256
    vol_updated: uint256


event ValiditySet:
    drift_tolerance: uint256
    max_age: uint256


@deploy
def __init__(series_: ISeries, oracle_: IProtocolOracle, vol_feed_: IVolFeed, calculator_: RiskCalculator.__interface__):
    ownable.__init__()
    series = series_
    oracle = oracle_
    vol_feed = vol_feed_
    calculator = calculator_
    pm_params = IRiskArrays.PortfolioParams(
        vol_up=45 * 10 ** 16, vol_down=30 * 10 ** 16, vol_power=3 * 10 ** 17, scale_floor=5 * 10 ** 17,
        scale_cap=3 * 10 ** 18, tail_damping=5 * 10 ** 17, tail_weight=3 * 10 ** 17, rotation=25 * 10 ** 16
    )
    self.drift_tolerance = 10 ** 16  # 1%
    self.max_age = 3_600


# --- governance -------------------------------------------------------------

@external
def set_validity(drift_tolerance_: uint256, max_age_: uint256):
    """
    @notice Owner only: the spot drift (WAD, within (0, 5%]) and the age
            (seconds, within [60, 86,400]) beyond which an array is stale.
    """
    ownable._check_owner()
    assert drift_tolerance_ != 0 and drift_tolerance_ <= DRIFT_MAX, "riskarrays: drift out of bounds"
    assert max_age_ >= AGE_MIN and max_age_ <= AGE_MAX, "riskarrays: max age out of bounds"
    self.drift_tolerance = drift_tolerance_
    self.max_age = max_age_
    log ValiditySet(drift_tolerance=drift_tolerance_, max_age=max_age_)


# --- keepers ----------------------------------------------------------------

@external
def refresh(id: uint256):
    """
    @notice Recompute and store the risk array of series `id` at the
            protocol-oracle price (status FRESH required) and its fresh vol
            slice. Anyone may call (keepers after an oracle or vol update,
            writers before a check). Gas: ~530k (the
            33-scenario revaluation, ~450k, and nine fresh words).
    """
    spot: uint256 = 0
    status: uint256 = 0
    spot, status = staticcall oracle.price()
    assert status == STATUS_FRESH, "riskarrays: oracle not fresh"
    assert staticcall series.is_listed(id), "riskarrays: unknown series"
    s: ISeries.Series = staticcall series.series(id)
    assert s.expiry > block.timestamp, "riskarrays: series expired"
    p: svi.Params = empty(svi.Params)
    updated: uint256 = 0
    p, updated = self._slice(s.expiry)
    assert updated != 0, "riskarrays: no vol slice"
    assert block.timestamp - updated <= staticcall vol_feed.max_age(), "riskarrays: vol stale"
    tte: uint256 = s.expiry - block.timestamp
    pp: risk.PortfolioParams = self._pp()
    mark: uint256 = risk._mark(spot, s.strike, tte, p, s.is_call, False)
    vals: uint256[risk.NUM_SCENARIOS] = staticcall calculator.scenario_values(spot, s.strike, tte, p, s.is_call, pp)
    assert spot < 2 ** 128 and s.strike < 2 ** 128, "riskarrays: value too large"
    words: uint256[HEADER_WORDS + VALUE_WORDS] = empty(uint256[HEADER_WORDS + VALUE_WORDS])
    # block.timestamp, updated and expiry are unix seconds, far below 2^64.
    words[0] = spot | (block.timestamp << 128) | (updated << 192)
    words[1] = s.strike | (s.expiry << 128)
    if s.is_call:
        words[1] |= IS_CALL_BIT
    for j: uint256 in range(risk.NUM_SCENARIOS):
        words[HEADER_WORDS + j // LANES] |= self._lane(vals[j]) << (LANE_BITS * (j % LANES))
    words[HEADER_WORDS + MARK_LANE // LANES] |= self._lane(mark) << (LANE_BITS * (MARK_LANE % LANES))
    self._arrays[id] = words
    log Refreshed(id=id, spot=spot, vol_updated=updated)


# --- views ------------------------------------------------------------------

@view
@external
def evaluate(positions: DynArray[IRiskArrays.Position, MAX_POSITIONS], weth_amount: uint256, spot: uint256, fresh_vol: bool, use_arrays: bool) -> IRiskArrays.Book:
    """
    @notice The book's signed marks at `spot` (WAD USD, each mark rounded
            up for shorts, down for longs, times the signed amount), its
            short option units, and its PnL plus that of `weth_amount` WETH
            collateral in each of the 33 scenarios (tail weighted). Valid
            arrays are used when `use_arrays` (the engine's setting); with
            it off every position is revalued live (tests and the lab
            compare the two). With `fresh_vol` every unexpired position's
            vol slice must be fresh ("riskarrays: vol stale").
    @dev Gas (a `margin` view through the engine): ~48k per position with
         valid arrays (nine cold words and one live mark), ~275k per
         position live.
    """
    out: IRiskArrays.Book = empty(IRiskArrays.Book)
    pp: risk.PortfolioParams = self._pp()
    drift: uint256 = self.drift_tolerance
    age: uint256 = self.max_age
    vol_age: uint256 = max_value(uint256)
    if fresh_vol:
        vol_age = staticcall vol_feed.max_age()
    # The slice of the previous position's expiry: books share expiries.
    last_expiry: uint256 = 0
    p: svi.Params = empty(svi.Params)
    updated: uint256 = 0
    for pos: IRiskArrays.Position in positions:
        h0: uint256 = self._arrays[pos.id][0]
        h1: uint256 = self._arrays[pos.id][1]
        strike: uint256 = h1 & (2 ** 128 - 1)
        expiry: uint256 = (h1 >> 128) & TIME_MASK
        is_call: bool = h1 & IS_CALL_BIT != 0
        if h1 == 0:
            s: ISeries.Series = staticcall series.series(pos.id)
            strike = s.strike
            expiry = s.expiry
            is_call = s.is_call
        if expiry != last_expiry:
            p, updated = self._slice(expiry)
            last_expiry = expiry
        short: bool = pos.amount < 0
        tte: uint256 = 0
        if expiry > block.timestamp:
            tte = expiry - block.timestamp
            assert updated != 0, "riskarrays: no vol slice"
            assert block.timestamp - updated <= vol_age, "riskarrays: vol stale"
        mark: uint256 = 0
        if tte == 0:
            mark = risk._price_at(spot, strike, 0, 0, p, is_call, short)  # intrinsic
        else:
            mark = risk._mark(spot, strike, tte, p, is_call, short)
        out.value += convert(mark, int256) * pos.amount // c.IWAD
        if short:
            out.shorts += convert(-pos.amount, uint256)
        if tte == 0:
            continue  # at expiry every scenario is worth the intrinsic mark
        if use_arrays and h1 != 0 and self._valid(h0, expiry, updated, spot, drift, age):
            # Conservative quantised deltas (module docstring).
            # Lanes are < 2^51, so m0 +/- 1 and q - m0 cannot overflow an int256.
            m0: int256 = convert((self._arrays[pos.id][HEADER_WORDS + MARK_LANE // LANES] >> (LANE_BITS * (MARK_LANE % LANES))) & LANE_MASK, int256)
            if short:
                m0 = unsafe_sub(m0, 1)  # (v_j + 1) - m0 for a short
            else:
                m0 = unsafe_add(m0, 1)  # v_j - (m0 + 1) for a long
            f: int256 = pos.amount * convert(QUANTUM, int256)  # WAD units x Q, checked once
            for w: uint256 in range(VALUE_WORDS):
                word: uint256 = self._arrays[pos.id][HEADER_WORDS + w]
                for k: uint256 in range(LANES):
                    j: uint256 = unsafe_add(unsafe_mul(LANES, w), k)
                    if j >= risk.NUM_SCENARIOS:
                        break
                    q: int256 = convert((word >> unsafe_mul(LANE_BITS, k)) & LANE_MASK, int256)
                    out.pnl[j] += unsafe_sub(q, m0) * f // c.IWAD
        else:
            vals: uint256[risk.NUM_SCENARIOS] = staticcall calculator.scenario_values(spot, strike, tte, p, is_call, pp)
            base: int256 = convert(mark, int256)
            for j: uint256 in range(risk.NUM_SCENARIOS):
                out.pnl[j] += (convert(vals[j], int256) - base) * pos.amount // c.IWAD
    if weth_amount != 0:
        held: int256 = convert(weth_amount * spot // c.WAD, int256)
        for j: uint256 in range(risk.NUM_GRID + 4):
            mult: uint256 = 0
            if j < risk.NUM_GRID:
                mult = risk.SPOT_MULT[j // 3]
            else:
                mult = risk.SPOT_MULT[9 + j - risk.NUM_GRID]
            out.pnl[j] += (convert(mult, int256) - c.IWAD) * held // c.IWAD
    for j: uint256 in range(risk.NUM_GRID, risk.NUM_GRID + 4):
        out.pnl[j] = out.pnl[j] * convert(pp.tail_weight, int256) // c.IWAD
    return out


@view
@external
def is_valid(id: uint256) -> bool:
    """
    @notice Whether the array of `id` would be used now, at the current
            protocol price (any oracle status).
    """
    h1: uint256 = self._arrays[id][1]
    if h1 == 0:
        return False
    spot: uint256 = 0
    status: uint256 = 0
    spot, status = staticcall oracle.price()
    p: svi.Params = empty(svi.Params)
    updated: uint256 = 0
    expiry: uint256 = (h1 >> 128) & TIME_MASK
    p, updated = self._slice(expiry)
    return self._valid(self._arrays[id][0], expiry, updated, spot, self.drift_tolerance, self.max_age)


@view
@external
def risk_array(id: uint256) -> RiskArray:
    """
    @notice The stored array of `id`, decoded (values in Q = 1e-9 USD
            units); all zeros if never refreshed.
    """
    words: uint256[HEADER_WORDS + VALUE_WORDS] = self._arrays[id]
    out: RiskArray = empty(RiskArray)
    out.spot = words[0] & (2 ** 128 - 1)
    out.refreshed_at = (words[0] >> 128) & TIME_MASK
    out.vol_updated = words[0] >> 192
    out.strike = words[1] & (2 ** 128 - 1)
    out.expiry = (words[1] >> 128) & TIME_MASK
    out.is_call = words[1] & IS_CALL_BIT != 0
    for j: uint256 in range(risk.NUM_SCENARIOS):
        out.values[j] = (words[HEADER_WORDS + j // LANES] >> (LANE_BITS * (j % LANES))) & LANE_MASK
    out.mark = (words[HEADER_WORDS + MARK_LANE // LANES] >> (LANE_BITS * (MARK_LANE % LANES))) & LANE_MASK
    return out


@view
@external
def words(id: uint256) -> uint256[HEADER_WORDS + VALUE_WORDS]:
    """
    @notice The raw storage words of `id`'s array (the packing the
            reference twin `dsi/reference/risk_arrays.py` reproduces).
    """
    return self._arrays[id]


# --- internals --------------------------------------------------------------

@view
@internal
def _slice(expiry: uint256) -> (svi.Params, uint256):
    a: int256 = 0
    b: int256 = 0
    rho: int256 = 0
    m: int256 = 0
    sig: int256 = 0
    updated: uint256 = 0
    a, b, rho, m, sig, updated = staticcall vol_feed.slice(expiry)
    return svi.Params(a=a, b=b, rho=rho, m=m, sigma=sig), updated


@view
@internal
def _valid(h0: uint256, expiry: uint256, updated: uint256, spot: uint256, drift: uint256, age: uint256) -> bool:
    """
    @dev The validity rules of the module docstring, on header word 0.
    """
    s0: uint256 = h0 & (2 ** 128 - 1)
    refreshed_at: uint256 = (h0 >> 128) & TIME_MASK
    if h0 >> 192 != updated or expiry <= block.timestamp or block.timestamp - refreshed_at > age:
        return False
    gap: uint256 = max(spot, s0) - min(spot, s0)
    return gap * c.WAD <= drift * s0


@pure
@internal
def _lane(x: uint256) -> uint256:
    """
    @dev floor(x / Q), which must fit a 51-bit lane (2.25e6 USD).
    """
    q: uint256 = x // QUANTUM
    assert q <= LANE_MASK, "riskarrays: value too large"
    return q


@view
@internal
def _pp() -> risk.PortfolioParams:
    pp: IRiskArrays.PortfolioParams = pm_params
    return risk.PortfolioParams(
        vol_up=pp.vol_up, vol_down=pp.vol_down, vol_power=pp.vol_power, scale_floor=pp.scale_floor,
        scale_cap=pp.scale_cap, tail_damping=pp.tail_damping, tail_weight=pp.tail_weight, rotation=pp.rotation
    )
