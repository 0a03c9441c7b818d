"""Independent Python model of the market contracts, in exact rationals.

The pool formulas are written from the invariant (x * y = k on the fee-reduced
input), not transcribed from the Vyper; rounding is applied once, at the end,
in the direction the contract promises (pool/lender favour).
"""

import math
from fractions import Fraction

WAD = 10**18
BPS = 10_000
MIN_LIQUIDITY = 1_000
POOL_DEFAULT_FEE_BPS = 30
POOL_MAX_FEE_BPS = 100
FLASH_DEFAULT_FEE_BPS = 5
FLASH_MAX_FEE_BPS = 100
WETH_DECIMALS = 18
USD_DECIMALS = 6
CALLBACK_SUCCESS_PREIMAGE = b"ERC3156FlashBorrower.onFlashLoan"

# FlashBorrowerMock modes.
REPAY, NO_REPAY, WRONG_HASH, PUMP_AND_DUMP = range(4)

# Units and the fixtures' opening balances (the pool opens at 3,000 USD/WETH).
WETH = 10**WETH_DECIMALS
USD = 10**USD_DECIMALS
POOL_WETH = 1_000 * WETH
POOL_USD = 3_000_000 * USD
LENDER_WETH = 500 * WETH
LENDER_USD = 2_000_000 * USD


def ceil(x: Fraction) -> int:
    return -((-x.numerator) // x.denominator)


def amount_out(amount_in: int, r_in: int, r_out: int, fee_bps: int = POOL_DEFAULT_FEE_BPS) -> int:
    """Keep k = r_in * r_out on the fee-reduced input; pay out the floor."""
    effective_in = Fraction(amount_in * (BPS - fee_bps), BPS)
    k = Fraction(r_in * r_out)
    return math.floor(r_out - k / (r_in + effective_in))


def amount_in(amount_out_: int, r_in: int, r_out: int, fee_bps: int = POOL_DEFAULT_FEE_BPS) -> int:
    """Smallest integer input whose (floored) output reaches amount_out_."""
    effective_in = Fraction(r_in * r_out, r_out - amount_out_) - r_in
    return ceil(effective_in * BPS / (BPS - fee_bps))


def spot_price(r0: int, r1: int, dec0: int = WETH_DECIMALS, dec1: int = USD_DECIMALS) -> int:
    """WAD quote (token1) per base (token0), both scaled to 18 decimals, floored."""
    return math.floor(Fraction(r1, 10**dec1) / Fraction(r0, 10**dec0) * WAD)


def price_impact(amount_in_: int, amount_out_: int, r_in: int, r_out: int) -> int:
    """WAD shortfall of the execution price against the mid price, ceiled."""
    execution = Fraction(amount_out_, amount_in_)
    mid = Fraction(r_out, r_in)
    return ceil((1 - execution / mid) * WAD)


def flash_fee(amount: int, fee_bps: int = FLASH_DEFAULT_FEE_BPS) -> int:
    return ceil(Fraction(amount * fee_bps, BPS))


class PoolModel:
    """Reserves, shares and the cumulative price of one SpotPool."""

    def __init__(self, fee_bps: int = POOL_DEFAULT_FEE_BPS):
        self.fee_bps = fee_bps
        self.r0 = 0
        self.r1 = 0
        self.total_shares = 0
        self.cumulative = 0
        self.timestamp_last = 0

    def _accrue(self, now: int) -> None:
        if now != self.timestamp_last and self.r0 and self.r1:
            self.cumulative += spot_price(self.r0, self.r1) * (now - self.timestamp_last)
        self.timestamp_last = now

    def add_liquidity(self, a0: int, a1: int, now: int) -> tuple[int, int, int]:
        """Returns (shares minted to the receiver, token0 taken, token1 taken)."""
        if self.total_shares == 0:
            minted = math.isqrt(a0 * a1) - MIN_LIQUIDITY
            used0, used1 = a0, a1
            supply = MIN_LIQUIDITY
        else:
            supply = self.total_shares
            minted = min(a0 * supply // self.r0, a1 * supply // self.r1)
            used0 = ceil(Fraction(minted * self.r0, supply))
            used1 = ceil(Fraction(minted * self.r1, supply))
        self._accrue(now)
        self.r0 += used0
        self.r1 += used1
        self.total_shares = supply + minted
        return minted, used0, used1

    def remove_liquidity(self, shares: int, now: int) -> tuple[int, int]:
        out0 = shares * self.r0 // self.total_shares
        out1 = shares * self.r1 // self.total_shares
        self._accrue(now)
        self.r0 -= out0
        self.r1 -= out1
        self.total_shares -= shares
        return out0, out1

    def swap(self, zero_for_one: bool, a: int, now: int) -> int:
        if zero_for_one:
            out = amount_out(a, self.r0, self.r1, self.fee_bps)
        else:
            out = amount_out(a, self.r1, self.r0, self.fee_bps)
        self._accrue(now)
        if zero_for_one:
            self.r0 += a
            self.r1 -= out
        else:
            self.r1 += a
            self.r0 -= out
        return out
