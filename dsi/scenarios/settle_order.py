"""Settlement order grief (issue 13, the outside review): anyone may call
`engine.settle_position` on a victim's custody long as soon as the series settles, before the
shorts have paid in; the pool pays nothing yet and the unpaid claim must not be lost (nor
collected by someone else).

The world: spot 3,000, a 1-day expiry, one series (1.1 x spot puts, in the money). Writers: a
cash-secured engine account (cross, the full strike in USD), a leveraged engine account
(cross, 1.25 x initial margin) and an honest vault writer, 10 options each. Holders: the buyer,
20 longs in custody in a margin account and 5 in its wallet; the attacker, 5 longs in custody in
its own margin account. Two market paths from one snapshot an hour before expiry:
- funded: the market stays at 3,000: every writer can pay;
- insolvent writer: the market falls to 2,000 over the last hour with the keeper absent (it
  still pokes): the leveraged account cannot pay its 1,300 USD per option; under a mechanism
  the insurance fund covers the shortfall (`cover_settlement`), under `none` it is socialised.
On each path, four orders after the series settles:
- attacker first: the attacker settles the buyer's custody long before any short pays in;
- keeper first: an innocent keeper does the same;
- owner first: the buyer settles its own custody long early;
- control: nobody settles a custody long before the shorts.
Then the shorts pay in (engine accounts, the vault writer), the fund covers what it can, the
attacker settles its own custody long, the buyer settles (or collects) its custody account and
redeems its wallet longs.

Pass criteria, on every order and path:
- writers solvent: every holder is paid in full: wallet + margin account received = payoff x
  longs (to 0.01 USD), nothing left pending;
- a writer insolvent: every holder is paid pro rata to funding: claim x min(funded, owed) /
  owed (fully when the fund covered);
- the attacker gains nothing: no holder (the attacker included) receives more than its share.
"""

from __future__ import annotations

import dataclasses

from dsi.agents.book import CROSS, AccountSpec
from dsi.metrics import measure
from dsi.scenarios import Result
from dsi.scenarios.grading import liquidation_metrics, series as chart_series
from dsi.scenarios.settlement import (account_collateral, cover_bad_debt, redeem_wallet, settle_expiry,
                                      wallet_usd)
from dsi.scenarios.world import build_world, holders

WAD = 10**18
SPOT = 3_000.0
LOTS = 10
CUSTODY_SUB = 1  # the buyer's and the attacker's margin accounts holding the longs
BUYER_CUSTODY, BUYER_WALLET, ATTACKER_CUSTODY = 20, 5, 5
TOLERANCE_USD = 0.01
BOOK = (
    AccountSpec(1, CROSS, "cash-secured put", ((1.1, False, -LOTS),)),
    AccountSpec(2, CROSS, "naked put", ((1.1, False, -LOTS),)),
)
PATHS = {"funded": 3_000.0, "insolvent writer": 2_000.0}
ORDERS = ("attacker first", "keeper first", "owner first", "control")


def prepare(backend, params, mechanism: str):
    params = dataclasses.replace(params, spot=SPOT)
    world = build_world(backend, params, mechanism, book=BOOK, tenor_days=1, atm_vol=0.6)
    p = world.p
    sid = world.series[(1.1, False)]
    strike = world.series_info[sid][0]
    # account 1 holds the whole strike in USD: it can always pay
    p.engine.deposit(1, strike * LOTS // 10**12, 0, sender=p.writer)
    # the vault writer locks the strike in USD and sells its longs to the buyer
    p.usd.approve(p.vault.address, 2**256 - 1, sender=p.writer)
    p.vault.write(sid, LOTS * WAD, sender=p.writer)
    p.option_token.safeTransferFrom(p.writer, p.buyer, sid, LOTS * WAD, b"", sender=p.writer)
    # the buyer: custody longs in a margin account, some in the wallet, some sold to the attacker
    assert p.option_token.balanceOf(p.buyer, sid) == (BUYER_CUSTODY + BUYER_WALLET + ATTACKER_CUSTODY) * WAD
    p.option_token.safeTransferFrom(p.buyer, p.attacker, sid, ATTACKER_CUSTODY * WAD, b"", sender=p.buyer)
    for who, lots in ((p.buyer, BUYER_CUSTODY), (p.attacker, ATTACKER_CUSTODY)):
        p.option_token.setApprovalForAll(p.engine.address, True, sender=who)
        p.engine.set_mode(CUSTODY_SUB, CROSS, sender=who)
        p.engine.deposit_long(CUSTODY_SUB, sid, lots * WAD, sender=who)
    world.extra["accounts"] = [(p.buyer, CUSTODY_SUB), (p.attacker, CUSTODY_SUB)]
    world.extra["sid"] = sid
    snap_at = world.expiry - 3_600
    window = p.params.twap_window
    while world.chain.timestamp < snap_at:
        left = snap_at - world.chain.timestamp
        world.step(world.market, min(1_800, left) if left > 2 * window else min(60, left))
    return world


def _drive_to_expiry(world, end_price: float) -> None:
    """Sixty one-minute blocks to expiry, the market moving linearly to `end_price` (the keeper
    absent when it moves: it only pokes), then one more minute."""
    start = world.market
    moving = end_price != start
    if moving and hasattr(world.keeper, "active"):
        world.keeper.active = False
    n = (world.expiry - world.chain.timestamp) // 60
    for i in range(1, n + 1):
        world.step(start + (end_price - start) * i / n, 60)
    world.step(end_price, 60)
    if hasattr(world.keeper, "active"):
        world.keeper.active = True


def _holder_value(world, who, price: float) -> float:
    return wallet_usd(world.p, who, price) + account_collateral(world.p, who, CUSTODY_SUB, price)


def run_order(world, path: str, order: str) -> dict:
    p, chain = world.p, world.chain
    sid = world.extra["sid"]
    _drive_to_expiry(world, PATHS[path])
    settled = settle_expiry(world, sid)
    price = settled.price
    before = {"buyer": _holder_value(world, p.buyer, price), "attacker": _holder_value(world, p.attacker, price)}
    first = {"attacker first": p.attacker, "keeper first": p.keeper, "owner first": p.buyer}.get(order)
    first_ok, first_why = None, ""
    if first is not None:
        first_ok, first_why = chain.attempt(p.engine.settle_position, p.buyer, CUSTODY_SUB, sid, sender=first)
    # the shorts pay in (the book's accounts, the keeper's taker account if it took one), the
    # fund covers what it can
    custody = {(p.buyer, CUSTODY_SUB), (p.attacker, CUSTODY_SUB)}
    for owner, sub in holders(world):
        if (owner, sub) not in custody and any(pos.id == sid for pos in p.engine.positions(owner, sub)):
            p.engine.settle_position(owner, sub, sid, sender=p.keeper)
    p.vault.settle_writer(sid, p.writer, sender=p.keeper)
    fund_paid = cover_bad_debt(world)
    # the holders: the attacker settles its own custody long, the buyer its account (or collects)
    own_ok, own_why = chain.attempt(p.engine.settle_position, p.attacker, CUSTODY_SUB, sid, sender=p.attacker)
    collect_ok, collect_why = chain.attempt(p.engine.settle_position, p.buyer, CUSTODY_SUB, sid, sender=p.buyer)
    redeem_wallet(world, p.buyer)
    owed, funded = p.series.total_owed_value(sid), p.series.funded_value(sid)
    share = 1.0 if funded >= owed else funded / owed
    unit = p.series.payoff_per_unit(sid) / WAD
    claims = {"buyer": unit * (BUYER_CUSTODY + BUYER_WALLET), "attacker": unit * ATTACKER_CUSTODY}
    received = {"buyer": _holder_value(world, p.buyer, price) - before["buyer"],
                "attacker": _holder_value(world, p.attacker, price) - before["attacker"]}
    short = {k: max(claims[k] * share - received[k], 0.0) for k in claims}
    excess = {k: max(received[k] - claims[k] * share, 0.0) for k in claims}
    return {"path": path, "order": order, "settled": price, "rule": settled.rule, "share": share,
            "first_ok": first_ok, "first_why": first_why, "own_ok": own_ok, "own_why": own_why,
            "collect_ok": collect_ok, "collect_why": collect_why, "claims": claims, "received": received,
            "shortfall": short, "excess": excess, "fund_paid_usd": fund_paid / 1e6,
            "stranded_usd": p.series.pending_claim(sid, p.engine.address) / WAD}


def run(ctx, name: str = "settle_order_grief", backend_kind: str = "revm") -> Result:
    backend = ctx.make_backend(backend_kind)
    world = prepare(backend, ctx.params, ctx.mechanism)
    chain = world.chain
    gas0 = chain.gas_used()
    r = Result(name, ctx.mechanism, backend.name)
    steps = [measure(world)]
    steps[0]["step"] = 0
    rows = []
    snap = chain.snapshot()
    runs = [(path, order) for path in PATHS for order in ORDERS]
    for i, (path, order) in enumerate(runs):
        chain.restore(snap)
        snap = chain.snapshot()  # a checkpoint is consumed by restore
        world.keeper.reset()
        world.market = SPOT
        rows.append(run_order(world, path, order))
        last = measure(world)
        last["step"] = i + 1
        steps.append(last)
        if ctx.progress:
            ctx.progress((i + 1) / len(runs))

    def desc(x):
        first = "" if x["first_ok"] is None else (
            f"first settle of the buyer's custody long: {'done' if x['first_ok'] else x['first_why']}; ")
        return (f"{x['path']}, {x['order']}: {first}buyer received {x['received']['buyer']:,.2f} of "
                f"{x['claims']['buyer'] * x['share']:,.2f} USD, attacker {x['received']['attacker']:,.2f} of "
                f"{x['claims']['attacker'] * x['share']:,.2f} (share {x['share']:.4f}); buyer's later settle: "
                f"{'done' if x['collect_ok'] else x['collect_why']}; stranded with the engine "
                f"{x['stranded_usd']:,.2f}")

    for path, title in (("funded", "writers solvent: every holder paid in full (wallet + account + claims collected)"),
                        ("insolvent writer", "a writer insolvent: every holder paid pro rata to funding "
                                             "(fund covers, else socialised)")):
        mine = [x for x in rows if x["path"] == path]
        worst = max(mine, key=lambda x: max(x["shortfall"].values()))
        gap = max(worst["shortfall"].values())
        r.check(title, gap <= TOLERANCE_USD, round(gap, 2), "; ".join(desc(x) for x in mine))
    gains = max(rows, key=lambda x: max(x["excess"].values()))
    gain = max(gains["excess"].values())
    r.check("the attacker gains nothing (no holder receives more than its share)", gain <= TOLERANCE_USD,
            round(gain, 2), desc(gains))
    r.notes += [desc(x) for x in rows]
    r.steps = steps
    r.metrics = liquidation_metrics(world, steps)
    r.metrics.update(attacker_pnl_usd=max(x["received"]["attacker"] - x["claims"]["attacker"] * x["share"]
                                          for x in rows),
                     bad_debt_usd=steps[-1]["bad_debt_usd"],
                     max_holder_shortfall_usd=max(max(x["shortfall"].values()) for x in rows),
                     stranded_usd=max(x["stranded_usd"] for x in rows),
                     gas_used=chain.gas_used() - gas0)
    r.series = chart_series(steps)
    r.series["variants"] = rows  # one row per variant (the tests and the bench read them)
    return r
