"""Reference model of liquidation: the Dutch auction curve, the partial-take cap, quotes, the
dynamic fee and the keeper's economics, in floating point (USD, ratios as fractions).

The on-chain contracts (contracts/liquidation/) compute the same numbers in WAD integers with
explicit rounding; tests compare the two within rounding.

The economic model: taking a fraction f of an account moves f of every position and of the
collateral to the taker; with MtM the account's mark-to-market value (collateral at spot
without haircut + signed marks), the taker pays f x MtM x (1 - d) into the account and
f x MtM x d x fund_share to the insurance fund. An insolvent account (MtM < 0) is paid for by
the fund: f x |MtM| x multiple to the taker.

Partial-take cap: equity E and initial requirement I of the account scale by (1 - f) when f is
taken (both are linear in the book), the payment adds P = MtM (1 - d)(1 - h_usd) of equity per
unit of f, so (1 - f) E + f P >= (1 - f) I gives f* = (I - E) / (I - E + P).
"""

from __future__ import annotations

from dataclasses import dataclass

WAD = 10**18


@dataclass(frozen=True)
class Curve:
    """The Dutch auction's curve (defaults as deployed)."""

    start_discount: float = 0.05
    mid_discount: float = 0.30
    mid_time: int = 900
    floor_discount: float = 0.50
    floor_time: int = 1_800
    tail: int = 3_600
    cusp: float = 0.10
    insolvent_time: int = 900
    insolvent_max: float = 1.3

    @classmethod
    def from_chain(cls, c) -> "Curve":
        return cls(c.start_discount / WAD, c.mid_discount / WAD, c.mid_time, c.floor_discount / WAD, c.floor_time,
                   c.tail, c.cusp / WAD, c.insolvent_time, c.insolvent_max / WAD)


def dutch_discount(elapsed: float, c: Curve = Curve()) -> float:
    """Piecewise linear: start -> mid over [0, mid_time], mid -> floor over [mid_time, floor_time],
    then the floor."""
    if elapsed <= c.mid_time:
        return c.start_discount + (c.mid_discount - c.start_discount) * elapsed / c.mid_time
    if elapsed <= c.floor_time:
        return c.mid_discount + (c.floor_discount - c.mid_discount) * (elapsed - c.mid_time) / (c.floor_time - c.mid_time)
    return c.floor_discount


def insolvent_multiple(elapsed: float, c: Curve = Curve()) -> float:
    """The insolvent auction's subsidy, a multiple of the deficit: 0 -> insolvent_max linearly."""
    return c.insolvent_max * min(elapsed, c.insolvent_time) / c.insolvent_time


def reset_due(elapsed: float, spot: float, anchor: float, insolvent_now: bool, insolvent_at_start: bool,
              c: Curve = Curve()) -> bool:
    return elapsed > c.tail or abs(spot - anchor) / anchor > c.cusp or insolvent_now != insolvent_at_start


def restoring_fraction(equity: float, initial: float, mtm: float, d: float, usd_haircut: float) -> float:
    """f* = (I - E) / (I - E + P), P = MtM (1 - d)(1 - h): the take that restores initial margin."""
    gap = initial - equity
    p = mtm * (1 - d) * (1 - usd_haircut)
    return gap / (gap + p)


def liquidatable(equity: float, maintenance: float, mtm: float, positions: int) -> bool:
    return positions > 0 and (equity < maintenance or mtm < 0)


def max_fraction(equity: float, initial: float, maintenance: float, mtm: float, gross: float, positions: int,
                 d: float, usd_haircut: float, limit: float = 1.0, whole_below: float = 0.0,
                 dust: float = 10.0) -> float:
    """The largest fraction one take may move (see the module docstring)."""
    if not liquidatable(equity, maintenance, mtm, positions):
        return 0.0
    if mtm <= 0 or gross < whole_below:
        return 1.0
    f = min(restoring_fraction(equity, initial, mtm, d, usd_haircut), limit)
    if gross * (1 - f) < dust:
        return 1.0
    return f


def quote(mtm: float, fraction: float, d: float, fund_share: float, multiple: float) -> dict:
    """USD amounts of a take: pay (taker -> account), fee (taker -> fund), subsidy (fund -> taker),
    covered (deficit the fund's subsidy absorbs), value (fraction x MtM)."""
    value = fraction * mtm
    if mtm >= 0:
        return {"value": value, "pay": value * (1 - d), "fee": value * d * fund_share, "subsidy": 0.0, "covered": 0.0}
    deficit = -value
    subsidy = deficit * multiple
    return {"value": value, "pay": 0.0, "fee": 0.0, "subsidy": subsidy, "covered": min(subsidy, deficit)}


def dynamic_discount(equity: float, maintenance: float, price: float, twap: float | None, base: float = 0.02,
                     k_health: float = 0.3, k_velocity: float = 1.0, cap: float = 0.20) -> float:
    """min(cap, base + k_health (1 - health) + k_velocity |P - TWAP| / TWAP), health clipped to [0, 1]."""
    shortfall = 0.0
    if maintenance > 0:
        shortfall = 1.0 if equity <= 0 else max(0.0, 1 - equity / maintenance)
    velocity = abs(price - twap) / twap if twap else 0.0
    return min(cap, base + k_health * shortfall + k_velocity * velocity)


def mark_to_market(usd: float, weth: float, spot: float, positions: list[tuple[float, float]]) -> tuple[float, float]:
    """(MtM, gross) from collateral and (mark, signed amount) pairs."""
    coll = usd + weth * spot
    mtm = coll + sum(mark * amount for mark, amount in positions)
    gross = coll + sum(abs(mark * amount) for mark, amount in positions)
    return mtm, gross


def keeper_net(reward_usd: float, gas: int, gas_price_gwei: float, eth_usd: float) -> float:
    """A keeper's profit after gas: reward - gas x price x ETH/USD."""
    return reward_usd - gas * gas_price_gwei * 1e-9 * eth_usd


# --- the liquidation reserve (InsuranceFund: gas compensation, Liquity-style) ------------------

STARTER_SHARE = 0.4  # of a paid reserve, to the Dutch auction's starter when not the taker
# Recommended settings (docs/liquidation.md, liquidation reserve): the gas of start + take into a
# fresh taker account, measured by `ape run gas_report --only liquidation`, with headroom, at a
# 1,000 gwei cap.
RESERVE_BASE_GAS = 800_000
RESERVE_POSITION_GAS = 100_000
RESERVE_GAS_PRICE_GWEI = 1_000


def reserve_required(positions: int, base_gas: int = RESERVE_BASE_GAS, position_gas: int = RESERVE_POSITION_GAS,
                     gas_price_wei: int = RESERVE_GAS_PRICE_GWEI * 10**9) -> int:
    """WETH (wei) an account with `positions` positions must hold: (base + n x per position) gas at the
    cap; none without positions. Integers, as on chain."""
    if positions == 0:
        return 0
    return (base_gas + positions * position_gas) * gas_price_wei


def reserve_payout(held: int, fraction_wad: int, starter_is_other: bool) -> tuple[int, int]:
    """(to the taker, to the starter) in wei when a take moves `fraction_wad` (WAD) of an account that
    holds `held` wei of reserve: the fraction rounded down, the starter's 40% rounded down."""
    amount = held * min(fraction_wad, WAD) // WAD
    starter = amount * 4 * 10**17 // WAD if starter_is_other else 0
    return amount - starter, starter


def keeper_profit(discount_usd: float, reserve_eth: float, gas: int, gas_price_gwei: float, eth_usd: float) -> float:
    """A keeper's profit on a take after gas: the discount it keeps plus the reserve it is paid."""
    return keeper_net(discount_usd + reserve_eth * eth_usd, gas, gas_price_gwei, eth_usd)
