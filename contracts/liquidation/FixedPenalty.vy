# pragma version ~=0.4.3
# pragma nonreentrancy on
"""
@title DSI liquidation: fixed penalty with a close factor (Aave-like)
@custom:contract-name FixedPenalty
@license GNU Affero General Public License v3.0 only
@notice Anyone may take over up to `close_factor` (50%) of a liquidatable
        account at a fixed discount `penalty` (5%) on its mark-to-market
        value, of which the insurance fund receives `fund_share` (20%) as
        a fee from the taker, the taker keeps the rest; the whole account
        when its gross value is below `whole_below` (2,000 USD) or a
        partial take would leave dust. Every take is also capped at the
        fraction that restores initial margin (`liquidation_core`).
        Insolvent accounts (MtM < 0) are taken whole, the fund paying the
        taker |MtM| x (1 + penalty). No auction: `start` only records
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
PENALTY_MAX: constant(uint256) = 25 * 10 ** 16  # 25%
CLOSE_FACTOR_MIN: constant(uint256) = 10 ** 17  # 10%
WHOLE_BELOW_MAX: constant(uint256) = 10 ** 23  # 100,000 USD

penalty: public(uint256)  # WAD
close_factor: public(uint256)  # WAD
whole_below: public(uint256)  # WAD USD


event ParametersSet:
    penalty: uint256
    close_factor: uint256
    whole_below: uint256


@deploy
def __init__(engine_: ILiquidationEngine, fund_: IInsuranceFund, oracle_: IProtocolOracle, series_: ISeries, vol_feed_: IVolFeed, calculator_: RiskCalculator.__interface__, usd_: IERC20):
    ownable.__init__()
    core.__init__(engine_, fund_, oracle_, series_, vol_feed_, calculator_, usd_)
    self.penalty = 5 * 10 ** 16
    self.close_factor = 5 * 10 ** 17
    self.whole_below = 2_000 * WAD


@external
def set_parameters(penalty_: uint256, close_factor_: uint256, whole_below_: uint256, dust_: uint256, fund_share_: uint256):
    """
    @notice Owner only: penalty <= 25%, close factor in [10%, 100%],
            whole_below <= 100,000 USD, dust <= 10,000 USD, fund share <= 50%.
    """
    ownable._check_owner()
    assert penalty_ <= PENALTY_MAX, "liquidation: penalty out of bounds"
    assert close_factor_ >= CLOSE_FACTOR_MIN and close_factor_ <= WAD, "liquidation: close factor out of bounds"
    assert whole_below_ <= WHOLE_BELOW_MAX, "liquidation: threshold out of bounds"
    core._set_common(dust_, fund_share_)
    self.penalty = penalty_
    self.close_factor = close_factor_
    self.whole_below = whole_below_
    log ParametersSet(penalty=penalty_, close_factor=close_factor_, whole_below=whole_below_)


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
    @notice Take `fraction` (WAD, capped at the close factor and at the
            fraction restoring initial margin) of the account into the
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
@internal
def _quote(s: core.Snapshot, fraction: uint256) -> ILiquidator.Quote:
    d: uint256 = self.penalty
    f_max: uint256 = core._max_fraction(s, d, self.close_factor, self.whole_below)
    return core._price(s, fraction, f_max, d, WAD + d)
