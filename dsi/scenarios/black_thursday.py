"""Black Thursday (12 March 2020), crude first version: -50% in three gaps against a book of
short puts in cross and portfolio margin.

The market (pool, moved by the arbitrageur) and the feed (pushed by the reporter) fall
together in three gaps of 5 minutes each, the TWAP keeper observing every minute. After each
gap the lab records the oracle (price, status, latency), the pool's depth (price impact of
selling 100 WETH), every account's equity / maintenance / health from the engine, and its net
liquidation value (collateral at spot, no haircut, plus signed marks on the skew) — the money
that would be left if the book were closed at mark.

Liquidation (issue 5) is not built yet, so this scenario measures how much is at stake when
nothing liquidates: accounts below maintenance, accounts insolvent (net value < 0), and the
deficit that would become bad debt. Pass criteria (checked, reported):
- the oracle follows the crash: FRESH after every gap (feed and spot agree);
- every account with net value < 0 is flagged unhealthy by the engine (health < 1);
- bad debt so far is exactly what the engine records (0 before settlement).
"""

from __future__ import annotations

import dataclasses

from dsi.agents.arbitrageur import trade_to_price
from dsi.metrics import STATUS
from dsi.protocol import deploy, deploy_margin
from dsi.scenarios import Result
from dsi.scenarios import mechanisms

WAD = 10**18
DAY = 86_400
SLICE = (10**16, 8 * 10**16, -3 * 10**17, 0, 2 * 10**17)  # 30-day ETH-like smile with put skew


def _net_value(p, chain, owner, sub, spot) -> float:
    engine, calc = p.engine, p.calculator
    _, usd, weth, _ = engine.account(owner, sub)
    value = usd / 1e6 + weth / 1e18 * spot / WAD
    now = chain.timestamp
    for pos in engine.positions(owner, sub):
        s = p.series.series(pos.id)
        a, b, rho, m, sig, _ = p.vol_feed.slice(s.expiry)
        mark = calc.mark(spot, s.strike, max(s.expiry - now, 0), (a, b, rho, m, sig), s.is_call, pos.amount < 0)
        value += pos.amount / WAD * mark / WAD
    return value


def run(ctx, name: str = "black_thursday", backend_kind: str = "ape", gaps=(0.80, 0.80, 0.78),
        leverage=1.2) -> Result:
    backend = ctx.make_backend(backend_kind)
    chain = backend.chain
    params = dataclasses.replace(ctx.params, spot=3_000.0)
    p = deploy_margin(backend.project, deploy(backend.project, backend.accounts, params))
    keeper_agent = mechanisms.install(backend, p, ctx.mechanism)
    d, writer, reporter, keeper = p.deployer, p.writer, p.reporter, p.keeper
    expiry = chain.timestamp + 30 * DAY
    p.vol_feed.push(expiry, *SLICE, sender=reporter)
    ids = {}
    for strike in (2_700, 2_400, 2_100):
        p.series.list_series(strike * WAD, expiry, False, False, sender=d)
        ids[strike] = p.series.find_series(strike * WAD, expiry, False, False)
    # 30 minutes of TWAP history before the book opens.
    for _ in range(30):
        chain.mine(deltatime=60)
        p.twap.update(sender=keeper)
    p.feed.submit(3_000 * WAD, sender=reporter)

    # The book: each sub-account writes 10 puts at one strike, funded at `leverage` x initial.
    book = [(1, 1, 2_700), (2, 1, 2_400), (3, 1, 2_100), (4, 2, 2_700), (5, 2, 2_400), (6, 2, 2_100)]
    p.usd.mint(writer, 10**13, sender=d)
    p.usd.approve(p.engine.address, 10**13, sender=writer)
    for sub, mode, strike in book:
        p.engine.deposit(sub, 100_000 * 10**6, 0, sender=writer)
        p.engine.set_mode(sub, mode, sender=writer)
        p.engine.open_short(sub, ids[strike], 10 * WAD, sender=writer)
        need = p.engine.margin(writer, sub).initial * leverage / WAD
        free = 100_000 - need / 0.99
        p.engine.withdraw(sub, int(free * 10**6), 0, sender=writer)

    result = Result(name, ctx.mechanism, backend.name)
    accounts_by_step = []
    price = 3_000.0
    for step, gap in enumerate((1.0,) + tuple(gaps)):
        if step:
            price *= gap
            trade_to_price(p, int(price * WAD))
            p.feed.submit(int(price * WAD), sender=reporter)
            for _ in range(5):
                chain.mine(deltatime=60)
                p.twap.update(sender=keeper)
            p.feed.submit(int(price * WAD), sender=reporter)
        keeper_agent.step()
        spot, status = p.oracle.price()
        _, impact = p.pool.quote_slippage(p.weth.address, 100 * WAD)
        rows = []
        for sub, mode, strike in book:
            m = p.engine.margin(writer, sub)
            rows.append({
                "sub": sub, "mode": "cross" if mode == 1 else "portfolio", "strike": strike,
                "equity": m.equity / WAD, "maintenance": m.maintenance / WAD,
                "health": (m.health / WAD) if m.health < 2**255 else float("inf"),
                "net_value": _net_value(p, chain, writer, sub, spot),
            })
        result.steps.append({
            "step": step, "t": chain.timestamp, "market": price, "oracle": spot / WAD, "status": STATUS[status],
            "latency_s": p.oracle.latency(), "slippage_100": impact / WAD,
            "below_mm": sum(r["health"] < 1 for r in rows),
            "insolvent": sum(r["net_value"] < 0 for r in rows),
            "deficit_usd": sum(max(0.0, -r["net_value"]) for r in rows),
            "bad_debt_usd": p.engine.bad_debt() / WAD,
            "adequacy": p.engine.collateral_adequacy() / WAD,
            "fund_balance_usd": None, "socialised_loss_usd": None, "attacker_pnl_usd": None,
            "gas_used": chain.gas_used(),
            "healths": [min(r["health"], 99.0) for r in rows], "accounts": rows,
        })
        accounts_by_step.append(rows)

    steps = result.steps
    result.check("oracle FRESH after every gap", all(s["status"] == "FRESH" for s in steps),
                 [s["status"] for s in steps], ", ".join(s["status"] for s in steps))
    unflagged = sum(r["health"] >= 1 for rows in accounts_by_step for r in rows if r["net_value"] < 0)
    result.check("every insolvent account flagged unhealthy", unflagged == 0, unflagged,
                 f"{steps[-1]['insolvent']} insolvent at the end, {unflagged} insolvent account-steps not flagged")
    result.check("recorded bad debt equals the engine's (nothing settled yet)", p.engine.bad_debt() == 0,
                 p.engine.bad_debt() / WAD, f"bad_debt = {p.engine.bad_debt() / WAD:.2f}")
    result.metrics = {
        "drawdown": 1 - steps[-1]["market"] / steps[0]["market"], "max_below_mm": steps[-1]["below_mm"],
        "max_insolvent": steps[-1]["insolvent"], "max_deficit_usd": max(s["deficit_usd"] for s in steps),
        "end_deficit_usd": steps[-1]["deficit_usd"], "bad_debt_usd": p.engine.bad_debt() / WAD,
        "min_adequacy": min(s["adequacy"] for s in steps), "fund_balance_usd": None, "socialised_loss_usd": None,
        "attacker_pnl_usd": None, "gas_used": chain.gas_used(),
    }
    result.series = {"t": [s["t"] for s in steps], "market": [s["market"] for s in steps],
                     "oracle": [s["oracle"] for s in steps], "deficit": [s["deficit_usd"] for s in steps],
                     "healths_start": steps[0]["healths"], "healths_end": steps[-1]["healths"]}
    result.extra_accounts = accounts_by_step
    return result
