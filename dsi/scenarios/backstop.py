"""Dump onto the backstop (Mango Markets, October 2022; JELLY on Hyperliquid, March 2025): an
attacker takes both sides of a large position, lets the losing side fall onto the protocol's
backstop (liquidators, the insurance fund) and cashes the winning side.

The attacker writes calls at 1.1 x spot (1-day expiry) from a cross account S as far as the
protocol lets it, holds the longs in a portfolio account L with a 5,000 USD buffer, and the
market then jumps +25% (the move Mango's attacker manufactured; here exogenous, since a pumped
pool never becomes a FRESH price: see flash_pump / twap_push). It then tries to take the
winning side's unrealised profit out of L (withdraw the buffer, write new options against the
profit) while S falls onto the keeper and the insurance fund; everything settles at expiry.

Pass criteria:
- open-interest caps bound the position: writing stops at the engine's `open_interest_cap`;
- unrealised profit never counts as collateral: every withdrawal or new short backed by L's
  long profit is refused;
- the fund's loss is bounded by the cap: fund drawdown (subsidies + settlement cover; under
  `none`, the bad debt recorded) <= cap x the price move x the mechanism's largest insolvent
  multiple (1.3);
- and the checks every liquidation run passes.
The attacker's PnL (wallet, L, S at no less than zero, longs redeemed at settlement) is
reported: with a wash position it collects what the fund pays for S's deficit, minus what is
socialised back onto the series' holders, i.e. itself.
"""

from __future__ import annotations

import dataclasses

from dsi.metrics import measure
from dsi.scenarios import Result
from dsi.scenarios.grading import headline, liquidation_checks, series
from dsi.scenarios.world import build_world, drive, expire_and_settle

WAD = 10**18
S_SUB, L_SUB = 1, 2
CAP = 200  # options per series in this scenario
CHUNK = 50
JUMP = 1.25
BUFFER_USD = 5_000
HOLD_MIN = 40  # past the 30-minute TWAP window: the oracle is FRESH again at the new price
INSOLVENT_MULTIPLE_MAX = 1.3


def run(ctx, name: str = "dump_on_backstop", backend_kind: str = "revm", jump: float = JUMP) -> Result:
    backend = ctx.make_backend(backend_kind)
    params = dataclasses.replace(ctx.params, spot=3_000.0)
    world = build_world(backend, params, ctx.mechanism, tenor_days=1, atm_vol=0.6)
    p, chain, who, d = world.p, world.chain, world.p.attacker, world.p.deployer
    has_fund = ctx.mechanism != "none"
    p.engine.set_open_interest_cap(CAP * WAD, sender=d)
    call = world.series[(1.1, True)]
    existing = p.engine.open_interest(call) / WAD
    r = Result(name, ctx.mechanism, backend.name)
    gwei_usd = ctx.params.keeper_gas_gwei * 1e-9 * world.market

    p.usd.mint(who, 50_000_000 * 10**6, sender=d)
    p.usd.approve(p.engine.address, 2**256 - 1, sender=who)
    p.option_token.setApprovalForAll(p.engine.address, True, sender=who)
    p.engine.deposit(S_SUB, 20_000_000 * 10**6, 0, sender=who)
    p.engine.set_mode(S_SUB, 1, sender=who)
    written, refusal = 0, ""
    for _ in range(2 * CAP // CHUNK):  # try to write twice the cap
        ok, why = chain.attempt(p.engine.open_short, S_SUB, call, CHUNK * WAD, sender=who)
        if not ok:
            refusal = why
            break
        written += CHUNK
    r.check("open-interest caps bound the position", existing + written <= CAP and refusal == "margin: open interest cap",
            written, f"cap {CAP} options per series, {existing:g} written by the book; the attacker wrote {written} "
            f"in chunks of {CHUNK}, then: {refusal or 'never refused'}")
    m = p.engine.margin(who, S_SUB)  # S down to 1.02 x initial margin
    free = int((m.equity - m.initial * 1.02) / WAD / 0.99 * 10**6) - 10**6
    if free > 0:
        p.engine.withdraw(S_SUB, free, 0, sender=who)
    # L: the longs and a buffer of 5% of their value, portfolio margin
    p.engine.set_mode(L_SUB, 2, sender=who)
    p.engine.deposit(L_SUB, BUFFER_USD * 10**6, 0, sender=who)
    if written:
        p.engine.deposit_long(L_SUB, call, written * WAD, sender=who)
    wealth0 = _wealth(world)
    fund0 = p.insurance_fund.capital() / 1e6 if has_fund else 0.0
    if has_fund:
        world.keeper.watch(who, S_SUB)

    # the jump, held HOLD_MIN minutes (keeper active), then the raid on L's unrealised profit
    start = world.market
    out = drive(world, [start * jump] * HOLD_MIN, dt=60, progress=ctx.progress)
    steps = out["steps"]
    ml = p.engine.margin(who, L_SUB)
    collateral = p.engine.account(who, L_SUB)[1]
    profit = ml.equity / WAD - collateral / 1e6
    tries = []
    for label, fn, args in (("withdraw the buffer", p.engine.withdraw, (L_SUB, collateral, 0)),
                            ("withdraw the buffer plus the long profit", p.engine.withdraw,
                             (L_SUB, collateral + int(max(profit, 0) * 10**6), 0)),
                            ("write puts against the profit", p.engine.open_short,
                             (L_SUB, world.series[(0.9, False)], 20 * WAD))):
        ok, why = chain.attempt(fn, *args, sender=who)
        tries.append((label, ok, why))
    r.check("unrealised profit never counts as collateral", not any(ok for _, ok, _ in tries), profit,
            f"L: collateral {collateral / 1e6:,.0f} USD, unrealised long profit {profit:,.0f} USD; "
            + "; ".join(f"{label}: {'ACCEPTED' if ok else why}" for label, ok, why in tries))

    settled = expire_and_settle(world, accounts=_holders(world))
    final = measure(world)
    final["step"] = len(steps)
    steps.append(final)
    # the attacker redeems its longs (custody longs were redeemed into L at settlement)
    bal = p.option_token.balanceOf(who, call)
    if bal:
        p.series.redeem(call, bal, sender=who)
    move = start * (jump - 1)
    if has_fund:
        f = p.insurance_fund
        loss = fund0 - f.capital() / 1e6 + f.income() / 1e6  # what the fund paid out, income aside
        bound = CAP * move * INSOLVENT_MULTIPLE_MAX
        r.check("the fund's loss is bounded by the open-interest cap", loss <= bound, round(loss, 2),
                f"fund paid {loss:,.0f} USD (subsidies {f.subsidies_paid() / 1e6:,.0f}, settlement cover "
                f"{settled['settlement_paid'] / 1e6:,.0f}, incentives {f.incentives_paid() / 1e6:,.0f}); bound cap "
                f"{CAP} x move {move:,.0f} x {INSOLVENT_MULTIPLE_MAX} = {bound:,.0f} USD; socialised "
                f"{f.socialised() / WAD:,.0f} USD")
        liquidation_checks(r, world, settled["settlement_paid"])
    else:
        bad = p.engine.bad_debt() / WAD
        bound = CAP * move
        r.check("the bad debt is bounded by the open-interest cap", bad <= bound, round(bad, 2),
                f"settlement bad debt {bad:,.0f} USD <= cap {CAP} x move {move:,.0f} = {bound:,.0f} USD")
    pnl = _wealth(world) - wealth0
    r.steps = steps
    r.metrics = headline(world, steps, chain.gas_used())
    r.metrics.update(attacker_pnl_usd=pnl, attacker_written=written, open_interest_cap=CAP,
                     fund_loss_usd=(fund0 - p.insurance_fund.capital() / 1e6) if has_fund else None,
                     long_profit_at_raid_usd=profit, gas_cost_usd_per_gas=gwei_usd)
    r.notes.append(f"attacker PnL {pnl:+,.0f} USD over the wash position (wallet + L + S at no less than zero)")
    r.series = series(steps)
    return r


def _mark(world, sid) -> float:
    from dsi.metrics import marks

    return marks(world, int(world.market * WAD))[sid] / WAD


def _holders(world) -> list:
    from dsi.scenarios.world import holders

    return holders(world) + [(world.p.attacker, S_SUB), (world.p.attacker, L_SUB)]


def _wealth(world) -> float:
    """The attacker's wealth at the market price: wallet USD, WETH and long tokens at mark, L at
    net value, S at no less than zero (limited liability)."""
    from dsi.agents.attackers import wallet_value
    from dsi.scenarios.self_liquidation import net_value

    p, who = world.p, world.p.attacker
    w = wallet_value(p, who, world.market)
    for sid in world.series_info:
        bal = p.option_token.balanceOf(who, sid)
        if bal and not p.series.is_settled(sid):
            w += bal / WAD * _mark(world, sid)
    return w + net_value(world, who, L_SUB) + max(net_value(world, who, S_SUB), 0.0)
