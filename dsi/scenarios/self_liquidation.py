"""Donate then self-liquidate (Euler, March 2023: `donateToReserves` cut the attacker's own
collateral with no health check, and the attacker liquidated the now-insolvent account from a
second account at the maximum discount; 197M USD).

The attacker runs a levered account A (10 puts at 0.9 x spot, cross margin, 1.02 x initial) and
a well-funded taker account B, both its own.

1. Donations and self-inflicted insolvency, at the honest price: it transfers USD and WETH
   straight to the engine and the insurance fund (a donation), tries to withdraw A's collateral,
   take its collateral out by switching mode, and deposit to the fund. None of it may move
   A's margin, credit anyone, raise the fund's capital or make A liquidatable.
2. The market slides 15% over ten one-minute blocks (feed and pool together, nobody else
   liquidating), then holds until the oracle is FRESH again (a 1.5%-a-minute slide keeps spot
   more than 5% off the 30-minute TWAP: DEVIANT, no liquidation): A is below maintenance, still
   solvent. The attacker liquidates A from B before anyone else (Dutch: start, then take at
   once; fixed and dynamic: take), as much as it may.
3. The attacker's PnL over the whole scenario, action by action at the price of the moment,
   gas at `params.keeper_gas_gwei`: wallet (USD, WETH) + A and B at net value (collateral plus
   signed marks; A at no less than zero: limited liability). The donations are part of it.

Pass criteria: donations change no balance the protocol counts; A is never made liquidatable
by its owner; self-liquidation PnL <= 0 (it pays the fund's share of the discount, and the
keeper incentive it may collect is never more than that); attacker PnL <= 0. Under `none`
(no liquidator) step 2 is not played.
"""

from __future__ import annotations

from dsi.agents.attackers import account_value, fund_taker_account, open_levered_short, wallet_value
from dsi.metrics import measure
from dsi.scenarios import Result
from dsi.scenarios.world import build_world

WAD = 10**18
A, B = 1, 2
DONATION_USD = 5_000
DONATION_WETH = 1
DIP_BLOCKS = 10


class Ledger:
    """The attacker's wealth and PnL, action by action."""

    def __init__(self, world, gwei: float):
        self.world, self.gwei = world, gwei
        self.actions: list[tuple[str, float]] = []

    def wealth(self) -> float:
        p = self.world.p
        w = wallet_value(p, p.attacker, self.world.market)
        for sub in (A, B):
            w += max(net_value(self.world, p.attacker, sub), 0.0) if sub == A else net_value(self.world, p.attacker, sub)
        return w

    def act(self, label: str, fn, *args, **kwargs):
        """Run one attacker transaction (may revert: then only its gas counts)."""
        chain = self.world.chain
        before, gas0 = self.wealth(), chain.gas_used()
        ok, out = chain.attempt(fn, *args, **kwargs)
        gas = chain.gas_used() - gas0
        pnl = self.wealth() - before - gas * self.gwei * 1e-9 * self.world.market
        self.actions.append((label, pnl))
        return ok, out

    @property
    def pnl(self) -> float:
        return sum(x for _, x in self.actions)


def net_value(world, owner, sub) -> float:
    """Collateral at the market price plus signed marks (shorts marked up), USD
    (`dsi.agents.attackers.account_value`, pricing the marks only for an account with positions)."""
    from dsi.metrics import marks

    p = world.p
    mk = marks(world, int(world.market * WAD)) if p.engine.positions(owner, sub) else {}
    return account_value(p, owner, sub, world.market, mk)


def run(ctx, name: str = "donate_self_liquidate", backend_kind: str = "revm", dip: float = 0.85) -> Result:
    backend = ctx.make_backend(backend_kind)
    world = build_world(backend, ctx.params, ctx.mechanism)
    p, chain, who = world.p, world.chain, world.p.attacker
    put = world.series[(0.9, False)]
    open_levered_short(p, who, A, put, 10)
    p.weth.mint(who, 10 * WAD, sender=p.deployer)
    has_fund = ctx.mechanism != "none"
    fund_taker_account(p, who, B, approve_fund=has_fund)  # the fund's fee share on takes
    ledger = Ledger(world, ctx.params.keeper_gas_gwei)
    r = Result(name, ctx.mechanism, backend.name)
    r.steps.append(measure(world))

    # 1. donations and self-inflicted insolvency
    m0 = p.engine.margin(who, A)
    ledger_usd, ledger_weth = p.engine.total_usd(), p.engine.total_weth()
    capital0 = p.insurance_fund.capital() if has_fund else None
    ledger.act("donate USD to the engine", p.usd.transfer, p.engine.address, DONATION_USD * 10**6, sender=who)
    ledger.act("donate WETH to the engine", p.weth.transfer, p.engine.address, DONATION_WETH * WAD, sender=who)
    if has_fund:
        ledger.act("donate USD to the fund", p.usd.transfer, p.insurance_fund.address, DONATION_USD * 10**6,
                   sender=who)
    refused = []
    collateral = p.engine.account(who, A)[1]
    for label, fn, args in (("withdraw A's collateral", p.engine.withdraw, (A, collateral, 0)),
                            ("withdraw a tenth of it", p.engine.withdraw, (A, collateral // 10, 0)),
                            ("switch A to portfolio", p.engine.set_mode, (A, 2)),
                            ("switch A to isolated", p.engine.set_mode, (A, 0))):
        ok, why = ledger.act(label, fn, *args, sender=who)
        m = p.engine.margin(who, A)
        if ok and m.equity < m.initial:
            refused.append(f"{label}: ACCEPTED below initial")
        elif not ok:
            refused.append(f"{label}: {why}")
    m1 = p.engine.margin(who, A)
    unchanged = (p.engine.total_usd() == ledger_usd and p.engine.total_weth() == ledger_weth
                 and m1.equity == m0.equity and (not has_fund or p.insurance_fund.capital() == capital0))
    r.check("donations change no balance the protocol counts", unchanged, unchanged,
            f"engine ledger {ledger_usd / 1e6:,.0f} USD / {ledger_weth / WAD:.2f} WETH before and "
            f"{p.engine.total_usd() / 1e6:,.0f} / {p.engine.total_weth() / WAD:.2f} after; A's equity "
            f"{m0.equity / WAD:,.2f} -> {m1.equity / WAD:,.2f}"
            + (f"; fund capital {capital0 / 1e6:,.0f} -> {p.insurance_fund.capital() / 1e6:,.0f}" if has_fund else ""))
    self_made = m1.equity < m1.maintenance
    r.check("the owner cannot make its own account liquidatable", not self_made and not any("ACCEPTED" in x for x in refused),
            m1.health / WAD, f"A's health {m1.health / WAD:.3f}; " + "; ".join(refused))

    # 2. the dip, then self-liquidation from B before anyone else
    self_pnl = 0.0
    if has_fund:
        world.keeper.active = False  # the attacker acts first: nobody else liquidates meanwhile
        start = world.market
        for i in range(1, DIP_BLOCKS + 1):  # the market slides over DIP_BLOCKS one-minute blocks
            world.step(start * (1 - (1 - dip) * i / DIP_BLOCKS), 60)
        # A 1.5%-a-minute slide leaves spot > 5% off the 30-minute TWAP; the feed follows it, so the
        # oracle stays FRESH (a fast market). Should it not be, liquidation waits for FRESH.
        held = 0
        while p.oracle.price()[1] != 0 and held < 60:
            world.step(world.market, 60)
            held += 1
        world.keeper.active = True
        if held:
            r.notes.append(f"the oracle was not FRESH for {held} one-minute blocks after the slide; "
                           "liquidation waited for FRESH")
        liq = p.liquidator
        liquidatable = liq.is_liquidatable(who, A)
        n0 = len(ledger.actions)
        if ctx.mechanism == "dutch":
            ledger.act("start an auction on A", liq.start, who, A, sender=who)
        ok, out = ledger.act("take A from B", liq.take, who, A, B, WAD, 2**255 - 1, sender=who)
        self_pnl = sum(x for _, x in ledger.actions[n0:])
        r.check("self-liquidation PnL <= 0", self_pnl <= 0, round(self_pnl, 2),
                f"A liquidatable after the {1 - dip:.0%} dip: {liquidatable}; take "
                f"{'done' if ok else 'refused: ' + str(out)}; PnL of the self-liquidation {self_pnl:,.2f} USD "
                f"(gas at {ctx.params.keeper_gas_gwei:g} gwei)")
        world.keeper.step()
    r.check("attacker PnL <= 0", ledger.pnl <= 0, round(ledger.pnl, 2),
            "; ".join(f"{label} {x:+,.2f}" for label, x in ledger.actions))
    r.steps.append(measure(world, attacker_pnl=ledger.pnl))
    steps = r.steps
    r.metrics = {"attacker_pnl_usd": ledger.pnl, "self_liquidation_pnl_usd": self_pnl,
                 "donated_usd": DONATION_USD * (2 if has_fund else 1) + DONATION_WETH * steps[0]["market"],
                 "fund_balance_usd": steps[-1]["fund_balance_usd"], "socialised_loss_usd": steps[-1]["socialised_loss_usd"],
                 "bad_debt_usd": steps[-1]["bad_debt_usd"], "gas_used": chain.gas_used()}
    r.series = {"t": [s["t"] for s in steps], "market": [s["market"] for s in steps],
                "oracle": [s["oracle"] for s in steps], "deficit": [s["deficit_usd"] for s in steps],
                "healths_start": steps[0]["healths"], "healths_end": steps[-1]["healths"]}
    return r
