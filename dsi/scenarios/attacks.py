"""Market-manipulation attacks on the oracle: the same-block flash pump and the multi-block
TWAP push, against the standard book plus the attacker's own levered account (10 puts at 0.9 x
spot in cross margin, funded at 1.02 x initial margin: the account a manipulated price would let
it drain).

flash_pump: (1) the real thing, one transaction through the FlashLender (the attacker contract
pumps 10x and 50x and records what the oracle said mid-pump); (2) the same pump from the
attacker's wallet with the same borrowed size, the clock standing still (same block on the
deterministic clock), while it tries to withdraw half its collateral and to write 10 more puts
at the pumped price, then sells back and repays. PnL at the honest price.

twap_push: the attacker buys spot up 30% and holds it for k = 10 consecutive blocks (a validator
with consecutive slots: no arbitrage in between) while the keeper keeps observing, then tries the
same withdrawal and write, then sells back. Cost = its round-trip loss on the pool; gain = the
under-collateralisation it leaves behind (initial margin at the honest price minus equity), zero
when refused.
"""

from __future__ import annotations

from dsi.agents.arbitrageur import amount_to_price
from dsi.agents.attackers import (FlashPumpAttacker, account_value, dump_to_wallet, fund_taker_account,
                                  open_levered_short, pump_from_wallet, wallet_value)
from dsi.metrics import STATUS, marks, measure
from dsi.scenarios import Result
from dsi.scenarios.grading import liquidation_metrics
from dsi.agents.book import SMALL_BOOK, STANDARD_BOOK
from dsi.scenarios.world import build_world

WAD = 10**18
SUB = 1


def _setup(ctx, backend_kind):
    backend = ctx.make_backend(backend_kind)
    world = build_world(backend, ctx.params, ctx.mechanism, book=SMALL_BOOK if backend.name == "ape" else STANDARD_BOOK)
    p = world.p
    put = world.series[(0.9, False)]
    open_levered_short(p, p.attacker, SUB, put, 10)
    return backend, world, p, put


def _score(world, price):
    p = world.p
    mk = marks(world, int(price * WAD))
    return wallet_value(p, p.attacker, price) + account_value(p, p.attacker, SUB, price, mk)


TAKER_SUB = 2  # the attacker's taker account for liquidation attempts


def _prepare_taker(world) -> None:
    """Under a liquidation mechanism the attacker funds a taker account and approves the fund."""
    if world.keeper.mechanism != "none":
        fund_taker_account(world.p, world.p.attacker, TAKER_SUB)


def _try_liquidations(world) -> tuple[int, list]:
    """The attacker tries to liquidate every book account at the current (manipulated) price:
    Dutch `start` then `take`, or `take`. Returns (attempts, [(sub, what succeeded)])."""
    p, chain = world.p, world.chain
    if world.keeper.mechanism == "none":
        return 0, []
    liq, done, attempts = p.liquidator, [], 0
    for a in world.book:
        attempts += 1
        if world.keeper.mechanism == "dutch":
            ok, _ = chain.attempt(liq.start, p.writer, a.sub, sender=p.attacker)
            if ok:
                done.append((a.sub, "start"))
        ok, _ = chain.attempt(liq.take, p.writer, a.sub, TAKER_SUB, WAD, 2**255 - 1, sender=p.attacker)
        if ok:
            done.append((a.sub, "take"))
    return attempts, done


def _shortfall(p) -> float:
    m = p.engine.margin(p.attacker, SUB)
    return max(0.0, (m.initial - m.equity) / WAD)


def run(ctx, name: str, backend_kind: str, attack: str) -> Result:
    backend, world, p, put = _setup(ctx, backend_kind)
    _prepare_taker(world)
    r = Result(name, ctx.mechanism, backend.name)
    r.steps.append(measure(world))
    if attack == "flash_pump":
        _flash_pump(ctx, world, r, put)
    else:
        _twap_push(ctx, world, r, put)
    r.steps.append(measure(world, attacker_pnl=r.metrics.get("attacker_pnl_usd")))
    r.metrics["gas_used"] = backend.chain.gas_used()
    r.metrics.update(liquidation_metrics(world, r.steps))
    r.series = {"t": [s["t"] for s in r.steps], "market": [s["market"] for s in r.steps],
                "oracle": [s["oracle"] for s in r.steps], "deficit": [s["deficit_usd"] for s in r.steps],
                "healths_start": r.steps[0]["healths"], "healths_end": r.steps[-1]["healths"]}
    return r


def _flash_pump(ctx, world, r, put):
    p, chain = world.p, world.chain
    honest = world.market
    atomic = FlashPumpAttacker(world.backend, p)
    runs = [atomic.attack(f) for f in (10, 50)]
    ok_oracle = all(x["oracle_pumped"] == honest and STATUS[x["status_pumped"]] == "DEVIANT" for x in runs)
    r.check("oracle mid-pump is the feed, flagged DEVIANT", ok_oracle,
            [(x["factor"], x["oracle_pumped"], STATUS[x["status_pumped"]]) for x in runs],
            "; ".join(f"{x['factor']:.0f}x: spot {x['spot_pumped']:,.0f}, oracle {x['oracle_pumped']:,.0f} "
                      f"{STATUS[x['status_pumped']]}, TWAP {x['twap_pumped']:,.0f}" for x in runs))
    r.notes += [f"flash loan {x['factor']:.0f}x: borrowed {x['borrowed_usd']:,.0f} USD, attacker PnL "
                f"{x['pnl_usd']:,.0f} USD (fees)" for x in runs]

    # The same pump from the wallet, the clock standing still, with actions in the middle.
    who = p.attacker
    t0 = chain.timestamp
    _, loan = amount_to_price(p.pool.reserve0(), p.pool.reserve1(), int(honest * 10 * WAD), p.pool.fee_bps())
    p.usd.mint(who, loan // 20, sender=p.deployer)  # its own pocket, for the fees
    before = _score(world, honest)
    p.usd.mint(who, loan, sender=p.deployer)  # the flash loan (repaid below, with its fee)
    bought = pump_from_wallet(p, who, int(honest * 10 * WAD))
    pumped = p.pool.spot_price() / WAD
    collateral = p.engine.account(who, SUB)[1]
    withdraw_ok, why_w = chain.attempt(p.engine.withdraw, SUB, collateral // 2, 0, sender=who)
    write_ok, why_s = chain.attempt(p.engine.open_short, SUB, put, 10 * WAD, sender=who)
    tried, liquidated = _try_liquidations(world)
    dump_to_wallet(p, who, bought)
    fee = loan * p.lender.fee_bps() // 10_000
    p.usd.transfer(p.deployer, loan + fee, sender=who)  # repay
    same_block = chain.timestamp == t0
    pnl = _score(world, honest) - before
    r.check("write at the pumped price refused", not write_ok, why_s or "accepted",
            f"spot {pumped:,.0f} (x{pumped / honest:.1f}); open_short: {why_s if not write_ok else 'ACCEPTED'}")
    r.check("withdrawal at the pumped price refused", not withdraw_ok, why_w or "accepted",
            f"withdraw half the collateral: {why_w if not withdraw_ok else 'ACCEPTED'}")
    if ctx.mechanism != "none":
        r.check("liquidation at the pumped price refused", not liquidated, len(liquidated),
                f"{tried} book accounts tried (start / take at the pumped price): {liquidated or 'all refused'}")
    r.check("attacker PnL <= 0", pnl <= 0 and all(x["pnl_usd"] <= 0 for x in runs), round(pnl, 2),
            f"wallet pump: {pnl:,.2f} USD (loan {loan / 1e6:,.0f} USD, same block: {same_block}); "
            "flash-loan pumps: " + ", ".join(f"{x['pnl_usd']:,.0f}" for x in runs) + " USD")
    r.metrics.update({"attacker_pnl_usd": pnl + sum(x["pnl_usd"] for x in runs), "pump_factor": pumped / honest,
                      "loan_usd": loan / 1e6, "shortfall_left_usd": _shortfall(p), "bad_debt_usd": p.engine.bad_debt() / WAD})


def _twap_push(ctx, world, r, put, k: int = 10, factor: float = 1.3):
    p, chain = world.p, world.chain
    who = p.attacker
    honest = world.market
    window = p.oracle.twap_window()
    twap0 = p.twap.twap(window) / WAD
    p.usd.mint(who, 10**14, sender=p.deployer)  # the attacker's capital, in the score before and after
    before = _score(world, honest)
    bought = pump_from_wallet(p, who, int(honest * factor * WAD))
    for _ in range(k):  # k consecutive blocks, nobody arbitrages
        chain.mine(deltatime=12)
        world.reporter.observe(honest)  # the feed stays honest
        world.keeper.step()
    twap1 = p.twap.twap(window) / WAD
    price, status = p.oracle.price()
    collateral = p.engine.account(who, SUB)[1]
    withdraw_ok, why_w = chain.attempt(p.engine.withdraw, SUB, collateral // 2, 0, sender=who)
    write_ok, why_s = chain.attempt(p.engine.open_short, SUB, put, 10 * WAD, sender=who)
    healthy = [a.sub for a in world.book if p.engine.margin(p.writer, a.sub).health >= WAD]
    tried, liquidated = _try_liquidations(world)
    dump_to_wallet(p, who, bought)
    cost = before - _score(world, honest)
    gain = _shortfall(p)
    moved = twap1 / twap0 - 1
    expected = k * 12 / window * (factor - 1)
    r.check("TWAP moved by about k x 12 s / window of the push", 0.5 * expected <= moved <= 2 * expected,
            round(moved, 6), f"TWAP {twap0:,.2f} -> {twap1:,.2f} ({moved:+.3%}; k x 12 / {window} x {factor - 1:.0%} "
            f"= {expected:+.3%}); oracle during the push {price / WAD:,.2f} {STATUS[status]}")
    r.check("no profitable action (gain - cost <= 0)", gain - cost <= 0, round(gain - cost, 2),
            f"cost {cost:,.2f} USD (pool round trip), gain {gain:,.2f} USD; withdraw: "
            f"{why_w if not withdraw_ok else 'accepted'}; write: {why_s if not write_ok else 'accepted'}")
    if ctx.mechanism != "none":
        hit = [x for x in liquidated if x[0] in healthy]
        r.check("no liquidation of a healthy account during the push", not hit, len(hit),
                f"{tried} book accounts tried ({len(healthy)} healthy at the honest price): {liquidated or 'all refused'}")
    r.notes.append(f"TWAP push x{factor} for {k} blocks: cost {cost:,.0f} USD vs gain {gain:,.0f} USD")
    r.metrics.update({"attacker_pnl_usd": gain - cost, "push_cost_usd": cost, "push_gain_usd": gain,
                      "twap_move": moved, "blocks_held": k, "bad_debt_usd": p.engine.bad_debt() / WAD})
