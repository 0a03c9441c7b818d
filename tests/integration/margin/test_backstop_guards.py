"""The backstop guards (Mango Markets 2022, JELLY 2025): the per-series open-interest cap, and
realised equity: a portfolio's unrealised profit (net positive marks) never backs a withdrawal
or a new short, while the margin view (and liquidation) still values the book at mark."""

import ape
import pytest

from dsi.reference import margin as M

WAD = 10**18
PORTFOLIO = 2


def test_open_interest_cap_is_owner_only_nonzero_and_logged(margin_world):
    e, d, attacker = margin_world.engine, margin_world.protocol.deployer, margin_world.protocol.attacker
    assert e.open_interest_cap() == 10_000 * WAD  # the deployed default
    with ape.reverts("ownable: caller is not the owner"):
        e.set_open_interest_cap(WAD, sender=attacker)
    with ape.reverts("margin: zero cap"):
        e.set_open_interest_cap(0, sender=d)
    receipt = e.set_open_interest_cap(123 * WAD, sender=d)
    assert e.open_interest_cap() == 123 * WAD
    assert [log.cap for log in receipt.decode_logs(e.OpenInterestCapSet)] == [123 * WAD]
    e.set_open_interest_cap(10_000 * WAD, sender=d)


def test_writing_stops_exactly_at_the_open_interest_cap(margin_world, fund_account):
    w = margin_world
    p, e = w.protocol, w.engine
    sid = w.ids[(2400, False)]
    fund_account(p.attacker, 2_000_000, sub=7)
    e.set_mode(7, 1, sender=p.attacker)
    e.set_open_interest_cap(e.open_interest(sid) + 5 * WAD, sender=p.deployer)
    try:
        e.open_short(7, sid, 5 * WAD, sender=p.attacker)  # up to the cap exactly: accepted
        before = e.open_interest(sid)
        with ape.reverts("margin: open interest cap"):
            e.open_short(7, sid, WAD // 100, sender=p.attacker)  # one minimum size more: refused
        assert e.open_interest(sid) == before
        e.close_short(7, sid, WAD, sender=p.attacker)  # reducing is always allowed, and frees room
        e.open_short(7, sid, WAD, sender=p.attacker)
    finally:
        e.set_open_interest_cap(10_000 * WAD, sender=p.deployer)


def test_unrealised_profit_does_not_back_a_withdrawal(margin_world, fund_account):
    """A portfolio holding a long call (net positive marks) and a short put: withdrawing the
    amount that the marks would cover is refused; what realised equity covers is allowed."""
    w = margin_world
    p, e, who = w.protocol, w.engine, w.protocol.buyer
    call, put = w.ids[(3000, True)], w.ids[(2400, False)]
    fund_account(who, 1_000_000, sub=8)  # the longs' writer account
    e.set_mode(8, 1, sender=who)
    e.open_short(8, call, 10 * WAD, sender=who)
    p.option_token.setApprovalForAll(e.address, True, sender=who)
    fund_account(who, 5_000, sub=9)
    e.set_mode(9, PORTFOLIO, sender=who)
    for sid in (call, put):  # cached risk arrays: the portfolio checks below stay cheap on anvil
        p.risk_arrays.refresh(sid, sender=p.keeper)
    e.deposit_long(9, call, 10 * WAD, sender=who)
    e.open_short(9, put, 2 * WAD, sender=who)
    m = e.margin(who, 9)
    _, usd, _, _ = e.account(who, 9)
    collateral = usd * 10**12 * (WAD - margin_world.model.usd_haircut()) // WAD
    marks = m.equity - collateral
    assert marks > 0  # unrealised profit: the long call is worth more than the short put
    assert M.realised_equity(collateral / WAD, m.equity / WAD) == collateral / WAD
    # withdraw so that equity (with the marks) stays above initial but collateral does not
    over = (collateral - m.initial + marks // 2) * WAD // (WAD - margin_world.model.usd_haircut()) // 10**12
    assert m.equity - over * 10**12 * (WAD - margin_world.model.usd_haircut()) // WAD > m.initial  # the old rule would accept
    with ape.reverts("margin: below initial margin"):
        e.withdraw(9, over, 0, sender=who)
    # and the same profit cannot back a new short either
    with ape.reverts("margin: below initial margin"):
        e.open_short(9, put, 40 * WAD, sender=who)
    # what realised equity covers is allowed: keep 1% room over initial
    ok = (collateral - m.initial * 101 // 100) * WAD // (WAD - margin_world.model.usd_haircut()) // 10**12
    assert ok > 0
    e.withdraw(9, ok, 0, sender=who)
    after = e.margin(who, 9)
    assert after.equity == pytest.approx((m.equity - ok * 10**12 * (WAD - margin_world.model.usd_haircut()) // WAD), abs=10**12)
    assert after.equity > after.initial  # the margin view still counts the marks (liquidation values at mark)
