"""Dutch auction: the curve, resets, the global cap, keeper incentives, the insolvent phase."""

from __future__ import annotations

import ape
import pytest

from dsi.reference import liquidation as L

from conftest import TAKER_SUB, WAD

ALL = 2**255 - 1


@pytest.fixture
def dutch(world):
    return world.use("dutch")


def test_curve_matches_reference(dutch):
    curve = L.Curve.from_chain(dutch.curve())
    assert curve == L.Curve()
    for t in (0, 1, 300, 899, 900, 901, 1_350, 1_800, 2_500, 3_600, 10_000):
        assert dutch.discount_at(t) / WAD == pytest.approx(L.dutch_discount(t, curve), abs=1e-15)
        assert dutch.insolvent_multiple_at(t) / WAD == pytest.approx(L.insolvent_multiple(t, curve), abs=1e-15)


def test_auction_price_never_moves_against_bidder_and_is_never_zero(world, dutch, underwater):
    """Within one auction (fixed oracle price) the discount never falls and what the bidder pays for
    a fixed fraction never rises; the price factor 1 - d stays >= 1 - floor > 0."""
    owner, sub = underwater()
    dutch.start(owner, sub, sender=world.p.keeper)
    times = range(0, 3_601, 60)
    discounts = [dutch.discount_at(t) for t in times]
    assert all(b >= a for a, b in zip(discounts, discounts[1:]))
    assert max(discounts) == dutch.curve().floor_discount < WAD
    pays = []
    for _ in range(4):
        pays.append(dutch.quote(owner, sub, WAD // 10).pay)
        world.chain.mine(deltatime=500)
    assert all(b <= a for a, b in zip(pays, pays[1:])) and pays[-1] < pays[0]
    assert min(pays) > 0


def test_take_reverts_when_reset_is_due_and_redo_reanchors(world, dutch, underwater):
    owner, sub = underwater()
    keeper = world.p.keeper
    with ape.reverts("liquidation: no auction"):
        dutch.redo(owner, sub, sender=keeper)
    dutch.start(owner, sub, sender=keeper)
    with ape.reverts("liquidation: auction running"):
        dutch.start(owner, sub, sender=keeper)
    with ape.reverts("liquidation: reset not due"):
        dutch.redo(owner, sub, sender=keeper)
    # Too old.
    world.chain.mine(deltatime=dutch.curve().tail + 1)
    world.refresh()
    assert dutch.reset_due(owner, sub)
    with ape.reverts("liquidation: reset due"):
        dutch.take(owner, sub, TAKER_SUB, WAD, ALL, sender=keeper)
    dutch.redo(owner, sub, sender=world.p.arbitrageur)
    a = dutch.auctions(owner, sub)
    assert a.started == world.chain.blocks.head.timestamp and a.anchor == world.p.oracle.price()[0]
    assert a.keeper == world.p.arbitrageur
    assert not dutch.reset_due(owner, sub)
    # The price moved beyond the cusp (10%).
    world.move(2_300)
    assert dutch.reset_due(owner, sub)
    with ape.reverts("liquidation: reset due"):
        dutch.take(owner, sub, TAKER_SUB, WAD, ALL, sender=keeper)
    dutch.redo(owner, sub, sender=keeper)
    assert dutch.auctions(owner, sub).anchor == 2_300 * WAD
    dutch.take(owner, sub, TAKER_SUB, WAD, ALL, sender=keeper)


def test_value_under_auction_stays_within_the_cap(world, dutch, underwater):
    p = world.p
    owner, sub = underwater()
    mtm, gross = dutch.mtm(owner, sub)
    c = dutch.curve()
    dutch.set_parameters(c, dutch.tip(), dutch.chip(), gross + gross // 2, dutch.dust(), dutch.fund_share(),
                         sender=p.deployer)
    dutch.start(owner, sub, sender=p.keeper)
    assert dutch.under_auction() == gross
    # The attacker's book went under too; starting it would exceed the cap.
    assert dutch.is_liquidatable(p.attacker, 0)
    with ape.reverts("liquidation: auction cap reached"):
        dutch.start(p.attacker, 0, sender=p.keeper)
    q = dutch.take(owner, sub, TAKER_SUB, WAD // 10, ALL, sender=p.keeper).decode_logs(dutch.Liquidated)[0]
    assert dutch.under_auction() == gross - gross * q.fraction // WAD <= dutch.auction_cap()
    dutch.take(owner, sub, TAKER_SUB, WAD, ALL, sender=p.keeper)  # up to the cap: the auction ends
    assert dutch.under_auction() == 0 and dutch.auctions(owner, sub).started == 0
    dutch.start(p.attacker, 0, sender=p.keeper)
    assert dutch.under_auction() <= dutch.auction_cap()


def test_keeper_incentive_is_paid_from_the_fund_fee_on_takes(world, dutch, underwater):
    p = world.p
    owner, sub = underwater()
    _, gross = dutch.mtm(owner, sub)
    owed = dutch.tip() + gross * dutch.chip() // WAD // 10**12
    dutch.start(owner, sub, sender=p.arbitrageur)
    assert dutch.auctions(owner, sub).owed == owed
    before, capital = p.usd.balanceOf(p.arbitrageur), world.fund.capital()
    q = dutch.take(owner, sub, TAKER_SUB, WAD, ALL, sender=p.keeper).decode_logs(dutch.Liquidated)[0]
    paid = min(owed, q.fee)
    assert p.usd.balanceOf(p.arbitrageur) - before == paid
    assert world.fund.capital() - capital == q.fee - paid
    assert world.fund.incentives_paid() == paid


def test_insolvent_auction_subsidy_grows_from_zero(world, dutch, underwater):
    p = world.p
    owner, sub = underwater(1_500)
    mtm, _ = dutch.mtm(owner, sub)
    assert mtm < 0
    dutch.start(owner, sub, sender=p.keeper)
    assert dutch.auctions(owner, sub).insolvent
    assert dutch.quote(owner, sub, WAD).subsidy == 0
    subsidies = []
    for _ in range(3):
        world.chain.mine(deltatime=300)
        subsidies.append(dutch.quote(owner, sub, WAD).subsidy)
    assert subsidies[0] < subsidies[1] < subsidies[2]
    elapsed = world.chain.blocks.head.timestamp - dutch.auctions(owner, sub).started
    expected = -mtm / WAD * L.insolvent_multiple(elapsed)
    assert subsidies[-1] / 1e6 == pytest.approx(expected, abs=2e-6)


def test_sync_ends_auction_when_account_recovers(world, dutch, underwater):
    p = world.p
    owner, sub = underwater()
    dutch.start(owner, sub, sender=p.keeper)
    world.move(3_000)
    assert not dutch.is_liquidatable(owner, sub)
    dutch.sync(owner, sub, sender=p.keeper)
    assert dutch.auctions(owner, sub).started == 0 and dutch.under_auction() == 0
