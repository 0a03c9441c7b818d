"""The settlement price under attack: how far a pool push before expiry moves it, and what the
attacker makes at the open-interest cap (`python -m dsi.bench.settlement`; `make bench-settlement`).

In process (revm). For each row the protocol is restored to the same state: an expiry 50 minutes
out, observations every minute with the reporter pushing the true price (3,000), then the
attacker (a validator for k > 1: the arbitrageur is absent from its blocks, keepers still
observe) moves the pool to r x the true price in the block(s) before expiry and holds it for k
blocks of 12 s, unwinding in the first block at expiry. The reporter reports the true price at
expiry. Settled at, move %, and rule (agreed / deferred, then median after the 6 h delay) come
from the chain; the attacker's PnL is the payoff change of 10,000 ATM options (the engine's
open-interest cap; calls for a push up, puts for a push down) at the settled price minus what
the pushes cost at the true price (swap fees and price impact, the tokens it started with and
minted valued at 3,000). The old rule (arithmetic TWAP of the window) is shown beside it.

Goal: one block moves it < 0.1%, ten blocks < 1%, attacker PnL <= 0, both directions.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from dsi.agents.arbitrageur import amount_to_price, trade_to_price
from dsi.chain import revm_backend
from dsi.protocol import deploy

WAD = 10**18
OPTIONS = 10_000  # the engine's default open-interest cap per series
TRUE = 3_000 * WAD
WINDOW = 1_800


def _case(b, p, expiry: int, r: float, k: int) -> dict:
    chain = b.chain
    snap = chain.snapshot()
    try:
        while chain.timestamp + 60 <= expiry - 12 * k:
            chain.mine(deltatime=60)
            trade_to_price(p, TRUE)
            p.twap.update(sender=p.keeper)
            p.feed.submit(TRUE, sender=p.reporter)
        chain.mine(deltatime=expiry - 12 * k - chain.timestamp)
        _push(p, int(TRUE * r))
        for _ in range(k - 1):
            chain.mine(deltatime=12)
            p.twap.update(sender=p.keeper)
        chain.mine(deltatime=expiry - chain.timestamp)
        _push(p, TRUE)
        p.twap.update(sender=p.keeper)
        end_usd, end_weth = p.usd.balanceOf(p.attacker), p.weth.balanceOf(p.attacker)
        p.feed.submit(TRUE, sender=p.reporter)
        arithmetic = p.twap.twap_between(expiry - WINDOW, expiry)
        p.oracle.settle(expiry, sender=p.keeper)
        rule = "agreed"
        if p.oracle.settlement_price(expiry) == 0:
            rule = "deferred -> median"
            chain.mine(deltatime=p.oracle.settlement_delay())
            p.feed.submit(TRUE, sender=p.reporter)
            p.oracle.settle(expiry, sender=p.keeper)
        settled = p.oracle.settlement_price(expiry)
        # The pushes' cost: tokens the attacker holds now vs the tokens it was given, at 3,000.
        cost = _spent(end_usd, end_weth)
        payoff_change = OPTIONS * abs(settled - TRUE) / WAD if (settled > TRUE) == (r > 1) else \
            -OPTIONS * abs(settled - TRUE) / WAD
        return {
            "r": r, "blocks": k, "true": TRUE / WAD, "settled": settled / WAD,
            "move_pct": round((settled / TRUE - 1) * 100, 6),
            "old_rule_move_pct": round((arithmetic / TRUE - 1) * 100, 4),
            "pool_reference": p.oracle.pool_reference(expiry) / WAD, "rule": rule,
            "push_cost_usd": round(cost, 2), "attacker_pnl_usd": round(payoff_change - cost, 2),
        }
    finally:
        chain.restore(snap)


_GIVEN = {"usd": 0, "weth": 0}


def _push(p, price_wad: int):
    """The attacker swaps its own tokens (no mint) until the pool's spot is ~price_wad."""
    pool = p.pool
    side, amount = amount_to_price(pool.reserve0(), pool.reserve1(), price_wad, pool.fee_bps())
    if side == "none" or amount == 0:
        return
    token = p.weth if side == "weth" else p.usd
    pool.swap_exact_in(token.address, amount, 0, p.attacker, sender=p.attacker)


def _spent(end_usd: int, end_weth: int) -> float:
    """USD value (at 3,000) of what the attacker was given minus what it holds now."""
    given = _GIVEN["usd"] / 1e6 + _GIVEN["weth"] / 1e18 * 3_000
    held = end_usd / 1e6 + end_weth / 1e18 * 3_000
    return given - held


def measure() -> list[dict]:
    b = revm_backend()
    p = deploy(b.project, b.accounts)
    chain = b.chain
    # The attacker's capital up front (a flash loan's worth; its 5 bps fee is not counted).
    _GIVEN["usd"], _GIVEN["weth"] = 10**15, 10**24
    p.usd.mint(p.attacker, _GIVEN["usd"], sender=p.deployer)
    p.weth.mint(p.attacker, _GIVEN["weth"], sender=p.deployer)
    for token in (p.usd, p.weth):
        token.approve(p.pool.address, 2**255, sender=p.attacker)
    expiry = chain.timestamp + 3_000
    p.series.list_series(TRUE, expiry, True, False, sender=p.deployer)
    rows = []
    for r in (1.01, 1.1, 2.0, 4.0, 10.0, 100.0):
        for ratio in (r, 1 / r):
            rows.append(_case(b, p, expiry, ratio, 1))
    for k in range(2, 11):
        for ratio in (4.0, 0.25):
            rows.append(_case(b, p, expiry, ratio, k))
    for ratio in (1.1, 1 / 1.1):  # held for 20 minutes: more than half the window
        rows.append(_case(b, p, expiry, ratio, 100))
    return rows


def table(rows: list[dict]) -> str:
    head = ("| push | blocks | settled | move % | old rule move % | pool reference | rule | push cost USD "
            "| attacker PnL USD |\n|---|---|---|---|---|---|---|---|---|")
    out = [head]
    for x in rows:
        push = f"x{x['r']:g}" if x["r"] >= 1 else f"/{1 / x['r']:g}"
        out.append(f"| {push} | {x['blocks']} | {x['settled']:,.2f} | {x['move_pct']:+.4f} | "
                   f"{x['old_rule_move_pct']:+.2f} | {x['pool_reference']:,.2f} | {x['rule']} | "
                   f"{x['push_cost_usd']:,.0f} | {x['attacker_pnl_usd']:,.0f} |")
    return "\n".join(out)


def main() -> int:
    rows = measure()
    print("Settlement under pool pushes (goal: 1 block < 0.1%, 10 blocks < 1%, attacker PnL <= 0)")
    print(table(rows))
    one = max(abs(x["move_pct"]) for x in rows if x["blocks"] == 1)
    ten = max(abs(x["move_pct"]) for x in rows if x["blocks"] <= 10)
    pnl = max(x["attacker_pnl_usd"] for x in rows)
    print(f"\nlargest move: one block {one:.4f}%, up to ten blocks {ten:.4f}%; best attacker PnL {pnl:,.0f} USD")
    out = Path("reports") / "settlement.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps({"rows": rows, "one_block_max_move_pct": one, "ten_block_max_move_pct": ten,
                               "best_attacker_pnl_usd": pnl}, indent=1) + "\n")
    print(f"wrote {out}")
    return 0 if one < 0.1 and ten < 1 and pnl <= 0 else 1


if __name__ == "__main__":
    sys.exit(main())
