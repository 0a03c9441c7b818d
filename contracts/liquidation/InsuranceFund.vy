# pragma version ~=0.4.3
# pragma nonreentrancy on
"""
@title DSI insurance fund: the backstop between bad debt and socialised loss
@custom:contract-name InsuranceFund
@license GNU Affero General Public License v3.0 only
@notice Holds USD (6 decimals) and stands, in a fixed order, between an
        insolvent account and the long holders of the series it wrote:
        1. liquidation: the mechanism sells the account (positions and
           collateral) to a taker; the taker's payment stays in the account;
        2. the insurance fund: for an account with a negative mark-to-market
           value the fund pays the taker to take it over (`pay_subsidy`,
           called by the liquidator); a shortfall recorded by the engine at
           settlement (`series_bad_debt`) is covered by paying USD into the
           series' settlement pool (`cover_settlement`, anyone may call);
        3. socialisation, only for what the fund cannot cover when
           `cover_settlement` runs: the shortfall stays in the series'
           settlement pool, whose holders are paid pro rata to funding with
           the unpaid rest recorded as pending claims (OptionSeries); the
           amount is recorded here per series (`socialised_by_series`) and
           in a `LossSocialised` event. Engine accounts never pay it.
        Every unit of bad debt is recorded: `bad_debt` = `covered` +
        `socialised` (WAD USD), always; a liquidation subsidy up to the
        account's deficit counts as covered bad debt, above it as keeper
        incentive (`subsidies_paid`, `incentives_paid` in USD).

        Accounting: `capital` is tracked internally (deposits, income,
        payments); tokens sent to the fund directly are not capital (a
        donation cannot inflate the fund or its coverage ratio).
        Income: `collect` (the liquidator, the fund's share of liquidation
        discounts) and `deposit` (anyone, e.g. governance seeding).
        Withdrawals: the owner (governance) only, at most `withdraw_rate`
        (10%) of capital per 7-day period, and never below
        `floor_ratio` (1%) x the notional of open shorts (short units x
        protocol price).
        Liquidation reserve (gas compensation, as Liquity's): an account
        that writes options posts WETH here, outside its equity and outside
        the fund's capital: `reserve_required(n)` = (`reserve_base_gas` +
        n x `reserve_position_gas`) x `reserve_gas_price` wei for n
        positions, i.e. the gas of liquidating it (start + take) at the
        gas-price cap the reserve is sized for. The engine refuses to open a
        short that leaves the account's reserve below the requirement
        (`reserve_covers`, "margin: liquidation reserve"). Whoever
        liquidates the account receives the taken fraction of it (`pay_reserve`,
        from the liquidator: the taker, and a share for the Dutch
        auction's starter); the owner withdraws the excess over the
        requirement of its current positions at any time, all of it once
        the account holds none. It is the account's own money paid for
        its own liquidation: self-liquidation only gets one's own reserve
        back (no third-party money flows, unlike a fund-paid tip; Euler
        2023), while a keeper is paid the gas of liquidating a
        minimum-size position even at the cap. A gas price of 0 (the
        deployment default) turns the requirement off.
        Coverage: capital / open-interest notional on-chain
        (`coverage_of_open_interest`); capital / total maintenance
        requirement and / the worst portfolio-scenario loss system-wide
        need every account's margin, which no contract can sum in a block:
        the lab sums `engine.margin` and `risk_arrays.evaluate` over the
        accounts it finds in the engine's events and calls `coverage(x)`.
"""

from ethereum.ercs import IERC20

from . import ILiquidationEngine
from ..margin import ISeries
from ..options import IProtocolOracle

from snekmate.auth import ownable
initializes: ownable
# @dev The owner (governance) sets limits, the liquidator, and withdraws.

from snekmate.utils import math
# @dev `_ceil_div`.

exports: (ownable.owner, ownable.transfer_ownership)

WAD: constant(uint256) = 10 ** 18
RESERVE_GAS_MAX: constant(uint256) = 5_000_000
RESERVE_GAS_PRICE_MAX: constant(uint256) = 10 ** 13  # 10,000 gwei
STARTER_SHARE: constant(uint256) = 4 * 10 ** 17  # the Dutch auction starter's 40% of a paid reserve
USD_TO_WAD: constant(uint256) = 10 ** 12
PERIOD: constant(uint256) = 7 * 86_400
RATE_MAX: constant(uint256) = 5 * 10 ** 17  # 50% per period

usd: public(immutable(IERC20))
weth: public(immutable(IERC20))
engine: public(immutable(ILiquidationEngine))
series: public(immutable(ISeries))
oracle: public(immutable(IProtocolOracle))

liquidator: public(address)
capital: public(uint256)  # USD (6 decimals), internal accounting
income: public(uint256)  # USD collected from liquidations
deposits: public(uint256)  # USD deposited
subsidies_paid: public(uint256)  # USD paid to takers of insolvent accounts
incentives_paid: public(uint256)  # USD paid to keepers
withdrawn: public(uint256)  # USD withdrawn by governance
bad_debt: public(uint256)  # WAD USD recorded, = covered + socialised
covered: public(uint256)  # WAD USD
socialised: public(uint256)  # WAD USD
covered_by_series: public(HashMap[uint256, uint256])  # WAD USD, settlement shortfalls
socialised_by_series: public(HashMap[uint256, uint256])  # WAD USD
floor_ratio: public(uint256)  # WAD of open-interest notional
withdraw_rate: public(uint256)  # WAD of capital per period
period_start: public(uint256)
period_withdrawn: public(uint256)  # USD
reserves: public(HashMap[address, HashMap[uint256, uint256]])  # WETH (wei) per account, not capital
total_reserves: public(uint256)  # WETH
reserve_base_gas: public(uint256)  # gas units per account
reserve_position_gas: public(uint256)  # gas units per position
reserve_gas_price: public(uint256)  # wei per gas unit; 0: no reserve required


event Deposited:
    sender: indexed(address)
    amount: uint256


event IncomeCollected:
    payer: indexed(address)
    amount: uint256


event SubsidyPaid:
    to: indexed(address)
    amount: uint256
    covered: uint256


event IncentivePaid:
    to: indexed(address)
    amount: uint256


event BadDebtCovered:
    id: indexed(uint256)
    amount: uint256  # WAD USD


event LossSocialised:
    id: indexed(uint256)
    amount: uint256  # WAD USD left unfunded in the series' settlement pool


event Withdrawn:
    to: indexed(address)
    amount: uint256


event LimitsSet:
    floor_ratio: uint256
    withdraw_rate: uint256


event ReservePosted:
    owner: indexed(address)
    sub: indexed(uint256)
    amount: uint256  # WETH


event ReserveWithdrawn:
    owner: indexed(address)
    sub: indexed(uint256)
    amount: uint256  # WETH


event ReservePaid:
    owner: indexed(address)
    sub: indexed(uint256)
    to: indexed(address)
    amount: uint256  # WETH


event ReserveParametersSet:
    base_gas: uint256
    position_gas: uint256
    gas_price: uint256


event LiquidatorSet:
    liquidator: address


@deploy
def __init__(usd_: IERC20, engine_: ILiquidationEngine, series_: ISeries, oracle_: IProtocolOracle):
    ownable.__init__()
    usd = usd_
    weth = IERC20(staticcall engine_.weth())
    engine = engine_
    series = series_
    oracle = oracle_
    self.floor_ratio = 10 ** 16
    self.withdraw_rate = 10 ** 17


@external
def set_liquidator(liquidator_: address):
    """
    @notice Owner only: the liquidation mechanism allowed to collect income
            and to pay subsidies and incentives.
    """
    ownable._check_owner()
    self.liquidator = liquidator_
    log LiquidatorSet(liquidator=liquidator_)


@external
def set_limits(floor_ratio_: uint256, withdraw_rate_: uint256):
    """
    @notice Owner only: floor ratio <= 100% of open-interest notional,
            withdrawal rate <= 50% of capital per 7 days.
    """
    ownable._check_owner()
    assert floor_ratio_ <= WAD and withdraw_rate_ <= RATE_MAX, "fund: limits out of bounds"
    self.floor_ratio = floor_ratio_
    self.withdraw_rate = withdraw_rate_
    log LimitsSet(floor_ratio=floor_ratio_, withdraw_rate=withdraw_rate_)


@external
def set_reserve(base_gas: uint256, position_gas: uint256, gas_price: uint256):
    """
    @notice Owner only: the liquidation reserve an account must hold, in
            gas units (each <= 5,000,000) at a gas price cap (<= 10,000
            gwei; 0 turns the requirement off). Applies to shorts opened
            from now on; reserves already posted stay.
    """
    ownable._check_owner()
    assert base_gas <= RESERVE_GAS_MAX and position_gas <= RESERVE_GAS_MAX, "fund: reserve out of bounds"
    assert gas_price <= RESERVE_GAS_PRICE_MAX, "fund: reserve out of bounds"
    self.reserve_base_gas = base_gas
    self.reserve_position_gas = position_gas
    self.reserve_gas_price = gas_price
    log ReserveParametersSet(base_gas=base_gas, position_gas=position_gas, gas_price=gas_price)


@external
def post_reserve(sub: uint256, amount: uint256):
    """
    @notice Add `amount` WETH to the liquidation reserve of the caller's
            account `sub` (pulled with transferFrom).
    """
    assert amount != 0, "fund: zero amount"
    self.reserves[msg.sender][sub] += amount
    self.total_reserves += amount
    assert extcall weth.transferFrom(msg.sender, self, amount, default_return_value=True), "fund: transfer failed"
    log ReservePosted(owner=msg.sender, sub=sub, amount=amount)


@external
def withdraw_reserve(sub: uint256, amount: uint256):
    """
    @notice Take `amount` WETH out of the caller's reserve for account
            `sub`, keeping at least the requirement of its current
            positions (all of it once it holds none).
    """
    assert amount != 0, "fund: zero amount"
    mode: uint256 = 0
    u: uint256 = 0
    w: uint256 = 0
    n: uint256 = 0
    mode, u, w, n = staticcall engine.account(msg.sender, sub)
    held: uint256 = self.reserves[msg.sender][sub]
    assert amount <= held, "fund: insufficient reserve"
    assert held - amount >= self._reserve_required(n), "fund: reserve required"
    self.reserves[msg.sender][sub] = held - amount
    self.total_reserves -= amount
    assert extcall weth.transfer(msg.sender, amount, default_return_value=True), "fund: transfer failed"
    log ReserveWithdrawn(owner=msg.sender, sub=sub, amount=amount)


@external
def pay_reserve(owner: address, sub: uint256, fraction: uint256, taker: address, starter: address) -> uint256:
    """
    @notice Liquidator only: pay `fraction` (WAD) of the account's reserve
            (rounded down) to its liquidators: 40% of it to `starter` (the
            Dutch auction's starter, when another address than the taker
            and not empty), the rest to `taker`.
    @return uint256 The WETH paid.
    """
    assert msg.sender == self.liquidator, "fund: not liquidator"
    held: uint256 = self.reserves[owner][sub]
    amount: uint256 = held * min(fraction, WAD) // WAD
    if amount == 0:
        return 0
    self.reserves[owner][sub] = held - amount
    self.total_reserves -= amount
    to_starter: uint256 = 0
    if starter != empty(address) and starter != taker:
        to_starter = amount * STARTER_SHARE // WAD
        assert extcall weth.transfer(starter, to_starter, default_return_value=True), "fund: transfer failed"
        log ReservePaid(owner=owner, sub=sub, to=starter, amount=to_starter)
    assert extcall weth.transfer(taker, amount - to_starter, default_return_value=True), "fund: transfer failed"
    log ReservePaid(owner=owner, sub=sub, to=taker, amount=amount - to_starter)
    return amount


@view
@external
def reserve_required(positions: uint256) -> uint256:
    """
    @notice The reserve (WETH, wei) an account with `positions` positions
            must hold: (base + positions x per position gas) x gas price,
            0 without positions.
    """
    return self._reserve_required(positions)


@view
@external
def reserve_covers(owner: address, sub: uint256, positions: uint256) -> bool:
    """
    @notice Whether the account's reserve meets the requirement for
            `positions` positions (the engine asks when a short is opened).
    """
    return self.reserves[owner][sub] >= self._reserve_required(positions)


@external
def deposit(amount: uint256):
    """
    @notice Add `amount` USD of capital (pulled with transferFrom). Anyone.
    """
    assert amount != 0, "fund: zero amount"
    self.capital += amount
    self.deposits += amount
    self._pull(msg.sender, amount)
    log Deposited(sender=msg.sender, amount=amount)


@external
def collect(payer: address, amount: uint256):
    """
    @notice Liquidator only: pull the fund's share of a liquidation discount
            from `payer` (the taker, who approved the fund).
    """
    assert msg.sender == self.liquidator, "fund: not liquidator"
    self.capital += amount
    self.income += amount
    self._pull(payer, amount)
    log IncomeCollected(payer=payer, amount=amount)


@external
def pay_subsidy(to: address, amount: uint256, covered_: uint256):
    """
    @notice Liquidator only: pay `amount` USD to the taker of an insolvent
            account, of which `covered_` (WAD USD, <= amount) is the deficit
            it absorbs: recorded as bad debt covered by the fund. Reverts
            when the capital does not cover it.
    """
    assert msg.sender == self.liquidator, "fund: not liquidator"
    assert amount <= self.capital, "fund: exhausted"
    self.capital -= amount
    self.subsidies_paid += amount
    self.bad_debt += covered_
    self.covered += covered_
    assert extcall usd.transfer(to, amount, default_return_value=True), "fund: transfer failed"
    log SubsidyPaid(to=to, amount=amount, covered=covered_)


@external
def pay_incentive(to: address, amount: uint256) -> uint256:
    """
    @notice Liquidator only: pay a keeper incentive of `amount` USD, or all
            the capital if less.
    @return uint256 The amount paid.
    """
    assert msg.sender == self.liquidator, "fund: not liquidator"
    paid: uint256 = min(amount, self.capital)
    if paid != 0:
        self.capital -= paid
        self.incentives_paid += paid
        assert extcall usd.transfer(to, paid, default_return_value=True), "fund: transfer failed"
    log IncentivePaid(to=to, amount=paid)
    return paid


@external
def cover_settlement(id: uint256) -> (uint256, uint256):
    """
    @notice Resolve series `id`'s settlement bad debt recorded by the
            engine: pay what the capital allows into the series' settlement
            pool (USD, rounded up to the micro-dollar: the holders' favour),
            record the rest as socialised onto the series' long holders.
            Anyone may call; the engine then stops gating withdrawals on it.
    @return (uint256, uint256) (covered, socialised), WAD USD.
    """
    debt: uint256 = staticcall engine.series_bad_debt(id)
    assert debt != 0, "fund: no bad debt"
    pay: uint256 = min(math._ceil_div(debt, USD_TO_WAD), self.capital)
    cov: uint256 = min(pay * USD_TO_WAD, debt)
    soc: uint256 = debt - cov
    self.bad_debt += debt
    self.covered += cov
    self.socialised += soc
    self.covered_by_series[id] += cov
    self.socialised_by_series[id] += soc
    if pay != 0:
        self.capital -= pay
        assert extcall usd.approve(series.address, pay, default_return_value=True), "fund: approve failed"
        extcall series.pay_in(id, pay, 0)
        log BadDebtCovered(id=id, amount=cov)
    if soc != 0:
        log LossSocialised(id=id, amount=soc)
    extcall engine.resolve_bad_debt(id, debt)
    return cov, soc


@external
def withdraw(to: address, amount: uint256):
    """
    @notice Owner only: withdraw `amount` USD, within the rate limit
            (withdraw_rate x capital per 7-day period) and never below the
            floor (floor_ratio x open-interest notional).
    """
    ownable._check_owner()
    assert amount != 0, "fund: zero amount"
    assert amount <= self.capital, "fund: insufficient capital"
    if block.timestamp >= self.period_start + PERIOD:
        self.period_start = block.timestamp
        self.period_withdrawn = 0
    assert self.period_withdrawn + amount <= self.capital * self.withdraw_rate // WAD, "fund: rate limit"
    rest: uint256 = self.capital - amount
    assert rest * USD_TO_WAD >= self._open_interest_notional() * self.floor_ratio // WAD, "fund: below floor"
    self.capital = rest
    self.period_withdrawn += amount
    self.withdrawn += amount
    assert extcall usd.transfer(to, amount, default_return_value=True), "fund: transfer failed"
    log Withdrawn(to=to, amount=amount)


@view
@external
def open_interest_notional() -> uint256:
    """
    @notice Short option units outstanding in the engine x protocol price,
            WAD USD.
    """
    return self._open_interest_notional()


@view
@external
def coverage_of_open_interest() -> uint256:
    """
    @notice capital / open-interest notional, WAD (max_value with none).
    """
    n: uint256 = self._open_interest_notional()
    if n == 0:
        return max_value(uint256)
    return self.capital * USD_TO_WAD * WAD // n


@pure
@external
def coverage_ratio(capital_: uint256, requirement: uint256) -> uint256:
    """
    @notice capital (USD, 6 decimals) / requirement (WAD USD), WAD: the lab
            passes `capital()` and the total maintenance requirement or the
            worst system-wide scenario loss it summed off-chain.
    """
    if requirement == 0:
        return max_value(uint256)
    return capital_ * USD_TO_WAD * WAD // requirement


@view
@internal
def _reserve_required(n: uint256) -> uint256:
    if n == 0:
        return 0
    return (self.reserve_base_gas + n * self.reserve_position_gas) * self.reserve_gas_price


@view
@internal
def _open_interest_notional() -> uint256:
    p: uint256 = 0
    s: uint256 = 0
    p, s = staticcall oracle.price()
    return staticcall engine.total_short_units() * p // WAD


@internal
def _pull(sender: address, amount: uint256):
    assert extcall usd.transferFrom(sender, self, amount, default_return_value=True), "fund: transfer failed"
