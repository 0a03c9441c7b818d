# pragma version ~=0.4.3
# pragma nonreentrancy on
"""
@title DSI options vault: fully collateralised writing
@custom:contract-name OptionsVault
@license GNU Affero General Public License v3.0 only
@notice Writers sell options backed 100% ("isolated margin at 100%"): a
        covered call locks 1 WETH per option, a cash-secured put locks the
        strike in USD. The vault mints the longs (ERC-1155, `OptionToken`)
        to the writer, who sells them anywhere. No oracle is needed to
        write: the worst case is already locked.

        Units: option amounts are WAD option units (1e18 = one option on
        1 WETH); WETH has 18 decimals, so a call locks exactly `amount`
        WETH; USD has 6 decimals, so a put locks ceil(K * amount / 1e30)
        USD (K WAD). The collateral asset of a series is WETH for calls and
        USD for puts; every amount below is in it.

        Accounting per series (`shorts(id)`), one pool of all its writers
        - outstanding: options written here and not yet closed, exercised
          or settled. Exercise may only take what is outstanding here.
        - shares: each writer holds shares of the pool; a writer's
          outstanding is outstanding * shares / total shares. Shares do not
          change on exercise; only outstanding does, so an exercise is
          assigned pro-rata to all writers of the series in O(1).
        - locked: collateral backing `outstanding`, always >= the lock of
          `outstanding` (1 WETH or K USD per option); a writer's part is
          locked * shares / total shares.
        - free: collateral released by exercises (the locked part of the
          exercised options minus the intrinsic paid). It is the writers'
          and is spread by a per-share accumulator (`free_per_share`, per
          epoch, scaled by 1e36), credited to a writer lazily when it
          writes, closes, collects or settles. Rounding dust stays in free.
        - epoch: when an exercise takes all that is outstanding, the shares
          of that epoch are worth no options any more; the next write
          starts a new epoch (old positions keep their free collateral).

        Flows
        - write: lock, mint longs; shares minted = amount * shares /
          outstanding (rounded down; = amount in an empty pool).
        - close: before expiry a writer burns its own longs; shares burnt
          rounded up, collateral unlocked = locked * amount / outstanding
          rounded down; also pays the writer's free collateral.
        - exercise (American, before expiry, oracle FRESH): a holder burns
          longs and is paid the intrinsic at the oracle price (calls in
          WETH: floor((P - K) * amount / P); puts in USD: floor((K - P) *
          amount / 1e30)) out of locked * amount / outstanding; the rest of
          that slice becomes free.
        - settle_writer: after expiry (settling the series if needed) the
          writer's outstanding (rounded up) owes the payoff: calls
          ceil(payoff * o / S) WETH, puts ceil(payoff * o / 1e30) USD, paid
          into the series' settlement pool (`OptionSeries.pay_in`); the
          rest of its locked share and its free collateral return to it.
        Rounding is always in the vault's favour (writers owe rounded up
        and receive rounded down); the last writer of a pool takes exactly
        what is left, so nothing is stranded.

        Internal accounting: `weth_held` / `usd_held` equal the sum over
        series of locked + free; the vault never reads balanceOf(self).
"""

from ethereum.ercs import IERC20

from . import IOptionSeries
from . import IOptionToken
from . import IProtocolOracle

# @dev Stateless: `_mul_div` with explicit rounding.
from snekmate.utils import math


WAD: constant(uint256) = 10 ** 18
STRIKE_TO_USD: constant(uint256) = 10 ** 30  # K (WAD) * amount (WAD) / 1e30 = USD (6 decimals)
ACC: constant(uint256) = 10 ** 36  # scale of free_per_share
MAX_SHARES_PER_UNIT: constant(uint256) = 10 ** 18  # shares per outstanding option unit before writes stop
STATUS_FRESH: constant(uint256) = 0


series: public(immutable(IOptionSeries))
option_token: public(immutable(IOptionToken))
oracle: public(immutable(IProtocolOracle))
weth: public(immutable(IERC20))
usd: public(immutable(IERC20))


struct Short:
    epoch: uint256
    shares: uint256
    outstanding: uint256  # option units
    locked: uint256  # collateral units
    free: uint256  # collateral units released by exercise, not yet paid out


struct Position:
    epoch: uint256
    shares: uint256
    acc_snapshot: uint256  # free_per_share[id][epoch] when last credited
    free: uint256  # collateral units credited, not yet paid out


shorts: public(HashMap[uint256, Short])
positions: public(HashMap[uint256, HashMap[address, Position]])
free_per_share: public(HashMap[uint256, HashMap[uint256, uint256]])  # id -> epoch -> accumulator
weth_held: public(uint256)
usd_held: public(uint256)


event Written:
    id: indexed(uint256)
    writer: indexed(address)
    amount: uint256
    collateral: uint256
    shares: uint256

event Closed:
    id: indexed(uint256)
    writer: indexed(address)
    amount: uint256
    unlocked: uint256
    free: uint256

event Exercised:
    id: indexed(uint256)
    holder: indexed(address)
    amount: uint256
    price: uint256
    payout: uint256
    freed: uint256

event WriterSettled:
    id: indexed(uint256)
    writer: indexed(address)
    amount: uint256
    owed: uint256
    returned: uint256

event Collected:
    id: indexed(uint256)
    writer: indexed(address)
    amount: uint256


@deploy
def __init__(series_: IOptionSeries):
    """
    @param series_ The series registry; the oracle, token and collateral
           tokens are read from it. The vault needs the option token's
           minter role and the series' payer role.
    """
    assert series_.address != empty(address), "vault: zero address"
    series = series_
    option_token = IOptionToken(staticcall series_.option_token())
    oracle = IProtocolOracle(staticcall series_.oracle())
    weth = IERC20(staticcall series_.weth())
    usd = IERC20(staticcall series_.usd())


@external
def write(id: uint256, amount: uint256) -> uint256:
    """
    @notice Before expiry: lock collateral pulled from the caller (calls:
            `amount` WETH; puts: ceil(K * amount / 1e30) USD; approve
            first) and mint `amount` longs (option units) to the caller.
            amount >= the series' min_size. No oracle needed.
    @return uint256 The collateral locked (WETH or USD units).
    """
    terms: IOptionSeries.Series = staticcall series.series(id)
    assert terms.expiry != 0, "vault: unknown series"
    assert block.timestamp < terms.expiry, "vault: expired"
    assert amount >= staticcall series.min_size(), "vault: below min size"

    sh: Short = self.shorts[id]
    pos: Position = self._checkpoint(id, msg.sender, sh)
    minted: uint256 = amount
    if sh.shares != 0:
        assert sh.shares <= sh.outstanding * MAX_SHARES_PER_UNIT, "vault: series exhausted"
        minted = math._mul_div(amount, sh.shares, sh.outstanding, False)
        assert minted != 0, "vault: zero shares"
    lock: uint256 = self._lock(terms, amount)
    sh.shares += minted
    sh.outstanding += amount
    sh.locked += lock
    pos.shares += minted
    self.shorts[id] = sh
    self.positions[id][msg.sender] = pos

    asset: IERC20 = self._asset(terms)
    self._add_held(terms, lock)
    self._pull(asset, msg.sender, lock)
    extcall option_token.mint(msg.sender, id, amount)
    log Written(id=id, writer=msg.sender, amount=amount, collateral=lock, shares=minted)
    return lock


@external
def close(id: uint256, amount: uint256) -> uint256:
    """
    @notice Before expiry, a writer: burn `amount` of the caller's own
            longs against its outstanding writing here and receive
            floor(locked * amount / outstanding) collateral plus its free
            collateral. amount >= min_size unless closing everything.
    @return uint256 The collateral paid (WETH or USD units).
    """
    terms: IOptionSeries.Series = staticcall series.series(id)
    assert terms.expiry != 0, "vault: unknown series"
    assert block.timestamp < terms.expiry, "vault: expired"
    assert amount != 0, "vault: zero amount"
    sh: Short = self.shorts[id]
    pos: Position = self._checkpoint(id, msg.sender, sh)
    mine: uint256 = self._outstanding_of(pos.shares, sh, False)
    assert amount <= mine, "vault: exceeds written"
    assert amount == mine or amount >= staticcall series.min_size(), "vault: below min size"
    assert staticcall option_token.balanceOf(msg.sender, id) >= amount, "vault: insufficient options"

    burned: uint256 = min(math._mul_div(amount, sh.shares, sh.outstanding, True), pos.shares)
    if burned == sh.shares and amount < sh.outstanding:
        # Keep one share for what is left: options never outlive all shares.
        burned = sh.shares - 1
    unlocked: uint256 = math._mul_div(sh.locked, amount, sh.outstanding, False)
    free: uint256 = pos.free
    sh.shares -= burned
    sh.outstanding -= amount
    sh.locked -= unlocked
    sh.free -= free
    pos.shares -= burned
    pos.free = 0
    self.shorts[id] = sh
    self.positions[id][msg.sender] = pos

    paid: uint256 = unlocked + free
    self._sub_held(terms, paid)
    extcall option_token.burn(msg.sender, id, amount)
    self._push(self._asset(terms), msg.sender, paid)
    log Closed(id=id, writer=msg.sender, amount=amount, unlocked=unlocked, free=free)
    return paid


@external
def exercise(id: uint256, amount: uint256) -> uint256:
    """
    @notice American series, before expiry, oracle FRESH: burn `amount` of
            the caller's longs and receive the intrinsic at the oracle
            price P: calls floor((P - K) * amount / P) WETH, puts
            floor((K - P) * amount / 1e30) USD (rounded down). Assigned
            pro-rata to the series' vault writers; amount <= the vault's
            outstanding for the series and >= min_size.
    @return uint256 The payout (WETH or USD units).
    """
    terms: IOptionSeries.Series = staticcall series.series(id)
    assert terms.expiry != 0, "vault: unknown series"
    assert terms.is_american, "vault: not american"
    assert block.timestamp < terms.expiry, "vault: expired"
    assert amount >= staticcall series.min_size(), "vault: below min size"
    price: uint256 = 0
    status: uint256 = 0
    price, status = staticcall oracle.price()
    assert status == STATUS_FRESH, "vault: oracle not fresh"
    intrinsic: uint256 = 0
    if terms.is_call:
        intrinsic = price - terms.strike if price > terms.strike else 0
    else:
        intrinsic = terms.strike - price if terms.strike > price else 0
    assert intrinsic != 0, "vault: not in the money"
    sh: Short = self.shorts[id]
    assert amount <= sh.outstanding, "vault: exceeds vault supply"
    assert staticcall option_token.balanceOf(msg.sender, id) >= amount, "vault: insufficient options"

    payout: uint256 = 0
    if terms.is_call:
        payout = math._mul_div(intrinsic, amount, price, False)
    else:
        payout = math._mul_div(intrinsic, amount, STRIKE_TO_USD, False)
    assert payout != 0, "vault: zero payout"
    # locked >= the lock of outstanding, so this backing covers the payout.
    backing: uint256 = math._mul_div(sh.locked, amount, sh.outstanding, False)
    freed: uint256 = backing - payout
    if freed != 0:
        self.free_per_share[id][sh.epoch] += math._mul_div(freed, ACC, sh.shares, False)
        sh.free += freed
    sh.locked -= backing
    sh.outstanding -= amount
    if sh.outstanding == 0:
        # Everything was assigned: the shares of this epoch hold no options.
        sh.epoch += 1
        sh.shares = 0
    self.shorts[id] = sh

    self._sub_held(terms, payout)
    extcall option_token.burn(msg.sender, id, amount)
    self._push(self._asset(terms), msg.sender, payout)
    log Exercised(id=id, holder=msg.sender, amount=amount, price=price, payout=payout, freed=freed)
    return payout


@external
def settle_writer(id: uint256, writer: address = msg.sender) -> uint256:
    """
    @notice From expiry, anyone for `writer` (default the caller): settle
            the series if needed, pay what the writer's outstanding owes
            into the series' settlement pool (calls: ceil(payoff * o / S)
            WETH; puts: ceil(payoff * o / 1e30) USD; at most its locked
            share) and return the rest of its collateral to the writer.
    @return uint256 The collateral returned to the writer.
    """
    terms: IOptionSeries.Series = staticcall series.series(id)
    assert terms.expiry != 0, "vault: unknown series"
    payoff: uint256 = extcall series.settle(id)
    sh: Short = self.shorts[id]
    pos: Position = self._checkpoint(id, writer, sh)
    assert pos.shares != 0 or pos.free != 0, "vault: nothing to settle"

    mine: uint256 = 0
    locked: uint256 = 0
    if pos.shares != 0:
        if pos.shares == sh.shares:
            # The last writer of the pool takes exactly what is left.
            mine = sh.outstanding
            locked = sh.locked
        else:
            mine = self._outstanding_of(pos.shares, sh, True)
            locked = math._mul_div(sh.locked, pos.shares, sh.shares, False)
    owed: uint256 = 0
    if payoff != 0 and mine != 0:
        if terms.is_call:
            owed = math._mul_div(payoff, mine, staticcall series.settlement_price(id), True)
        else:
            owed = math._mul_div(payoff, mine, STRIKE_TO_USD, True)
        owed = min(owed, locked)
    free: uint256 = pos.free
    returned: uint256 = locked - owed + free
    sh.shares -= pos.shares
    sh.outstanding -= mine
    sh.locked -= locked
    sh.free -= free
    pos.shares = 0
    pos.free = 0
    self.shorts[id] = sh
    self.positions[id][writer] = pos

    asset: IERC20 = self._asset(terms)
    self._sub_held(terms, owed + returned)
    if owed != 0:
        assert extcall asset.approve(series.address, owed, default_return_value=True), "vault: approve failed"
        if terms.is_call:
            extcall series.pay_in(id, 0, owed)
        else:
            extcall series.pay_in(id, owed, 0)
    self._push(asset, writer, returned)
    log WriterSettled(id=id, writer=writer, amount=mine, owed=owed, returned=returned)
    return returned


@external
def collect(id: uint256) -> uint256:
    """
    @notice Any time: pay the caller the free collateral exercises have
            released to it (it backs nothing).
    @return uint256 The collateral paid (WETH or USD units).
    """
    terms: IOptionSeries.Series = staticcall series.series(id)
    assert terms.expiry != 0, "vault: unknown series"
    sh: Short = self.shorts[id]
    pos: Position = self._checkpoint(id, msg.sender, sh)
    free: uint256 = pos.free
    assert free != 0, "vault: nothing to collect"
    sh.free -= free
    pos.free = 0
    self.shorts[id] = sh
    self.positions[id][msg.sender] = pos
    self._sub_held(terms, free)
    self._push(self._asset(terms), msg.sender, free)
    log Collected(id=id, writer=msg.sender, amount=free)
    return free


@view
@external
def total_written(id: uint256) -> uint256:
    """
    @notice Options of series `id` outstanding in the vault (option units).
    """
    return self.shorts[id].outstanding


@view
@external
def written(id: uint256, writer: address) -> uint256:
    """
    @notice `writer`'s outstanding options (option units), after the
            exercises assigned to it; rounded down.
    """
    sh: Short = self.shorts[id]
    pos: Position = self.positions[id][writer]
    if pos.epoch != sh.epoch:
        return 0
    return self._outstanding_of(pos.shares, sh, False)


@view
@external
def locked_of(id: uint256, writer: address) -> uint256:
    """
    @notice `writer`'s share of the series' locked collateral, rounded down.
    """
    sh: Short = self.shorts[id]
    pos: Position = self.positions[id][writer]
    if pos.epoch != sh.epoch or sh.shares == 0:
        return 0
    return math._mul_div(sh.locked, pos.shares, sh.shares, False)


@view
@external
def collectable(id: uint256, writer: address) -> uint256:
    """
    @notice Free collateral `collect` would pay `writer` now.
    """
    pos: Position = self.positions[id][writer]
    pending: uint256 = 0
    if pos.shares != 0:
        pending = math._mul_div(pos.shares, self.free_per_share[id][pos.epoch] - pos.acc_snapshot, ACC, False)
    return pos.free + pending


@view
@external
def series_collateral(id: uint256) -> uint256:
    """
    @notice What the vault holds for series `id`: locked + free.
    """
    sh: Short = self.shorts[id]
    return sh.locked + sh.free


@internal
def _checkpoint(id: uint256, writer: address, sh: Short) -> Position:
    """
    @dev Credits the writer's pending free collateral and moves a position
         of an ended epoch into the current one (its shares are void).
         Returns the position; the caller stores it.
    """
    pos: Position = self.positions[id][writer]
    acc: uint256 = self.free_per_share[id][pos.epoch]
    if pos.shares != 0:
        pos.free += math._mul_div(pos.shares, acc - pos.acc_snapshot, ACC, False)
    if pos.epoch != sh.epoch:
        pos.epoch = sh.epoch
        pos.shares = 0
        acc = self.free_per_share[id][sh.epoch]
    pos.acc_snapshot = acc
    return pos


@view
@internal
def _outstanding_of(shares: uint256, sh: Short, roundup: bool) -> uint256:
    if sh.shares == 0:
        return 0
    return math._mul_div(sh.outstanding, shares, sh.shares, roundup)


@pure
@internal
def _lock(terms: IOptionSeries.Series, amount: uint256) -> uint256:
    """
    @dev Collateral for `amount` options: calls `amount` WETH (18 decimals,
         1:1 with option units); puts ceil(K * amount / 1e30) USD (6
         decimals), rounded up for the vault. Gas ~300.
    """
    if terms.is_call:
        return amount
    return math._mul_div(terms.strike, amount, STRIKE_TO_USD, True)


@view
@internal
def _asset(terms: IOptionSeries.Series) -> IERC20:
    if terms.is_call:
        return weth
    return usd


@internal
def _add_held(terms: IOptionSeries.Series, amount: uint256):
    if terms.is_call:
        self.weth_held += amount
    else:
        self.usd_held += amount


@internal
def _sub_held(terms: IOptionSeries.Series, amount: uint256):
    if terms.is_call:
        self.weth_held -= amount
    else:
        self.usd_held -= amount


@internal
def _pull(token: IERC20, sender: address, amount: uint256):
    """
    @dev transferFrom `sender` to this contract, reverting with our own
         reason if the token reverts or returns false.
    """
    success: bool = False
    response: Bytes[32] = b""
    success, response = raw_call(
        token.address,
        abi_encode(sender, self, amount, method_id=method_id("transferFrom(address,address,uint256)")),
        max_outsize=32,
        revert_on_failure=False,
    )
    if success and len(response) != 0:
        success = convert(response, bool)
    assert success, "vault: transfer failed"


@internal
def _push(token: IERC20, to: address, amount: uint256):
    if amount != 0:
        assert extcall token.transfer(to, amount, default_return_value=True), "vault: transfer failed"
