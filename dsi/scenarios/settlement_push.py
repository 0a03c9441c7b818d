"""Settlement push (issue 13): the attacker holds 1,000 vault options 5% in the money of the world's expiry
and pushes the pool in the last block(s) before expiry to move the price they settle at:

- `up x100, 1 block`: calls, x100 in the block before expiry, unwound first thing at expiry (a
  back-of-block / top-of-block pair);
- `down /100, 1 block`: puts, the mirror;
- `up x4, 10 blocks` / `down /4, 10 blocks`: a validator with ten consecutive slots holds the
  pool (no arbitrage in its blocks; keepers still observe, the reporter stays honest).

Each variant runs from the same snapshot: the market at the world's price, the reporter pushing
it every step, the keeper acting. Then the world expires and settles (deferral handled by
`expire_and_settle`), the writer settles in the vault and the attacker redeems. PnL = what it
redeemed minus the fair payoff at the true price at expiry minus the pushes' cost (its tokens
before vs after at the true price). The old rule (arithmetic TWAP of the window) would have
settled x100 at +66% (+1.18M USD on 1,000 calls, the review's figure).
"""

from __future__ import annotations

from dsi.agents.arbitrageur import amount_to_price
from dsi.agents.book import SMALL_BOOK, strike_of
from dsi.scenarios import Result
from dsi.scenarios.world import build_world, expire_and_settle

WAD = 10**18
OPTIONS = 1_000
VARIANTS = (("up x100, 1 block", 100.0, 1), ("down /100, 1 block", 0.01, 1),
            ("up x4, 10 blocks", 4.0, 10), ("down /4, 10 blocks", 0.25, 10))
BOUND = {1: 0.001, 10: 0.01}  # the goal: one block < 0.1%, ten blocks < 1%


def _push(p, who, price_wad: int) -> None:
    side, amount = amount_to_price(p.pool.reserve0(), p.pool.reserve1(), price_wad, p.pool.fee_bps())
    if side != "none" and amount:
        token = p.weth if side == "weth" else p.usd
        p.pool.swap_exact_in(token.address, amount, 0, who, sender=who)


def _wallet(p, who, price: float) -> float:
    return p.usd.balanceOf(who) / 1e6 + p.weth.balanceOf(who) / WAD * price


def run(ctx, name: str, backend_kind: str = "revm") -> Result:
    r = Result(name, ctx.mechanism, backend_kind)
    backend = ctx.make_backend(backend_kind)
    world = build_world(backend, ctx.params, ctx.mechanism, book=SMALL_BOOK)
    p, chain = world.p, world.chain
    spot = world.market
    strikes = {True: strike_of(spot, 0.95), False: strike_of(spot, 1.05)}  # 5% in the money: payoffs to pay
    ids = {}
    p.feed.submit(int(spot * WAD), sender=p.reporter)
    for is_call in (True, False):
        strike = strikes[is_call]
        sid = p.series.find_series(strike, world.expiry, is_call, False)
        if sid == 0:
            p.series.list_series(strike, world.expiry, is_call, False, sender=p.deployer)
            sid = p.series.find_series(strike, world.expiry, is_call, False)
        ids[is_call] = sid
    writer, who = p.writer, p.attacker
    # The attacker's capital (a flash loan's worth) and the writer's collateral.
    p.usd.mint(who, 10**15, sender=p.deployer)
    p.weth.mint(who, 10**24, sender=p.deployer)
    for token in (p.usd, p.weth):
        token.approve(p.pool.address, 2**255, sender=who)
    p.weth.mint(writer, OPTIONS * WAD, sender=p.deployer)
    p.weth.approve(p.vault.address, 2**255, sender=writer)
    p.usd.mint(writer, OPTIONS * strikes[False] // 10**18 * 10**6 // 10**18 + 10**6, sender=p.deployer)
    p.usd.approve(p.vault.address, 2**255, sender=writer)
    start = chain.snapshot()
    worst = {}
    for label, factor, k in VARIANTS:
        chain.restore(start)
        start = chain.snapshot()
        is_call = factor > 1
        sid = ids[is_call]
        strike = strikes[is_call]
        p.vault.write(sid, OPTIONS * WAD, sender=writer)
        p.option_token.safeTransferFrom(writer, who, sid, OPTIONS * WAD, b"", sender=writer)
        while chain.timestamp < world.expiry - 12 * k - 60:
            left = world.expiry - 12 * k - 60 - chain.timestamp
            world.step(spot, min(3_600 if left > 2 * 3_600 else 60, left))
        world.step(spot, world.expiry - 12 * k - chain.timestamp)
        before = _wallet(p, who, spot)
        _push(p, who, int(spot * factor * WAD))
        for _ in range(k - 1):
            chain.mine(deltatime=12)
            world.reporter.observe(spot)
            world.keeper.step()
        chain.mine(deltatime=world.expiry - chain.timestamp)
        _push(p, who, int(spot * WAD))
        cost = before - _wallet(p, who, spot)
        old_rule = p.twap.twap_between(world.expiry - p.oracle.settlement_window(), world.expiry) / WAD
        expire_and_settle(world)
        settled = p.oracle.settlement_price(world.expiry) / WAD
        true = spot
        p.vault.settle_writer(sid, sender=writer)
        got_before = _wallet(p, who, true)
        p.series.redeem(sid, OPTIONS * WAD, sender=who)
        received = _wallet(p, who, true) - got_before
        fair = OPTIONS * (max(true - strike / WAD, 0) if is_call else max(strike / WAD - true, 0))
        owed = OPTIONS * (max(settled - strike / WAD, 0) if is_call else max(strike / WAD - settled, 0))
        pnl = received - fair - cost
        move = settled / true - 1
        worst[label] = pnl
        r.check(f"{label}: settlement moved < {BOUND[k]:.1%}", abs(move) < BOUND[k], round(move, 8),
                f"settled {settled:,.2f} vs true {true:,.2f} ({move:+.4%}); the old rule: {old_rule:,.2f} "
                f"({old_rule / true - 1:+.2%}); pool reference {p.oracle.pool_reference(world.expiry) / WAD:,.2f}")
        r.check(f"{label}: attacker PnL <= 0", pnl <= 0, round(pnl, 2),
                f"redeemed {received:,.2f} USD vs fair {fair:,.2f}, pushes cost {cost:,.2f} USD")
        r.check(f"{label}: holders paid in full", p.series.shortfall(sid) == 0 and received >= owed - 1, round(received, 2),
                f"owed {owed:,.2f} USD at the settlement price, received {received:,.2f}")
        r.metrics[f"move_{label}"] = move
    r.metrics.update({"attacker_pnl_usd": max(worst.values()), "options": OPTIONS})
    r.notes.append("settlement push: best attacker PnL " + ", ".join(f"{k} {v:,.0f}" for k, v in worst.items()) + " USD")
    return r
