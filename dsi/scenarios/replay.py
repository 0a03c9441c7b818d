"""Historical replays: a real ETH/USDT crash window replayed one block per 5-minute bar.

The pool starts at the window's first close with the standard depth; the arbitrageur moves it
to every close; the reporter pushes every close to the feed; the keeper slot observes and
pokes; the vol reporter pushes the day-before Deribit DVOL as the ATM vol (1.0 in March 2020,
before DVOL existed) and re-pushes it daily. The writer's probe account tries a minimum-size
write every bar. Criteria: the oracle tracks the market whenever it says FRESH; risk is only
added on a FRESH oracle; every account that goes insolvent at the market price was flagged
below maintenance first (a warning a keeper could act on).
"""

from __future__ import annotations

import dataclasses

from dsi import data
from dsi.metrics import warned_before_loss
from dsi.scenarios import Result
from dsi.scenarios.grading import liquidation_metrics
from dsi.agents.book import CROSS, ISOLATED, PORTFOLIO, STANDARD_BOOK, AccountSpec
from dsi.scenarios.world import build_world, drive, open_probe

BAR_S = 300
MEASURE_EVERY = 3  # metrics every 15 minutes of market time (and the last bar); every bar is traded and kept
WAD = 10**18

# The frontier book: the same three-leg position (short 10 puts at 0.9 and at 0.8 x spot, short
# 10 calls at 1.1) in each margin mode, so capital and losses compare mode against mode. Isolated
# takes one account per leg; cross and portfolio hold the three legs in one account. Full
# collateral (the options vault) locks the worst payoff: 10 x 0.9 S + 10 x 0.8 S in USD plus 10
# WETH, and by construction never has bad debt.
FRONTIER_LEGS = ((0.9, False, -10), (0.8, False, -10), (1.1, True, -10))
FRONTIER_MODES = ("isolated", "cross", "portfolio")
FRONTIER_BOOK = tuple(
    [AccountSpec(11 + i, ISOLATED, "frontier leg", (leg,)) for i, leg in enumerate(FRONTIER_LEGS)]
    + [AccountSpec(14, CROSS, "frontier book", FRONTIER_LEGS), AccountSpec(15, PORTFOLIO, "frontier book", FRONTIER_LEGS)])


def full_collateral_usd(spot: float) -> float:
    """Capital the fully collateralised vault locks for the frontier position at `spot`."""
    return sum(-lots * (ratio * spot if not is_call else spot) for ratio, is_call, lots in FRONTIER_LEGS)


def p_margin(world, sub):
    return world.p.engine.margin(world.p.writer, sub)


def _mode_name(mode: int) -> str:
    return {ISOLATED: "isolated", CROSS: "cross", PORTFOLIO: "portfolio"}[mode]


def frontier_outcome(world, steps, capital: dict) -> dict:
    """Per margin mode of the frontier book: capital required (initial margin at the start, USD),
    bad debt (the insolvent part the fund covered on takes of those accounts, plus the negative
    net value still open at the end) and the fund's payments for them (subsidies)."""
    subs = {a.sub: _mode_name(a.mode) for a in FRONTIER_BOOK}
    out = {mode: {"capital_usd": capital[mode], "bad_debt_usd": 0.0, "fund_drawdown_usd": 0.0}
           for mode in FRONTIER_MODES}
    for row in steps[-1]["accounts"]:
        if row["sub"] in subs:
            out[subs[row["sub"]]]["bad_debt_usd"] += max(0.0, -row["net_value"])
    for a in world.keeper.log:
        if a.kind == "take" and a.sub in subs and a.owner == world.p.writer:
            out[subs[a.sub]]["bad_debt_usd"] += a.detail.get("covered_usd", 0.0)
            out[subs[a.sub]]["fund_drawdown_usd"] += a.detail.get("subsidy_usd", 0.0)
    return {"frontier": out, "frontier_full_collateral_usd": full_collateral_usd(steps[0]["market"])}
NO_DVOL_VOL = 1.0  # March 2020 had no DVOL; realised vol that week was well above 100%


def shorten(bars: list, n: int = 48) -> list:
    """The `n` bars ending at the window's low (tests)."""
    low = min(range(len(bars)), key=lambda i: bars[i][1])
    lo = max(0, low - n + 6)
    return bars[lo:lo + n]


def run(ctx, name: str, backend_kind: str, file: str, start: str, end: str) -> Result:
    bars = data.load_bars(file, start, end, folder=ctx.data)
    if ctx.quick:
        bars = shorten(bars)
    closes = [c for _, c in bars]
    vol = data.dvol(start[:10], folder=ctx.data) or NO_DVOL_VOL
    params = dataclasses.replace(ctx.params, spot=closes[0])
    backend = ctx.make_backend(backend_kind)
    world = build_world(backend, params, ctx.mechanism, book=STANDARD_BOOK + FRONTIER_BOOK, atm_vol=vol,
                        governance=ctx.governance)
    capital = {mode: sum(p_margin(world, a.sub).initial for a in FRONTIER_BOOK if _mode_name(a.mode) == mode) / WAD
               for mode in FRONTIER_MODES}
    open_probe(world)
    gas0 = backend.chain.gas_used()
    out = drive(world, closes[1:], BAR_S, measure_every=MEASURE_EVERY, vol_every=288, progress=ctx.progress)
    steps, probes = out["steps"], out["probes"]

    r = Result(name, ctx.mechanism, backend.name, steps=steps)
    fresh_err = [abs(s["oracle"] / s["market"] - 1) for s in steps if s["status"] == "FRESH"]
    worst = max(fresh_err, default=0.0)
    r.check("oracle within max_deviation of the market whenever FRESH", worst <= params.max_deviation,
            round(worst, 6), f"worst FRESH error {worst:.2%} (limit {params.max_deviation:.0%}) over "
            f"{len(fresh_err)} FRESH bars of {len(steps)}")
    bad = sum(ok and status != "FRESH" for ok, status in probes)
    accepted = sum(ok for ok, _ in probes)
    r.check("a risk-increasing action is accepted only when the oracle is FRESH", bad == 0, bad,
            f"{accepted} of {len(probes)} probe writes accepted, {bad} of them on a non-FRESH oracle")
    ok, misses = warned_before_loss(steps)
    r.check("every account that went insolvent at market was below maintenance first", ok, misses,
            f"{misses} account(s) went insolvent with no prior warning")
    r.metrics = _headline(steps, probes, closes, vol, backend.chain.gas_used() - gas0)
    r.metrics.update(liquidation_metrics(world, steps))
    r.metrics.update(frontier_outcome(world, steps, capital))
    r.series = {"t": [s["t"] for s in steps], "market": [s["market"] for s in steps],
                "oracle": [s["oracle"] for s in steps], "deficit": [s["deficit_usd"] for s in steps],
                "bad_debt": [s["bad_debt_usd"] for s in steps],
                "healths_start": steps[0]["healths"], "healths_worst": _worst(steps)["healths"],
                "healths_end": steps[-1]["healths"]}
    return r


def _worst(steps):
    return max(steps, key=lambda s: (s["deficit_usd"], s["below_mm"]))


def _headline(steps, probes, closes, vol, gas) -> dict:
    statuses = [s["status"] for s in steps]
    adequacies = [s["adequacy"] for s in steps if s["adequacy"] is not None]
    return {
        "bars": len(steps), "start_price": closes[0], "low": min(closes), "end_price": closes[-1],
        "drawdown": 1 - min(closes) / closes[0], "atm_vol": vol,
        "fresh_share": statuses.count("FRESH") / len(statuses),
        "max_below_mm": max(s["below_mm"] for s in steps), "max_insolvent": max(s["insolvent"] for s in steps),
        "max_deficit_usd": max(s["deficit_usd"] for s in steps), "end_deficit_usd": steps[-1]["deficit_usd"],
        "bad_debt_usd": steps[-1]["bad_debt_usd"], "min_adequacy": min(adequacies, default=None),
        "max_latency_s": max(s["latency_s"] for s in steps),
        "max_slippage_delta": max(s["slippage_delta"] for s in steps),
        "max_slippage_100": max(s["slippage_100"] for s in steps),
        "probe_accepted": sum(ok for ok, _ in probes), "fund_balance_usd": steps[-1]["fund_balance_usd"],
        "socialised_loss_usd": steps[-1]["socialised_loss_usd"], "liquidations": steps[-1]["liquidations"],
        "keeper_pnl_usd": steps[-1]["keeper_pnl_usd"], "attacker_pnl_usd": None, "gas_used": gas,
    }
