# pragma version ~=0.4.3
# pragma nonreentrancy on
"""
@title DSI margin model: the risk parameters and what an account needs
@custom:contract-name MarginModel
@license GNU Affero General Public License v3.0 only
@notice The margin engine keeps the accounts (collateral, positions,
        settlement, liquidation hooks); this contract holds the margin risk
        parameters and values an account the engine passes in. It holds no
        funds and no accounts: every function but the owner's bounded
        setters is a view. One responsibility per contract: the engine's
        ledger and this model deploy side by side, each well under the
        EIP-170 limit.

        Collateral value: USD * 1e12 * (1 - usd_haircut) + WETH * spot *
        (1 - weth_haircut), WAD USD, rounded down.

        Mark: Black-76 on the SVI skew slice of the series' expiry from the
        vol feed (r = 0), at the protocol oracle price the engine passes;
        intrinsic at expiry; shorts rounded up, longs down (`math/risk.vy`,
        one `RiskCalculator.appraise` call per position: the mark and both
        standard requirements).

        Modes
        - ISOLATED (0): at most one position; requirement as CROSS.
        - CROSS (1): standard margin: the sum over shorts of mark +
          max(a - OTM%, b) * spot (puts capped at the strike), rounded up;
          longs get no credit. equity = collateral value.
        - PORTFOLIO (2): equity = collateral value + sum of signed marks;
          the book and its WETH collateral are revalued on the 33-scenario
          grid of `math/risk.vy` in `RiskArrays` (one call per check);
          requirement = worst loss * factor + contingency * spot per short
          option, rounded up; maintenance uses mm_factor, initial im_factor.
        health = equity / maintenance (WAD, rounded down; max_value when
        nothing is required).

        Realised equity (`require_initial`): min(equity, collateral value):
        unrealised profit never backs a withdrawal or a new short (Mango
        2022); net negative marks still count against it.
"""

from . import ISeries
from . import IVolFeed
from . import IRiskArrays
from . import RiskCalculator

from snekmate.auth import ownable
initializes: ownable
# @dev The owner sets the bounded risk parameters.

from snekmate.utils import math
# @dev `_mul_div` with explicit rounding.

from ..math import constants as c
from ..math import risk
# @dev The StandardParams struct and the scenario count; pricing runs in RiskCalculator.
from ..math import svi

exports: (ownable.owner, ownable.transfer_ownership)

MODE_ISOLATED: constant(uint256) = 0
MODE_CROSS: constant(uint256) = 1
MODE_PORTFOLIO: constant(uint256) = 2
MAX_POSITIONS: constant(uint256) = 32
USD_TO_WAD: constant(uint256) = 10 ** 12
HAIRCUT_MAX: constant(uint256) = 5 * 10 ** 17  # 50%


struct Position:
    id: uint256
    amount: int256  # WAD option units, > 0 long (custody), < 0 short


struct Account:
    mode: uint256
    usd: uint256  # 6 decimals
    weth: uint256  # 18 decimals
    positions: DynArray[Position, MAX_POSITIONS]


struct Margin:
    equity: int256  # WAD USD
    initial: uint256  # WAD USD
    maintenance: uint256  # WAD USD
    health: uint256  # WAD, equity / maintenance


struct Valuation:
    margin: Margin
    mtm: int256  # collateral at spot without haircut + signed marks (shorts up, longs down), WAD USD
    gross: uint256  # collateral at spot + sum |mark x amount|, WAD USD
    positions: uint256  # number of positions


struct Valued:
    terms: uint256  # the series' packed terms (strike | expiry << 128 | is_call << 192); 0: not priced
    mark: uint256  # rounded up for shorts, down for longs
    im: uint256  # a short's standard requirements per option (im_params, mm_params); 0 for a long
    mm: uint256


struct Slice:
    expiry: uint256  # the expiry whose slice `p`, `updated` hold (0: none yet)
    p: svi.Params
    updated: uint256
    fresh: uint256  # the expiry whose freshness was checked (0: none yet)


series: public(immutable(ISeries))
vol_feed: public(immutable(IVolFeed))
calculator: public(immutable(RiskCalculator.__interface__))
risk_arrays: public(immutable(IRiskArrays))

usd_haircut: public(uint256)
weth_haircut: public(uint256)
im_params: public(risk.StandardParams)
mm_params: public(risk.StandardParams)
im_factor: public(uint256)
mm_factor: public(uint256)
contingency: public(uint256)


event RiskParametersSet:
    usd_haircut: uint256
    weth_haircut: uint256


event StandardParamsSet:
    im: risk.StandardParams
    mm: risk.StandardParams


event PortfolioFactorsSet:
    im_factor: uint256
    mm_factor: uint256
    contingency: uint256


@deploy
def __init__(series_: ISeries, vol_feed_: IVolFeed, calculator_: RiskCalculator.__interface__, risk_arrays_: IRiskArrays):
    ownable.__init__()
    series = series_
    vol_feed = vol_feed_
    calculator = calculator_
    risk_arrays = risk_arrays_
    self.usd_haircut = 10 ** 16  # 1%
    self.weth_haircut = 15 * 10 ** 16  # 15%
    self.im_params = risk.StandardParams(a=15 * 10 ** 16, b=10 ** 17)
    self.mm_params = risk.StandardParams(a=75 * 10 ** 15, b=5 * 10 ** 16)
    self.im_factor = 13 * 10 ** 17
    self.mm_factor = 10 ** 18
    self.contingency = 5 * 10 ** 15


# --- governance -------------------------------------------------------------

@external
def set_haircuts(usd_haircut_: uint256, weth_haircut_: uint256):
    """
    @notice Owner only: collateral haircuts (WAD), each <= 50%.
    """
    ownable._check_owner()
    assert usd_haircut_ <= HAIRCUT_MAX and weth_haircut_ <= HAIRCUT_MAX, "margin: haircut out of bounds"
    self.usd_haircut = usd_haircut_
    self.weth_haircut = weth_haircut_
    log RiskParametersSet(usd_haircut=usd_haircut_, weth_haircut=weth_haircut_)


@external
def set_standard_params(im: risk.StandardParams, mm: risk.StandardParams):
    """
    @notice Owner only: standard-margin a, b (WAD), maintenance <= initial,
            each within (0, 1].
    """
    ownable._check_owner()
    assert im.a <= c.WAD and im.b <= c.WAD and im.b != 0, "margin: standard params out of bounds"
    assert mm.a <= im.a and mm.b <= im.b and mm.b != 0, "margin: maintenance above initial"
    self.im_params = im
    self.mm_params = mm
    log StandardParamsSet(im=im, mm=mm)


@external
def set_portfolio_factors(im_factor_: uint256, mm_factor_: uint256, contingency_: uint256):
    """
    @notice Owner only: 1 <= mm_factor <= im_factor <= 3; contingency <= 5% of spot.
    """
    ownable._check_owner()
    assert mm_factor_ >= c.WAD and im_factor_ >= mm_factor_ and im_factor_ <= 3 * c.WAD, "margin: factors out of bounds"
    assert contingency_ <= 5 * 10 ** 16, "margin: contingency out of bounds"
    self.im_factor = im_factor_
    self.mm_factor = mm_factor_
    self.contingency = contingency_
    log PortfolioFactorsSet(im_factor=im_factor_, mm_factor=mm_factor_, contingency=contingency_)


# --- valuation --------------------------------------------------------------

@view
@external
def valuation(acct: Account, spot: uint256, fresh_vol: bool, full: bool, cached: DynArray[Valued, MAX_POSITIONS]) -> (Valuation, DynArray[Valued, MAX_POSITIONS]):
    """
    @notice The account's margin at `spot` and, with `full`, its
            mark-to-market value (collateral at `spot` without haircut plus
            signed marks: shorts' marks and values rounded up, longs' down),
            gross value (collateral + sum |mark x amount|) and number of
            positions, each position priced once; with `full`, also each
            position's series terms and mark, in the order of the positions.
            With `fresh_vol` every live expiry's slice must be fresh
            ("margin: vol stale"). `cached[i]`, when its `terms` are not 0,
            is position i's pricing from earlier in the same transaction at
            the same `spot` (the engine's take cache) and is used instead of
            pricing it again; pass [] to price everything live.
    """
    return self._valuation(acct, spot, fresh_vol, full, cached)


@view
@external
def require_initial(acct: Account, spot: uint256, realised: bool, cached: DynArray[Valued, MAX_POSITIONS]) -> Margin:
    """
    @notice Reverts "margin: below initial margin" unless the account meets
            its initial requirement at `spot` with every live slice fresh:
            realised equity, min(equity, collateral value), with
            `realised` (risk-increasing actions of the owner), equity
            otherwise (the liquidation taker's check). `cached` as in
            `valuation`.
    @return Margin The account's margin (equity before the realised cap).
    """
    v: Valuation = empty(Valuation)
    priced: DynArray[Valued, MAX_POSITIONS] = []
    v, priced = self._valuation(acct, spot, True, False, cached)
    equity: int256 = v.margin.equity
    if realised:
        equity = min(equity, convert(self._collateral_value(acct.usd, acct.weth, spot), int256))
    assert equity >= convert(v.margin.initial, int256), "margin: below initial margin"
    return v.margin


@view
@external
def collateral_value(usd_amount: uint256, weth_amount: uint256, spot: uint256) -> uint256:
    """
    @notice Haircut value of USD (6 decimals) and WETH at `spot`, WAD USD,
            rounded down.
    """
    return self._collateral_value(usd_amount, weth_amount, spot)


# --- internals --------------------------------------------------------------

@view
@internal
def _collateral_value(usd_amount: uint256, weth_amount: uint256, spot: uint256) -> uint256:
    v_usd: uint256 = usd_amount * USD_TO_WAD * (c.WAD - self.usd_haircut) // c.WAD
    v_weth: uint256 = weth_amount * spot // c.WAD * (c.WAD - self.weth_haircut) // c.WAD
    return v_usd + v_weth


@view
@internal
def _value(p: Position, cached: Valued, spot: uint256, fresh_vol: bool, im: risk.StandardParams, mm: risk.StandardParams, sl_: Slice) -> (Valued, Slice):
    """
    @dev The position's series terms and mark at `spot` (Black-76 on the
         vol slice, intrinsic at expiry), `cached` when it is set. `sl_`
         carries the last expiry's slice and freshness check through a pass
         (books share expiries: one feed call per run of positions on one
         expiry).
    """
    sl: Slice = sl_
    w: uint256 = cached.terms
    if w == 0:
        # strike | expiry << 128 | is_call << 192 (one cold read)
        w = staticcall series.terms(p.id)
    expiry: uint256 = (w >> 128) & (2 ** 64 - 1)
    live: bool = expiry > block.timestamp
    if cached.terms == 0:
        if sl.expiry != expiry:
            sl.expiry = expiry
            sl.p.a, sl.p.b, sl.p.rho, sl.p.m, sl.p.sigma, sl.updated = staticcall vol_feed.slice(expiry)
        assert sl.updated != 0 or not live, "margin: no vol slice"
    if live and fresh_vol and sl.fresh != expiry:
        assert staticcall vol_feed.is_fresh(expiry), "margin: vol stale"
        sl.fresh = expiry
    if cached.terms != 0:
        return cached, sl
    tte: uint256 = 0
    if live:
        tte = expiry - block.timestamp
    out: Valued = Valued(terms=w, mark=0, im=0, mm=0)
    # An external call: the pricing runs in the calculator's small memory
    # frame (a node tracing every step copies the caller's memory per step).
    out.mark, out.im, out.mm = staticcall calculator.appraise(spot, w & (2 ** 128 - 1), tte, sl.p, w >> 192 != 0, p.amount < 0, im, mm)
    return out, sl


@view
@internal
def _book(acct: Account, spot: uint256, fresh_vol: bool) -> IRiskArrays.Book:
    """
    @dev The portfolio valuation of the account (signed marks, short units,
         scenario PnL with the WETH collateral), one call to `risk_arrays`.
    """
    ps: DynArray[IRiskArrays.Position, MAX_POSITIONS] = []
    for p: Position in acct.positions:
        ps.append(IRiskArrays.Position(id=p.id, amount=p.amount))
    return staticcall risk_arrays.evaluate(ps, acct.weth, spot, fresh_vol, True)


@view
@internal
def _valuation(acct: Account, spot: uint256, fresh_vol: bool, full: bool, cached: DynArray[Valued, MAX_POSITIONS]) -> (Valuation, DynArray[Valued, MAX_POSITIONS]):
    """
    @dev `valuation`: in cross mode longs are priced only with `full`.
    """
    priced: DynArray[Valued, MAX_POSITIONS] = []
    collateral: uint256 = self._collateral_value(acct.usd, acct.weth, spot)
    out: Valuation = empty(Valuation)
    m: Margin = empty(Margin)
    coll: uint256 = 0
    if full:
        coll = acct.usd * USD_TO_WAD + acct.weth * spot // c.WAD
        out.gross = coll
        out.positions = len(acct.positions)
    portfolio: bool = acct.mode == MODE_PORTFOLIO
    if portfolio:
        b: IRiskArrays.Book = self._book(acct, spot, fresh_vol)
        worst: int256 = 0
        for j: uint256 in range(risk.NUM_SCENARIOS):
            worst = min(worst, b.pnl[j])
        loss: uint256 = convert(-worst, uint256)
        extra: uint256 = math._mul_div(self.contingency * spot // c.WAD, b.shorts, c.WAD, True)
        m.equity = convert(collateral, int256) + b.value
        m.maintenance = math._mul_div(loss, self.mm_factor, c.WAD, True) + extra
        m.initial = math._mul_div(loss, self.im_factor, c.WAD, True) + extra
    if not portfolio:
        m.equity = convert(collateral, int256)
    # Loaded for every priced short, also in portfolio mode (`full`): the
    # marks the engine's `appraise` keeps must be usable by a cross-mode
    # taker's check.
    im: risk.StandardParams = empty(risk.StandardParams)
    mm: risk.StandardParams = empty(risk.StandardParams)
    if full or not portfolio:
        im = self.im_params
        mm = self.mm_params
    signed: int256 = 0
    sl: Slice = empty(Slice)
    n_cached: uint256 = len(cached)
    for i: uint256 in range(len(acct.positions), bound=MAX_POSITIONS):
        p: Position = acct.positions[i]
        short: bool = p.amount < 0
        if not full and (portfolio or not short):
            continue  # cross: longs get no credit and need nothing
        v: Valued = empty(Valued)
        if i < n_cached:
            v = cached[i]
        v, sl = self._value(p, v, spot, fresh_vol, im, mm, sl)
        units: uint256 = convert(abs(p.amount), uint256)
        if full:
            priced.append(v)
            x: uint256 = math._mul_div(v.mark, units, c.WAD, short)
            out.gross += x
            if short:
                signed -= convert(x, int256)
            else:
                signed += convert(x, int256)
        if portfolio or not short:
            continue
        m.initial += math._mul_div(v.im, units, c.WAD, True)
        m.maintenance += math._mul_div(v.mm, units, c.WAD, True)
    if full:
        out.mtm = convert(coll, int256) + signed
    if m.maintenance == 0:
        m.health = max_value(uint256)
    elif m.equity <= 0:
        m.health = 0
    else:
        m.health = convert(m.equity, uint256) * c.WAD // m.maintenance
    out.margin = m
    return out, priced
