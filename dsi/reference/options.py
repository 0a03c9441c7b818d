"""Reference for `contracts/options/`: payoffs, collateral, settlement and exercise amounts, and
an exact model of pro-rata assignment among a series' vault writers.

Written from the specification, not from the Vyper code. Two layers:

- natural units (floats: USD per WETH, options): `payoff`, `call_collateral`, `put_collateral`,
  `exercise_payout`, `settlement_owed` -- what the numbers mean;
- integer units with the documented rounding (`*_units`): strike and prices WAD USD per WETH,
  option amounts WAD option units (1e18 = one option on 1 WETH), USD 6 decimals, WETH 18
  decimals, value WAD USD. The protocol rounds in its own favour: what writers lock or owe is
  rounded up, what holders receive is rounded down.

`AssignmentModel` is the vault's pooled short book in exact rationals (`fractions.Fraction`),
with pro-rata assignment done the obvious O(writers) way: every exercise reduces every writer's
outstanding by the same fraction. The contract does the same in O(1) with shares and an
accumulator, rounding to integers; the two must agree to within a few wei.

`SettlementPoolModel` is one series' settlement pool with the contract's integer rounding and
claims keyed by (holder, account): the contract must agree with it exactly.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction

WAD = 10**18
USD_UNIT = 10**6
WETH_UNIT = 10**18
STRIKE_TO_USD = WAD * WAD // USD_UNIT  # K (WAD) * amount (WAD) / 1e30 -> USD units


# --- natural units -------------------------------------------------------------------------


def payoff(spot: float, strike: float, is_call: bool) -> float:
    """USD per option at expiry: max(S - K, 0) for a call, max(K - S, 0) for a put."""
    return max(spot - strike, 0.0) if is_call else max(strike - spot, 0.0)


def call_collateral(options: float) -> float:
    """WETH a covered call locks: one per option."""
    return options


def put_collateral(strike: float, options: float) -> float:
    """USD a cash-secured put locks: the strike per option."""
    return strike * options


def settlement_owed(spot: float, strike: float, is_call: bool, options: float) -> float:
    """What a fully collateralised short pays at expiry, in its collateral asset:
    calls payoff / S WETH per option, puts payoff USD per option."""
    p = payoff(spot, strike, is_call)
    return p * options / spot if is_call else p * options


def exercise_payout(price: float, strike: float, is_call: bool, options: float) -> float:
    """American exercise at `price`: the intrinsic, calls in WETH (intrinsic / price per
    option), puts in USD."""
    return settlement_owed(price, strike, is_call, options)


# --- integer units with the protocol's rounding --------------------------------------------


def ceil_div(a: int, b: int) -> int:
    return -(-a // b)


def payoff_units(settlement_price: int, strike: int, is_call: bool) -> int:
    """WAD USD per 1e18 option units; exact."""
    return max(settlement_price - strike, 0) if is_call else max(strike - settlement_price, 0)


def lock_units(strike: int, is_call: bool, amount: int) -> int:
    """Collateral locked by `write`: calls `amount` WETH wei; puts ceil(K * amount / 1e30) USD."""
    return amount if is_call else ceil_div(strike * amount, STRIKE_TO_USD)


def owed_units(settlement_price: int, strike: int, is_call: bool, amount: int) -> int:
    """What `amount` written options pay into the settlement pool, rounded up:
    calls ceil(payoff * amount / S) WETH wei, puts ceil(payoff * amount / 1e30) USD units."""
    p = payoff_units(settlement_price, strike, is_call)
    return ceil_div(p * amount, settlement_price) if is_call else ceil_div(p * amount, STRIKE_TO_USD)


def exercise_payout_units(price: int, strike: int, is_call: bool, amount: int) -> int:
    """American exercise payout, rounded down: calls floor((P - K) * amount / P) WETH wei,
    puts floor((K - P) * amount / 1e30) USD units."""
    p = payoff_units(price, strike, is_call)
    return p * amount // price if is_call else p * amount // STRIKE_TO_USD


def claim_units(payoff: int, amount: int) -> int:
    """The value (WAD USD) a redemption of `amount` option units is owed, rounded down."""
    return payoff * amount // WAD


def value_units(usd: int, weth: int, price: int) -> Fraction:
    """Exact WAD-USD value of token amounts at `price`."""
    return Fraction(usd * (WAD // USD_UNIT)) + Fraction(weth * price, WAD)


def pool_credit_units(usd: int, weth: int, price: int) -> int:
    """Value credited for a pay-in: USD exact, WETH at the settlement price rounded down."""
    return usd * (WAD // USD_UNIT) + weth * price // WAD


def entitled_units(claim: int, total_owed: int, funded: int) -> int:
    """A holder's entitlement: its claim times the funded fraction (capped at 1), rounded down."""
    if funded >= total_owed:
        return claim
    return claim * funded // total_owed


def split_units(pool_usd: int, pool_weth: int, price: int, value: int) -> tuple[int, int]:
    """Pay `value` as the same fraction of each pool asset: (usd, weth), each rounded down,
    with the pool valued with WETH rounded up (so the payment is worth at most `value`)."""
    pool_value = pool_usd * (WAD // USD_UNIT) + ceil_div(pool_weth * price, WAD)
    if pool_value == 0:
        return 0, 0
    return pool_usd * value // pool_value, pool_weth * value // pool_value


# --- exact model of the vault's pooled shorts ----------------------------------------------


@dataclass
class WriterBook:
    outstanding: Fraction = Fraction(0)  # options (option units)
    locked: Fraction = Fraction(0)  # collateral units backing `outstanding`
    free: Fraction = Fraction(0)  # collateral units released by exercises


@dataclass
class AssignmentModel:
    """One series' vault writers in exact rationals. Collateral is in the series' asset units
    (WETH wei for calls, USD units for puts)."""

    strike: int
    is_call: bool
    writers: dict = field(default_factory=dict)

    def book(self, writer) -> WriterBook:
        return self.writers.setdefault(writer, WriterBook())

    @property
    def outstanding(self) -> Fraction:
        return sum((b.outstanding for b in self.writers.values()), Fraction(0))

    def write(self, writer, amount: int) -> int:
        lock = lock_units(self.strike, self.is_call, amount)
        b = self.book(writer)
        b.outstanding += amount
        b.locked += lock
        return lock

    def close(self, writer, amount: int) -> Fraction:
        """Unlocks the writer's locked collateral in proportion to the options closed."""
        b = self.book(writer)
        unlocked = b.locked * amount / b.outstanding
        b.outstanding -= amount
        b.locked -= unlocked
        paid = unlocked + b.free
        b.free = Fraction(0)
        return paid

    def exercise(self, price: int, amount: int) -> int:
        """Every writer is assigned amount / outstanding of its own position: it loses that
        fraction of its outstanding and of its locked collateral, the payout comes out of the
        assigned collateral pro rata, and the rest of that collateral becomes free."""
        total = self.outstanding
        assert 0 < amount <= total
        payout = exercise_payout_units(price, self.strike, self.is_call, amount)
        fraction = Fraction(amount) / total
        for b in self.writers.values():
            assigned_locked = b.locked * fraction
            share_of_payout = Fraction(payout) * b.outstanding / total
            b.outstanding -= b.outstanding * fraction
            b.locked -= assigned_locked
            b.free += assigned_locked - share_of_payout
        return payout

    def settle(self, writer, settlement_price: int) -> tuple[Fraction, Fraction]:
        """(owed into the pool, returned to the writer) in collateral units, unrounded."""
        b = self.book(writer)
        p = payoff_units(settlement_price, self.strike, self.is_call)
        if self.is_call:
            owed = Fraction(p) * b.outstanding / settlement_price
        else:
            owed = Fraction(p) * b.outstanding / STRIKE_TO_USD
        owed = min(owed, b.locked)
        returned = b.locked - owed + b.free
        self.writers[writer] = WriterBook()
        return owed, returned


# --- exact model of one series' settlement pool ---------------------------------------------


@dataclass
class SettlementPoolModel:
    """One settled series' pool with the contract's integer rounding: pay-ins credited at the
    settlement price (`pool_credit_units`), claims keyed by (holder, account) -- `account` the
    custodian's sub-ledger label, 0 for a wallet -- each entitled to claim * min(funded, owed) /
    owed rounded down (`entitled_units`), payments a pro-rata share of each pool asset
    (`split_units`). A claim is paid to its holder only: `redeem` and `claim` return what
    (holder, account) receives. `owed` is total_owed_value, fixed at settlement."""

    price: int
    payoff: int
    owed: int
    usd: int = 0
    weth: int = 0
    funded: int = 0
    paid: int = 0
    claims: dict = field(default_factory=dict)  # (holder, account) -> [claim value, paid]

    def pay_in(self, usd: int, weth: int) -> int:
        value = pool_credit_units(usd, weth, self.price)
        self.usd += usd
        self.weth += weth
        self.funded += value
        return value

    def redeem(self, holder, account: bytes, amount: int) -> tuple[int, int, int]:
        """Burn `amount` longs into a claim of (holder, account); returns (value, usd, weth) paid now."""
        entry = self.claims.setdefault((holder, account), [0, 0])
        entry[0] += claim_units(self.payoff, amount)
        return self._pay(holder, account)

    def claim(self, holder, account: bytes) -> tuple[int, int, int]:
        """What later funding adds; raises ValueError("series: nothing to claim") when nothing."""
        out = self._pay(holder, account)
        if out[0] == 0:
            raise ValueError("series: nothing to claim")
        return out

    def pending(self, holder, account: bytes) -> int:
        value, paid = self.claims.get((holder, account), (0, 0))
        return value - paid

    def claimable(self, holder, account: bytes) -> int:
        value, paid = self.claims.get((holder, account), (0, 0))
        return max(entitled_units(value, self.owed, self.funded) - paid, 0)

    def _pay(self, holder, account: bytes) -> tuple[int, int, int]:
        entry = self.claims.setdefault((holder, account), [0, 0])
        entitled = entitled_units(entry[0], self.owed, self.funded)
        if entitled <= entry[1]:
            return 0, 0, 0
        value = entitled - entry[1]
        entry[1] = entitled
        self.paid += value
        u, w = split_units(self.usd, self.weth, self.price, value)
        self.usd -= u
        self.weth -= w
        return value, u, w


WALLET = bytes(32)  # the account label of a wallet's own claims


def engine_account(owner, sub: int) -> bytes:
    """The label the margin engine redeems an account's custody longs under:
    keccak256(abi_encode(owner, sub)), 32 bytes."""
    from eth_abi import encode
    from eth_utils import keccak

    return keccak(encode(["address", "uint256"], [str(getattr(owner, "address", owner)), sub]))
