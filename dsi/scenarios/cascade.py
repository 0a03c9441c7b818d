"""Liquidation cascade (death spiral): liquidation flow sold into a thin pool pushes the price
down and triggers more liquidations.

A thin pool (150 WETH deep) and a book of staggered, leveraged short puts (strikes 0.95 .. 0.80
x spot, cross and portfolio, 160 options) are hit by a 15% market drop. Each block the keeper
liquidates what pays and hedges what it took over: it sells into the pool the WETH delta of
its taker account (Black-76 deltas on the skew, `dsi.metrics.book_delta`), in slices that move
the pool at most `max_impact` per block, which pushes the pool down and so on. Two markets:

- `feed="market"` (graded): the feed reports the broad market (ETH trades on many venues; the
  drop is exogenous and stays at -15%); the arbitrageur closes `arb_share` of the gap between
  the pool and the market each block. The liquidation flow moves the pool, not the feed.
- `feed="pool"` (measured, reported in the notes): the pool is the only market (a long-tail
  listing): the reporter pushes the pool's own price, nobody arbitrages. The flow moves the
  price liquidations are priced at: this is the death spiral the design must rule out by
  listing policy (see docs/findings.md, the 24 November 2026 stress run, and docs/lab.md).

Measured: cascade depth (liquidation waves: blocks in which an account became liquidatable
after the keeper's own hedge sales moved the price), the liquidation flow's slippage (USD lost
against the pre-trade mid), the endogenous drawdown (how far the flow pushed the price beyond
the shock), oracle status per block.

Pass criteria (feed = market):
- the spiral is bounded: the lowest price the protocol uses stays within 2 x max_spot_deviation
  of the market, however far the flow pushes the pool (the feed anchors it; the oracle flags a
  pool that runs off its TWAP without the feed as DEVIANT and liquidation waits for FRESH);
- it ends: by the last block no account is liquidatable at a usable price, or the keeper has
  stopped because further takes do not pay;
- and the checks every liquidation run passes (no sale at zero, resets re-anchor, the fund's
  books balance, what is still insolvent is recorded).
"""

from __future__ import annotations

import dataclasses

from dsi.agents.arbitrageur import trade_to_price
from dsi.agents.book import CROSS, PORTFOLIO, AccountSpec
from dsi.metrics import book_delta, measure
from dsi.scenarios import Result
from dsi.scenarios.grading import headline, liquidation_checks, series
from dsi.scenarios.mechanisms import KEEPER_SUB
from dsi.scenarios.world import build_world

WAD = 10**18
RATIOS = (0.95, 0.92, 0.9, 0.88, 0.86, 0.84, 0.82, 0.8)
BOOK = tuple(AccountSpec(i + 1, CROSS if i % 2 == 0 else PORTFOLIO, "naked put", ((ratio, False, -20),))
             for i, ratio in enumerate(RATIOS))
KEEPER_WETH = 5_000  # the keeper's WETH inventory, sold to hedge


class Hedger:
    """Sells into the pool the WETH delta the keeper's taker account gained by its takes."""

    def __init__(self, world, max_impact: float):
        self.world = world
        self.max_impact = max_impact
        self.hedged = 0.0  # WETH sold so far
        self.trades: list[dict] = []

    def __call__(self) -> None:
        w = self.world
        p = w.p
        price = p.pool.spot_price() / WAD
        positions = {}
        for pos in p.engine.positions(p.keeper, KEEPER_SUB):
            positions[pos.id] = positions.get(pos.id, 0.0) + pos.amount / WAD
        delta = book_delta(w, price, positions)  # > 0: long WETH exposure (short puts)
        sell = delta - self.hedged
        if sell <= 1e-6:
            return
        # a slice that moves the pool at most max_impact: x' = x / sqrt(1 - impact) for a constant product
        cap = p.pool.reserve0() / WAD * ((1 - self.max_impact) ** -0.5 - 1)
        sell = min(sell, cap)
        amount = int(sell * WAD)
        _, impact = p.pool.quote_slippage(p.weth.address, amount)
        before_usd = p.usd.balanceOf(p.keeper)
        p.weth.approve(p.pool.address, amount, sender=p.keeper)
        p.pool.swap_exact_in(p.weth.address, amount, 0, p.keeper, sender=p.keeper)
        got = (p.usd.balanceOf(p.keeper) - before_usd) / 1e6
        after = p.pool.spot_price() / WAD
        self.hedged += sell
        self.trades.append({"t": w.chain.timestamp, "weth": sell, "mid": price, "after": after,
                            "avg": got / sell, "slippage_usd": sell * price - got, "impact": impact / WAD})


def run(ctx, name: str = "cascade", backend_kind: str = "revm", shock: float = 0.85, pool_weth: float = 150.0,
        blocks: int = 150, arb_share: float = 0.5, max_impact: float = 0.02) -> Result:
    graded = _play(ctx, backend_kind, shock, pool_weth, blocks, arb_share, max_impact, feed="market")
    r = graded["result"]
    spiral = _play(ctx, backend_kind, shock, pool_weth, blocks, 0.0, max_impact, feed="pool")
    r.metrics.update({f"pool_feed_{k}": spiral["result"].metrics[k]
                      for k in ("endogenous_drawdown", "cascade_depth", "liquidations", "bad_debt_usd",
                                "flow_slippage_usd", "low")})
    r.notes.append("with a feed that follows the pool (a long-tail listing, no other market): " + spiral["summary"])
    r.name = name
    return r


def _play(ctx, backend_kind, shock, pool_weth, blocks, arb_share, max_impact, feed: str) -> dict:
    backend = ctx.make_backend(backend_kind)
    params = dataclasses.replace(ctx.params, spot=3_000.0, pool_weth=pool_weth)
    world = build_world(backend, params, ctx.mechanism, book=BOOK, leverage=1.1)
    p, chain = world.p, world.chain
    hedger = Hedger(world, max_impact)
    if ctx.mechanism != "none":
        p.weth.mint(p.keeper, KEEPER_WETH * WAD, sender=p.deployer)
    gas0 = chain.gas_used()
    r = Result("cascade", ctx.mechanism, backend.name)
    steps = [measure(world)]
    market = 3_000 * shock  # the broad market after the drop
    chain.mine(deltatime=12)
    trade_to_price(p, int(market * WAD), trader=p.attacker)  # the drop hits the pool too
    after_shock = p.pool.spot_price() / WAD
    first_liq: dict[int, int] = {}
    waves, hedge_blocks, statuses = 0, set(), []
    n = blocks if not ctx.quick else blocks // 2
    for block in range(n):
        if block:
            chain.mine(deltatime=12)
            if arb_share:
                pool_price = p.pool.spot_price() / WAD
                trade_to_price(p, int((pool_price + arb_share * (market - pool_price)) * WAD))
        pool_price = p.pool.spot_price() / WAD
        world.market = market if feed == "market" else pool_price
        world.reporter.observe(world.market)
        world.keeper.step()
        if ctx.mechanism != "none":
            before = len(hedger.trades)
            hedger()
            if len(hedger.trades) > before:
                hedge_blocks.add(block)
        statuses.append(p.oracle.price()[1])
        for a in world.book:
            if a.sub not in first_liq and ctx.mechanism != "none" and p.liquidator.is_liquidatable(p.writer, a.sub):
                first_liq[a.sub] = block
                if any(b < block for b in hedge_blocks):
                    waves += 1  # liquidatable only after the keeper's own sales moved the price
        world.market = market if feed == "market" else p.pool.spot_price() / WAD
        row = measure(world)
        row["step"] = block
        row["pool"] = p.pool.spot_price() / WAD
        steps.append(row)
        if ctx.progress and block % 16 == 0:
            ctx.progress((block / n) / 2 + (0.5 if feed == "pool" else 0))
    r.steps = steps
    low = min(s["pool"] for s in steps[1:])
    endogenous = 1 - low / after_shock
    slip = sum(t["slippage_usd"] for t in hedger.trades)
    limit = 2 * params.max_spot_deviation
    liquidated_low = min((s["oracle"] for s in steps[1:]), default=market)
    r.check("the spiral is bounded (prices liquidations use stay within 2 x max_spot_deviation of the market)",
            1 - liquidated_low / market <= limit, round(1 - liquidated_low / market, 4),
            f"market {market:,.0f} after the {1 - shock:.0%} drop; lowest protocol price {liquidated_low:,.0f} "
            f"({liquidated_low / market - 1:+.2%}, limit -{limit:.0%}); the pool itself went to {low:,.0f} "
            f"({-endogenous:+.2%} beyond the drop) under {hedger.hedged:,.1f} WETH of liquidation flow")
    if ctx.mechanism != "none":
        still = [a.sub for a in world.book if p.liquidator.is_liquidatable(p.writer, a.sub)]
        last = world.keeper.log[-3 * len(world.book):]
        stopped = all(x.kind == "skip" for x in last if x.owner == p.writer and x.sub in still)
        usable = statuses[-1] in (0, 3)
        r.check("the cascade ends", not still or not usable or stopped, len(still),
                f"liquidatable at the end: {still or 'none'}; oracle usable: {usable}; keeper skipping them: {stopped}")
        liquidation_checks(r, world)
    r.metrics = headline(world, steps, chain.gas_used() - gas0)
    r.metrics.update(cascade_depth=waves, liquidation_flow_weth=hedger.hedged, flow_slippage_usd=slip,
                     endogenous_drawdown=endogenous, price_after_shock=after_shock, low=low,
                     deviant_blocks=sum(s == 2 for s in statuses))
    summary = (f"cascade depth {waves} wave(s); {hedger.hedged:,.1f} WETH of liquidation flow in {len(hedger.trades)} "
               f"slices with {slip:,.0f} USD slippage; pool {after_shock:,.0f} -> low {low:,.0f} "
               f"({-endogenous:+.1%}); {r.metrics['liquidations']} takes, bad debt {r.metrics['bad_debt_usd']:,.0f} USD; "
               f"oracle DEVIANT in {sum(s == 2 for s in statuses)} of {len(statuses)} blocks")
    r.notes.append(f"feed = {feed}: " + summary)
    r.series = series(steps)
    r.series["pool"] = [s["pool"] for s in steps[1:]]
    return {"result": r, "summary": summary}
