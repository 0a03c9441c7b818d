# pragma version ~=0.4.3
# pragma nonreentrancy on
"""
@title DSI spot pool (constant product, WETH/USD)
@custom:contract-name SpotPool
@license GNU Affero General Public License v3.0 only
@notice The lab's "hostile world" spot market: a Uniswap-v2-style x * y = k
        pool between token0 (the base, WETH, 18 decimals) and token1 (the
        quote, the USD stablecoin, 6 decimals). Attackers pump it, the
        protocol reads it; it is built so that what it reports can be
        reasoned about exactly.

        Glossary
        - reserve0 / reserve1: the pool's own record of the tokens it holds,
          in raw token units. They move only through add_liquidity,
          remove_liquidity and swap_exact_in. Tokens sent to the pool by
          plain `transfer` (a donation) are not counted: they move neither
          the price nor the share value (the owner may `skim` them out).
        - spot_price: token1 per token0 in WAD after scaling both reserves
          to 18 decimals, i.e. USD per WETH with 1e18 = $1. Rounded down.
        - fee_bps: swap fee in basis points, taken from the input and left
          in the reserves (it accrues to liquidity providers). Default 30,
          owner-settable up to MAX_FEE_BPS.
        - shares: liquidity-provider shares, tracked here (no LP token). The
          first deposit sets the price and mints isqrt(amount0 * amount1)
          shares, of which MIN_LIQUIDITY are locked forever (credited to the
          zero address) so the reserves can never be emptied.
        - price_cumulative_last: the sum over time of spot_price * seconds,
          as in Uniswap v2. It is brought up to date on the first state
          change of each block, using the reserves as they were BEFORE that
          change, so a price that exists only inside one transaction (a
          flash-loan pump and dump) never enters it. A TWAP between two
          observations (c1, t1), (c2, t2) is (c2 - c1) / (t2 - t1).
          It does NOT wrap: arithmetic is checked, and consumers subtract
          two observations directly. Reserves are capped at MAX_RESERVE
          (2**112 - 1); with the lab's decimals (18 and 6) spot_price is
          below 2**112 * 1e30 < 2**212, so the sum cannot overflow 2**256
          in fewer than 2**44 seconds (over 500,000 years) even at the
          largest representable price.
        - current_cumulative: the accumulator extrapolated to the current
          block's timestamp with the current reserves (as
          UniswapV2OracleLibrary.currentCumulativePrices does).
        - quote_slippage: the all-in cost of selling a given size, as a WAD
          fraction of its value at the mid (spot) price, fee included. It is
          the lab's "liquidity depth" metric.

        Rounding is always in the pool's favour: amounts paid out (swap
        output, withdrawn liquidity, minted shares) round down; amounts
        taken in (the input needed for a given output, the tokens pulled for
        a given number of shares) round up; price impact rounds up.

        Tokens must be plain ERC-20s (no fee on transfer, no rebasing, no
        hooks): the pool credits exactly the amount it asked `transferFrom`
        for.
"""

from ethereum.ercs import IERC20
from ethereum.ercs import IERC20Detailed

from . import ISpotPool
implements: ISpotPool

# @dev Owner role: sets the fee within its bound and skims donations.
from snekmate.auth import ownable
initializes: ownable

# @dev Stateless: 512-bit `_mul_div` (shares, price impact) and `_ceil_div`.
from snekmate.utils import math

exports: (
    ownable.owner,
    ownable.transfer_ownership,
    ownable.renounce_ownership,
)


WAD: constant(uint256) = 10 ** 18
BPS: constant(uint256) = 10_000
# @dev Swap fee at deployment and its hard upper bound.
DEFAULT_FEE_BPS: constant(uint256) = 30
MAX_FEE_BPS: constant(uint256) = 100
# @dev Shares locked at the first deposit so the reserves never reach zero.
MIN_LIQUIDITY: constant(uint256) = 1_000
# @dev Cap on each reserve (as in Uniswap v2's uint112); keeps every
# product below 2**256 (see the glossary).
MAX_RESERVE: constant(uint256) = 2 ** 112 - 1


# @dev The base token (WETH) and the quote token (USD).
token0: public(immutable(address))
token1: public(immutable(address))
# @dev 10 ** (18 - decimals): scales raw amounts to 18 decimals.
SCALE0: immutable(uint256)
SCALE1: immutable(uint256)


fee_bps: public(uint256)
reserve0: public(uint256)
reserve1: public(uint256)
price_cumulative_last: public(uint256)
block_timestamp_last: public(uint256)
total_shares: public(uint256)
shares: public(HashMap[address, uint256])


event Swap:
    sender: indexed(address)
    receiver: indexed(address)
    token_in: indexed(address)
    amount_in: uint256
    amount_out: uint256

event AddLiquidity:
    provider: indexed(address)
    receiver: indexed(address)
    amount0: uint256
    amount1: uint256
    shares: uint256

event RemoveLiquidity:
    provider: indexed(address)
    receiver: indexed(address)
    amount0: uint256
    amount1: uint256
    shares: uint256

event Sync:
    reserve0: uint256
    reserve1: uint256
    price_cumulative: uint256

event FeeUpdated:
    old_fee_bps: uint256
    new_fee_bps: uint256

event Skim:
    token: indexed(address)
    receiver: indexed(address)
    amount: uint256


@deploy
def __init__(token0_: address, token1_: address):
    """
    @param token0_ The base token (WETH); at most 18 decimals.
    @param token1_ The quote token (USD); at most 18 decimals.
    """
    assert token0_ != empty(address) and token1_ != empty(address), "pool: zero address"
    assert token0_ != token1_, "pool: identical tokens"
    decimals0: uint8 = staticcall IERC20Detailed(token0_).decimals()
    decimals1: uint8 = staticcall IERC20Detailed(token1_).decimals()
    assert decimals0 <= 18 and decimals1 <= 18, "pool: decimals above 18"

    ownable.__init__()
    token0 = token0_
    token1 = token1_
    SCALE0 = 10 ** convert(18 - decimals0, uint256)
    SCALE1 = 10 ** convert(18 - decimals1, uint256)
    self.fee_bps = DEFAULT_FEE_BPS
    log FeeUpdated(old_fee_bps=0, new_fee_bps=DEFAULT_FEE_BPS)


@external
def add_liquidity(amount0: uint256, amount1: uint256, min_shares: uint256, receiver: address) -> uint256:
    """
    @notice Deposits at most (`amount0`, `amount1`) and credits shares to
            `receiver`. The first deposit takes both amounts whole and sets
            the price; later deposits take the two tokens in the current
            reserve ratio: shares = min(amount0 * S / r0, amount1 * S / r1)
            rounded down, and the tokens pulled are shares * r / S rounded
            up (never more than offered).
    @param amount0 Most token0 to deposit.
    @param amount1 Most token1 to deposit.
    @param min_shares Revert ("pool: slippage") if fewer shares would be minted.
    @param receiver Who is credited the shares.
    @return uint256 Shares minted to `receiver`.
    """
    assert receiver != empty(address), "pool: zero address"
    assert amount0 != 0 and amount1 != 0, "pool: zero amount"
    assert amount0 <= MAX_RESERVE and amount1 <= MAX_RESERVE, "pool: reserve overflow"

    r0: uint256 = self.reserve0
    r1: uint256 = self.reserve1
    supply: uint256 = self.total_shares
    minted: uint256 = 0
    used0: uint256 = amount0
    used1: uint256 = amount1

    if supply == 0:
        # amount0, amount1 <= 2**112 - 1: the product fits in 224 bits.
        minted = isqrt(amount0 * amount1)
        assert minted > MIN_LIQUIDITY, "pool: initial liquidity too low"
        self.shares[empty(address)] = MIN_LIQUIDITY
        supply = MIN_LIQUIDITY
        minted -= MIN_LIQUIDITY
    else:
        # 512-bit intermediates: shares per token unit are not bounded.
        minted = min(math._mul_div(amount0, supply, r0, False), math._mul_div(amount1, supply, r1, False))
        assert minted != 0, "pool: zero shares"
        used0 = math._mul_div(minted, r0, supply, True)
        used1 = math._mul_div(minted, r1, supply, True)

    assert minted >= min_shares, "pool: slippage"

    self._accrue(r0, r1)
    self._set_reserves(r0 + used0, r1 + used1)
    self.total_shares = supply + minted
    self.shares[receiver] += minted

    self._pull(token0, used0)
    self._pull(token1, used1)
    log AddLiquidity(provider=msg.sender, receiver=receiver, amount0=used0, amount1=used1, shares=minted)
    return minted


@external
def remove_liquidity(amount: uint256, min_amount0: uint256, min_amount1: uint256, receiver: address) -> (uint256, uint256):
    """
    @notice Burns `amount` of the caller's shares and pays out the pro-rata
            reserves, rounded down, to `receiver`.
    @param amount Shares to burn.
    @param min_amount0 Revert ("pool: slippage") below this much token0.
    @param min_amount1 Revert ("pool: slippage") below this much token1.
    @param receiver Who receives the tokens.
    @return (uint256, uint256) token0 and token1 paid out.
    """
    assert receiver != empty(address), "pool: zero address"
    assert amount != 0, "pool: zero amount"
    assert amount <= self.shares[msg.sender], "pool: insufficient shares"

    r0: uint256 = self.reserve0
    r1: uint256 = self.reserve1
    supply: uint256 = self.total_shares
    out0: uint256 = math._mul_div(amount, r0, supply, False)
    out1: uint256 = math._mul_div(amount, r1, supply, False)
    assert out0 >= min_amount0 and out1 >= min_amount1, "pool: slippage"

    self._accrue(r0, r1)
    self.shares[msg.sender] -= amount
    self.total_shares = supply - amount
    self._set_reserves(r0 - out0, r1 - out1)

    self._push(token0, receiver, out0)
    self._push(token1, receiver, out1)
    log RemoveLiquidity(provider=msg.sender, receiver=receiver, amount0=out0, amount1=out1, shares=amount)
    return out0, out1


@external
def swap_exact_in(token_in: address, amount_in: uint256, min_out: uint256, receiver: address) -> uint256:
    """
    @notice Sells exactly `amount_in` of `token_in` for the other token,
            sent to `receiver`. Output is the constant-product formula on
            the fee-reduced input, rounded down (see `get_amount_out`).
    @param token_in token0 or token1.
    @param amount_in Exact input, pulled from the caller with transferFrom.
    @param min_out Revert ("pool: slippage") if the output is smaller.
    @param receiver Who receives the output.
    @return uint256 The output amount.
    """
    assert receiver != empty(address), "pool: zero address"
    assert amount_in != 0, "pool: zero amount"
    zero_for_one: bool = self._is_token0(token_in)
    r0: uint256 = self.reserve0
    r1: uint256 = self.reserve1

    r_in: uint256 = r1
    r_out: uint256 = r0
    token_out: address = token0
    if zero_for_one:
        r_in = r0
        r_out = r1
        token_out = token1
    assert r_in != 0, "pool: no liquidity"
    assert amount_in <= MAX_RESERVE - r_in, "pool: reserve overflow"

    amount_out: uint256 = self._amount_out(amount_in, r_in, r_out, self.fee_bps)
    assert amount_out != 0, "pool: insufficient output"
    assert amount_out >= min_out, "pool: slippage"

    self._accrue(r0, r1)
    if zero_for_one:
        self._set_reserves(r0 + amount_in, r1 - amount_out)
    else:
        self._set_reserves(r0 - amount_out, r1 + amount_in)

    self._pull(token_in, amount_in)
    self._push(token_out, receiver, amount_out)
    log Swap(sender=msg.sender, receiver=receiver, token_in=token_in, amount_in=amount_in, amount_out=amount_out)
    return amount_out


@external
def set_fee(new_fee_bps: uint256):
    """
    @notice Owner only. Sets the swap fee, at most MAX_FEE_BPS (1%).
    """
    ownable._check_owner()
    assert new_fee_bps <= MAX_FEE_BPS, "pool: fee above bound"
    log FeeUpdated(old_fee_bps=self.fee_bps, new_fee_bps=new_fee_bps)
    self.fee_bps = new_fee_bps


@external
def skim(receiver: address):
    """
    @notice Owner only. Sends out whatever the pool holds beyond its
            recorded reserves (donations). Reserves and price are unchanged.
    """
    ownable._check_owner()
    assert receiver != empty(address), "pool: zero address"
    self._skim(token0, self.reserve0, receiver)
    self._skim(token1, self.reserve1, receiver)


@view
@external
def spot_price() -> uint256:
    """
    @notice USD per WETH (token1 per token0) in WAD from the recorded
            reserves, rounded down. Reverts with no liquidity.
    """
    r0: uint256 = self.reserve0
    r1: uint256 = self.reserve1
    assert r0 != 0 and r1 != 0, "pool: no liquidity"
    return self._price(r0, r1, SCALE0, SCALE1)


@view
@external
def current_cumulative() -> (uint256, uint256):
    """
    @notice The cumulative price extrapolated to this block with the
            current reserves, and the timestamp it refers to.
    @return (uint256, uint256) (cumulative WAD price * seconds, block.timestamp).
    """
    cumulative: uint256 = self.price_cumulative_last
    r0: uint256 = self.reserve0
    r1: uint256 = self.reserve1
    last: uint256 = self.block_timestamp_last
    if block.timestamp > last and r0 != 0 and r1 != 0:
        cumulative += self._price(r0, r1, SCALE0, SCALE1) * (block.timestamp - last)
    return cumulative, block.timestamp


@view
@external
def get_amount_out(token_in: address, amount_in: uint256) -> uint256:
    """
    @notice Output of `swap_exact_in(token_in, amount_in, ...)` now.
    """
    r_in: uint256 = 0
    r_out: uint256 = 0
    r_in, r_out = self._oriented(token_in)
    assert r_in != 0, "pool: no liquidity"
    assert amount_in <= MAX_RESERVE - r_in, "pool: reserve overflow"
    return self._amount_out(amount_in, r_in, r_out, self.fee_bps)


@view
@external
def get_amount_in(token_out: address, amount_out: uint256) -> uint256:
    """
    @notice Smallest input of the other token whose `get_amount_out` is at
            least `amount_out` (rounded up).
    """
    r_out: uint256 = 0
    r_in: uint256 = 0
    r_out, r_in = self._oriented(token_out)
    assert amount_out < r_out, "pool: insufficient liquidity"
    return self._amount_in(amount_out, r_in, r_out, self.fee_bps)


@view
@external
def quote_slippage(token_in: address, amount_in: uint256) -> (uint256, uint256):
    """
    @notice The liquidity-depth metric: what selling `amount_in` of
            `token_in` returns now and what it costs against the mid price.
    @return (uint256, uint256) (amount_out, price_impact_wad) where
            price_impact_wad = 1 - (amount_out / amount_in) / (r_out / r_in)
            in WAD, fee included, rounded up. A dust trade costs about the
            fee (30 bps = 3e15); selling the whole reserve costs about 50%.
    """
    r_in: uint256 = 0
    r_out: uint256 = 0
    r_in, r_out = self._oriented(token_in)
    assert r_in != 0, "pool: no liquidity"
    assert amount_in != 0, "pool: zero amount"
    assert amount_in <= MAX_RESERVE - r_in, "pool: reserve overflow"
    amount_out: uint256 = self._amount_out(amount_in, r_in, r_out, self.fee_bps)
    return amount_out, self._price_impact(amount_in, amount_out, r_in, r_out)


@internal
def _accrue(r0: uint256, r1: uint256):
    """
    @dev Adds price * elapsed to the accumulator on the first state change
         of a block, from the reserves `r0`, `r1` held before that change.
         Later changes in the same block see elapsed == 0 and add nothing.
    """
    last: uint256 = self.block_timestamp_last
    if block.timestamp == last:
        return
    if r0 != 0 and r1 != 0:
        # Checked: cannot overflow for 2**44 s at the largest price (glossary).
        self.price_cumulative_last += self._price(r0, r1, SCALE0, SCALE1) * (block.timestamp - last)
    self.block_timestamp_last = block.timestamp


@internal
def _set_reserves(r0: uint256, r1: uint256):
    assert r0 <= MAX_RESERVE and r1 <= MAX_RESERVE, "pool: reserve overflow"
    self.reserve0 = r0
    self.reserve1 = r1
    log Sync(reserve0=r0, reserve1=r1, price_cumulative=self.price_cumulative_last)


@view
@internal
def _is_token0(token: address) -> bool:
    if token == token0:
        return True
    assert token == token1, "pool: unknown token"
    return False


@view
@internal
def _oriented(token_in: address) -> (uint256, uint256):
    """
    @dev (reserve of `token_in`, reserve of the other token).
    """
    if self._is_token0(token_in):
        return self.reserve0, self.reserve1
    return self.reserve1, self.reserve0


@internal
def _pull(token: address, amount: uint256):
    assert extcall IERC20(token).transferFrom(msg.sender, self, amount, default_return_value=True), \
        "pool: transfer failed"


@internal
def _push(token: address, receiver: address, amount: uint256):
    if amount == 0:
        return
    assert extcall IERC20(token).transfer(receiver, amount, default_return_value=True), "pool: transfer failed"


@internal
def _skim(token: address, reserve: uint256, receiver: address):
    balance: uint256 = staticcall IERC20(token).balanceOf(self)
    if balance <= reserve:
        return
    excess: uint256 = unsafe_sub(balance, reserve)  # balance > reserve checked above.
    self._push(token, receiver, excess)
    log Skim(token=token, receiver=receiver, amount=excess)


@internal
@pure
def _amount_out(amount_in: uint256, r_in: uint256, r_out: uint256, fee_bps: uint256) -> uint256:
    """
    @dev Constant-product output on the fee-reduced input, rounded down:
         out = a * (BPS - fee) * r_out / (r_in * BPS + a * (BPS - fee)).
         Domain: r_in > 0, a + r_in <= 2**112 - 1, r_out <= 2**112 - 1,
         fee <= BPS; every product then fits in 2**240. Gas ~350.
    """
    amount_in_with_fee: uint256 = amount_in * (BPS - fee_bps)
    return amount_in_with_fee * r_out // (r_in * BPS + amount_in_with_fee)


@internal
@pure
def _amount_in(amount_out: uint256, r_in: uint256, r_out: uint256, fee_bps: uint256) -> uint256:
    """
    @dev Least input a with _amount_out(a) >= amount_out, rounded up:
         a = ceil(amount_out * r_in * BPS / ((r_out - amount_out) * (BPS - fee))).
         Exact: _amount_out(a) >= out iff a * (BPS - fee) * (r_out - out)
         >= out * r_in * BPS. Domain: amount_out < r_out, fee < BPS,
         reserves <= 2**112 - 1. Gas ~450.
    """
    return math._ceil_div(amount_out * r_in * BPS, (r_out - amount_out) * (BPS - fee_bps))


@internal
@pure
def _price(r0: uint256, r1: uint256, scale0: uint256, scale1: uint256) -> uint256:
    """
    @dev WAD token1 per token0 with both reserves scaled to 18 decimals,
         rounded down: r1 * scale1 * WAD / (r0 * scale0). Domain: r0 > 0,
         reserves <= 2**112 - 1, scales <= 1e18 (numerator < 2**232). Gas ~250.
    """
    return r1 * scale1 * WAD // (r0 * scale0)


@internal
@pure
def _price_impact(amount_in: uint256, amount_out: uint256, r_in: uint256, r_out: uint256) -> uint256:
    """
    @dev 1 - (amount_out * r_in) / (amount_in * r_out) in WAD, rounded up
         (the cost is never understated). Domain: amount_in > 0, r_out > 0,
         amount_out * r_in <= amount_in * r_out (true of every _amount_out),
         all inputs <= 2**112 - 1 so the products fit. Gas ~650.
    """
    at_mid: uint256 = amount_in * r_out
    return math._mul_div(WAD, at_mid - amount_out * r_in, at_mid, True)

