# pragma version ~=0.4.3
# pragma nonreentrancy on
"""
@title DSI liquidation: Dutch auction (Maker Liquidations 2.0, Derive)
@custom:contract-name DutchAuction
@license GNU Affero General Public License v3.0 only
@notice Anyone starts an auction on a liquidatable account and is owed a
        keeper incentive (a flat `tip` plus a `chip` of the account's gross
        value), paid by the insurance fund out of its fee on each take
        (never more than the fee: starting an auction on one's own account
        and taking it can never earn more than the fund collects, so
        self-liquidation has PnL <= 0); bidders then `take`
        fractions of the account at a discount on its mark-to-market value
        that grows with the time t since the (re)start, along a piecewise
        linear curve (defaults):
            d(t) = 5% -> 30% linearly over 0..15 min,
                   30% -> 50% over 15..30 min, then 50% (the floor),
        so the price f x MtM x (1 - d) never moves against the bidder and
        never reaches zero (at most a 50% discount: no 0-DAI bids). An
        auction is due for a reset (`redo`, anyone, owed the incentive anew)
        when it is older than `tail` (60 min) or the protocol price has
        moved more than `cusp` (10%) from the price it was anchored at, or
        the account crossed between solvent and insolvent; `take` reverts
        while a reset is due and `redo` re-anchors to the current price at
        t = 0.
        Insolvent accounts (MtM < 0 at the (re)start) are auctioned the
        other way round (Derive's insolvent auction): the insurance fund
        pays the taker f x |MtM| x m(t) with m growing linearly from 0 to
        `insolvent_max` (1.3) over `insolvent_time` (15 min); the fund's
        payment up to the deficit is recorded as covered bad debt.
        A global cap bounds the gross value under auction; a partial take
        is capped at the fraction that restores initial margin and may not
        leave dust (`liquidation_core`); the auction ends when a take
        reaches that cap or the account is healthy again (`sync`).
        Each take also pays the taken fraction of the account's liquidation
        reserve (InsuranceFund, the account's own WETH): 40% to the
        auction's starter when another address than the taker, the rest
        to the taker; the gas of dust liquidations is paid by the account,
        not by the fund.
"""

from . import ILiquidator
implements: ILiquidator

from . import ILiquidationEngine
from . import IInsuranceFund
from ..margin import ISeries
from ..margin import IVolFeed
from ..margin import RiskCalculator
from ..options import IProtocolOracle
from ethereum.ercs import IERC20

from snekmate.auth import ownable
initializes: ownable
# @dev The owner (governance) sets bounded parameters.

from . import liquidation_core as core
initializes: core
# @dev The shared accounting: snapshot, cap, quote, execution, insolvency flags.

exports: (
    ownable.owner,
    ownable.transfer_ownership,
    core.engine,
    core.fund,
    core.oracle,
    core.dust,
    core.fund_share,
    core.is_flagged,
    core.flagged_count,
)

WAD: constant(uint256) = 10 ** 18
USD_TO_WAD: constant(uint256) = 10 ** 12
DISCOUNT_MAX: constant(uint256) = 9 * 10 ** 17  # 90%
TIME_MAX: constant(uint256) = 86_400
CUSP_MIN: constant(uint256) = 10 ** 16  # 1%
CUSP_MAX: constant(uint256) = 5 * 10 ** 17  # 50%
INSOLVENT_MAX_MAX: constant(uint256) = 3 * 10 ** 18
TIP_MAX: constant(uint256) = 1_000 * 10 ** 6  # 1,000 USD
CHIP_MAX: constant(uint256) = 10 ** 16  # 1% of gross value


struct Curve:
    start_discount: uint256  # WAD, at t = 0
    mid_discount: uint256  # WAD, at mid_time
    mid_time: uint256  # seconds
    floor_discount: uint256  # WAD, from floor_time on
    floor_time: uint256  # seconds
    tail: uint256  # seconds: older auctions need a reset
    cusp: uint256  # WAD: a price move from the anchor beyond this needs a reset
    insolvent_time: uint256  # seconds for the subsidy multiple to reach insolvent_max
    insolvent_max: uint256  # WAD multiple of the deficit


struct Auction:
    started: uint256  # timestamp of the (re)start, 0 when none
    anchor: uint256  # protocol price at the (re)start, WAD USD
    insolvent: bool  # MtM < 0 at the (re)start
    value: uint256  # gross value counted against the cap, WAD USD
    keeper: address  # who (re)started it
    owed: uint256  # incentive still owed to the keeper, USD (6 decimals)


curve: public(Curve)
tip: public(uint256)  # USD (6 decimals)
chip: public(uint256)  # WAD of the gross value
auction_cap: public(uint256)  # WAD USD of gross value under auction
under_auction: public(uint256)  # WAD USD
# @dev Three words per auction instead of six (a start writes fresh slots,
#      22,100 gas each): keeper | started << 160 | insolvent << 224;
#      anchor | owed << 128; value. `auctions` decodes them.
_auctions: HashMap[address, HashMap[uint256, uint256[3]]]


event AuctionStarted:
    owner: indexed(address)
    sub: indexed(uint256)
    keeper: indexed(address)
    anchor: uint256
    insolvent: bool
    value: uint256
    incentive: uint256
    reset: bool


event AuctionEnded:
    owner: indexed(address)
    sub: indexed(uint256)


event ParametersSet:
    tip: uint256
    chip: uint256
    auction_cap: uint256


@deploy
def __init__(engine_: ILiquidationEngine, fund_: IInsuranceFund, oracle_: IProtocolOracle, series_: ISeries, vol_feed_: IVolFeed, calculator_: RiskCalculator.__interface__, usd_: IERC20):
    ownable.__init__()
    core.__init__(engine_, fund_, oracle_, series_, vol_feed_, calculator_, usd_)
    self.curve = Curve(
        start_discount=5 * 10 ** 16, mid_discount=3 * 10 ** 17, mid_time=900, floor_discount=5 * 10 ** 17,
        floor_time=1_800, tail=3_600, cusp=10 ** 17, insolvent_time=900, insolvent_max=13 * 10 ** 17
    )
    self.tip = 5 * 10 ** 6
    self.chip = 10 ** 15
    self.auction_cap = 10 ** 25  # 10M USD


@external
def set_parameters(curve_: Curve, tip_: uint256, chip_: uint256, auction_cap_: uint256, dust_: uint256, fund_share_: uint256):
    """
    @notice Owner only: start <= mid <= floor <= 90%; 0 < mid_time <
            floor_time <= tail <= 1 day; cusp in [1%, 50%]; 0 <
            insolvent_time <= 1 day; insolvent_max in [1, 3]; tip <= 1,000
            USD; chip <= 1%; dust <= 10,000 USD; fund share <= 50%.
    """
    ownable._check_owner()
    c: Curve = curve_
    assert c.start_discount <= c.mid_discount and c.mid_discount <= c.floor_discount and c.floor_discount <= DISCOUNT_MAX, "liquidation: curve out of bounds"
    assert c.mid_time != 0 and c.mid_time < c.floor_time and c.floor_time <= c.tail and c.tail <= TIME_MAX, "liquidation: curve out of bounds"
    assert c.cusp >= CUSP_MIN and c.cusp <= CUSP_MAX, "liquidation: curve out of bounds"
    assert c.insolvent_time != 0 and c.insolvent_time <= TIME_MAX, "liquidation: curve out of bounds"
    assert c.insolvent_max >= WAD and c.insolvent_max <= INSOLVENT_MAX_MAX, "liquidation: curve out of bounds"
    assert tip_ <= TIP_MAX and chip_ <= CHIP_MAX, "liquidation: incentive out of bounds"
    core._set_common(dust_, fund_share_)
    self.curve = c
    self.tip = tip_
    self.chip = chip_
    self.auction_cap = auction_cap_
    log ParametersSet(tip=tip_, chip=chip_, auction_cap=auction_cap_)


@view
@external
def auctions(owner: address, sub: uint256) -> Auction:
    """
    @notice The account's running auction (all zero when none).
    """
    return self._get(owner, sub)


@external
def start(owner: address, sub: uint256) -> uint256:
    """
    @notice Open an auction on a liquidatable account, anchored at the
            current protocol price; the caller is owed tip + chip x gross
            value, paid by the insurance fund out of its fee on takes.
    @return uint256 The incentive owed, USD (6 decimals).
    """
    assert self._auctions[owner][sub][0] == 0, "liquidation: auction running"
    s: core.Snapshot = core._snapshot(owner, sub)
    core._require_liquidatable(s)
    return self._open(owner, sub, s, 0, False)


@external
def redo(owner: address, sub: uint256) -> uint256:
    """
    @notice Reset an auction that is due (too old, price moved beyond the
            cusp, or solvency changed): re-anchor at the current price, t =
            0; the caller is owed the incentive (replacing what was owed).
    @return uint256 The incentive owed, USD (6 decimals).
    """
    a: Auction = self._get(owner, sub)
    assert a.started != 0, "liquidation: no auction"
    s: core.Snapshot = core._snapshot(owner, sub)
    core._require_liquidatable(s)
    assert self._reset_due(a, s), "liquidation: reset not due"
    return self._open(owner, sub, s, a.value, True)


@external
def take(owner: address, sub: uint256, taker_sub: uint256, fraction: uint256, max_pay: int256) -> ILiquidator.Quote:
    """
    @notice Take `fraction` (WAD, capped at the fraction restoring initial
            margin) of the auctioned account into the caller's account
            `taker_sub` at the current discount, paying at most `max_pay`
            USD (6 decimals; pay + fee - subsidy, negative: receive at
            least). Reverts while a reset is due.
    """
    a: Auction = self._get(owner, sub)
    assert a.started != 0, "liquidation: no auction"
    s: core.Snapshot = core._appraise(owner, sub)
    core._require_liquidatable(s)
    assert not self._reset_due(a, s), "liquidation: reset due"
    q: ILiquidator.Quote = self._quote(s, a, fraction)
    core._execute(owner, sub, taker_sub, s, q, max_pay, a.keeper)
    if a.owed != 0 and q.fee != 0:
        a.owed -= extcall core.fund.pay_incentive(a.keeper, min(a.owed, q.fee))
        self._auctions[owner][sub][1] = a.anchor | (a.owed << 128)
    if q.fraction == q.max_fraction:
        self._close(owner, sub, a.value)
    else:
        moved: uint256 = a.value * q.fraction // WAD
        self._auctions[owner][sub][2] = a.value - moved
        self.under_auction -= moved
    return q


@external
def sync(owner: address, sub: uint256):
    """
    @notice Record or clear the account's insolvency at a usable oracle
            price, and end its auction if it is no longer liquidatable.
            Anyone may call.
    """
    s: core.Snapshot = core._snapshot(owner, sub)
    assert core._usable(s), "liquidation: oracle not usable"
    core._sync(s, owner, sub)
    a: Auction = self._get(owner, sub)
    if a.started != 0 and not core._liquidatable(s):
        self._close(owner, sub, a.value)


@view
@external
def quote(owner: address, sub: uint256, fraction: uint256) -> ILiquidator.Quote:
    """
    @notice What `take` would do now (all zero without a running auction).
    """
    a: Auction = self._get(owner, sub)
    if a.started == 0:
        return empty(ILiquidator.Quote)
    return self._quote(core._snapshot(owner, sub), a, fraction)


@view
@external
def is_liquidatable(owner: address, sub: uint256) -> bool:
    s: core.Snapshot = core._snapshot(owner, sub)
    return core._usable(s) and core._liquidatable(s)


@view
@external
def mtm(owner: address, sub: uint256) -> (int256, uint256):
    """
    @notice (mark-to-market value, gross value), WAD USD (see the core).
    """
    s: core.Snapshot = core._snapshot(owner, sub)
    return s.mtm, s.gross


@view
@external
def reset_due(owner: address, sub: uint256) -> bool:
    """
    @notice True when the running auction needs `redo` before a take.
    """
    a: Auction = self._get(owner, sub)
    return a.started != 0 and self._reset_due(a, core._snapshot(owner, sub))


@view
@external
def discount_at(elapsed: uint256) -> uint256:
    """
    @notice The solvent auction's discount `elapsed` seconds after its
            (re)start, WAD (rounded down).
    """
    return self._discount(elapsed)


@view
@external
def insolvent_multiple_at(elapsed: uint256) -> uint256:
    """
    @notice The insolvent auction's subsidy multiple of the deficit
            `elapsed` seconds after its (re)start, WAD (rounded down).
    """
    return self._multiple(elapsed)


@internal
def _open(owner: address, sub: uint256, s: core.Snapshot, old_value: uint256, reset: bool) -> uint256:
    total: uint256 = self.under_auction - old_value + s.gross
    assert total <= self.auction_cap, "liquidation: auction cap reached"
    self.under_auction = total
    insolvent: bool = s.mtm < 0
    incentive: uint256 = self.tip + s.gross * self.chip // WAD // USD_TO_WAD
    # started, spot (< 2^128: the oracle's WAD price) and owed (USD, 6
    # decimals: tip + 1% of gross) fit their lanes.
    self._auctions[owner][sub] = [
        convert(msg.sender, uint256) | (block.timestamp << 160) | (convert(insolvent, uint256) << 224),
        s.spot | (incentive << 128),
        s.gross,
    ]
    core._sync(s, owner, sub)
    log AuctionStarted(owner=owner, sub=sub, keeper=msg.sender, anchor=s.spot, insolvent=insolvent, value=s.gross, incentive=incentive, reset=reset)
    return incentive


@view
@internal
def _get(owner: address, sub: uint256) -> Auction:
    w: uint256[3] = self._auctions[owner][sub]
    return Auction(
        started=(w[0] >> 160) & (2 ** 64 - 1), anchor=w[1] & (2 ** 128 - 1), insolvent=w[0] >> 224 != 0,
        value=w[2], keeper=convert(convert(w[0] & (2 ** 160 - 1), uint160), address), owed=w[1] >> 128
    )


@internal
def _close(owner: address, sub: uint256, counted: uint256):
    self.under_auction -= counted
    self._auctions[owner][sub] = empty(uint256[3])
    log AuctionEnded(owner=owner, sub=sub)


@view
@internal
def _reset_due(a: Auction, s: core.Snapshot) -> bool:
    if block.timestamp - a.started > self.curve.tail:
        return True
    diff: uint256 = s.spot - a.anchor if s.spot > a.anchor else a.anchor - s.spot
    if diff * WAD > self.curve.cusp * a.anchor:
        return True
    return (s.mtm < 0) != a.insolvent


@view
@internal
def _discount(elapsed: uint256) -> uint256:
    """
    @dev Piecewise linear, non-decreasing in `elapsed`, rounded down.
    """
    c: Curve = self.curve
    if elapsed <= c.mid_time:
        return c.start_discount + (c.mid_discount - c.start_discount) * elapsed // c.mid_time
    if elapsed <= c.floor_time:
        return c.mid_discount + (c.floor_discount - c.mid_discount) * (elapsed - c.mid_time) // (c.floor_time - c.mid_time)
    return c.floor_discount


@view
@internal
def _multiple(elapsed: uint256) -> uint256:
    c: Curve = self.curve
    return c.insolvent_max * min(elapsed, c.insolvent_time) // c.insolvent_time


@view
@internal
def _quote(s: core.Snapshot, a: Auction, fraction: uint256) -> ILiquidator.Quote:
    elapsed: uint256 = block.timestamp - a.started
    d: uint256 = self._discount(elapsed)
    f_max: uint256 = core._max_fraction(s, d, WAD, 0)
    return core._price(s, fraction, f_max, d, self._multiple(elapsed))
