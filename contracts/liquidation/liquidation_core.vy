# pragma version ~=0.4.3
"""
@title DSI liquidation core: what the three mechanisms share
@custom:contract-name liquidation_core
@license GNU Affero General Public License v3.0 only
@notice The accounting every mechanism (DutchAuction, FixedPenalty,
        DynamicFee) uses; each mechanism only chooses the discount d and how
        much may be taken at once.

        Glossary (WAD USD unless stated)
        - MtM, the account's mark-to-market value: collateral at the
          protocol price without haircut plus the signed marks of its
          positions (shorts marked up and rounded up, longs down), computed
          by the engine (`valuation`) in the same pass as the margin.
        - gross: collateral + sum |mark x amount|, the size of the book
          (used for the dust floor and the auction cap).
        - liquidatable: the account has positions and equity <
          maintenance requirement, or MtM < 0. An account without
          positions never pays anything.
        - take of a fraction f: the engine moves f of every position and of
          the collateral to the taker's margin account (which must meet
          initial margin afterwards) and the taker pays
              pay = f x MtM x (1 - d)               (MtM >= 0)
          into the liquidated account, rounded up, plus the insurance
          fund's share of the discount,
              fee = f x MtM x d x fund_share,       rounded up,
          from the taker's wallet to the fund. Seized value f x MtM is
          therefore <= paid x 1 / (1 - d): the discount d is the
          mechanism's whole incentive.
        - insolvent account (MtM < 0): nobody pays; the fund pays the taker
              subsidy = f x |MtM| x multiple        (rounded down)
          to take the negative book over (multiple = 1 + d for the fixed
          and dynamic mechanisms, a curve growing from 0 in the Dutch
          auction's insolvent phase); the part of the subsidy up to
          f x |MtM| is recorded as bad debt covered by the fund, the rest
          as incentive. When the fund cannot pay, the take reverts and the
          account stays flagged until settlement, where its shortfall is
          recorded by the engine and resolved by the fund (cover, then
          socialisation onto the series' long holders).
        - partial-take cap, the closed form: after taking f the account
          holds (1 - f) of its book plus the payment, and both its equity
          E and initial requirement I scale by (1 - f) (cross: collateral
          and the per-short sum are linear; portfolio: the scenario PnL is
          linear in the book, so the worst loss is too), while the payment
          adds P = MtM x (1 - d) x (1 - usd_haircut) of equity per unit of
          f. Initial margin after the take, (1 - f) E + f P >= (1 - f) I,
          holds from
              f* = (I - E) / (I - E + P)            (rounded up)
          so no take may exceed f* (the mechanism may cap lower, e.g. a
          close factor). Insolvent accounts (MtM <= 0) have no such f: the
          whole account may be taken.
        - dust floor: a partial take may not leave a book with gross value
          in (0, dust): the cap becomes the whole account when the capped
          take would, and a smaller request that would reverts.
        - insolvency flag: accounts found with MtM < 0 are flagged (and
          the count pushed to the engine, which refuses withdrawals while
          any is flagged); a take of the whole account, or `sync` once the
          account is solvent or empty, clears it.
"""

from ethereum.ercs import IERC20

from . import ILiquidationEngine
from . import IInsuranceFund
from . import ILiquidator
from ..margin import ISeries
from ..margin import IVolFeed
from ..margin import RiskCalculator
from ..options import IProtocolOracle

from snekmate.utils import math
# @dev `_mul_div` with explicit rounding.


interface IMarginModel:
    def usd_haircut() -> uint256: view


WAD: constant(uint256) = 10 ** 18
USD_TO_WAD: constant(uint256) = 10 ** 12
STATUS_FRESH: constant(uint256) = 0
STATUS_FALLBACK: constant(uint256) = 3
DUST_MAX: constant(uint256) = 10 ** 22  # 10,000 USD
FUND_SHARE_MAX: constant(uint256) = 5 * 10 ** 17  # 50% of the discount


struct Snapshot:
    equity: int256
    initial: uint256
    maintenance: uint256
    mtm: int256
    gross: uint256
    positions: uint256
    spot: uint256
    status: uint256


engine: public(immutable(ILiquidationEngine))
model: public(immutable(IMarginModel))  # the engine's margin model (its `usd_haircut` prices a take)
fund: public(immutable(IInsuranceFund))
oracle: public(immutable(IProtocolOracle))
series: public(immutable(ISeries))
vol_feed: public(immutable(IVolFeed))
calculator: public(immutable(RiskCalculator.__interface__))
usd: public(immutable(IERC20))

dust: public(uint256)  # WAD USD: no partial take leaves a gross value in (0, dust)
fund_share: public(uint256)  # WAD: the fund's share of the discount
is_flagged: public(HashMap[address, HashMap[uint256, bool]])
flagged_count: public(uint256)


event Liquidated:
    owner: indexed(address)
    sub: uint256
    taker: indexed(address)
    taker_sub: uint256
    fraction: uint256
    discount: uint256
    value: int256
    pay: uint256
    fee: uint256
    subsidy: uint256


event BadDebtCovered:
    owner: indexed(address)
    sub: indexed(uint256)
    covered: uint256  # WAD USD paid by the fund towards the account's deficit
    absorbed: uint256  # WAD USD of deficit the taker accepted without subsidy


event InsolvencyFlagged:
    owner: indexed(address)
    sub: indexed(uint256)
    insolvent: bool


event CommonParametersSet:
    dust: uint256
    fund_share: uint256


@deploy
def __init__(engine_: ILiquidationEngine, fund_: IInsuranceFund, oracle_: IProtocolOracle, series_: ISeries, vol_feed_: IVolFeed, calculator_: RiskCalculator.__interface__, usd_: IERC20):
    engine = engine_
    model = IMarginModel(staticcall engine_.model())
    fund = fund_
    oracle = oracle_
    series = series_
    vol_feed = vol_feed_
    calculator = calculator_
    usd = usd_
    self.dust = 10 * WAD  # 10 USD
    self.fund_share = 2 * 10 ** 17  # 20%


@internal
def _set_common(dust_: uint256, fund_share_: uint256):
    assert dust_ <= DUST_MAX, "liquidation: dust out of bounds"
    assert fund_share_ <= FUND_SHARE_MAX, "liquidation: fund share out of bounds"
    self.dust = dust_
    self.fund_share = fund_share_
    log CommonParametersSet(dust=dust_, fund_share=fund_share_)


@view
@internal
def _snapshot(owner: address, sub: uint256) -> Snapshot:
    """
    @dev Margin, MtM and gross value of the account at the protocol price,
         from one engine view (`valuation`: one pricing pass over the
         positions, the marks rounded as in the notice).
    """
    s: Snapshot = empty(Snapshot)
    s.spot, s.status = staticcall oracle.price()
    return self._fill(s, staticcall engine.valuation(owner, sub))


@internal
def _appraise(owner: address, sub: uint256) -> Snapshot:
    """
    @dev `_snapshot` for a take: the same numbers from the engine's
         `appraise`, which keeps the marks for the taker's margin check in
         the `transfer_share` that follows (each series priced once per take).
    """
    s: Snapshot = empty(Snapshot)
    s.spot, s.status = staticcall oracle.price()
    return self._fill(s, extcall engine.appraise(owner, sub))


@pure
@internal
def _fill(s_: Snapshot, v: ILiquidationEngine.Valuation) -> Snapshot:
    s: Snapshot = s_
    s.equity = v.margin.equity
    s.initial = v.margin.initial
    s.maintenance = v.margin.maintenance
    s.mtm = v.mtm
    s.gross = v.gross
    s.positions = v.positions
    return s


@pure
@internal
def _liquidatable(s: Snapshot) -> bool:
    return s.positions != 0 and (s.equity < convert(s.maintenance, int256) or s.mtm < 0)


@pure
@internal
def _usable(s: Snapshot) -> bool:
    return s.status == STATUS_FRESH or s.status == STATUS_FALLBACK


@view
@internal
def _require_liquidatable(s: Snapshot):
    assert s.status == STATUS_FRESH or s.status == STATUS_FALLBACK, "liquidation: oracle not usable"
    assert self._liquidatable(s), "liquidation: account healthy"


@view
@internal
def _max_fraction(s: Snapshot, d: uint256, limit: uint256, whole_below: uint256) -> uint256:
    """
    @dev The largest fraction one take may move: f* = (I - E) / (I - E + P)
         (rounded up; see the notice), capped at `limit` (a close factor,
         WAD for none); the whole account when MtM <= 0, when the gross
         value is below `whole_below`, or when the capped take would leave
         a gross value below the dust floor. 0 when nothing is due.
    """
    if not self._liquidatable(s):
        return 0
    if s.mtm <= 0 or s.gross < whole_below:
        return WAD
    h: uint256 = staticcall model.usd_haircut()
    p_unit: uint256 = math._mul_div(math._mul_div(convert(s.mtm, uint256), WAD - d, WAD, False), WAD - h, WAD, False)
    gap: uint256 = convert(convert(s.initial, int256) - s.equity, uint256)
    f: uint256 = math._mul_div(gap, WAD, gap + p_unit, True)
    f = min(f, limit)
    if math._mul_div(s.gross, WAD - f, WAD, False) < self.dust:
        f = WAD
    return f


@view
@internal
def _price(s: Snapshot, fraction: uint256, f_max: uint256, d: uint256, multiple: uint256) -> ILiquidator.Quote:
    """
    @dev The quote for `fraction` (capped at f_max): pay and fee rounded up
         (the liquidated account and the fund never receive less), the
         subsidy rounded down (the fund never pays more).
    """
    q: ILiquidator.Quote = empty(ILiquidator.Quote)
    q.fraction = min(fraction, f_max)
    q.max_fraction = f_max
    q.discount = d
    if q.fraction == 0:
        return q
    if s.mtm >= 0:
        v: uint256 = math._mul_div(convert(s.mtm, uint256), q.fraction, WAD, False)
        q.value = convert(v, int256)
        q.pay = math._ceil_div(math._mul_div(v, WAD - d, WAD, True), USD_TO_WAD)
        q.fee = math._ceil_div(math._mul_div(v, d * self.fund_share // WAD, WAD, True), USD_TO_WAD)
    else:
        deficit: uint256 = math._mul_div(convert(-s.mtm, uint256), q.fraction, WAD, True)
        q.value = -convert(deficit, int256)
        q.subsidy = math._mul_div(deficit, multiple, WAD, False) // USD_TO_WAD
        q.covered = min(q.subsidy * USD_TO_WAD, deficit)
    return q


@internal
def _execute(owner: address, sub: uint256, taker_sub: uint256, s: Snapshot, q: ILiquidator.Quote, max_pay: int256, starter: address):
    """
    @dev Carry a quote out: checks (non-zero fraction, dust remainder,
         bidder's limit), the engine's share transfer (which checks the
         taker's initial margin), the fee and the subsidy, the taken
         fraction of the account's liquidation reserve (to the taker, and
         `starter`'s share: the Dutch auction's), the insolvency flag, and
         the records.
    """
    assert q.fraction != 0, "liquidation: zero fraction"
    assert owner != msg.sender or sub != taker_sub, "liquidation: same account"
    if q.fraction < WAD:
        assert math._mul_div(s.gross, WAD - q.fraction, WAD, False) >= self.dust, "liquidation: dust remainder"
    cost: int256 = convert(q.pay + q.fee, int256) - convert(q.subsidy, int256)
    assert cost <= max_pay, "liquidation: price above limit"
    extcall engine.transfer_share(owner, sub, msg.sender, taker_sub, q.fraction, q.pay)
    if q.fee != 0:
        extcall fund.collect(msg.sender, q.fee)
    extcall fund.pay_reserve(owner, sub, q.fraction, msg.sender, starter)
    if s.mtm < 0:
        deficit: uint256 = convert(-q.value, uint256)
        if q.subsidy != 0:
            extcall fund.pay_subsidy(msg.sender, q.subsidy, q.covered)
        log BadDebtCovered(owner=owner, sub=sub, covered=q.covered, absorbed=deficit - q.covered)
    self._flag(owner, sub, s.mtm < 0 and q.fraction < WAD)
    log Liquidated(owner=owner, sub=sub, taker=msg.sender, taker_sub=taker_sub, fraction=q.fraction, discount=q.discount, value=q.value, pay=q.pay, fee=q.fee, subsidy=q.subsidy)


@internal
def _flag(owner: address, sub: uint256, insolvent: bool):
    """
    @dev Record (or clear) the account's insolvency and push the count to
         the engine (which gates withdrawals on it).
    """
    if self.is_flagged[owner][sub] == insolvent:
        return
    self.is_flagged[owner][sub] = insolvent
    if insolvent:
        self.flagged_count += 1
    else:
        self.flagged_count -= 1
    extcall engine.set_insolvent_accounts(self.flagged_count)
    log InsolvencyFlagged(owner=owner, sub=sub, insolvent=insolvent)


@internal
def _sync(s: Snapshot, owner: address, sub: uint256):
    self._flag(owner, sub, s.positions != 0 and s.mtm < 0)
