"""Fixed penalty (close factor, whole below a threshold) and dynamic fee (health and velocity terms,
not inflatable by a same-block pump)."""

from __future__ import annotations

import ape
import pytest

from dsi.agents.arbitrageur import amount_to_price
from dsi.reference import liquidation as L

from conftest import TAKER_SUB, WAD

ALL = 2**255 - 1


def test_fixed_close_factor_caps_a_take(world, underwater):
    fixed = world.use("fixed")
    p = world.p
    owner, sub = underwater()  # f* ~ 58% here, above the 50% close factor
    q = fixed.quote(owner, sub, WAD)
    m = world.engine.margin(owner, sub)
    mtm, gross = fixed.mtm(owner, sub)
    f_star = L.restoring_fraction(m.equity / WAD, m.initial / WAD, mtm / WAD, 0.05, 0.01)
    assert f_star > 0.5 and mtm > 0
    assert q.max_fraction == fixed.close_factor() == WAD // 2
    fixed.take(owner, sub, TAKER_SUB, WAD, ALL, sender=p.keeper)
    assert world.engine.positions(owner, sub)[0].amount == -5 * WAD  # half of the 10 puts


def test_fixed_takes_whole_account_below_threshold(world, underwater):
    fixed = world.use("fixed")
    p = world.p
    owner, sub = underwater()
    _, gross = fixed.mtm(owner, sub)
    fixed.set_parameters(fixed.penalty(), fixed.close_factor(), gross + 1, fixed.dust(), fixed.fund_share(),
                         sender=p.deployer)
    assert fixed.quote(owner, sub, WAD).max_fraction == WAD
    fixed.take(owner, sub, TAKER_SUB, WAD, ALL, sender=p.keeper)
    assert world.engine.account(owner, sub)[3] == 0


def test_fixed_penalty_split_between_liquidator_and_fund(world, underwater):
    fixed = world.use("fixed")
    p = world.p
    owner, sub = underwater()
    capital = world.fund.capital()
    q = fixed.take(owner, sub, TAKER_SUB, WAD, ALL, sender=p.keeper).decode_logs(fixed.Liquidated)[0]
    value = q.value / WAD
    assert q.pay / 1e6 == pytest.approx(value * 0.95, abs=2e-6)
    assert q.fee / 1e6 == pytest.approx(value * 0.05 * 0.2, abs=2e-6)
    assert world.fund.capital() - capital == q.fee == world.fund.income()


def test_dynamic_fee_matches_reference(world, underwater):
    dyn = world.use("dynamic")
    owner, sub = underwater()
    m = world.engine.margin(owner, sub)
    spot = world.p.oracle.price()[0] / WAD
    ok, twap = world.p.twap.try_twap(world.p.oracle.twap_window())
    assert ok
    ref = L.dynamic_discount(m.equity / WAD, m.maintenance / WAD, spot, twap / WAD)
    assert dyn.discount(owner, sub) / WAD == pytest.approx(ref, abs=1e-17)
    assert ref > 0.02  # the health term is live


def test_dynamic_fee_grows_with_velocity_and_is_capped(world, underwater):
    """A fast genuine gap (feed and spot agree, TWAP lagging) raises the fee; the cap holds."""
    dyn = world.use("dynamic")
    p = world.p
    owner, sub = underwater()
    settled = dyn.discount(owner, sub)
    # Gap to 2,300 without waiting for the TWAP: FRESH (two sources agree), velocity ~ 11%.
    side, amount = amount_to_price(p.pool.reserve0(), p.pool.reserve1(), 2_300 * WAD, p.pool.fee_bps())
    p.pool.swap_exact_in(p.weth.address, amount, 0, p.arbitrageur, sender=p.arbitrageur)
    spot = p.pool.spot_price()
    p.feed.submit(spot, sender=p.reporter)
    assert p.oracle.price()[1] == 0
    fast = dyn.discount(owner, sub)
    assert fast > settled
    m = world.engine.margin(owner, sub)
    ok, twap = p.twap.try_twap(p.oracle.twap_window())
    ref = L.dynamic_discount(m.equity / WAD, m.maintenance / WAD, spot / WAD, twap / WAD)
    assert fast / WAD == pytest.approx(ref, abs=1e-17)
    assert fast <= dyn.cap()


def test_dynamic_fee_not_inflatable_by_same_block_pump(world, underwater):
    """A pump of the pool in the attacker's transaction moves spot off the TWAP: the oracle reports
    DEVIANT and liquidation is refused, so a manipulated price can neither trigger a take nor
    raise its fee."""
    dyn = world.use("dynamic")
    p = world.p
    owner, sub = underwater()
    p.pool.swap_exact_in(p.usd.address, 2_000_000 * 10**6, 0, p.arbitrageur, sender=p.arbitrageur)
    assert p.oracle.price()[1] == 2
    assert not dyn.is_liquidatable(owner, sub)
    with ape.reverts("liquidation: oracle not usable"):
        dyn.take(owner, sub, TAKER_SUB, WAD, ALL, sender=p.attacker)
