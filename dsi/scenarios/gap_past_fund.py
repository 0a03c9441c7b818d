"""Gap past the insurance fund (10 October 2025: ETH -13% and then -26% in one oracle update
each, minutes apart) against leveraged short puts on a 1-day expiry, with a fund far smaller
than the losses.

The keeper liquidates what pays; insolvent takes draw subsidies from the fund until it cannot
pay (`fund: exhausted`: those accounts wait, flagged). The market then runs to expiry; every
position settles (the engine records each short's unpaid payoff as `series_bad_debt`) and the
fund's `cover_settlement` pays what its capital allows into each series' pool, the rest being
socialised onto that series' long holders, recorded per series.

Pass criteria:
- losses flow fund -> socialisation, in that order: nothing is socialised while the fund has
  capital (socialised > 0 only with the fund at zero);
- every unit of bad debt is recorded: fund bad debt = covered + socialised, nothing left
  unresolved in the engine, and each series' unfunded payoff equals what the fund recorded as
  socialised on it (to the micro-dollar);
- total claims <= total assets: every settlement pool holds what its holders can still claim
  (owed - socialised), the engine and the fund hold the tokens their ledgers say;
- and the checks every liquidation run passes (no sale at zero, resets re-anchor, the fund's
  books balance).
Under `none` nothing is liquidated and there is no fund: the engine records every shortfall and
the pools still hold what they owe net of it.
"""

from __future__ import annotations

import dataclasses

from dsi.agents.book import CROSS, PORTFOLIO, AccountSpec
from dsi.metrics import measure
from dsi.scenarios import Result
from dsi.scenarios.grading import headline, liquidation_checks, series
from dsi.scenarios.world import build_world, drive, expire_and_settle

WAD = 10**18
MICRO = 10**12  # one micro-dollar in WAD

BOOK = tuple(AccountSpec(sub, mode, "naked put", ((ratio, False, -10),))
             for sub, (mode, ratio) in enumerate(((CROSS, 0.95), (CROSS, 0.9), (CROSS, 0.85), (PORTFOLIO, 0.95),
                                                  (PORTFOLIO, 0.9), (PORTFOLIO, 0.85)), start=1))


def run(ctx, name: str = "gap_past_fund", backend_kind: str = "revm", gaps=(0.87, 0.74), fund_capital: float = 2_000.0,
        leverage: float = 1.1, minutes_between: int = 5, tail_min: int = 30) -> Result:
    backend = ctx.make_backend(backend_kind)
    params = dataclasses.replace(ctx.params, spot=3_000.0, fund_capital=fund_capital)
    world = build_world(backend, params, ctx.mechanism, book=BOOK, leverage=leverage, tenor_days=1, atm_vol=0.6)
    gas0 = backend.chain.gas_used()
    prices, price = [3_000.0], 3_000.0
    for i, gap in enumerate(gaps):
        price *= gap
        prices += [price] * (minutes_between + 1 if i < len(gaps) - 1 else (5 if ctx.quick else tail_min))
    out = drive(world, prices, dt=60, progress=ctx.progress)
    steps = out["steps"]
    settled = expire_and_settle(world)
    final = measure(world)
    final["step"] = len(steps)
    steps.append(final)

    p = world.p
    r = Result(name, ctx.mechanism, backend.name, steps=steps)
    sids = list(world.series_info)
    shortfalls = {sid: p.series.shortfall(sid) for sid in sids}
    if ctx.mechanism == "none":
        total = sum(shortfalls.values())
        r.check("every unit of bad debt is recorded (engine bad debt = unfunded payoffs)",
                abs(p.engine.bad_debt() - total) <= MICRO * len(sids), p.engine.bad_debt() / WAD,
                f"engine bad debt {p.engine.bad_debt() / WAD:,.2f} USD, unfunded payoffs {total / WAD:,.2f} USD")
        socialised_by = shortfalls
    else:
        f = p.insurance_fund
        capital = f.capital()
        r.check("losses flow fund -> socialisation, in that order", f.socialised() == 0 or capital == 0,
                f.socialised() / WAD, f"covered {f.covered() / WAD:,.2f} USD, socialised {f.socialised() / WAD:,.2f} "
                f"USD, fund left {capital / 1e6:,.2f} USD")
        socialised_by = {sid: f.socialised_by_series(sid) for sid in sids}
        off = {sid: (shortfalls[sid] - socialised_by[sid]) / WAD for sid in sids
               if abs(shortfalls[sid] - socialised_by[sid]) > MICRO * len(BOOK)}
        ok = f.bad_debt() == f.covered() + f.socialised() and p.engine.uncovered_debt() == 0 and not off
        r.check("every unit of bad debt is recorded (covered + socialised, per series)", ok, f.bad_debt() / WAD,
                f"fund bad debt {f.bad_debt() / WAD:,.2f} = covered {f.covered() / WAD:,.2f} + socialised "
                f"{f.socialised() / WAD:,.2f}; engine unresolved {p.engine.uncovered_debt() / WAD:,.2f}; series whose "
                f"unfunded payoff != socialised: {off or 'none'}")
        liquidation_checks(r, world, settled["settlement_paid"])
    short_pools = []
    for sid in sids:
        price_s = p.series.settlement_price(sid)
        assets = p.series.pool_usd(sid) * MICRO + p.series.pool_weth(sid) * price_s // WAD
        claims = p.series.owed_value(sid) - socialised_by[sid]
        if assets + MICRO * len(BOOK) < claims:
            short_pools.append((sid, assets / WAD, claims / WAD))
    ledgers = (p.usd.balanceOf(p.engine.address) >= p.engine.total_usd()
               and p.weth.balanceOf(p.engine.address) >= p.engine.total_weth()
               and p.usd.balanceOf(p.series.address) >= sum(p.series.pool_usd(s) for s in sids))
    if ctx.mechanism != "none":
        ledgers = ledgers and p.usd.balanceOf(p.insurance_fund.address) >= p.insurance_fund.capital()
    r.check("total claims <= total assets", not short_pools and ledgers, len(short_pools),
            f"pools short of their holders' claims: {short_pools or 'none'}; engine / series / fund tokens "
            f"{'cover' if ledgers else 'DO NOT cover'} their ledgers")
    r.metrics = headline(world, steps, backend.chain.gas_used() - gas0)
    r.metrics.update(settlement_bad_debt_usd=p.engine.bad_debt() / WAD,
                     unfunded_payoffs_usd=sum(shortfalls.values()) / WAD,
                     fund_capital_start_usd=fund_capital if ctx.mechanism != "none" else None)
    r.series = series(steps)
    return r
