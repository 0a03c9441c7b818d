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
from dsi.scenarios.world import build_world, drive, open_probe

BAR_S = 300
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
    world = build_world(backend, params, ctx.mechanism, atm_vol=vol)
    open_probe(world)
    gas0 = backend.chain.gas_used()
    out = drive(world, closes[1:], BAR_S, vol_every=288, progress=ctx.progress)
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
        "probe_accepted": sum(ok for ok, _ in probes), "fund_balance_usd": None, "socialised_loss_usd": None,
        "attacker_pnl_usd": None, "gas_used": gas,
    }
