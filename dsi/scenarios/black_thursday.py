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
- the oracle follows the crash: FRESH `hold` (5) minutes after every gap;
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
from dsi.scenarios import Result
from dsi.scenarios.grading import headline, liquidation_checks, series
from dsi.scenarios.world import build_world, drive

WAD = 10**18
USD = 10**6

BOOK = tuple(AccountSpec(sub, mode, "naked put", ((ratio, False, -10),))
             for sub, (mode, ratio) in enumerate(((CROSS, 0.9), (CROSS, 0.8), (CROSS, 0.7), (PORTFOLIO, 0.9),
                                                  (PORTFOLIO, 0.8), (PORTFOLIO, 0.7)), start=1))


def run(ctx, name: str = "black_thursday", backend_kind: str = "ape", gaps=(0.80, 0.80, 0.78),
        leverage: float = 1.2, tail_min: int = 30, hold: int = 5) -> Result:
    backend = ctx.make_backend(backend_kind)
    params = dataclasses.replace(ctx.params, spot=3_000.0)
    world = build_world(backend, params, ctx.mechanism, book=BOOK, leverage=leverage, governance=ctx.governance)
    gas0 = backend.chain.gas_used()
    prices, gap_steps, price = [3_000.0], [], 3_000.0
    for gap in gaps:
        price *= gap
        prices += [price] * (hold + 1)  # the gap block, then `hold` one-minute blocks at the new price
        gap_steps.append(len(prices) - 1)
    prices += [price] * (min(5, tail_min) if ctx.quick else tail_min)
    out = drive(world, prices, dt=60, progress=ctx.progress)
    steps = out["steps"]

    result = Result(name, ctx.mechanism, backend.name, steps=steps)
    after = [steps[i]["status"] for i in gap_steps]
    result.check(f"oracle FRESH {hold} minutes after every gap", all(s == "FRESH" for s in after), after,
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
