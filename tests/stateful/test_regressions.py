"""Counterexamples the invariant fuzzer found, kept as named deterministic tests (each replays
the shrunk step sequence on a fresh world and asserts the property it broke)."""

import pytest

from dsi.fuzz.machine import STATUS_DEVIANT, ProtocolMachine
from dsi.fuzz.world import revert_reason


@pytest.fixture
def machine():
    m = ProtocolMachine()
    yield m
    m.teardown()


def test_bad_print_after_a_gap_is_deviant_not_fresh(machine):
    """Shrunk from the quick profile: market -30% (TWAP still near the old price), then a +35%
    bad print lands within 10% of the TWAP. The oracle returns the print, but flagged DEVIANT
    (spot disagrees with the TWAP), so nothing may act on it: risk-increasing actions revert."""
    p = machine.p
    writer = machine.w.actors["writer"]
    p.engine.open_short(0, machine.w.series_ids[0], 10**18, sender=writer)  # a book to protect
    machine.market_moves(move=-0.30)
    machine.bad_print(up=True)
    price, status = p.oracle.price()
    assert price == machine.bad_print_value
    assert status == STATUS_DEVIANT
    machine.oracle_status_consistent_with_timestamps()
    with pytest.raises(Exception) as exc:
        p.engine.open_short(0, machine.w.series_ids[0], 10**18, sender=writer)
    assert revert_reason(exc.value) == "margin: oracle not fresh"
    with pytest.raises(Exception) as exc:
        p.engine.withdraw(0, 1_000 * 10**6, 0, sender=writer)
    # The -30% gap also sank the world's leveraged books: withdrawals are gated on that first.
    assert revert_reason(exc.value) in {"margin: oracle not fresh", "margin: insolvency outstanding"}


def test_keeper_meets_a_custody_long_before_its_short(machine, monkeypatch):
    """The order review issue 13 found by hand (the quick profile rarely holds custody longs at
    an expiry): the writer keeps its longs of a 7-day put in custody in sub 0 and is short them
    in sub 2, so the keeper's settlement sweep (account order) reaches the long before the short
    has paid. The keeper is refused ("margin: series underfunded"), the owner takes the nothing
    the pool pays now, the short pays in, and the sweep's collection pass credits the whole
    payoff to sub 0; no claim is left with the engine. (Before the fix the keeper's call went
    through and the whole payoff became a claim of the engine itself that nothing collected.)"""
    from dsi.fuzz.machine import STATS, USD_TO_WAD
    from dsi.reference.options import WALLET, engine_account

    monkeypatch.setattr("dsi.fuzz.machine.note", lambda *a: None)  # hypothesis notes need a test run
    p, w = machine.p, machine.w
    writer = w.actors["writer"]
    put = next(i for i in machine.live if w.terms[i][0] == 3_000 * 10**18 and not w.terms[i][2]
               and w.terms[i][1] == w.expiries[0])
    pick = machine.live.index(put)
    machine.open_short(role="writer", sub=2, pick=pick, amount=5 * 10**18)
    machine.deposit_long(role="writer", sub=0, pick=pick)
    assert (put, 5 * 10**18) in [tuple(x) for x in p.engine.positions(writer, 0)]
    machine.market_moves(move=-0.15)
    usd_before = p.engine.account(writer, 0)[1]
    refused = STATS.reverts["margin: series underfunded"]
    machine.expire_and_settle()
    assert STATS.reverts["margin: series underfunded"] == refused + 1
    payoff = p.series.payoff_per_unit(put)
    assert payoff > 0 and p.series.shortfall(put) == 0
    claim = payoff * 5
    got = (p.engine.account(writer, 0)[1] - usd_before) * USD_TO_WAD
    assert claim - 2 * USD_TO_WAD < got <= claim  # two payments, each floored to the micro-dollar
    key = engine_account(writer, 0)
    assert p.series.pending_claim(put, p.engine.address, key) == 0
    assert p.series.claim_value(put, p.engine.address, WALLET) == 0
    machine.settlement_claims_reach_their_holders()
    machine.engine_totals_equal_sum_of_accounts()


def test_a_dutch_starter_paid_on_another_takers_take_is_a_liquidator(monkeypatch):
    """Shrunk from the quick profile (7 December, once the governed world changed the draws):
    after a 20% gap the keeper starts the auctions (and takes half); the attacker's start then
    reverts ("auction running") and it takes from the keeper's auction. The take pays the
    starter, the keeper, its incentive out of the victim's loss (writer -31.03, attacker +24.82,
    keeper +6.21). The economic invariant counted only the taker as a liquidator of the step; a
    starter paid on another's take is one too."""
    monkeypatch.setattr("dsi.fuzz.machine.note", lambda *a: None)
    monkeypatch.setattr("dsi.fuzz.machine.MECHANISM", "dutch")  # starters exist in Dutch auctions only
    machine = ProtocolMachine()
    assert machine.w.mechanism == "dutch"
    p = machine.p
    machine.start(move=-0.2)
    machine.no_actor_gains_beyond_fair_pnl()
    keeper_usd = p.usd.balanceOf(machine.w.actors["keeper"])
    machine.liquidators_sweep(by="attacker", fraction=10**18 // 2, waited=0)
    assert "keeper" in machine.step_liquidators  # the starter of the auction the attacker took
    machine.no_actor_gains_beyond_fair_pnl()
    assert p.usd.balanceOf(machine.w.actors["keeper"]) >= keeper_usd
    machine.teardown()
