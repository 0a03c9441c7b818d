"""Faulty feeds against the standard book.

frozen (LUNA 2022): the reporter stops (the feed sticks at the start price, its timestamp ages)
while the market falls 90% over 80 minutes in 2-minute blocks; the writer's probe tries a
minimum-size write every block. Graded: no risk is added at a price off the market; once the
market has left the frozen value by more than `max_deviation`, no accepted action is priced at
the frozen value; after `max_age` the protocol price is the TWAP. Measured, not graded (no
liquidation yet): how many blocks the engine's health used a price off the market by more than
`max_deviation` (the last good price while the feed is flagged DEVIANT): the window in which a
liquidation must not act on the engine's valuation.

bad_print (Compound DAI 2020, Binance USDe 2025): the market is flat and honest; the feed prints
+35% for one update, then later -40% for one; the probe writes and the attacker's withdrawal are
tried right at each bad print.
"""

from __future__ import annotations

from dsi.metrics import measure
from dsi.scenarios import Result
from dsi.scenarios.grading import liquidation_metrics
from dsi.agents.book import SMALL_BOOK, STANDARD_BOOK
from dsi.scenarios.world import build_world, open_probe, probe

WAD = 10**18


def run(ctx, name: str, backend_kind: str, fault: str) -> Result:
    backend = ctx.make_backend(backend_kind)
    world = build_world(backend, ctx.params, ctx.mechanism, book=SMALL_BOOK if backend.name == "ape" else STANDARD_BOOK)
    open_probe(world)
    r = Result(name, ctx.mechanism, backend.name)
    r.steps.append(measure(world))
    (_frozen if fault == "frozen" else _bad_print)(ctx, world, r)
    r.metrics["gas_used"] = backend.chain.gas_used()
    r.metrics.update({**liquidation_metrics(world, r.steps), "attacker_pnl_usd": None,
                      "bad_debt_usd": r.steps[-1]["bad_debt_usd"],
                      "max_deficit_usd": max(s["deficit_usd"] for s in r.steps),
                      "max_below_mm": max(s["below_mm"] for s in r.steps)})
    r.series = {"t": [s["t"] for s in r.steps], "market": [s["market"] for s in r.steps],
                "oracle": [s["oracle"] for s in r.steps], "deficit": [s["deficit_usd"] for s in r.steps],
                "feed": r.series.get("feed", []),
                "healths_start": r.steps[0]["healths"], "healths_end": r.steps[-1]["healths"]}
    return r


def _frozen(ctx, world, r, blocks: int = 40, dt: int = 120):
    p = world.p
    start = world.market
    frozen = start
    world.reporter.outage = True  # the feed sticks: no new rounds
    tol = ctx.params.max_deviation
    priced_off, frozen_valued, accepted = 0, 0, 0
    for i in range(1, blocks + 1):
        price = start * (1 - 0.9 * min(i, 30) / 30)
        world.step(price, dt)
        ok, status = probe(world)
        oracle = p.oracle.price()[0] / WAD
        off = abs(oracle / price - 1) > tol
        accepted += ok
        priced_off += ok and off
        if ok and abs(price / frozen - 1) > tol and abs(oracle / frozen - 1) < 1e-9:
            frozen_valued += 1
        r.steps.append(measure(world))
    last = r.steps[-1]
    window = p.oracle.twap_window()
    twap = p.twap.twap(window) / WAD
    valued_off = sum(abs(s["oracle"] / s["market"] - 1) > tol for s in r.steps)
    r.check("risk-increasing actions refused while the oracle disagrees with the market", priced_off == 0, priced_off,
            f"{accepted} of {blocks} probe writes accepted, {priced_off} at a price more than {tol:.0%} off the market; "
            "statuses: " + ", ".join(_runs([s["status"] for s in r.steps])))
    r.check("nothing valued at the frozen price once the market left it", frozen_valued == 0, frozen_valued,
            f"{frozen_valued} accepted action(s) priced at the frozen {frozen:,.0f} with the market beyond {tol:.0%}")
    r.check("after max_age the price is the TWAP", abs(last["oracle"] - twap) < 1e-9 and last["status"] != "FRESH",
            round(last["oracle"], 6), f"oracle {last['oracle']:,.2f} {last['status']}, TWAP {twap:,.2f}, "
            f"market {last['market']:,.2f}")
    r.metrics.update({"frozen_at": frozen, "blocks": blocks, "probe_accepted": accepted,
                      "blocks_valued_off_market": valued_off,
                      "max_latency_s": max(s["latency_s"] for s in r.steps)})
    r.notes.append(f"measured, not graded until liquidation lands: in {valued_off} of {len(r.steps)} blocks the "
                   f"engine's valuation price (oracle.price) was more than {tol:.0%} off the market (the last good "
                   "price while the stuck feed is flagged); a liquidation must not act on it then")


def _bad_print(ctx, world, r, calm: int = 3):
    p, chain = world.p, world.chain
    honest = world.market
    bad_prices, at_bad, accepted = [], 0, 0
    lgp_held = True
    for factor in (1.35, 0.60):
        for _ in range(calm):
            world.step(honest, 12)
            r.steps.append(measure(world))
        lgp = p.oracle.last_good_price()
        world.reporter.bad_print(factor)
        world.step(honest, 12)
        bad = honest * factor
        bad_prices.append(bad)
        oracle = p.oracle.price()[0] / WAD
        ok, status = probe(world)
        collateral = p.engine.account(p.writer, 1)[1]
        w_ok, _ = chain.attempt(p.engine.withdraw, 1, collateral // 10, 0, sender=p.writer)
        accepted += ok + w_ok
        if (ok or w_ok) and abs(oracle / bad - 1) < 1e-9:
            at_bad += 1
        lgp_held = lgp_held and p.oracle.last_good_price() == lgp
        r.steps.append(measure(world))
        r.series.setdefault("feed", []).append(bad)
    for _ in range(calm):
        world.step(honest, 12)
        r.steps.append(measure(world))
    returned = [s["oracle"] for s in r.steps if any(abs(s["oracle"] / b - 1) < 1e-9 for b in bad_prices)]
    r.check("no price returned at the bad print", not returned, len(returned),
            f"bad prints {', '.join(f'{b:,.0f}' for b in bad_prices)}; oracle prices seen: "
            f"{sorted({round(s['oracle'], 2) for s in r.steps})}")
    r.check("zero actions at the bad price", at_bad == 0, at_bad,
            f"{accepted} action(s) accepted at the bad-print blocks, {at_bad} priced at the bad print")
    r.check("last good price held", lgp_held, p.oracle.last_good_price() / WAD,
            f"last good price {p.oracle.last_good_price() / WAD:,.2f} through both prints")
    r.metrics.update({"bad_prints": bad_prices, "actions_at_bad_price": at_bad})


def _runs(xs):
    out, prev, n = [], None, 0
    for x in xs + [None]:
        if x == prev:
            n += 1
            continue
        if prev is not None:
            out.append(f"{prev} x{n}")
        prev, n = x, 1
    return out
