# pragma version ~=0.4.3
# pragma nonreentrancy on
"""
@title DSI liquidation: dynamic fee (Euler-like)
@custom:contract-name DynamicFee
@license GNU Affero General Public License v3.0 only
@notice Anyone may take a liquidatable account at a discount that grows
        with how far the account is below maintenance and with the recent
        price velocity:
            d = min(cap, base + k_health x (1 - health)
                         + k_velocity x |P - TWAP| / TWAP)
        with health = equity / maintenance clipped to [0, 1], P the
        protocol price (FRESH or FALLBACK only) and TWAP the pool's
        time-weighted price over the oracle's window (0 velocity when the
        history is too short). Neither input can be inflated inside one
        block: a same-block pump of the pool moves spot off the TWAP and
        the oracle reports DEVIANT, which refuses liquidation; the TWAP
        never includes the current block. Defaults: base 2%, k_health 0.3,
        k_velocity 1, cap 20%, fund share 20% of the discount. Every take
        is capped at the fraction that restores initial margin (no close
        factor: the cap does its job); insolvent accounts are taken whole
        with the fund paying |MtM| x (1 + d). `start` only records
        insolvency, `redo` does nothing. The accounting, rounding and the
        closed form of the cap are in `liquidation_core`.
        A take also pays the taker the taken fraction of the account's
        liquidation reserve (InsuranceFund, the account's own WETH).
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
from ..oracle import ITwapOracle

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
CAP_MAX: constant(uint256) = 5 * 10 ** 17  # 50%
K_MAX: constant(uint256) = 5 * 10 ** 18


interface IOracleSources:
    def twap_oracle() -> address: view
    def twap_window() -> uint256: view


twap: public(immutable(ITwapOracle))

base: public(uint256)  # WAD
k_health: public(uint256)  # WAD per unit of (1 - health)
k_velocity: public(uint256)  # WAD per unit of |P - TWAP| / TWAP
cap: public(uint256)  # WAD


event ParametersSet:
    base: uint256
    k_health: uint256
    k_velocity: uint256
    cap: uint256


@deploy
def __init__(engine_: ILiquidationEngine, fund_: IInsuranceFund, oracle_: IProtocolOracle, series_: ISeries, vol_feed_: IVolFeed, calculator_: RiskCalculator.__interface__, usd_: IERC20):
    ownable.__init__()
    core.__init__(engine_, fund_, oracle_, series_, vol_feed_, calculator_, usd_)
    twap = ITwapOracle(staticcall IOracleSources(oracle_.address).twap_oracle())
    self.base = 2 * 10 ** 16
    self.k_health = 3 * 10 ** 17
    self.k_velocity = WAD
    self.cap = 2 * 10 ** 17


@external
def set_parameters(base_: uint256, k_health_: uint256, k_velocity_: uint256, cap_: uint256, dust_: uint256, fund_share_: uint256):
    """
    @notice Owner only: base <= cap <= 50%, k_health and k_velocity <= 5,
            dust <= 10,000 USD, fund share <= 50%.
    """
    ownable._check_owner()
    assert cap_ <= CAP_MAX and base_ <= cap_, "liquidation: fee out of bounds"
    assert k_health_ <= K_MAX and k_velocity_ <= K_MAX, "liquidation: slope out of bounds"
    core._set_common(dust_, fund_share_)
    self.base = base_
    self.k_health = k_health_
    self.k_velocity = k_velocity_
    self.cap = cap_
    log ParametersSet(base=base_, k_health=k_health_, k_velocity=k_velocity_, cap=cap_)


@external
def start(owner: address, sub: uint256) -> uint256:
    """
    @notice Nothing to open here: requires a liquidatable account and
            records its insolvency (MtM < 0). Returns 0 (no incentive).
    """
    s: core.Snapshot = core._snapshot(owner, sub)
    core._require_liquidatable(s)
    core._sync(s, owner, sub)
    return 0


@external
def redo(owner: address, sub: uint256) -> uint256:
    """
    @notice No auction to reset: does nothing, returns 0.
    """
    return 0


@external
def take(owner: address, sub: uint256, taker_sub: uint256, fraction: uint256, max_pay: int256) -> ILiquidator.Quote:
    """
    @notice Take `fraction` (WAD, capped at the fraction restoring
            initial margin) of the account into the
            caller's account `taker_sub`, paying at most `max_pay` USD (6
            decimals; pay + fee - subsidy, negative: receive at least).
    """
    s: core.Snapshot = core._appraise(owner, sub)
    core._require_liquidatable(s)
    q: ILiquidator.Quote = self._quote(s, fraction)
    core._execute(owner, sub, taker_sub, s, q, max_pay, empty(address))
    return q


@external
def sync(owner: address, sub: uint256):
    """
    @notice Record or clear the account's insolvency (MtM < 0 with
            positions) at a usable oracle price. Anyone may call.
    """
    s: core.Snapshot = core._snapshot(owner, sub)
    assert core._usable(s), "liquidation: oracle not usable"
    core._sync(s, owner, sub)


@view
@external
def quote(owner: address, sub: uint256, fraction: uint256) -> ILiquidator.Quote:
    """
    @notice What `take` would do now (all zero if not liquidatable).
    """
    return self._quote(core._snapshot(owner, sub), fraction)


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
def discount(owner: address, sub: uint256) -> uint256:
    """
    @notice The dynamic discount for the account now, WAD.
    """
    return self._discount(core._snapshot(owner, sub))


@view
@internal
def _quote(s: core.Snapshot, fraction: uint256) -> ILiquidator.Quote:
    d: uint256 = self._discount(s)
    f_max: uint256 = core._max_fraction(s, d, WAD, 0)
    return core._price(s, fraction, f_max, d, WAD + d)


@view
@internal
def _discount(s: core.Snapshot) -> uint256:
    """
    @dev base + k_health x (1 - health) + k_velocity x velocity, capped;
         each term rounded down (the taker's incentive is never overstated).
    """
    shortfall: uint256 = 0
    if s.maintenance != 0:
        if s.equity <= 0:
            shortfall = WAD
        elif convert(s.equity, uint256) < s.maintenance:
            shortfall = WAD - convert(s.equity, uint256) * WAD // s.maintenance
    velocity: uint256 = 0
    ok: bool = False
    t: uint256 = 0
    ok, t = staticcall twap.try_twap(staticcall IOracleSources(core.oracle.address).twap_window())
    if ok and t != 0:
        diff: uint256 = s.spot - t if s.spot > t else t - s.spot
        velocity = diff * WAD // t
    d: uint256 = self.base + self.k_health * shortfall // WAD + self.k_velocity * velocity // WAD
    return min(d, self.cap)
