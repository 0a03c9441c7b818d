# pragma version ~=0.4.3
# pragma nonreentrancy on
"""
@title DSI option series: registry, settlement and redemption
@custom:contract-name OptionSeries
@license GNU Affero General Public License v3.0 only
@notice The list of option series, their settlement at expiry, and one
        settlement pool per series from which holders are paid.

        Glossary and units
        - Series: (strike, expiry, is_call, is_american); ids count up from
          1. Strike is WAD USD per WETH; expiry unix seconds.
        - Option amounts are WAD option units: 1e18 = one option on 1 WETH.
          USD token amounts have 6 decimals, WETH amounts 18.
        - Value: WAD USD (18 decimals). A USD amount u is worth u * 1e12; a
          WETH amount w is worth w * S / 1e18 at the settlement price S.
        - payoff_per_unit: WAD USD per 1e18 option units, max(S - K, 0) for
          calls, max(K - S, 0) for puts, fixed once by `settle`.

        Listing: listers (the owner grants the role) list series with
        expiry in (now, now + max_tenor] and strike within
        [min_strike_ratio, max_strike_ratio] x the protocol oracle price,
        which must be FRESH. A tuple is listed once. `min_size` is the
        smallest position (in option units) writers' contracts accept.

        Settlement: from expiry anyone may `settle(id)`: the oracle fixes
        the settlement price of the expiry (once, for every series of that
        expiry: the feed at expiry cross-checked against the pool, see
        ProtocolOracle; while they disagree the oracle defers and this
        reverts "series: settlement deferred"; listing registers the
        expiry with the oracle, the only expiries it settles), the payoff is fixed, and so are the supply of longs
        (no mint or burn happens after expiry before redemption) and
        total_owed_value = floor(payoff * supply / 1e18).

        Settlement pool: payers (the vault, the margin engine, later an
        insurance fund; the owner grants the role) `pay_in` USD and WETH
        for what their shorts owe; WETH is credited at S, rounded down.
        funded_value is the sum credited.

        Redemption: a holder `redeem`s longs: they are burnt and the holder
        gains a claim of floor(payoff * amount / 1e18). Claims are paid in
        proportion to funding: each holder is entitled to
        claim * min(funded, owed) / owed (owed = total_owed_value), rounded
        down, so the order in which holders redeem does not matter. While
        the pool is underfunded the unpaid rest of a claim is recorded
        (`pending_claim`) and paid by `claim(id)` as funding arrives: a
        holder is never silently paid less.

        Claims are keyed by (holder, account). `account` is a bytes32 label
        a custodian (the margin engine) chooses for its sub-ledgers; wallets
        use 0 (`redeem`, `claim`). `redeem_for` / `claim_for` record and
        pay the claim of (msg.sender, account) and return the tokens paid,
        so the custodian credits exactly what it received to the account it
        redeemed for. Whatever the label, a claim is only ever paid to the
        holder that redeemed it (msg.sender), and a label can only be
        collected by that holder: nobody can redirect, or block, another
        holder's claim. A payment of value v is a
        pro-rata share of each asset in the pool, each rounded down and
        valued with WETH rounded up, so the value received is <= v.
        owed_value = total_owed_value - paid_value is what the pool still
        owes (unredeemed longs plus unpaid claims). Rounding leaves dust in
        the pool, never a deficit.

        Pool balances are tracked here (`pool_usd`, `pool_weth`), never read
        from balanceOf(self): a donation changes nothing.
"""

from ethereum.ercs import IERC20

from . import IOptionSeries
from . import IOptionToken
from . import IProtocolOracle
implements: IOptionSeries

# @dev Owner role: grants listers and payers, sets bounded parameters.
from snekmate.auth import ownable
initializes: ownable

# @dev Stateless: `_mul_div` with explicit rounding.
from snekmate.utils import math

exports: (ownable.owner, ownable.transfer_ownership)


WAD: constant(uint256) = 10 ** 18
HALF: constant(uint256) = 2 ** 128 - 1
USD_TO_WAD: constant(uint256) = 10 ** 12  # 6-decimal USD -> WAD value
STATUS_FRESH: constant(uint256) = 0

MAX_TENOR_MIN: constant(uint256) = 86_400  # 1 day
MAX_TENOR_MAX: constant(uint256) = 730 * 86_400  # 2 years
MIN_STRIKE_RATIO_MIN: constant(uint256) = 10 ** 16  # 0.01 x spot
MAX_STRIKE_RATIO_MAX: constant(uint256) = 100 * 10 ** 18  # 100 x spot
MIN_SIZE_MIN: constant(uint256) = 10 ** 12  # 1e-6 option
MIN_SIZE_MAX: constant(uint256) = 10 ** 18  # 1 option


oracle: public(immutable(IProtocolOracle))
option_token: public(immutable(IOptionToken))
weth: public(immutable(IERC20))
usd: public(immutable(IERC20))


struct Settlement:
    settled: bool
    price: uint256  # WAD USD per WETH, the settlement TWAP
    payoff: uint256  # WAD USD per 1e18 option units
    supply: uint256  # longs outstanding at settlement (option units)
    total_owed: uint256  # floor(payoff * supply / 1e18), WAD USD


max_tenor: public(uint256)
min_strike_ratio: public(uint256)
max_strike_ratio: public(uint256)
min_size: public(uint256)

is_lister: public(HashMap[address, bool])
is_payer: public(HashMap[address, bool])

series_count: public(uint256)
_series: HashMap[uint256, IOptionSeries.Series]
# @dev The terms packed in one word for the margin engine's valuations (one
#      cold read instead of four): strike | expiry << 128 | is_call << 192.
terms: public(HashMap[uint256, uint256])
_series_by_key: HashMap[bytes32, uint256]

settlement: public(HashMap[uint256, Settlement])
pool_usd: public(HashMap[uint256, uint256])
pool_weth: public(HashMap[uint256, uint256])
funded_value: public(HashMap[uint256, uint256])
paid_value: public(HashMap[uint256, uint256])
redeemed_amount: public(HashMap[uint256, uint256])
# @dev Per series, holder and account label (0 for wallets), one word: the
#      value redeemed into claims | the part of it paid << 128, WAD USD (each
#      < 2^128, "series: claim out of range"). One slot, not two: a fresh
#      claim costs one zero-to-nonzero write (~20k gas less per redemption).
_claims: HashMap[uint256, HashMap[address, HashMap[bytes32, uint256]]]


event SeriesListed:
    id: indexed(uint256)
    strike: uint256
    expiry: indexed(uint256)
    is_call: bool
    is_american: bool
    lister: address

event SeriesSettled:
    id: indexed(uint256)
    price: uint256
    payoff_per_unit: uint256
    supply: uint256
    total_owed: uint256

event PaidIn:
    id: indexed(uint256)
    payer: indexed(address)
    usd_amount: uint256
    weth_amount: uint256
    value: uint256

event Redeemed:
    id: indexed(uint256)
    holder: indexed(address)
    amount: uint256
    claim: uint256
    account: bytes32  # the holder's sub-ledger label (0: a wallet)

event ClaimPaid:
    id: indexed(uint256)
    holder: indexed(address)
    value: uint256
    usd_amount: uint256
    weth_amount: uint256
    account: bytes32

event ListerSet:
    lister: indexed(address)
    status: bool

event PayerSet:
    payer: indexed(address)
    status: bool

event ParametersSet:
    max_tenor: uint256
    min_strike_ratio: uint256
    max_strike_ratio: uint256
    min_size: uint256


@deploy
def __init__(
    oracle_: IProtocolOracle,
    option_token_: IOptionToken,
    weth_: IERC20,
    usd_: IERC20,
    max_tenor_: uint256,
    min_strike_ratio_: uint256,
    max_strike_ratio_: uint256,
    min_size_: uint256,
):
    """
    @param oracle_ The protocol oracle (price, status, settlement).
    @param option_token_ The ERC-1155 longs; this contract must be one of
           its minters to burn on redemption.
    @param weth_ WETH (18 decimals).
    @param usd_ The USD stablecoin (6 decimals).
    @param max_tenor_ Longest expiry from now, seconds (1 day .. 2 years).
    @param min_strike_ratio_ Lowest strike / spot, WAD (0.01 .. 1).
    @param max_strike_ratio_ Highest strike / spot, WAD (1 .. 100).
    @param min_size_ Smallest position, option units (1e12 .. 1e18).
    """
    ownable.__init__()
    assert oracle_.address != empty(address), "series: zero address"
    assert option_token_.address != empty(address), "series: zero address"
    assert weth_.address != empty(address), "series: zero address"
    assert usd_.address != empty(address), "series: zero address"
    oracle = oracle_
    option_token = option_token_
    weth = weth_
    usd = usd_
    self._set_parameters(max_tenor_, min_strike_ratio_, max_strike_ratio_, min_size_)


@external
def set_parameters(max_tenor_: uint256, min_strike_ratio_: uint256, max_strike_ratio_: uint256, min_size_: uint256):
    """
    @notice Owner only: listing bounds and the minimum size, within hard
            bounds. Applies to later listings and positions.
    """
    ownable._check_owner()
    self._set_parameters(max_tenor_, min_strike_ratio_, max_strike_ratio_, min_size_)


@external
def set_lister(lister: address, status: bool):
    """
    @notice Owner only: grant or revoke the lister role.
    """
    ownable._check_owner()
    assert lister != empty(address), "series: zero address"
    self.is_lister[lister] = status
    log ListerSet(lister=lister, status=status)


@external
def set_payer(payer: address, status: bool):
    """
    @notice Owner only: grant or revoke the payer role (writers' contracts
            that pay their shorts' settlement into the pools).
    """
    ownable._check_owner()
    assert payer != empty(address), "series: zero address"
    self.is_payer[payer] = status
    log PayerSet(payer=payer, status=status)


@external
def list_series(strike: uint256, expiry: uint256, is_call: bool, is_american: bool) -> uint256:
    """
    @notice Lister only: list a series. Requires expiry in
            (now, now + max_tenor], the oracle FRESH, and strike within
            [ceil(spot * min_strike_ratio), floor(spot * max_strike_ratio)]
            (WAD). A (strike, expiry, is_call, is_american) tuple is listed
            once.
    @return uint256 The new series id (1, 2, ...).
    """
    assert self.is_lister[msg.sender], "series: not lister"
    assert expiry > block.timestamp, "series: expiry not in future"
    assert expiry <= block.timestamp + self.max_tenor, "series: tenor above max"
    spot: uint256 = 0
    status: uint256 = 0
    spot, status = staticcall oracle.price()
    assert status == STATUS_FRESH, "series: oracle not fresh"
    assert strike >= math._mul_div(spot, self.min_strike_ratio, WAD, True), "series: strike out of band"
    assert strike <= math._mul_div(spot, self.max_strike_ratio, WAD, False), "series: strike out of band"
    key: bytes32 = keccak256(abi_encode(strike, expiry, is_call, is_american))
    assert self._series_by_key[key] == 0, "series: already listed"

    id: uint256 = self.series_count + 1
    self.series_count = id
    self._series_by_key[key] = id
    self._series[id] = IOptionSeries.Series(strike=strike, expiry=expiry, is_call=is_call, is_american=is_american)
    assert strike < 2 ** 128, "series: strike out of band"
    self.terms[id] = strike | (expiry << 128) | (convert(is_call, uint256) << 192)
    extcall oracle.register_expiry(expiry)
    log SeriesListed(id=id, strike=strike, expiry=expiry, is_call=is_call, is_american=is_american, lister=msg.sender)
    return id


@external
def settle(id: uint256) -> uint256:
    """
    @notice From expiry, anyone: fix the settlement price (the oracle's
            TWAP ending at expiry), the payoff per unit and the owed value.
            Later calls change nothing and return the same payoff.
    @return uint256 payoff_per_unit, WAD USD per 1e18 option units.
    """
    return self._settle(id).payoff


@external
def pay_in(id: uint256, usd_amount: uint256, weth_amount: uint256) -> uint256:
    """
    @notice Payer only, after settlement: pull `usd_amount` USD (6
            decimals) and `weth_amount` WETH (18 decimals) from the caller
            (transferFrom; approve first) into the series' pool.
    @return uint256 The value credited, WAD USD: usd * 1e12 +
            floor(weth * S / 1e18) (rounded down).
    """
    assert self.is_payer[msg.sender], "series: not payer"
    s: Settlement = self.settlement[id]
    assert s.settled, "series: not settled"
    assert usd_amount != 0 or weth_amount != 0, "series: zero amount"
    value: uint256 = usd_amount * USD_TO_WAD + math._mul_div(weth_amount, s.price, WAD, False)
    self.pool_usd[id] += usd_amount
    self.pool_weth[id] += weth_amount
    self.funded_value[id] += value
    if usd_amount != 0:
        self._pull(usd.address, msg.sender, usd_amount)
    if weth_amount != 0:
        self._pull(weth.address, msg.sender, weth_amount)
    log PaidIn(id=id, payer=msg.sender, usd_amount=usd_amount, weth_amount=weth_amount, value=value)
    return value


@external
def redeem(id: uint256, amount: uint256) -> uint256:
    """
    @notice From expiry, a holder: burn `amount` longs (option units) of
            series `id` (settling it first if needed) for a claim of
            floor(payoff * amount / 1e18) WAD USD, and receive what the
            pool's funding entitles the caller to now (see the contract
            notice); the rest stays recorded for `claim`. The caller's
            wallet claim (account 0).
    @return uint256 The value paid now, WAD USD (the tokens received are
            worth at most this, each rounded down).
    """
    value: uint256 = 0
    usd_out: uint256 = 0
    weth_out: uint256 = 0
    value, usd_out, weth_out = self._redeem(id, amount, empty(bytes32))
    return value


@external
def redeem_for(id: uint256, amount: uint256, account: bytes32) -> (uint256, uint256, uint256):
    """
    @notice `redeem` for a custodian's sub-ledger: burn `amount` of the
            caller's longs of `id` for a claim recorded under (caller,
            `account`) and paid to the caller only. The margin engine
            passes its account key, so a pending rest stays attributable
            to the account that owned the longs (`claim_for`).
    @return (uint256, uint256, uint256) The value paid now (WAD USD) and
            the USD (6 decimals) and WETH (18 decimals) transferred to the
            caller.
    """
    return self._redeem(id, amount, account)


@external
def claim(id: uint256) -> uint256:
    """
    @notice A holder with a recorded wallet claim (account 0): receive what
            later funding entitles the caller to (see the contract notice).
    @return uint256 The value paid, WAD USD.
    """
    value: uint256 = 0
    usd_out: uint256 = 0
    weth_out: uint256 = 0
    value, usd_out, weth_out = self._claim(id, empty(bytes32))
    return value


@external
def claim_for(id: uint256, account: bytes32) -> (uint256, uint256, uint256):
    """
    @notice `claim` for the caller's claim under `account`: pays the
            caller (never anyone else) what later funding entitles that
            claim to.
    @return (uint256, uint256, uint256) The value paid (WAD USD) and the
            USD (6 decimals) and WETH (18 decimals) transferred.
    """
    return self._claim(id, account)


@view
@external
def series(id: uint256) -> IOptionSeries.Series:
    """
    @notice The terms of series `id` (all zero if not listed).
    """
    return self._series[id]


@view
@external
def find_series(strike: uint256, expiry: uint256, is_call: bool, is_american: bool) -> uint256:
    """
    @notice The id of a listed tuple, 0 if not listed.
    """
    return self._series_by_key[keccak256(abi_encode(strike, expiry, is_call, is_american))]


@view
@external
def is_listed(id: uint256) -> bool:
    return self._series[id].expiry != 0


@view
@external
def is_expired(id: uint256) -> bool:
    """
    @notice True from expiry on (block.timestamp >= expiry); False if not listed.
    """
    expiry: uint256 = self._series[id].expiry
    return expiry != 0 and block.timestamp >= expiry


@view
@external
def is_settled(id: uint256) -> bool:
    return self.settlement[id].settled


@view
@external
def settlement_price(id: uint256) -> uint256:
    """
    @notice The settlement price, WAD USD per WETH; 0 until settled.
    """
    return self.settlement[id].price


@view
@external
def payoff_per_unit(id: uint256) -> uint256:
    """
    @notice WAD USD per 1e18 option units; 0 until settled (or OTM).
    """
    return self.settlement[id].payoff


@view
@external
def total_owed_value(id: uint256) -> uint256:
    """
    @notice floor(payoff * supply at settlement / 1e18), WAD USD.
    """
    return self.settlement[id].total_owed


@view
@external
def owed_value(id: uint256) -> uint256:
    """
    @notice What the pool still owes holders, WAD USD: total_owed_value
            minus the value paid out (unredeemed longs plus unpaid claims).
    """
    return self.settlement[id].total_owed - self.paid_value[id]


@view
@external
def shortfall(id: uint256) -> uint256:
    """
    @notice max(total_owed_value - funded_value, 0), WAD USD.
    """
    owed: uint256 = self.settlement[id].total_owed
    funded: uint256 = self.funded_value[id]
    return owed - funded if owed > funded else 0


@view
@external
def claim_value(id: uint256, holder: address, account: bytes32 = empty(bytes32)) -> uint256:
    """
    @notice The value `holder` redeemed into claims under `account` (0: its
            wallet claims), WAD USD.
    """
    return self._claims[id][holder][account] & HALF


@view
@external
def claim_paid(id: uint256, holder: address, account: bytes32 = empty(bytes32)) -> uint256:
    """
    @notice The part of those claims paid so far, WAD USD.
    """
    return self._claims[id][holder][account] >> 128


@view
@external
def pending_claim(id: uint256, holder: address, account: bytes32 = empty(bytes32)) -> uint256:
    """
    @notice The unpaid part of the claims `holder` redeemed under `account`
            (0: its wallet claims), WAD USD.
    """
    c: uint256 = self._claims[id][holder][account]
    return (c & HALF) - (c >> 128)


@view
@external
def claimable(id: uint256, holder: address, account: bytes32 = empty(bytes32)) -> uint256:
    """
    @notice What `claim(id)` (account 0) or `claim_for(id, account)` would
            pay `holder` now, WAD USD.
    """
    s: Settlement = self.settlement[id]
    c: uint256 = self._claims[id][holder][account]
    entitled: uint256 = self._entitled(c & HALF, s.total_owed, self.funded_value[id])
    paid: uint256 = c >> 128
    return entitled - paid if entitled > paid else 0


@view
@external
def redemption_value(id: uint256, amount: uint256) -> uint256:
    """
    @notice The claim `amount` longs would give: floor(payoff * amount /
            1e18), WAD USD; 0 until settled.
    """
    return self.settlement[id].payoff * amount // WAD


@internal
def _settle(id: uint256) -> Settlement:
    s: Settlement = self.settlement[id]
    if s.settled:
        return s
    terms: IOptionSeries.Series = self._series[id]
    assert terms.expiry != 0, "series: unknown series"
    assert block.timestamp >= terms.expiry, "series: not expired"
    price: uint256 = extcall oracle.settle(terms.expiry)
    assert price != 0, "series: settlement deferred"
    payoff: uint256 = self._payoff(terms.strike, price, terms.is_call)
    supply: uint256 = staticcall option_token.total_supply(id)
    s = Settlement(settled=True, price=price, payoff=payoff, supply=supply, total_owed=payoff * supply // WAD)
    self.settlement[id] = s
    log SeriesSettled(id=id, price=price, payoff_per_unit=payoff, supply=supply, total_owed=s.total_owed)
    return s


@internal
def _redeem(id: uint256, amount: uint256, account: bytes32) -> (uint256, uint256, uint256):
    """
    @dev Burns the caller's longs into a claim under (caller, `account`)
         and pays its entitlement now (`_pay_claim`).
    """
    assert amount != 0, "series: zero amount"
    s: Settlement = self._settle(id)
    assert staticcall option_token.balanceOf(msg.sender, id) >= amount, "series: insufficient options"
    claim: uint256 = s.payoff * amount // WAD
    c: uint256 = self._claims[id][msg.sender][account]
    value: uint256 = (c & HALF) + claim
    assert value <= HALF, "series: claim out of range"
    self._claims[id][msg.sender][account] = value | (c >> 128) << 128
    self.redeemed_amount[id] += amount
    extcall option_token.burn(msg.sender, id, amount)
    log Redeemed(id=id, holder=msg.sender, amount=amount, claim=claim, account=account)
    return self._pay_claim(id, msg.sender, account, s)


@internal
def _claim(id: uint256, account: bytes32) -> (uint256, uint256, uint256):
    s: Settlement = self.settlement[id]
    assert s.settled, "series: not settled"
    value: uint256 = 0
    usd_out: uint256 = 0
    weth_out: uint256 = 0
    value, usd_out, weth_out = self._pay_claim(id, msg.sender, account, s)
    assert value != 0, "series: nothing to claim"
    return value, usd_out, weth_out


@internal
def _pay_claim(id: uint256, holder: address, account: bytes32, s: Settlement) -> (uint256, uint256, uint256):
    """
    @dev Pays `holder` the entitlement of its claim under `account` minus
         what that claim was paid, as a pro-rata share of each pool asset.
         Returns (value paid, WAD USD; USD out; WETH out).
    """
    c: uint256 = self._claims[id][holder][account]
    entitled: uint256 = self._entitled(c & HALF, s.total_owed, self.funded_value[id])
    paid: uint256 = c >> 128
    if entitled <= paid:
        return 0, 0, 0
    value: uint256 = entitled - paid
    # entitled <= the claim value < 2^128
    self._claims[id][holder][account] = (c & HALF) | entitled << 128
    self.paid_value[id] += value

    pool_usd: uint256 = self.pool_usd[id]
    pool_weth: uint256 = self.pool_weth[id]
    # The pool's value with WETH rounded up, so the shares below are worth <= value.
    pool_value: uint256 = pool_usd * USD_TO_WAD + math._mul_div(pool_weth, s.price, WAD, True)
    usd_out: uint256 = 0
    weth_out: uint256 = 0
    if pool_value != 0:
        usd_out = math._mul_div(pool_usd, value, pool_value, False)
        weth_out = math._mul_div(pool_weth, value, pool_value, False)
    self.pool_usd[id] = pool_usd - usd_out
    self.pool_weth[id] = pool_weth - weth_out
    if usd_out != 0:
        assert extcall IERC20(usd.address).transfer(holder, usd_out, default_return_value=True), "series: transfer failed"
    if weth_out != 0:
        assert extcall IERC20(weth.address).transfer(holder, weth_out, default_return_value=True), "series: transfer failed"
    log ClaimPaid(id=id, holder=holder, value=value, usd_amount=usd_out, weth_amount=weth_out, account=account)
    return value, usd_out, weth_out


@internal
def _set_parameters(max_tenor_: uint256, min_strike_ratio_: uint256, max_strike_ratio_: uint256, min_size_: uint256):
    assert max_tenor_ >= MAX_TENOR_MIN and max_tenor_ <= MAX_TENOR_MAX, "series: tenor out of bounds"
    assert min_strike_ratio_ >= MIN_STRIKE_RATIO_MIN and min_strike_ratio_ <= WAD, "series: strike band out of bounds"
    assert max_strike_ratio_ >= WAD and max_strike_ratio_ <= MAX_STRIKE_RATIO_MAX, "series: strike band out of bounds"
    assert min_size_ >= MIN_SIZE_MIN and min_size_ <= MIN_SIZE_MAX, "series: min size out of bounds"
    self.max_tenor = max_tenor_
    self.min_strike_ratio = min_strike_ratio_
    self.max_strike_ratio = max_strike_ratio_
    self.min_size = min_size_
    log ParametersSet(max_tenor=max_tenor_, min_strike_ratio=min_strike_ratio_, max_strike_ratio=max_strike_ratio_, min_size=min_size_)


@internal
def _pull(token: address, sender: address, amount: uint256):
    """
    @dev transferFrom `sender` to this contract, reverting with our own
         reason if the token reverts or returns false.
    """
    success: bool = False
    response: Bytes[32] = b""
    success, response = raw_call(
        token,
        abi_encode(sender, self, amount, method_id=method_id("transferFrom(address,address,uint256)")),
        max_outsize=32,
        revert_on_failure=False,
    )
    if success and len(response) != 0:
        success = convert(response, bool)
    assert success, "series: transfer failed"


@pure
@internal
def _payoff(strike: uint256, price: uint256, is_call: bool) -> uint256:
    """
    @dev max(S - K, 0) for calls, max(K - S, 0) for puts; WAD USD per
         1e18 option units. Exact (no rounding). Gas ~100.
    """
    if is_call:
        return price - strike if price > strike else 0
    return strike - price if strike > price else 0


@pure
@internal
def _entitled(claim: uint256, owed: uint256, funded: uint256) -> uint256:
    """
    @dev claim * min(funded, owed) / owed, rounded down (the holder's share
         of the funding); `claim` when fully funded (also when owed == 0).
    """
    if funded >= owed:
        return claim
    return math._mul_div(claim, funded, owed, False)
