"""Metrics at every lab step, read from the contracts (and the Python reference for the book's
delta).

`measure(world)` returns one row:
- `market`, `oracle`, `status`, `latency_s`: the exogenous price, the protocol's price and
  status, the age of the data behind it;
- `adequacy`: haircut collateral / short notional at the oracle price (engine);
- `book_delta_weth`: the WETH a liquidator would have to sell to flatten the book's delta
  (Black-76 deltas on the SVI skew, `dsi.reference.pricing`);
- `slippage_delta`, `slippage_100`: price impact of selling that delta / a 100-WETH clip into
  the pool (liquidity depth; the pool's own `quote_slippage`);
- `below_mm`, `insolvent`, `deficit_usd`: accounts with engine health < 1, accounts whose net
  liquidation value at the market price is negative, and the sum of those negatives (what
  would become bad debt if nobody acted);
- `bad_debt_usd`: bad debt the engine has recorded (settlement);
- `fund_balance_usd`, `fund_covered_usd`, `socialised_loss_usd`: the insurance fund's capital,
  the bad debt it covered and the losses socialised (`None` under mechanism `none`: no fund);
  `coverage`: fund capital / the book's total maintenance requirement;
- `liquidations`, `keeper_pnl_usd`: takes by the keeper so far and its PnL net of gas;
- `attacker_pnl_usd`: set by attack scenarios; `gas_used`: gas of every transaction so far;
- `healths`: engine health per account (charts).
"""

from __future__ import annotations

import math

from dsi.reference import pricing as ref

WAD = 10**18
STATUS = {0: "FRESH", 1: "STALE", 2: "DEVIANT", 3: "FALLBACK", 4: "FROZEN"}
INF_HEALTH = 99.0  # health of an account with no requirement, as charted


def _health(raw: int) -> float:
    return INF_HEALTH if raw >= 2**255 else raw / WAD


def marks(world, price_wad: int) -> dict:
    """Mark per series at `price_wad` on the expiry's slice: (short mark, long mark) WAD USD."""
    p, chain = world.p, world.chain
    a, b, rho, m, sig, _ = p.vol_feed.slice(world.expiry)
    tte = max(world.expiry - chain.timestamp, 0)
    out = {}
    for sid, (strike, is_call) in world.series_info.items():
        short = p.calculator.mark(price_wad, strike, tte, (a, b, rho, m, sig), is_call, True)
        out[sid] = short
    return out


def book_delta(world, price: float, positions: dict) -> float:
    """Net delta (WETH) of all accounts' positions, from the reference pricer on the skew."""
    a, b, rho, m, sig, _ = world.p.vol_feed.slice(world.expiry)
    tau = max(world.expiry - world.chain.timestamp, 1) / (365 * 86_400)
    total = 0.0
    for sid, units in positions.items():
        strike, is_call = world.series_info[sid]
        k = strike / WAD
        vol = ref.svi_vol(price, k, tau, 0.0, a / WAD, b / WAD, rho / WAD, m / WAD, sig / WAD)
        total += units * ref.greeks(price, k, tau, vol, 0.0, is_call)["delta"]
    return total


def fund_state(p) -> dict:
    """The insurance fund's capital (USD), covered and socialised bad debt (WAD USD -> USD);
    `None`s when no liquidation layer is wired (mechanism `none`)."""
    fund = getattr(p, "insurance_fund", None) if "insurance_fund" in getattr(p, "extra", {}) else None
    if fund is None:
        return {"capital": None, "covered": None, "socialised": None}
    return {"capital": fund.capital() / 1e6, "covered": fund.covered() / WAD, "socialised": fund.socialised() / WAD}


def bad_debt_usd(p, fund: dict | None = None) -> float:
    """Bad debt recorded so far, USD: without a fund, the engine's settlement shortfalls; with
    one, what the fund recorded (covered + socialised, from insolvent takes and settlements)
    plus the settlement shortfalls it has not resolved yet."""
    fund = fund if fund is not None else fund_state(p)
    if fund["capital"] is None:
        return p.engine.bad_debt() / WAD
    return p.engine.uncovered_debt() / WAD + fund["covered"] + fund["socialised"]


def measure(world, attacker_pnl: float | None = None) -> dict:
    p, chain = world.p, world.chain
    market = world.market
    oracle_price, status = p.oracle.price()
    mk = marks(world, int(market * WAD))
    rows, net_positions = [], {}
    for a in world.book:
        _, usd, weth, _ = p.engine.account(p.writer, a.sub)
        value = usd / 1e6 + weth / WAD * market
        for pos in p.engine.positions(p.writer, a.sub):
            value += pos.amount / WAD * mk[pos.id] / WAD
            net_positions[pos.id] = net_positions.get(pos.id, 0.0) + pos.amount / WAD
        m = p.engine.margin(p.writer, a.sub)
        rows.append({"sub": a.sub, "health": _health(m.health), "net_value": value,
                     "equity": m.equity / WAD, "maintenance": m.maintenance / WAD, "initial": m.initial / WAD})
    delta = book_delta(world, market, net_positions)
    clip = abs(delta)
    slip_delta = p.pool.quote_slippage(p.weth.address, int(clip * WAD))[1] / WAD if clip > 1e-9 else 0.0
    slip_100 = p.pool.quote_slippage(p.weth.address, 100 * WAD)[1] / WAD
    adequacy = p.engine.collateral_adequacy()
    fund = fund_state(p)
    total_mm = sum(r["maintenance"] for r in rows)
    return {
        "t": chain.timestamp,
        "market": market,
        "oracle": oracle_price / WAD,
        "status": STATUS[status],
        "latency_s": p.oracle.latency(),
        "adequacy": None if adequacy >= 2**255 else adequacy / WAD,
        "book_delta_weth": delta,
        "slippage_delta": slip_delta,
        "slippage_100": slip_100,
        "below_mm": sum(r["health"] < 1 for r in rows),
        "insolvent": sum(r["net_value"] < 0 for r in rows),
        "deficit_usd": sum(max(0.0, -r["net_value"]) for r in rows),
        "bad_debt_usd": bad_debt_usd(p, fund),
        "fund_balance_usd": fund["capital"],
        "fund_covered_usd": fund["covered"],
        "socialised_loss_usd": fund["socialised"],
        "coverage": (fund["capital"] / total_mm) if fund["capital"] is not None and total_mm > 0 else None,
        "liquidations": getattr(world.keeper, "liquidations", 0),
        "keeper_pnl_usd": getattr(world.keeper, "pnl", 0.0),
        "attacker_pnl_usd": attacker_pnl,
        "gas_used": chain.gas_used(),
        "initial_usd": sum(r["initial"] for r in rows),  # the book's capital required now
        "stress_level": p.monitor.level() if "monitor" in p.extra else None,
        "healths": [r["health"] for r in rows],
        "accounts": rows,
    }


def warned_before_loss(steps: list) -> tuple[bool, int]:
    """(every account that went insolvent was below maintenance at that step or earlier,
    number of accounts that were not)."""
    misses = 0
    if not steps:
        return True, 0
    for i in range(len(steps[0]["accounts"])):
        warned = False
        for s in steps:
            r = s["accounts"][i]
            warned = warned or r["health"] < 1
            if r["net_value"] < 0 and not warned:
                misses += 1
                break
    return misses == 0, misses


def quantiles(values, qs=(0.5, 0.95, 0.99)) -> dict:
    xs = sorted(values)
    if not xs:
        return {f"p{int(q * 100)}": None for q in qs}
    out = {}
    for q in qs:
        idx = min(len(xs) - 1, max(0, math.ceil(q * len(xs)) - 1))
        out[f"p{int(q * 100)}"] = xs[idx]
    out["max"] = xs[-1]
    return out
