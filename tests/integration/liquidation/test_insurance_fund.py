"""Insurance fund: settlement bad debt covered first, then socialised onto the series' holders in a
recorded amount; internal accounting; governance withdrawals within limits; coverage."""

from __future__ import annotations

import ape
import pytest

from conftest import TAKER_SUB, WAD

ALL = 2**255 - 1


def _settle_insolvent_books(world, fund_capital_left: int | None):
    """The standing books (writer's and attacker's sub 0, short 10 puts K=2,700 each) crash to
    1,500 and nobody liquidates them; at expiry both shorts settle with shortfalls the engine
    records. Optionally drain the fund to `fund_capital_left` USD (6 decimals) first. Returns the
    series id."""
    p, engine = world.p, world.engine
    world.use("fixed")
    world.move(1_500)
    if fund_capital_left is not None:
        world.drain_fund(fund_capital_left)
    if world.chain.blocks.head.timestamp <= world.expiry:
        world.chain.mine(timestamp=world.expiry + 1)
    p.twap.update(sender=p.keeper)
    p.feed.submit(p.pool.spot_price(), sender=p.reporter)  # the feed reports the market at expiry
    sid = world.ids[(2700, False)]
    for owner in (p.writer, p.attacker):
        engine.settle_position(owner, 0, sid, sender=p.keeper)
    return sid


def test_settlement_bad_debt_covered_by_fund(world):
    p, engine, fund = world.p, world.engine, world.fund
    sid = _settle_insolvent_books(world, None)
    debt = engine.series_bad_debt(sid)
    assert debt > 0 and engine.uncovered_debt() == debt == engine.bad_debt()
    with ape.reverts("margin: insolvency outstanding"):
        engine.withdraw(3, 10**6, 0, sender=p.buyer)
    funded = p.series.funded_value(sid)
    capital = fund.capital()
    fund.cover_settlement(sid, sender=p.keeper)
    assert p.series.funded_value(sid) - funded == (capital - fund.capital()) * 10**12 >= debt
    assert fund.covered_by_series(sid) == debt and fund.socialised_by_series(sid) == 0
    assert fund.bad_debt() == fund.covered() + fund.socialised() == engine.bad_debt()
    assert engine.uncovered_debt() == 0
    engine.withdraw(3, 10**6, 0, sender=p.buyer)
    # Holders are paid in full: the writer's longs (minted at open) redeem their whole claim.
    owed = p.series.redemption_value(sid, 10 * WAD)
    cash = p.usd.balanceOf(p.writer)
    p.series.redeem(sid, 10 * WAD, sender=p.writer)
    paid = (p.usd.balanceOf(p.writer) - cash) * 10**12  # the pool holds USD only here
    assert paid >= owed - 10**12 and p.series.pending_claim(sid, p.writer) <= 10**12
    with ape.reverts("fund: no bad debt"):
        fund.cover_settlement(sid, sender=p.keeper)


def test_exhausted_fund_socialises_the_rest_in_the_series_pool(world):
    p, engine, fund = world.p, world.engine, world.fund
    sid = _settle_insolvent_books(world, 2_500 * 10**6)
    debt = engine.series_bad_debt(sid)
    tx = fund.cover_settlement(sid, sender=p.keeper)
    covered = tx.decode_logs(fund.BadDebtCovered)[0].amount
    socialised = tx.decode_logs(fund.LossSocialised)[0].amount
    assert covered == 2_500 * WAD and socialised == debt - covered > 0
    assert fund.capital() == 0
    assert fund.socialised_by_series(sid) == socialised
    assert fund.bad_debt() == fund.covered() + fund.socialised() == engine.bad_debt() == debt
    events = tx.decode_logs(fund.LossSocialised)
    assert len(events) == 1 and events[0].amount == socialised
    # The holders bear it pro rata, and it stays recorded as their pending claim.
    assert p.series.shortfall(sid) == socialised
    owed = p.series.redemption_value(sid, 10 * WAD)
    cash = p.usd.balanceOf(p.writer)
    p.series.redeem(sid, 10 * WAD, sender=p.writer)
    paid = (p.usd.balanceOf(p.writer) - cash) * 10**12  # the pool holds USD only here
    assert paid < owed and p.series.pending_claim(sid, p.writer) == owed - paid
    supply = p.series.settlement(sid).supply
    assert (owed - paid) / WAD == pytest.approx(socialised * (10 * WAD / supply) / WAD, rel=1e-6)
    # Accounts without positions paid nothing.
    assert engine.account(p.buyer, 3)[1] == 1_000 * 10**6


def test_insolvent_take_reverts_when_the_fund_is_exhausted(world, underwater):
    p, fund = world.p, world.fund
    liq = world.use("fixed")
    world.drain_fund(5_000 * 10**6)
    owner, sub = underwater(1_500)
    q = liq.quote(owner, sub, WAD)
    assert q.subsidy > fund.capital()
    with ape.reverts("fund: exhausted"):
        liq.take(owner, sub, TAKER_SUB, WAD, ALL, sender=p.keeper)


def test_donation_does_not_inflate_the_fund(world):
    p, fund = world.p, world.fund
    capital, coverage = fund.capital(), fund.coverage_of_open_interest()
    p.usd.mint(p.attacker, 10**12, sender=p.deployer)
    p.usd.transfer(fund.address, 10**12, sender=p.attacker)
    assert fund.capital() == capital and fund.coverage_of_open_interest() == coverage


def test_coverage_ratios(world):
    p, fund, engine = world.p, world.fund, world.engine
    notional = engine.total_short_units() * p.oracle.price()[0] // WAD
    assert fund.open_interest_notional() == notional
    assert fund.coverage_of_open_interest() == fund.capital() * 10**12 * WAD // notional
    mm = sum(engine.margin(a, 0).maintenance for a in (p.writer, p.attacker))
    assert fund.coverage_ratio(fund.capital(), mm) == fund.capital() * 10**12 * WAD // mm
    assert fund.coverage_ratio(1, 0) == 2**256 - 1


def test_governance_withdrawal_limits(world):
    p, fund = world.p, world.fund
    d = p.deployer
    capital = fund.capital()
    with ape.reverts("fund: rate limit"):
        fund.withdraw(d, capital // 10 + 1, sender=d)
    fund.withdraw(d, capital // 20, sender=d)
    with ape.reverts("fund: rate limit"):
        fund.withdraw(d, capital // 20, sender=d)
    world.chain.mine(deltatime=7 * 86_400 + 1)
    fund.set_limits(10**18, 5 * 10**17, sender=d)  # floor: 100% of open-interest notional
    with ape.reverts("fund: below floor"):
        fund.withdraw(d, fund.capital() // 3, sender=d)
    with ape.reverts("fund: insufficient capital"):
        fund.withdraw(d, fund.capital() + 1, sender=d)
    with ape.reverts("fund: zero amount"):
        fund.withdraw(d, 0, sender=d)
    with ape.reverts("fund: zero amount"):
        fund.deposit(0, sender=d)
