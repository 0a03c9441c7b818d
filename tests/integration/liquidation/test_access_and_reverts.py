"""Access control of every privileged liquidation function, and every revert reason of the
liquidation hooks, mechanisms and fund not exercised by the property tests."""

from __future__ import annotations

import ape
import pytest

from conftest import TAKER_SUB, WAD

ALL = 2**255 - 1
NOT_OWNER = "ownable: caller is not the owner"


def test_engine_hooks_access_control(world):
    p, engine = world.p, world.engine
    with ape.reverts(NOT_OWNER):
        engine.set_liquidation(p.attacker, p.attacker, sender=p.attacker)
    with ape.reverts("margin: not liquidator"):
        engine.transfer_share(p.writer, 0, p.attacker, 1, WAD, 0, sender=p.attacker)
    with ape.reverts("margin: not liquidator"):
        engine.set_insolvent_accounts(0, sender=p.attacker)
    with ape.reverts("margin: not insurance fund"):
        engine.resolve_bad_debt(1, 0, sender=p.attacker)


def test_fund_access_control(world):
    p, fund = world.p, world.fund
    with ape.reverts(NOT_OWNER):
        fund.set_liquidator(p.attacker, sender=p.attacker)
    with ape.reverts(NOT_OWNER):
        fund.set_limits(0, 0, sender=p.attacker)
    with ape.reverts(NOT_OWNER):
        fund.withdraw(p.attacker, 1, sender=p.attacker)
    with ape.reverts("fund: not liquidator"):
        fund.collect(p.attacker, 1, sender=p.attacker)
    with ape.reverts("fund: not liquidator"):
        fund.pay_subsidy(p.attacker, 1, 0, sender=p.attacker)
    with ape.reverts("fund: not liquidator"):
        fund.pay_incentive(p.attacker, 1, sender=p.attacker)
    with ape.reverts("fund: limits out of bounds"):
        fund.set_limits(WAD + 1, 0, sender=p.deployer)
    with ape.reverts("fund: limits out of bounds"):
        fund.set_limits(0, WAD // 2 + 1, sender=p.deployer)


def test_mechanism_parameters_access_control_and_bounds(world):
    p = world.p
    d, a = p.deployer, p.attacker
    dutch, fixed, dyn = (world.mechanisms[n] for n in ("dutch", "fixed", "dynamic"))
    c = dutch.curve()
    good = dict(tip=dutch.tip(), chip=dutch.chip(), cap=dutch.auction_cap(), dust=dutch.dust(), share=dutch.fund_share())

    def set_dutch(curve=c, tip=good["tip"], chip=good["chip"], dust=good["dust"], share=good["share"], sender=d):
        dutch.set_parameters(curve, tip, chip, good["cap"], dust, share, sender=sender)

    with ape.reverts(NOT_OWNER):
        set_dutch(sender=a)
    with ape.reverts(NOT_OWNER):
        fixed.set_parameters(fixed.penalty(), fixed.close_factor(), 0, 0, 0, sender=a)
    with ape.reverts(NOT_OWNER):
        dyn.set_parameters(0, 0, 0, 0, 0, 0, sender=a)
    fields = list(c)
    for i, bad in ((0, c.mid_discount + 1), (3, 9 * 10**17 + 1), (2, 0), (4, c.mid_time), (5, 86_401),
                   (6, 10**16 - 1), (7, 0), (8, WAD - 1)):
        broken = fields.copy()
        broken[i] = bad
        if i == 3:
            broken[1] = broken[0]  # keep start <= mid <= floor, floor above the bound
        with ape.reverts("liquidation: curve out of bounds"):
            set_dutch(curve=tuple(broken))
    with ape.reverts("liquidation: incentive out of bounds"):
        set_dutch(tip=1_000 * 10**6 + 1)
    with ape.reverts("liquidation: incentive out of bounds"):
        set_dutch(chip=10**16 + 1)
    with ape.reverts("liquidation: dust out of bounds"):
        set_dutch(dust=10**22 + 1)
    with ape.reverts("liquidation: fund share out of bounds"):
        set_dutch(share=WAD // 2 + 1)
    with ape.reverts("liquidation: penalty out of bounds"):
        fixed.set_parameters(WAD // 4 + 1, WAD // 2, 0, 0, 0, sender=d)
    with ape.reverts("liquidation: close factor out of bounds"):
        fixed.set_parameters(0, WAD // 10 - 1, 0, 0, 0, sender=d)
    with ape.reverts("liquidation: close factor out of bounds"):
        fixed.set_parameters(0, WAD + 1, 0, 0, 0, sender=d)
    with ape.reverts("liquidation: threshold out of bounds"):
        fixed.set_parameters(0, WAD, 10**23 + 1, 0, 0, sender=d)
    with ape.reverts("liquidation: fee out of bounds"):
        dyn.set_parameters(0, 0, 0, WAD // 2 + 1, 0, 0, sender=d)
    with ape.reverts("liquidation: fee out of bounds"):
        dyn.set_parameters(2, 0, 0, 1, 0, 0, sender=d)
    with ape.reverts("liquidation: slope out of bounds"):
        dyn.set_parameters(0, 5 * WAD + 1, 0, 0, 0, 0, sender=d)
    with ape.reverts("liquidation: slope out of bounds"):
        dyn.set_parameters(0, 0, 5 * WAD + 1, 0, 0, 0, sender=d)
    fixed.set_parameters(10**17, WAD, 0, 0, 10**17, sender=d)
    assert (fixed.penalty(), fixed.close_factor(), fixed.fund_share()) == (10**17, WAD, 10**17)


def test_take_reverts(world, underwater):
    p = world.p
    liq = world.use("fixed")
    owner, sub = underwater()
    with ape.reverts("liquidation: zero fraction"):
        liq.take(owner, sub, TAKER_SUB, 0, ALL, sender=p.keeper)
    with ape.reverts("liquidation: same account"):
        liq.take(owner, sub, sub, WAD, ALL, sender=owner)
    with ape.reverts("liquidation: price above limit"):
        liq.take(owner, sub, TAKER_SUB, WAD, 0, sender=p.keeper)
    with ape.reverts("margin: below initial margin"):
        liq.take(owner, sub, 7, WAD, ALL, sender=p.keeper)  # an empty taker account cannot carry it
    p.pool.swap_exact_in(p.usd.address, 2_000_000 * 10**6, 0, p.arbitrageur, sender=p.arbitrageur)
    with ape.reverts("liquidation: oracle not usable"):
        liq.start(owner, sub, sender=p.keeper)
    with ape.reverts("liquidation: oracle not usable"):
        liq.sync(owner, sub, sender=p.keeper)


def test_transfer_share_reverts(world, underwater):
    """The engine's own checks, with the keeper wired as the liquidator (a privileged caller)."""
    p, engine = world.p, world.engine
    owner, sub = underwater()
    engine.set_liquidation(p.keeper, p.keeper, sender=p.deployer)
    with ape.reverts("margin: bad fraction"):
        engine.transfer_share(owner, sub, p.keeper, TAKER_SUB, 0, 0, sender=p.keeper)
    with ape.reverts("margin: bad fraction"):
        engine.transfer_share(owner, sub, p.keeper, TAKER_SUB, WAD + 1, 0, sender=p.keeper)
    with ape.reverts("margin: insufficient collateral"):
        engine.transfer_share(owner, sub, p.keeper, TAKER_SUB, WAD // 2, 10**15, sender=p.keeper)
    # The taker holds the opposite side: a custody long of the series the account is short.
    sid = world.ids[(2700, False)]
    p.option_token.safeTransferFrom(p.writer, p.keeper, sid, WAD, b"", sender=p.writer)
    p.option_token.setApprovalForAll(engine.address, True, sender=p.keeper)
    engine.deposit_long(TAKER_SUB, sid, WAD, sender=p.keeper)
    with ape.reverts("margin: taker holds opposite side"):
        engine.transfer_share(owner, sub, p.keeper, TAKER_SUB, WAD // 2, 0, sender=p.keeper)
    with ape.reverts("margin: exceeds bad debt"):
        engine.resolve_bad_debt(sid, 1, sender=p.keeper)
    p.pool.swap_exact_in(p.usd.address, 2_000_000 * 10**6, 0, p.arbitrageur, sender=p.arbitrageur)
    with ape.reverts("margin: oracle not usable"):
        engine.transfer_share(owner, sub, p.keeper, 2, WAD // 2, 0, sender=p.keeper)


def test_engine_transfer_share_moves_pro_rata_with_rounding(world, underwater):
    """Shorts rounded up to the taker, collateral down, the payment credited; totals unchanged."""
    p, engine = world.p, world.engine
    owner, sub = underwater()
    engine.set_liquidation(p.keeper, p.keeper, sender=p.deployer)
    f = WAD // 3
    _, usd, weth, _ = engine.account(owner, sub)
    short = engine.positions(owner, sub)[0].amount
    total_usd = engine.total_usd()
    world.fund_account(p.keeper, 100_000, 2)
    engine.transfer_share(owner, sub, p.keeper, 2, f, 123, sender=p.keeper)
    moved_short = -((-short * f + WAD - 1) // WAD)
    assert engine.positions(p.keeper, 2)[0].amount == moved_short
    assert engine.positions(owner, sub)[0].amount == short - moved_short
    assert engine.account(owner, sub)[1] == usd - usd * f // WAD + 123
    assert engine.account(p.keeper, 2)[1] == 100_000 * 10**6 + usd * f // WAD - 123
    assert engine.total_usd() == total_usd + 100_000 * 10**6
