"""The settlement bounds table: how far a pool push before expiry moves the settlement price,
and what it earns the attacker at the open-interest cap (`ape run gas_report --only settlement`,
part of `make bench`; alone: `python -m dsi.bench.settlement`). Rows go to
reports/settlement.json.

In process (revm through `dsi.chain`), on the `settlement_push` scenario's world and flows
(`dsi.scenarios.settlement_push`): spot 3,000 (the true price, constant), the 1,000-WETH pool
aligned by the arbitrageur every block, the reporter pushing the true price every block, a
1-day expiry. Every row starts from the same snapshot 192 s before expiry. The attacker holds,
at the engine's open-interest cap (9,990 options a leg: the cap less the book's 10), ATM vault
longs bought from an honest writer and ITM engine shorts it wrote (push up: calls and 1.1 puts;
push down: puts and 0.9 calls), pushes the pool to r x the true price with its own capital as
the last transaction of the block 12 k s before expiry, holds it k blocks (a validator: no
arbitrage in its blocks) and unwinds first in the block at expiry; then everything settles,
pays in and is redeemed.

Columns: the settlement price fixed, the true price, the move, settled or deferred (a deferred
settlement is settled again once the oracle's `settlement_delay()` has passed: the way-out
price), the attacker's PnL at the true price (payoffs of both legs, the pushes' swap fees and
price impact), the push cost alone, the arithmetic TWAP of the window (the old rule) and, when the
oracle has one (`pool_reference(expiry)`, the fixed oracle's cross-check), the pool reference.

Sections: (a) one block, r in 1.01 .. 100 and the mirror 1/1.01 .. 1/100; (b) k = 1..10 blocks
at x4 and /4; (c) per k and direction, the worst r of the grid (the attacker's best PnL).
Goal: one block < 0.1%, ten blocks < 1%, attacker PnL <= 0, both directions.
"""

from __future__ import annotations

import json
import sys
import time

from dsi.boa_env import ROOT

REPORT = ROOT / "reports" / "settlement.json"
ONE_BLOCK = (1.01, 1.1, 2.0, 4.0, 10.0, 100.0)
GRID = (1.01, 1.1, 1.5, 2.0, 4.0, 10.0, 100.0)
HELD = 4.0
KMAX = 10
GOAL = {"one_block_move": 0.001, "ten_block_move": 0.01, "attacker_pnl_usd": 0.0}
GOAL_TEXT = "goal: one block < 0.1%, ten blocks < 1%, attacker PnL <= 0, both directions"
ROW_KEYS = ("section", "push", "r", "blocks", "direction", "settled", "true", "move_pct", "rule", "deferred",
            "attacker_pnl_usd", "push_cost_usd", "old_rule_move_pct", "size")


def _grid(quick: bool) -> list[tuple[float, int]]:
    """(r, k) pairs to run; quick: x100 and /100 one block, x4 and /4 at 1 and 10 blocks."""
    if quick:
        return [(100.0, 1), (0.01, 1), (HELD, 1), (1 / HELD, 1), (HELD, KMAX), (1 / HELD, KMAX)]
    rs = sorted(set(GRID) | set(ONE_BLOCK))
    return [(x, k) for k in range(1, KMAX + 1) for r in rs for x in (r, 1 / r)]


def _row(raw: dict, section: str) -> dict:
    r = raw["r"]
    return {
        "section": section, "push": f"x{r:g}" if r > 1 else f"/{1 / r:g}", "r": r, "blocks": raw["blocks"],
        "direction": "up" if r > 1 else "down", "settled": raw["settled"], "true": raw["true"],
        "move_pct": raw["move"] * 100, "rule": raw["rule"], "deferred": raw["deferred"],
        "waited_s": raw["waited_s"], "attacker_pnl_usd": raw["attacker_pnl_usd"],
        "push_cost_usd": raw["push_cost_usd"], "old_rule_move_pct": (raw["arithmetic_twap"] / raw["true"] - 1) * 100,
        "arithmetic_twap": raw["arithmetic_twap"], "pool_reference": raw["pool_reference"], "spot_pushed": raw["spot_pushed"], "size": raw["size"],
        "holder_shortfall_usd": raw["holder_shortfall_usd"],
    }


def measure(quick: bool = False, progress=None) -> list[dict]:
    """Run the grid in process; returns the table's rows (sections a, b, c)."""
    from dsi.chain import revm_backend
    from dsi.protocol import Params
    from dsi.scenarios.settlement_push import Push, prepare, run_push

    backend = revm_backend()
    world = prepare(backend, Params(), "none")
    chain = world.chain
    runs = {}
    snap = chain.snapshot()
    grid = _grid(quick)
    for i, (r, k) in enumerate(grid):
        chain.restore(snap)
        snap = chain.snapshot()  # a checkpoint is consumed by restore
        world.keeper.reset()
        runs[(r, k)] = run_push(world, Push(r, k))
        if progress:
            progress((i + 1) / len(grid))
    chain.restore(snap)
    rows = []
    for r in ONE_BLOCK:
        for x in (r, 1 / r):
            if (x, 1) in runs:
                rows.append(_row(runs[(x, 1)], "a: one block"))
    for k in range(1, KMAX + 1):
        for x in (HELD, 1 / HELD):
            if (x, k) in runs:
                rows.append(_row(runs[(x, k)], f"b: k blocks at x{HELD:g} and /{HELD:g}"))
    for k in range(1, KMAX + 1):
        for up in (True, False):
            mine = [v for (x, kk), v in runs.items() if kk == k and (x > 1) == up]
            if mine:
                worst = max(mine, key=lambda v: (v["attacker_pnl_usd"], abs(v["move"])))
                rows.append(_row(worst, "c: worst r of the grid"))
    return rows


def verdict(rows: list[dict]) -> dict:
    """The goal against the rows: largest |move| in one block and up to ten, best PnL."""
    one = max((abs(x["move_pct"]) for x in rows if x["blocks"] == 1), default=0.0) / 100
    ten = max((abs(x["move_pct"]) for x in rows if x["blocks"] <= KMAX), default=0.0) / 100
    pnl = max((x["attacker_pnl_usd"] for x in rows), default=0.0)
    return {"one_block_max_move": one, "ten_block_max_move": ten, "best_attacker_pnl_usd": pnl,
            "deferred_rows": sum(bool(x["deferred"]) for x in rows),
            "met": one < GOAL["one_block_move"] and ten < GOAL["ten_block_move"] and pnl <= GOAL["attacker_pnl_usd"]}


def table(rows: list[dict]) -> str:
    head = ("| section | push | blocks | settlement price | true price | move % | settled or deferred "
            "| attacker PnL at the OI cap USD | push cost USD | old rule (arithmetic TWAP) move % | pool reference |")
    size = f"{rows[0]['size']:,.0f}" if rows else "-"
    out = [f"Settlement bounds ({GOAL_TEXT}); the attacker at the open-interest cap ({size} options a leg)", "",
           head, "| " + " | ".join("---" for _ in range(11)) + " |"]
    for x in rows:
        rule = x["rule"] + (f" (+{x['waited_s']:,} s)" if x["deferred"] else "")
        out.append(f"| {x['section']} | {x['push']} | {x['blocks']} | {x['settled']:,.2f} | {x['true']:,.2f} "
                   f"| {x['move_pct']:+.4f} | {rule} "
                   f"| {x['attacker_pnl_usd']:+,.0f} | {x['push_cost_usd']:,.0f} | {x['old_rule_move_pct']:+.4f} "
                   f"| {'-' if x['pool_reference'] is None else format(x['pool_reference'], ',.2f')} |")
    v = verdict(rows)
    out.append("")
    out.append(f"largest move: one block {v['one_block_max_move']:.4%}, up to ten blocks "
               f"{v['ten_block_max_move']:.4%}; "
               f"best attacker PnL {v['best_attacker_pnl_usd']:+,.0f} USD; deferred rows {v['deferred_rows']}: goal "
               f"{'MET' if v['met'] else 'NOT met'}")
    return "\n".join(out)


def write(rows: list[dict], seconds: float | None = None, path=REPORT):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"goal": GOAL_TEXT, "verdict": verdict(rows), "seconds": seconds, "rows": rows},
                               indent=1) + "\n")
    return path


def main(argv=None) -> int:
    quick = "--quick" in (argv if argv is not None else sys.argv[1:])
    t0 = time.perf_counter()
    rows = measure(quick=quick)
    seconds = time.perf_counter() - t0
    print(table(rows))
    path = write(rows, seconds)
    print(f"{len(rows)} rows in {seconds:.1f} s; wrote {path.relative_to(ROOT)}")
    return 0 if verdict(rows)["met"] else 1


if __name__ == "__main__":
    sys.exit(main())
