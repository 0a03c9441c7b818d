"""Settlement push (issue 13, the outside review): an attacker holding options whose payoff
rises when the settlement price moves pushes the spot pool in the last block(s) before expiry,
unwinds after, then everything settles and is redeemed.

The world: spot 3,000, a 1-day expiry, the pool of the parameter file (1,000 WETH deep), the
arbitrageur aligning the pool to the true price (3,000, constant) every block, the reporter
pushing the true price to the feed every block (settlement may read the feed at expiry), the
keeper slot of the mechanism observing and poking every block. A book of honest writers (naked
1.1 puts, covered 0.9 calls, an ATM straddle, cross margin) sells its longs to the buyer.

The attacker, sized at the engine's open-interest cap (what is left of it in the series it
writes; the vault, which has no cap, sells it as many):
- push up: it buys ATM vault calls from an honest vault writer and writes 1.1 puts in the
  engine (sold to the buyer): a higher settlement pays its calls more and its puts less;
- push down: ATM vault puts bought, 0.9 calls written: a lower settlement pays it both ways.
Variants (each from the same snapshot, 192 s before expiry):
- one block: the attacker's swap is the last of the block 12 s before expiry (after the
  arbitrageur), its unwind the first of the block at expiry, from its own capital (a flash loan
  cannot span two blocks), at r x the true price;
- k consecutive blocks held (a validator with k slots: no arbitrage in them), k = 2..10;
- a flash loan at expiry (SettlementPumpAttacker: borrow from the FlashLender, pump, settle
  the series mid-pump, dump, repay in one transaction).
Then: settle (a deferred settlement waits out the oracle's `settlement_delay`, the way out),
every short pays in, the fund covers any shortfall, holders redeem.

Graded on every variant:
- attacker PnL <= 0: its wealth at the true price after minus before (wallet USD and WETH,
  options at their payoff at the true price, its margin account, the attack contract's
  balance): swap fees and price impact, flash-loan fees and the payoffs all counted;
- holders paid in full: every honest holder (the buyer) receives at least the payoff of its
  longs at the true price (USD, and WETH valued at the true price), nothing left pending.
The settlement price against the true price, deferred or not, is reported per variant.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from dsi.agents.arbitrageur import amount_to_price, trade_to_price
from dsi.agents.book import CROSS, AccountSpec
from dsi.metrics import measure
from dsi.scenarios import Result
from dsi.scenarios.grading import liquidation_metrics, series as chart_series
from dsi.scenarios.settlement import (account_collateral, payoff, pending_claims, redeem_wallet,
                                      settle_expiry, settle_shorts, wallet_usd)
from dsi.scenarios.world import build_world, holders

WAD = 10**18
SPOT = 3_000.0
BLOCK = 12
KMAX = 10
LEAD_BLOCKS = KMAX + 6  # honest blocks between the snapshot and the earliest push
ATTACK_SUB = 1
USD_CAPITAL = 60_000_000  # the attacker's own capital for cross-block pushes (x100 needs ~27M USD)
WETH_CAPITAL = 12_000  # (/100 needs ~9,030 WETH)
TOLERANCE_USD = 0.01  # rounding: the protocol rounds in its favour, to the wei

BOOK = (
    AccountSpec(1, CROSS, "naked put", ((1.1, False, -10),)),
    AccountSpec(2, CROSS, "covered call", ((0.9, True, -10),), weth_collateral=10.0),
    AccountSpec(3, CROSS, "short straddle", ((1.0, True, -10), (1.0, False, -10))),
)


@dataclass(frozen=True)
class Push:
    r: float  # the pool is pushed to r x the true price (> 1 up, < 1 down)
    k: int = 1  # consecutive blocks held
    flash: bool = False  # same-block flash pump at expiry, settling mid-pump

    @property
    def up(self) -> bool:
        return self.r > 1

    @property
    def label(self) -> str:
        f = f"x{self.r:g}" if self.up else f"/{1 / self.r:g}"
        return f"flash {f} at expiry" if self.flash else f"{f} for {self.k} block{'s' if self.k > 1 else ''}"


def variants(quick: bool) -> list[Push]:
    if quick:
        return [Push(100), Push(1 / 100), Push(4, 10), Push(0.25, 10), Push(100, flash=True)]
    one = [Push(r) for r in (1.5, 4, 100)] + [Push(1 / r) for r in (1.5, 4, 100)]
    held = [Push(r, k) for k in range(2, KMAX + 1) for r in (4, 0.25)]
    return one + held + [Push(100, flash=True), Push(1 / 100, flash=True)]


def prepare(backend, params, mechanism: str):
    """The world at the snapshot point: book open, the attacker's capital and approvals in place,
    the market run (observed, poked, the feed fresh) to `LEAD_BLOCKS` blocks before expiry."""
    params = dataclasses.replace(params, spot=SPOT)
    world = build_world(backend, params, mechanism, book=BOOK, tenor_days=1, atm_vol=0.6)
    p, d = world.p, world.p.deployer
    who, writer = p.attacker, p.writer
    p.usd.mint(who, USD_CAPITAL * 10**6, sender=d)
    p.weth.mint(who, WETH_CAPITAL * WAD, sender=d)
    for token in (p.usd, p.weth):
        token.approve(p.pool.address, 2**256 - 1, sender=who)
        token.approve(p.engine.address, 2**256 - 1, sender=who)
        token.approve(p.vault.address, 2**256 - 1, sender=writer)
    p.engine.set_mode(ATTACK_SUB, CROSS, sender=who)
    world.keeper.watch(who, ATTACK_SUB)
    contract = backend.project.SettlementPumpAttacker.deploy(p.lender.address, p.pool.address, sender=who)
    world.extra["attack_contract"] = contract
    world.extra["accounts"] = [(who, ATTACK_SUB)]
    snap_at = world.expiry - BLOCK * LEAD_BLOCKS
    window = p.params.twap_window
    while world.chain.timestamp < snap_at:
        left = snap_at - world.chain.timestamp
        world.step(world.market, min(1_800, left) if left > 2 * window else min(60, left))
    return world


def open_positions(world, up: bool, size: float | None = None) -> dict:
    """The attacker's book for one direction: `n` ATM vault longs bought from the honest vault
    writer, `n` ITM shorts written in the engine (to the open-interest cap) and sold to the
    buyer. Returns the series and sizes."""
    p = world.p
    who, writer, buyer = p.attacker, p.writer, p.buyer
    long_sid = world.series[(1.0, up)]
    short_sid = world.series[(1.1, False)] if up else world.series[(0.9, True)]
    room = (p.engine.open_interest_cap() - p.engine.open_interest(short_sid)) // WAD * WAD
    n = room if size is None else min(int(size * WAD), room)
    strike, is_call = world.series_info[long_sid]
    if is_call:
        p.weth.mint(writer, n, sender=p.deployer)
    else:
        p.usd.mint(writer, strike * n // 10**30 + 1, sender=p.deployer)
    p.vault.write(long_sid, n, sender=writer)
    p.option_token.safeTransferFrom(writer, who, long_sid, n, b"", sender=writer)
    k_short = world.series_info[short_sid][0] / WAD
    per_option = abs(k_short - world.market) + 0.5 * world.market  # intrinsic + half the spot: ~2x initial
    p.usd.mint(who, int(per_option * n / WAD * 10**6), sender=p.deployer)
    p.engine.deposit(ATTACK_SUB, int(per_option * n / WAD * 10**6), 0, sender=who)
    p.engine.open_short(ATTACK_SUB, short_sid, n, sender=who)
    p.option_token.safeTransferFrom(who, buyer, short_sid, n, b"", sender=who)
    return {"long": long_sid, "short": short_sid, "size": n / WAD}


def wealth(world, price: float) -> float:
    """The attacker's wealth at `price`: wallet, its attack contract, options at their payoff at
    `price`, its margin account (collateral + positions at payoff), pending claims."""
    p, who = world.p, world.p.attacker
    w = wallet_usd(p, who, price)
    contract = world.extra.get("attack_contract")
    if contract is not None:
        w += wallet_usd(p, contract.address, price)
    for sid in world.series_info:
        bal = p.option_token.balanceOf(who, sid)
        if bal:
            w += bal / WAD * payoff(world, sid, price)
    w += account_collateral(p, who, ATTACK_SUB, price)
    for pos in p.engine.positions(who, ATTACK_SUB):
        w += pos.amount / WAD * payoff(world, pos.id, price)
    return w + pending_claims(world, who)


def _entitlement(world, who, price: float) -> float:
    p = world.p
    return sum(p.option_token.balanceOf(who, sid) / WAD * payoff(world, sid, price) for sid in world.series_info)


def _swap_to(p, who, target_wad: int) -> tuple[object, int]:
    """`who` swaps its own tokens until spot is ~`target_wad`; returns (token received, amount)."""
    side, amount = amount_to_price(p.pool.reserve0(), p.pool.reserve1(), target_wad, p.pool.fee_bps())
    if side == "none" or amount == 0:
        return None, 0
    token_in, token_out = (p.usd, p.weth) if side == "usd" else (p.weth, p.usd)
    before = token_out.balanceOf(who)
    p.pool.swap_exact_in(token_in.address, amount, 0, who, sender=who)
    return token_out, token_out.balanceOf(who) - before


def _block(world, dt: int, first=None, arbitrage: bool = True, last=None) -> None:
    """One block: the attacker's `first` transaction, the arbitrageur (unless a validator kept it
    out), the reporter (true price), the keeper slot, the attacker's `last` transaction."""
    world.chain.mine(deltatime=dt)
    if first:
        first()
    if arbitrage:
        trade_to_price(world.p, int(world.market * WAD))
    world.reporter.observe(world.market)
    world.keeper.step()
    if last:
        last()


def run_push(world, push: Push, size: float | None = None) -> dict:
    """One variant from the snapshot state: open, push, unwind, settle, pay in, redeem; the
    figures of the row."""
    p, chain = world.p, world.chain
    true = world.market
    pos = open_positions(world, push.up, size)
    contract = world.extra["attack_contract"]
    flash_fee = 0.0
    if push.flash:
        token, amount = _flash_size(p, int(true * push.r * WAD))
        fee = amount * p.lender.fee_bps() // 10_000 + 1
        prefund = amount // 50 + fee  # swap fees both ways (0.6%) and the loan fee, with room
        token.mint(contract.address, prefund, sender=p.deployer)  # its own pocket, before the score
    w0 = wealth(world, true)
    owed = _entitlement(world, p.buyer, true)
    h0 = wallet_usd(p, p.buyer, true)
    spot_pushed = true
    start = world.expiry - BLOCK * push.k
    while chain.timestamp + BLOCK < (world.expiry if push.flash else start):
        _block(world, BLOCK)
    cost0 = wallet_usd(p, p.attacker, true) + wallet_usd(p, contract.address, true)
    if push.flash:
        t0 = wallet_usd(p, contract.address, true)

        def flash():
            contract.attack(token.address, amount, p.series.address, pos["long"], sender=p.attacker)

        _block(world, world.expiry - chain.timestamp, first=flash)
        spot_pushed = contract.spot_pumped() / WAD
        flash_fee = (t0 - wallet_usd(p, contract.address, true))
        settled_mid_pump = contract.settle_ok()
    else:
        state = {}

        def pump():
            state["got"] = _swap_to(p, p.attacker, int(true * push.r * WAD))

        _block(world, start - chain.timestamp, last=pump)
        spot_pushed = p.pool.spot_price() / WAD
        for _ in range(push.k - 1):  # the validator's blocks: no arbitrage
            _block(world, BLOCK, arbitrage=False)

        def unwind():
            token, got = state["got"]
            if got:
                p.pool.swap_exact_in(token.address, got, 0, p.attacker, sender=p.attacker)

        _block(world, world.expiry - chain.timestamp, first=unwind)
        settled_mid_pump = None
    push_cost = cost0 - wallet_usd(p, p.attacker, true) - wallet_usd(p, contract.address, true)
    _block(world, BLOCK)
    arithmetic = p.twap.twap_between(world.expiry - p.oracle.settlement_window(), world.expiry) / WAD
    settled = settle_expiry(world, pos["long"])
    reference = getattr(p.oracle, "pool_reference", None)  # the fixed oracle's pool cross-check, if it has one
    pool_reference = reference(world.expiry) / WAD if reference is not None else None
    settle_shorts(world, holders(world), vault_writers=[(pos["long"], p.writer)])
    redeem_wallet(world, p.attacker)
    redeem_wallet(world, p.buyer)
    pnl = wealth(world, true) - w0
    received = wallet_usd(p, p.buyer, true) - h0
    pending = pending_claims(world, p.buyer) + pending_claims(world, p.attacker)
    move = settled.price / true - 1
    return {
        "label": push.label, "r": push.r, "blocks": push.k, "flash": push.flash, "size": pos["size"],
        "true": true, "spot_pushed": spot_pushed, "settled": settled.price, "move": move,
        "arithmetic_twap": arithmetic, "pool_reference": pool_reference, "rule": settled.rule, "deferred": settled.deferred,
        "waited_s": settled.waited_s, "first_attempt": settled.first_attempt, "settled_mid_pump": settled_mid_pump,
        "attacker_pnl_usd": pnl, "push_cost_usd": push_cost, "flash_cost_usd": flash_fee, "holder_owed_usd": owed,
        "holder_received_usd": received, "holder_shortfall_usd": max(owed - received, 0.0), "pending_usd": pending,
    }


def _flash_size(p, target_wad: int):
    side, amount = amount_to_price(p.pool.reserve0(), p.pool.reserve1(), target_wad, p.pool.fee_bps())
    token = p.usd if side == "usd" else p.weth
    return token, min(amount, p.lender.maxFlashLoan(token.address))


def run(ctx, name: str = "settlement_push", backend_kind: str = "revm", pushes=None) -> Result:
    backend = ctx.make_backend(backend_kind)
    world = prepare(backend, ctx.params, ctx.mechanism)
    chain = world.chain
    gas0 = chain.gas_used()
    r = Result(name, ctx.mechanism, backend.name)
    steps = [measure(world)]
    steps[0]["step"] = 0
    rows = []
    pushes = pushes or variants(ctx.quick)
    snap = chain.snapshot()
    for i, push in enumerate(pushes):
        chain.restore(snap)
        snap = chain.snapshot()  # a checkpoint is consumed by restore
        world.keeper.reset()
        row = run_push(world, push)
        rows.append(row)
        last = measure(world, attacker_pnl=row["attacker_pnl_usd"])
        last["step"] = i + 1
        steps.append(last)
        row["bad_debt_usd"] = last["bad_debt_usd"] - steps[0]["bad_debt_usd"]  # honest writers the push broke
        if ctx.progress:
            ctx.progress((i + 1) / len(pushes))
    best = max(rows, key=lambda x: x["attacker_pnl_usd"])
    r.check("attacker PnL <= 0 (every push)", best["attacker_pnl_usd"] <= 0, round(best["attacker_pnl_usd"], 2),
            f"best for the attacker: {best['label']} at the cap ({best['size']:,.0f} options a leg): "
            f"{best['attacker_pnl_usd']:+,.0f} USD, settled {best['settled']:,.2f} vs true {best['true']:,.0f}; "
            + "; ".join(f"{x['label']}: {x['attacker_pnl_usd']:+,.0f}" for x in rows))
    worst = max(rows, key=lambda x: (x["holder_shortfall_usd"], x["pending_usd"]))
    ok = all(x["holder_shortfall_usd"] <= TOLERANCE_USD and x["pending_usd"] <= TOLERANCE_USD for x in rows)
    r.check("holders paid in full (the payoff at the true price, nothing pending)", ok,
            round(worst["holder_shortfall_usd"], 2),
            f"worst: {worst['label']}: the buyer owed {worst['holder_owed_usd']:,.2f} USD at the true price, "
            f"received {worst['holder_received_usd']:,.2f}, pending {worst['pending_usd']:,.2f}")
    r.notes += [f"{x['label']}: spot pushed to {x['spot_pushed']:,.2f}; settled {x['settled']:,.2f} vs true "
                f"{x['true']:,.0f} ({x['move']:+.4%}, {x['rule']}"
                + (f" after {x['waited_s']:,} s" if x["deferred"] else "")
                + f"; arithmetic TWAP {x['arithmetic_twap']:,.2f}); attacker PnL {x['attacker_pnl_usd']:+,.0f} USD; "
                f"settlement bad debt {x['bad_debt_usd']:,.0f} USD"
                for x in rows]
    r.steps = steps
    r.metrics = liquidation_metrics(world, steps)
    r.metrics.update(
        attacker_pnl_usd=best["attacker_pnl_usd"], bad_debt_usd=max(x["bad_debt_usd"] for x in rows),
        max_settlement_move=max(abs(x["move"]) for x in rows),
        one_block_max_move=max((abs(x["move"]) for x in rows if x["blocks"] == 1 and not x["flash"]), default=None),
        ten_block_max_move=max((abs(x["move"]) for x in rows if not x["flash"]), default=None),
        deferred=sum(x["deferred"] for x in rows), variants=len(rows),
        max_holder_shortfall_usd=worst["holder_shortfall_usd"], gas_used=chain.gas_used() - gas0)
    r.series = chart_series(steps)
    r.series["variants"] = rows  # one row per variant (the tests and the bench read them)
    return r
