"""Black Thursday (12 March 2020): -50% in three gaps against a book of short puts in cross and
portfolio margin, with the keeper liquidating.

The market (pool, moved by the arbitrageur) and the feed (pushed by the reporter) gap down
together three times (x0.80, x0.80, x0.78: 3,000 -> 1,498); after each gap five one-minute
blocks pass at the new price, and after the last one another `tail_min` minutes (Dutch
auctions move along their curve). Every block the keeper slot observes the TWAP, pokes the
oracle and, under a liquidation mechanism, runs the keeper (`params.keeper_delay`: a keeper
that waits N seconds before acting, as Maker's keepers did that night). Every block is measured
(`dsi.metrics.measure`: oracle, depth, health, net value, deficit, fund, bad debt).

Pass criteria:
- the oracle follows the crash: FRESH five minutes after every gap;
- every account with net value < 0 at the market is flagged unhealthy by the engine;
- no sale at zero: every take of an account with positive value was paid for (pay > 0) and its
  discount stayed below 100%;
- resets re-anchor: every `redo` set the auction's anchor to the oracle price of its block;
- bad debt within the fund or exactly recorded: the fund's books balance (capital = deposits +
  income - subsidies - incentives - withdrawals; bad debt = covered + socialised) and every
  account still insolvent at the end is flagged insolvent on chain (recorded, gating
  withdrawals); under `none`, the engine records no bad debt (nothing is settled).
"""

from __future__ import annotations

import dataclasses

from dsi.agents.book import CROSS, PORTFOLIO, AccountSpec
from dsi.metrics import warned_before_loss
from dsi.scenarios import Result
from dsi.scenarios.world import build_world, drive

WAD = 10**18
USD = 10**6

BOOK = tuple(AccountSpec(sub, mode, "naked put", ((ratio, False, -10),))
             for sub, (mode, ratio) in enumerate(((CROSS, 0.9), (CROSS, 0.8), (CROSS, 0.7), (PORTFOLIO, 0.9),
                                                  (PORTFOLIO, 0.8), (PORTFOLIO, 0.7)), start=1))


def fund_books_balance(p) -> tuple[bool, str]:
    """The insurance fund's identities: capital = deposits + income - subsidies - incentives -
    withdrawn (USD units) and bad_debt = covered + socialised (WAD)."""
    f = p.insurance_fund
    capital = f.capital()
    expected = f.deposits() + f.income() - f.subsidies_paid() - f.incentives_paid() - f.withdrawn()
    ok = capital == expected and f.bad_debt() == f.covered() + f.socialised()
    return ok, (f"capital {capital / USD:,.2f} = deposits {f.deposits() / USD:,.2f} + income {f.income() / USD:,.2f} "
                f"- subsidies {f.subsidies_paid() / USD:,.2f} - incentives {f.incentives_paid() / USD:,.2f}; "
                f"bad debt {f.bad_debt() / WAD:,.2f} = covered {f.covered() / WAD:,.2f} + socialised "
                f"{f.socialised() / WAD:,.2f}")


def liquidation_checks(result: Result, world) -> None:
    """The checks every liquidation scenario shares, from the keeper's log: no sale at zero,
    resets re-anchor, the fund's books balance, what is still insolvent is recorded."""
    p, log = world.p, world.keeper.log
    takes = [a for a in log if a.kind == "take"]
    zero = [a for a in takes if a.detail.get("value_usd", 0) > 0 and a.detail.get("pay_usd", 0) <= 0]
    result.check("no sale at zero", not zero, len(zero),
                 f"{len(takes)} takes, {len(zero)} of a positive-value account for nothing; max discount "
                 f"{max((a.detail.get('discount', 0) for a in takes), default=0):.1%}")
    redos = [a for a in log if a.kind == "redo"]
    off = [a for a in redos if a.detail.get("anchor") != a.detail.get("oracle")]
    result.check("resets re-anchor to the oracle price", not off, len(off),
                 f"{len(redos)} resets, {len(off)} not anchored at the oracle price of their block")
    ok, detail = fund_books_balance(p)
    result.check("the fund's books balance (capital, bad debt = covered + socialised)", ok, ok, detail)
    still = [a for a in world.book if _insolvent(world, a.sub)]
    unflagged = [a.sub for a in still if not p.liquidator.is_flagged(p.writer, a.sub)]
    result.check("every account still insolvent is recorded (flagged on chain)", not unflagged, len(unflagged),
                 f"{len(still)} insolvent at the end, unflagged subs: {unflagged or 'none'}")


def _insolvent(world, sub: int) -> bool:
    mtm, _ = world.p.liquidator.mtm(world.p.writer, sub)
    return mtm < 0


def run(ctx, name: str = "black_thursday", backend_kind: str = "ape", gaps=(0.80, 0.80, 0.78),
        leverage: float = 1.2, tail_min: int = 30) -> Result:
    backend = ctx.make_backend(backend_kind)
    params = dataclasses.replace(ctx.params, spot=3_000.0)
    world = build_world(backend, params, ctx.mechanism, book=BOOK, leverage=leverage)
    gas0 = backend.chain.gas_used()
    prices, gap_steps, price = [3_000.0], [], 3_000.0
    for gap in gaps:
        price *= gap
        prices += [price] * 6  # the gap block, then five one-minute blocks at the new price
        gap_steps.append(len(prices) - 1)
    prices += [price] * (5 if ctx.quick else tail_min)
    out = drive(world, prices, dt=60, progress=ctx.progress)
    steps = out["steps"]

    result = Result(name, ctx.mechanism, backend.name, steps=steps)
    after = [steps[i]["status"] for i in gap_steps]
    result.check("oracle FRESH five minutes after every gap", all(s == "FRESH" for s in after), after,
                 ", ".join(after))
    unflagged = sum(r["health"] >= 1 for s in steps for r in s["accounts"] if r["net_value"] < 0)
    result.check("every insolvent account flagged unhealthy", unflagged == 0, unflagged,
                 f"{steps[-1]['insolvent']} insolvent at the end, {unflagged} insolvent account-steps not flagged")
    if ctx.mechanism == "none":
        result.check("recorded bad debt equals the engine's (nothing settled yet)", world.p.engine.bad_debt() == 0,
                     world.p.engine.bad_debt() / WAD, f"bad_debt = {world.p.engine.bad_debt() / WAD:.2f}")
    else:
        liquidation_checks(result, world)
    result.metrics = headline(world, steps, backend.chain.gas_used() - gas0)
    result.series = series(steps)
    return result


def headline(world, steps: list, gas: int) -> dict:
    """The headline metrics every liquidation-aware scenario reports."""
    keeper = world.keeper
    fund0 = steps[0]["fund_balance_usd"]
    fund_min = min((s["fund_balance_usd"] for s in steps if s["fund_balance_usd"] is not None), default=None)
    ok, misses = warned_before_loss(steps)
    takes = [a for a in keeper.log if a.kind == "take"]
    return {
        "drawdown": 1 - min(s["market"] for s in steps) / steps[0]["market"],
        "max_below_mm": max(s["below_mm"] for s in steps), "max_insolvent": max(s["insolvent"] for s in steps),
        "max_deficit_usd": max(s["deficit_usd"] for s in steps), "end_deficit_usd": steps[-1]["deficit_usd"],
        "bad_debt_usd": steps[-1]["bad_debt_usd"], "min_adequacy": min((s["adequacy"] for s in steps
                                                                        if s["adequacy"] is not None), default=None),
        "fund_balance_usd": steps[-1]["fund_balance_usd"],
        "fund_drawdown_usd": (fund0 - fund_min) if fund0 is not None else None,
        "socialised_loss_usd": steps[-1]["socialised_loss_usd"],
        "liquidations": len(takes), "keeper_pnl_usd": keeper.pnl,
        "liquidated_value_usd": sum(a.detail.get("value_usd", 0) for a in takes),
        "max_discount": max((a.detail.get("discount", 0) for a in takes), default=None),
        "attacker_pnl_usd": None, "gas_used": gas, "unwarned_insolvencies": misses,
    }


def series(steps: list) -> dict:
    return {"t": [s["t"] for s in steps], "market": [s["market"] for s in steps],
            "oracle": [s["oracle"] for s in steps], "deficit": [s["deficit_usd"] for s in steps],
            "bad_debt": [s["bad_debt_usd"] for s in steps],
            "fund": [s["fund_balance_usd"] for s in steps] if steps[0]["fund_balance_usd"] is not None else [],
            "socialised": [s["socialised_loss_usd"] or 0.0 for s in steps],
            "healths_start": steps[0]["healths"], "healths_end": steps[-1]["healths"]}
