# pragma version ~=0.4.3
# pragma nonreentrancy on
# pragma optimize codesize
"""
@title DSI margin engine: partially collateralised option accounts
@custom:contract-name MarginEngine
@license GNU Affero General Public License v3.0 only
@notice The account ledger: accounts hold collateral (USD, WETH) and
        option positions (shorts written here, longs deposited as the
        series' ERC-1155 tokens), are margined in one of three modes chosen
        per account (valued by `MarginModel`), settle here after expiry and
        are liquidated through the hooks at the end (`transfer_share`).

        Glossary
        - account: (owner, sub) — an owner may run any number of
          sub-accounts, e.g. one per isolated position.
        - position: (series id, amount), amount in WAD option units, > 0
          long (tokens held here in custody), < 0 short (tokens minted to
          the writer when opened). At most 32 per account, so a margin
          check always fits in a block. Stored two to a word (`_pack`:
          series id < 2^32, |amount| < 2^95, else "margin: position out
          of range"); mode, count and collateral share one word (each
          collateral balance < 2^120, else "margin: balance out of
          range").
        - margin: what the account is worth and needs, computed by the
          `MarginModel` (risk parameters, modes ISOLATED 0 / CROSS 1 /
          PORTFOLIO 2, marks on the skew, requirements, health) from the
          account this engine passes it; the engine keeps the ledger and
          the guards, the model holds no funds and no accounts.

        Guards: every risk-increasing action (open a short, withdraw
        collateral or longs, change mode) requires the protocol oracle
        FRESH and fresh vol slices, and checks the initial requirement
        after the action against realised equity, min(equity, collateral
        value): unrealised profit never counts as collateral ("margin:
        below initial margin"). Shorts per series are capped
        (`open_interest_cap`, "margin: open interest cap"). Risk-reducing
        actions (deposit, close a short) work in any oracle state.

        Settlement: after a series settles, `settle_position` pays a
        short's payoff into the series' settlement pool from the account's
        collateral (USD first, then WETH at the settlement price, rounded
        up) and redeems custody longs into the account. A short whose
        collateral does not cover the payoff pays what there is and the
        rest is recorded as `bad_debt` (the liquidation issue covers it
        with the insurance fund, then socialisation). Custody longs redeem
        with `OptionSeries.redeem_for` under the account's key,
        keccak256(abi_encode(owner, sub)): what the pool cannot pay yet
        stays a claim of that account (never of the engine as a whole),
        which a later `settle_position` (anyone) collects into the account
        once funding arrives. While the pool is underfunded only the owner
        may settle its custody long: a third party could otherwise turn the
        long, which the margin counts, into a pending claim, which it does
        not.
"""

from ethereum.ercs import IERC20

from . import ISeries
from ..options import IProtocolOracle
from . import IOptionToken1155
from . import MarginModel
# @dev The model's interface and structs (Account, Position, Margin,
#      Valuation, Valued): it holds the risk parameters and values the
#      accounts this engine passes it.

from . import account_ledger as ledger
initializes: ledger
# @dev The accounts' storage and packing (load, store, find, add).

from snekmate.auth import ownable
initializes: ownable
# @dev The owner sets the open-interest cap and the liquidation wiring.

from snekmate.utils import math
# @dev `_mul_div` with explicit rounding.

from ..math import constants as c

exports: (ownable.owner, ownable.transfer_ownership, ledger.account, ledger.positions)


interface IReserve:
    def reserve_covers(owner: address, sub: uint256, positions: uint256) -> bool: view

MODE_ISOLATED: constant(uint256) = 0
MODE_PORTFOLIO: constant(uint256) = 2
MAX_POSITIONS: constant(uint256) = 32
STATUS_FRESH: constant(uint256) = 0
STATUS_FALLBACK: constant(uint256) = 3
USD_TO_WAD: constant(uint256) = 10 ** 12
ERC1155_RECEIVED: constant(bytes4) = 0xf23a6e61


series: public(immutable(ISeries))
option_token: public(immutable(IOptionToken1155))
oracle: public(immutable(IProtocolOracle))
model: public(immutable(MarginModel.__interface__))
usd: public(immutable(IERC20))
weth: public(immutable(IERC20))

open_interest: public(HashMap[uint256, uint256])  # shorts outstanding per series, option units
open_interest_cap: public(uint256)  # most shorts per series, option units (bounds the fund's exposure)
safe_mode: public(bool)  # risk-reducing actions only (set by the governor)
total_usd: public(uint256)
total_weth: public(uint256)
total_short_units: public(uint256)
bad_debt: public(uint256)  # WAD USD unpaid by insolvent shorts at settlement

# liquidation hooks: the liquidator moves account shares, the insurance fund
# resolves settlement bad debt; both set by the owner.
liquidator: public(address)
insurance_fund: public(address)
series_bad_debt: public(HashMap[uint256, uint256])  # WAD USD not yet resolved by the fund
uncovered_debt: public(uint256)  # sum of series_bad_debt
insolvent_accounts: public(uint256)  # accounts the liquidator found insolvent
# @dev The marks `appraise` priced for the take in progress, read only by
#      the taker's check in `transfer_share`, which ends their use (zeroes
#      `_take_spot`). Transient (EIP-1153): gone with the transaction. An
#      entry left by an earlier take of the same transaction is read only at
#      the same protocol price and block time, where pricing gives the same
#      number, unless a privileged role (vol reporter, owner) changed the
#      slice or the standard parameters between the two takes in that
#      transaction.
_take_marks: transient(HashMap[uint256, MarginModel.Valued])  # id * 2 + short
_take_spot: transient(uint256)  # 0: no take in progress


event Deposited:
    owner: indexed(address)
    sub: indexed(uint256)
    usd_amount: uint256
    weth_amount: uint256


event Withdrawn:
    owner: indexed(address)
    sub: indexed(uint256)
    usd_amount: uint256
    weth_amount: uint256


event ModeChanged:
    owner: indexed(address)
    sub: indexed(uint256)
    mode: uint256


event PositionChanged:
    owner: indexed(address)
    sub: indexed(uint256)
    id: indexed(uint256)
    amount: int256


event Settled:
    owner: indexed(address)
    sub: indexed(uint256)
    id: indexed(uint256)
    paid_value: uint256
    shortfall: uint256


event ClaimCollected:
    owner: indexed(address)
    sub: indexed(uint256)
    id: indexed(uint256)
    value: uint256  # WAD USD credited to the account


event ShareTransferred:
    owner: indexed(address)
    sub: uint256
    to_owner: indexed(address)
    to_sub: uint256
    fraction: uint256
    payment: uint256


event OpenInterestCapSet:
    cap: uint256


event SafeModeSet:
    on: bool


@deploy
def __init__(series_: ISeries, option_token_: IOptionToken1155, oracle_: IProtocolOracle, model_: MarginModel.__interface__, usd_: IERC20, weth_: IERC20):
    ownable.__init__()
    series = series_
    option_token = option_token_
    oracle = oracle_
    model = model_
    usd = usd_
    weth = weth_
    self.open_interest_cap = 10_000 * 10 ** 18


# --- governance -------------------------------------------------------------

@external
def set_open_interest_cap(cap: uint256):
    """
    @notice Owner only: the most options (WAD units) written here per series.
            Bounds what a dump onto the backstop (Mango 2022) can cost the
            insurance fund; lowering it below current open interest only
            blocks new shorts.
    """
    ownable._check_owner()
    assert cap != 0, "margin: zero cap"
    self.open_interest_cap = cap
    log OpenInterestCapSet(cap=cap)


@external
def set_safe_mode(on: bool):
    """
    @notice Owner only (the governor: the guardian's switch and the stress
            monitor's top level): in safe mode only risk-reducing actions
            run; every action that needs initial margin (new shorts,
            withdrawals and long withdrawals from accounts with positions,
            mode changes) is refused. Deposits, closes, settlement and
            liquidation are never affected.
    """
    ownable._check_owner()
    self.safe_mode = on
    log SafeModeSet(on=on)


# --- account actions --------------------------------------------------------

@external
def deposit(sub: uint256, usd_amount: uint256, weth_amount: uint256):
    """
    @notice Add collateral (pulled with transferFrom). Never refused.
    """
    self._nonzero(usd_amount | weth_amount)
    ledger._credit(msg.sender, sub, usd_amount, weth_amount)
    self.total_usd += usd_amount
    self.total_weth += weth_amount
    self._move(usd, msg.sender, self, usd_amount)
    self._move(weth, msg.sender, self, weth_amount)
    log Deposited(owner=msg.sender, sub=sub, usd_amount=usd_amount, weth_amount=weth_amount)


@external
def withdraw(sub: uint256, usd_amount: uint256, weth_amount: uint256):
    """
    @notice Remove collateral; with open positions this is risk-increasing:
            oracle FRESH and initial margin after the withdrawal required.
    """
    self._nonzero(usd_amount | weth_amount)
    self._require_no_insolvency()
    acct: MarginModel.Account = ledger._load(msg.sender, sub)
    assert acct.usd >= usd_amount and acct.weth >= weth_amount, "margin: insufficient collateral"
    acct.usd -= usd_amount
    acct.weth -= weth_amount
    ledger._store(msg.sender, sub, acct)
    self.total_usd -= usd_amount
    self.total_weth -= weth_amount
    if len(acct.positions) != 0:
        self._require_initial(acct)
    self._move(usd, self, msg.sender, usd_amount)
    self._move(weth, self, msg.sender, weth_amount)
    log Withdrawn(owner=msg.sender, sub=sub, usd_amount=usd_amount, weth_amount=weth_amount)


@external
def set_mode(sub: uint256, mode: uint256):
    """
    @notice Choose ISOLATED (0), CROSS (1) or PORTFOLIO (2); checks initial
            margin in the new mode (risk-increasing when it lowers it).
    """
    assert mode <= MODE_PORTFOLIO, "margin: unknown mode"
    acct: MarginModel.Account = ledger._load(msg.sender, sub)
    if mode == MODE_ISOLATED:
        assert len(acct.positions) <= 1, "margin: isolated holds one position"
    acct.mode = mode
    ledger._store(msg.sender, sub, acct)
    if len(acct.positions) != 0:
        self._require_initial(acct)
    log ModeChanged(owner=msg.sender, sub=sub, mode=mode)


@external
def open_short(sub: uint256, id: uint256, amount: uint256):
    """
    @notice Write `amount` options of series `id` from account (caller,
            sub): the longs are minted to the caller. Risk-increasing.
            With an insurance fund set, the account's liquidation reserve
            there must cover its positions afterwards
            (`InsuranceFund.reserve_covers`; 0 while the fund's reserve gas
            price is 0).
    """
    assert amount >= staticcall series.min_size(), "margin: below min size"
    assert staticcall series.is_listed(id), "margin: unknown series"
    assert not staticcall series.is_expired(id), "margin: series expired"
    acct: MarginModel.Account = ledger._load(msg.sender, sub)
    acct = ledger._add(acct, id, -convert(amount, int256))
    ledger._store(msg.sender, sub, acct)
    if self.insurance_fund != empty(address):
        assert staticcall IReserve(self.insurance_fund).reserve_covers(msg.sender, sub, len(acct.positions)), "margin: liquidation reserve"
    self.open_interest[id] += amount
    assert self.open_interest[id] <= self.open_interest_cap, "margin: open interest cap"
    self.total_short_units += amount
    self._require_initial(acct)
    extcall option_token.mint(msg.sender, id, amount)
    log PositionChanged(owner=msg.sender, sub=sub, id=id, amount=-convert(amount, int256))


@external
def close_short(sub: uint256, id: uint256, amount: uint256):
    """
    @notice Buy back: burn `amount` of the caller's longs of `id` against
            the account's short. Risk-reducing: works in any oracle state.
    """
    self._nonzero(amount)
    acct: MarginModel.Account = ledger._load(msg.sender, sub)
    i: uint256 = ledger._find(acct, id)
    assert i < len(acct.positions) and acct.positions[i].amount <= -convert(amount, int256), "margin: no such short"
    acct = ledger._add(acct, id, convert(amount, int256))
    ledger._store(msg.sender, sub, acct)
    self.open_interest[id] -= amount
    self.total_short_units -= amount
    extcall option_token.burn(msg.sender, id, amount)
    log PositionChanged(owner=msg.sender, sub=sub, id=id, amount=convert(amount, int256))


@external
def deposit_long(sub: uint256, id: uint256, amount: uint256):
    """
    @notice Move `amount` longs of `id` from the caller into the account's
            custody (approve the engine with setApprovalForAll first), so
            spreads get credit in portfolio mode. Into an account short the
            same series it closes the short instead. Never refused.
    """
    self._nonzero(amount)
    assert not staticcall series.is_expired(id), "margin: series expired"
    acct: MarginModel.Account = ledger._load(msg.sender, sub)
    i: uint256 = ledger._find(acct, id)
    if i < len(acct.positions) and acct.positions[i].amount < 0:
        assert acct.positions[i].amount <= -convert(amount, int256), "margin: deposit exceeds short"
        acct = ledger._add(acct, id, convert(amount, int256))
        ledger._store(msg.sender, sub, acct)
        self.open_interest[id] -= amount
        self.total_short_units -= amount
        extcall option_token.burn(msg.sender, id, amount)
    else:
        acct = ledger._add(acct, id, convert(amount, int256))
        ledger._store(msg.sender, sub, acct)
        extcall option_token.safeTransferFrom(msg.sender, self, id, amount, b"")
    log PositionChanged(owner=msg.sender, sub=sub, id=id, amount=convert(amount, int256))


@external
def withdraw_long(sub: uint256, id: uint256, amount: uint256):
    """
    @notice Take `amount` custody longs of `id` out of the account.
            Risk-increasing.
    """
    self._nonzero(amount)
    self._require_no_insolvency()
    acct: MarginModel.Account = ledger._load(msg.sender, sub)
    i: uint256 = ledger._find(acct, id)
    assert i < len(acct.positions) and acct.positions[i].amount >= convert(amount, int256), "margin: no such long"
    acct = ledger._add(acct, id, -convert(amount, int256))
    ledger._store(msg.sender, sub, acct)
    if len(acct.positions) != 0:
        self._require_initial(acct)
    extcall option_token.safeTransferFrom(self, msg.sender, id, amount, b"")
    log PositionChanged(owner=msg.sender, sub=sub, id=id, amount=-convert(amount, int256))


@external
def settle_position(owner: address, sub: uint256, id: uint256) -> uint256:
    """
    @notice After expiry (settling the series if needed), close the
            account's position in `id`: a short pays payoff into the
            series pool from the account's collateral (USD first, then
            WETH at the settlement price, rounded up); custody longs are
            redeemed into the account (`redeem_for` under the account's
            key: the part the pool cannot pay yet stays the account's
            pending claim). With no position left, collects that claim
            (`claim_for`) into the account ("series: nothing to claim",
            "series: not settled" otherwise). Anyone may call, except that
            while the pool is underfunded (`shortfall` != 0) only the owner
            may settle its custody long ("margin: series underfunded"):
            equity does not count a pending claim, so a third party must not
            be able to swap the long's value for one.
    @return uint256 The value paid (short) or received (long, claim), WAD USD.
    """
    acct: MarginModel.Account = ledger._load(owner, sub)
    i: uint256 = ledger._find(acct, id)
    key: bytes32 = keccak256(abi_encode(owner, sub))
    value: uint256 = 0
    got_usd: uint256 = 0
    got_weth: uint256 = 0
    if i == MAX_POSITIONS:
        value, got_usd, got_weth = extcall series.claim_for(id, key)
        log ClaimCollected(owner=owner, sub=sub, id=id, value=value)
    else:
        amount: int256 = acct.positions[i].amount
        extcall series.settle(id)
        payoff: uint256 = staticcall series.payoff_per_unit(id)
        price: uint256 = staticcall series.settlement_price(id)
        acct = ledger._add(acct, id, -amount)
        if amount < 0:
            units: uint256 = convert(-amount, uint256)
            self.open_interest[id] -= units
            self.total_short_units -= units
            owed: uint256 = math._mul_div(payoff, units, c.WAD, True)  # WAD USD, rounded up
            usd_pay: uint256 = min(acct.usd, math._ceil_div(owed, USD_TO_WAD))
            rest: uint256 = owed - min(owed, usd_pay * USD_TO_WAD)
            weth_pay: uint256 = min(acct.weth, math._mul_div(rest, c.WAD, price, True))
            paid: uint256 = usd_pay * USD_TO_WAD + math._mul_div(weth_pay, price, c.WAD, False)
            shortfall: uint256 = owed - min(owed, paid)
            acct.usd -= usd_pay
            acct.weth -= weth_pay
            self.total_usd -= usd_pay
            self.total_weth -= weth_pay
            if usd_pay != 0 or weth_pay != 0:
                extcall usd.approve(series.address, usd_pay)
                extcall weth.approve(series.address, weth_pay)
                extcall series.pay_in(id, usd_pay, weth_pay)
            self.bad_debt += shortfall
            self.series_bad_debt[id] += shortfall
            self.uncovered_debt += shortfall
            value = paid
            log Settled(owner=owner, sub=sub, id=id, paid_value=paid, shortfall=shortfall)
        else:
            if msg.sender != owner:
                assert staticcall series.shortfall(id) == 0, "margin: series underfunded"
            value, got_usd, got_weth = extcall series.redeem_for(id, convert(amount, uint256), key)
            log Settled(owner=owner, sub=sub, id=id, paid_value=value, shortfall=0)
    acct.usd += got_usd
    acct.weth += got_weth
    self.total_usd += got_usd
    self.total_weth += got_weth
    ledger._store(owner, sub, acct)
    return value


@external
@reentrant
def onERC1155Received(operator: address, sender: address, id: uint256, amount: uint256, data: Bytes[1024]) -> bytes4:
    """
    @notice Accepts the option token only (custody of deposited longs).
    """
    assert msg.sender == option_token.address, "margin: not the option token"
    return ERC1155_RECEIVED


# --- liquidation hooks ------------------------------------------------------
# What the liquidation mechanisms (contracts/liquidation/) need from the engine
# and nothing more: who may be liquidated, at what price and how much is
# decided there, from `valuation` / `appraise` (margin, mark-to-market and
# gross value in one pricing pass; `appraise` keeps the marks for the taker's
# check in `transfer_share`). One liquidator and one insurance fund per
# deployment, set by the owner; the fund also holds the accounts'
# liquidation reserves, which `open_short` requires ("margin: liquidation
# reserve") when a fund is set.

@external
def set_liquidation(liquidator_: address, fund_: address):
    """
    @notice Owner only: the liquidation mechanism (may call `transfer_share`
            and `set_insolvent_accounts`) and the insurance fund (may call
            `resolve_bad_debt`).
    """
    ownable._check_owner()
    self.liquidator = liquidator_
    self.insurance_fund = fund_


@external
def transfer_share(owner: address, sub: uint256, to_owner: address, to_sub: uint256, fraction: uint256, payment: uint256):
    """
    @notice Liquidator only: move `fraction` (WAD, 0 < f <= 1) of account
            (owner, sub) to the taker's account (to_owner, to_sub): each
            position pro rata (shorts rounded up: the taker takes at least
            f of every obligation; custody longs rounded down) and each
            collateral asset rounded down (the liquidated account keeps the
            rounding of what it owns and sheds the rounding of what it
            owes: the protocol's favour). Then `payment` USD (6 decimals)
            moves from the taker's account to the liquidated one (the
            liquidator ensures the two accounts differ). The taker
            may not hold the opposite side of a series it receives, and
            must meet initial margin afterwards at a FRESH or FALLBACK
            price (vol slices fresh).
    """
    self._only_liquidator()
    assert fraction != 0 and fraction <= c.WAD, "margin: bad fraction"
    acct: MarginModel.Account = ledger._load(owner, sub)
    to: MarginModel.Account = ledger._load(to_owner, to_sub)
    # In place (no per-position account copies): the liquidated book keeps
    # its order, positions moved whole drop out.
    kept: DynArray[MarginModel.Position, MAX_POSITIONS] = []
    # The liquidated book holds each series once, so a position appended to
    # the taker below is never matched again: search only the taker's own.
    n0: uint256 = len(to.positions)
    for p: MarginModel.Position in acct.positions:
        moved: int256 = 0
        if p.amount < 0:
            moved = -convert(math._mul_div(convert(-p.amount, uint256), fraction, c.WAD, True), int256)
        else:
            moved = convert(math._mul_div(convert(p.amount, uint256), fraction, c.WAD, False), int256)
        if p.amount != moved:
            kept.append(MarginModel.Position(id=p.id, amount=p.amount - moved))
        if moved == 0:
            continue
        i: uint256 = ledger._find_in(to, p.id, n0)
        if i == MAX_POSITIONS:
            ledger._room(len(to.positions), to.mode)
            to.positions.append(MarginModel.Position(id=p.id, amount=moved))
        else:
            assert (to.positions[i].amount < 0) == (moved < 0), "margin: taker holds opposite side"
            to.positions[i].amount += moved
    acct.positions = kept
    usd_moved: uint256 = math._mul_div(acct.usd, fraction, c.WAD, False)
    weth_moved: uint256 = math._mul_div(acct.weth, fraction, c.WAD, False)
    assert to.usd + usd_moved >= payment, "margin: insufficient collateral"
    acct.usd = acct.usd - usd_moved + payment
    acct.weth -= weth_moved
    to.usd = to.usd + usd_moved - payment
    to.weth += weth_moved
    ledger._store(owner, sub, acct)
    ledger._store(to_owner, to_sub, to)
    spot: uint256 = 0
    status: uint256 = 0
    spot, status = staticcall oracle.price()
    assert status == STATUS_FRESH or status == STATUS_FALLBACK, "margin: oracle not usable"
    cached: DynArray[MarginModel.Valued, MAX_POSITIONS] = []
    if self._take_spot == spot:
        for p: MarginModel.Position in to.positions:
            cached.append(self._take_marks[p.id * 2 + convert(p.amount < 0, uint256)])
    self._take_spot = 0
    self._check(to, spot, False, cached)
    log ShareTransferred(owner=owner, sub=sub, to_owner=to_owner, to_sub=to_sub, fraction=fraction, payment=payment)


@external
def set_insolvent_accounts(count: uint256):
    """
    @notice Liquidator only: how many accounts have a negative mark-to-market
            value (the liquidator flags them). While any is, or settlement
            bad debt is unresolved, withdrawals are refused.
    """
    self._only_liquidator()
    self.insolvent_accounts = count


@external
def resolve_bad_debt(id: uint256, amount: uint256):
    """
    @notice Insurance fund only: `amount` (WAD USD) of series `id`'s
            settlement bad debt has been covered or socialised (the fund
            records which); it no longer gates withdrawals.
    """
    assert msg.sender == self.insurance_fund, "margin: not insurance fund"
    assert amount <= self.series_bad_debt[id], "margin: exceeds bad debt"
    self.series_bad_debt[id] -= amount
    self.uncovered_debt -= amount


# --- views ------------------------------------------------------------------

@view
@external
def margin(owner: address, sub: uint256) -> MarginModel.Margin:
    """
    @notice Equity, initial and maintenance requirement, and health of the
            account at the current protocol price (any oracle status).
    """
    v: MarginModel.Valuation = empty(MarginModel.Valuation)
    priced: DynArray[MarginModel.Valued, MAX_POSITIONS] = []
    v, priced = self._valuation(ledger._load(owner, sub), self._spot(), False)
    return v.margin


@view
@external
def valuation(owner: address, sub: uint256) -> MarginModel.Valuation:
    """
    @notice `margin` plus what the liquidation mechanisms price from the
            same pass: the mark-to-market value (collateral at the protocol
            price without haircut, plus signed marks: shorts' marks and
            values rounded up, longs' down) and the gross value (collateral
            + sum |mark x amount|), WAD USD, and the number of positions.
    """
    v: MarginModel.Valuation = empty(MarginModel.Valuation)
    priced: DynArray[MarginModel.Valued, MAX_POSITIONS] = []
    v, priced = self._valuation(ledger._load(owner, sub), self._spot(), True)
    return v


@external
def appraise(owner: address, sub: uint256) -> MarginModel.Valuation:
    """
    @notice Liquidator only: `valuation`, remembering each position's mark
            for the take in progress (transient storage, EIP-1153): the
            taker's margin check in the `transfer_share` that follows reuses
            the marks of the series it receives, on the same side, while the
            protocol price is unchanged, instead of pricing them again (the
            same numbers; the vol freshness check still runs).
    """
    self._only_liquidator()
    acct: MarginModel.Account = ledger._load(owner, sub)
    spot: uint256 = self._spot()
    v: MarginModel.Valuation = empty(MarginModel.Valuation)
    priced: DynArray[MarginModel.Valued, MAX_POSITIONS] = []
    v, priced = self._valuation(acct, spot, True)
    self._take_spot = spot
    for i: uint256 in range(len(priced), bound=MAX_POSITIONS):
        p: MarginModel.Position = acct.positions[i]
        self._take_marks[p.id * 2 + convert(p.amount < 0, uint256)] = priced[i]
    return v


@view
@external
def collateral_adequacy() -> uint256:
    """
    @notice Haircut collateral value held / notional of outstanding shorts
            (short option units * spot), WAD; max_value with no shorts.
    """
    spot: uint256 = self._spot()
    notional: uint256 = self.total_short_units * spot // c.WAD
    if notional == 0:
        return max_value(uint256)
    value: uint256 = staticcall model.collateral_value(self.total_usd, self.total_weth, spot)
    return value * c.WAD // notional


# --- internals --------------------------------------------------------------

@internal
def _move(token: IERC20, src: address, dst: address, amount: uint256):
    """
    @dev Move `amount` of `token` from `src` (this engine: `transfer`,
         else `transferFrom`) to `dst`; nothing for 0.
    """
    if amount == 0:
        return
    ok: bool = False
    if src == self:
        ok = extcall token.transfer(dst, amount, default_return_value=True)
    else:
        ok = extcall token.transferFrom(src, dst, amount, default_return_value=True)
    assert ok, "margin: transfer failed"


@view
@internal
def _spot() -> uint256:
    p: uint256 = 0
    s: uint256 = 0
    p, s = staticcall oracle.price()
    return p


@view
@internal
def _valuation(acct: MarginModel.Account, spot: uint256, full: bool) -> (MarginModel.Valuation, DynArray[MarginModel.Valued, MAX_POSITIONS]):
    """
    @dev `MarginModel.valuation` of the account at `spot`, vol freshness
         not required (views and the liquidator's appraisal).
    """
    return staticcall model.valuation(acct, spot, False, full, [])


@view
@internal
def _check(acct: MarginModel.Account, spot: uint256, realised: bool, cached: DynArray[MarginModel.Valued, MAX_POSITIONS]):
    """
    @dev `MarginModel.require_initial`: reverts "margin: below initial
         margin" (or a vol slice's reason) unless the account meets its
         initial requirement at `spot`.
    """
    m: MarginModel.Margin = staticcall model.require_initial(acct, spot, realised, cached)


@pure
@internal
def _nonzero(amount: uint256):
    assert amount != 0, "margin: zero amount"


@view
@internal
def _only_liquidator():
    assert msg.sender == self.liquidator, "margin: not liquidator"


@view
@internal
def _require_no_insolvency():
    assert self.uncovered_debt == 0 and self.insolvent_accounts == 0, "margin: insolvency outstanding"


@view
@internal
def _require_initial(acct: MarginModel.Account):
    """
    @dev Risk-increasing actions: oracle FRESH, vol slices fresh, realised
         equity >= initial requirement after the action. Realised equity is
         min(equity, collateral value): a portfolio's net positive mark
         (unrealised profit of its longs) never backs a withdrawal or a new
         short (Mango 2022); net negative marks still count against it.
    """
    assert not self.safe_mode, "margin: safe mode: risk-reducing only"
    p: uint256 = 0
    status: uint256 = 0
    p, status = staticcall oracle.price()
    assert status == STATUS_FRESH, "margin: oracle not fresh"
    self._check(acct, p, True, [])
