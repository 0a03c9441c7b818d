"""Gas spike and dust: minimum-size positions must stay worth liquidating when gas spikes
(Black Thursday 2020: gas went to ~200 gwei and keepers stopped bidding; Maker's fix was a
per-vault minimum debt, `dust`, and a flat keeper `tip`).

Eight accounts each write the minimum size (`min_option_size`, 0.01 option) of a put at 0.9 x
spot in cross margin, funded at 1.02 x initial margin. The market slides 25% over ten minutes
and holds; the keeper (the lab's keeper agent: it acts only when the take pays after gas) runs
every minute for 30 minutes. The same slide is replayed from one snapshot at 30, 500 and 1,000
gwei.

The protocol's answer is the liquidation reserve (Liquity's gas compensation): before an account
opens shorts its owner posts WETH into the insurance fund, (800,000 + 100,000 x positions) gas x
a 1,000 gwei cap, outside its collateral and the fund's capital, paid pro rata to whoever takes
the account (`InsuranceFund.post_reserve` / `pay_reserve`). The scenario turns it on
(`with_reserve=False` measures the protocol without it).

Pass criteria: at 500 and at 1,000 gwei every dust account that became liquidatable was
liquidated, and the keeper made money on them (PnL net of gas > 0).
Measured: accounts liquidated, keeper reward and gas cost per take, fund payments, at each
gas price.
"""

from __future__ import annotations

import dataclasses

from dsi.agents.book import CROSS, AccountSpec
from dsi.metrics import measure
from dsi.reference import liquidation as L
from dsi.scenarios import Result
from dsi.scenarios.grading import series
from dsi.scenarios.world import build_world, drive

WAD = 10**18
N_DUST = 8
GAS_PRICES = (30.0, 500.0, 1_000.0)
GRADED = (500.0, 1_000.0)


def run(ctx, name: str = "gas_spike_dust", backend_kind: str = "revm", slide: float = 0.75,
        with_reserve: bool = True) -> Result:
    backend = ctx.make_backend(backend_kind)
    params = dataclasses.replace(ctx.params, spot=3_000.0)
    lots = params.min_option_size
    book = tuple(AccountSpec(i + 1, CROSS, "minimum-size put", ((0.9, False, -lots),)) for i in range(N_DUST))
    reserve = (L.RESERVE_BASE_GAS, L.RESERVE_POSITION_GAS, L.RESERVE_GAS_PRICE_GWEI * 10**9) if with_reserve else None
    world = build_world(backend, params, ctx.mechanism, book=book, leverage=1.02, reserve=reserve)
    chain, p = world.chain, world.p
    r = Result(name, ctx.mechanism, backend.name)
    start_snap = chain.snapshot()
    start = world.market
    per_gas = {}
    for gwei in GAS_PRICES:
        chain.restore(start_snap)
        start_snap = chain.snapshot()
        world.keeper.reset()
        world.keeper.agent.gas_price_gwei = gwei
        world.market = start
        prices = [start * (1 - (1 - slide) * i / 10) for i in range(1, 11)] + [start * slide] * (10 if ctx.quick else 30)
        out = drive(world, prices, dt=60, progress=ctx.progress)
        log = world.keeper.log
        takes = [a for a in log if a.kind == "take"]
        ever = set(world.keeper.agent.troubled)
        left = [a.sub for a in world.book if p.liquidator.is_liquidatable(p.writer, a.sub)]
        skips = [a for a in log if a.kind == "skip" and "gas_cost_usd" in a.detail]
        per_gas[gwei] = {
            "liquidatable": len(ever), "liquidated": len({a.sub for a in takes}), "left_liquidatable": len(left),
            "takes": len(takes), "keeper_pnl_usd": world.keeper.pnl,
            "reward_per_take_usd": (sum(a.profit_usd + a.gas_used * gwei * 1e-9 * world.market for a in takes)
                                    / len(takes)) if takes else None,
            "gas_per_take": (sum(a.gas_used for a in takes) / len(takes)) if takes else None,
            "gas_cost_per_take_usd": (sum(a.gas_used for a in takes) / len(takes) * gwei * 1e-9 * world.market)
            if takes else None,
            "skipped_unprofitable": len({a.sub for a in skips}),
            "last_skip": skips[-1].detail if skips else None,
        }
        if gwei == GAS_PRICES[-1]:
            r.steps = out["steps"]
    for gwei in GRADED:
        g = per_gas[gwei]
        ok = g["liquidatable"] > 0 and g["left_liquidatable"] == 0 and g["keeper_pnl_usd"] > 0
        skip = g["last_skip"]
        r.check(f"at {gwei:,.0f} gwei every dust account is liquidated at a profit", ok, round(g["keeper_pnl_usd"], 2),
                f"{g['liquidatable']} liquidatable, {g['liquidated']} liquidated, {g['left_liquidatable']} left; keeper "
                f"PnL {g['keeper_pnl_usd']:+,.2f} USD"
                + (f"; per take: reward {g['reward_per_take_usd']:,.2f} USD vs gas {g['gas_per_take']:,.0f} = "
                   f"{g['gas_cost_per_take_usd']:,.2f} USD" if g["takes"] else "")
                + (f"; skipped as unprofitable: gain {skip['gain_usd']:,.2f} USD vs gas {skip['gas_cost_usd']:,.2f} USD"
                   if skip else ""))
    r.metrics = {f"{k}_{int(gwei)}gwei": v for gwei, g in per_gas.items() for k, v in g.items() if k != "last_skip"}
    r.metrics.update(min_option_size=lots, dust_accounts=N_DUST,
                     reserve_per_account_eth=(p.insurance_fund.reserve_required(1) / WAD) if with_reserve else 0.0)
    steps = r.steps or [measure(world)]
    r.series = series(steps)
    return r
