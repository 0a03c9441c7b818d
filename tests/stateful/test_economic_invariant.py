"""The fuzzer's economic invariant (review issue 13 §4, `dsi.fuzz.economics`): no actor gains
beyond what its positions fairly earned at the market price. These drive the real machine (the
whole protocol in process) step by step and check that the invariant catches value appearing
from nowhere, lets the designed transfers through (gifts, liquidation incentives from fairly
liquidatable accounts), and that the attacker's settlement push under every mechanism's world
earns nothing."""

import pytest

from dsi.fuzz import economics
from dsi.fuzz.economics import Account, Holding, Marks
from dsi.fuzz.machine import STATS, ProtocolMachine

WAD = 10**18
USD = 10**6


@pytest.fixture
def machine(monkeypatch):
    monkeypatch.setattr("dsi.fuzz.machine.note", lambda *a: None)  # hypothesis notes need a test run
    m = ProtocolMachine()
    m.no_actor_gains_beyond_fair_pnl()  # the baseline: holdings at the start
    yield m
    m.teardown()


def _call_series(machine, strike=3_000):
    t = machine.terms
    return next(i for i in machine.live if t[i][0] == strike * WAD and t[i][2] and not t[i][3])


def test_value_from_nowhere_is_caught(machine):
    """Stand-in for any bug that pays the attacker: 10,000 USD reach its wallet with nothing
    given up; the next check fails and names it."""
    p = machine.p
    p.usd.mint(machine.w.actors["attacker"], 10_000 * USD, sender=p.deployer)
    with pytest.raises(AssertionError, match=r"attacker gained 10,000\.00 USD beyond its fair PnL"):
        machine.no_actor_gains_beyond_fair_pnl()


def test_a_fair_trade_and_a_market_move_are_not_gains(machine):
    """The writer writes calls and sells them to the attacker at the fair mark; the market then
    rises 15% (the attacker's longs earn, fairly): no violation, and the attacker's gain over the
    move equals its longs re-marked."""
    p = machine.p
    sid = _call_series(machine)
    machine.open_short("writer", 0, machine.live.index(sid), 5 * WAD)
    machine.no_actor_gains_beyond_fair_pnl()
    machine.sell_longs("writer", "attacker", machine.live.index(sid), 1.0)
    machine.no_actor_gains_beyond_fair_pnl()
    assert p.option_token.balanceOf(machine.w.actors["attacker"], sid) == 5 * WAD
    before = economics.value(machine.econ_before["attacker"], economics.marks(machine))[0]
    machine.market_moves(0.15)
    after = economics.value(machine.econ_before["attacker"], economics.marks(machine))[0]
    machine.no_actor_gains_beyond_fair_pnl()
    assert after - before > 1_000  # 5 ATM calls re-marked 15% higher: a fair gain, allowed


def test_a_gift_is_allowed_only_up_to_what_the_giver_gave():
    mk = Marks(price=3_000.0, fair={1: 100.0}, calls={1})
    writer0, attacker0 = Holding(usd=1_000.0, units={1: 10.0}), Holding(usd=0.0)
    writer1, attacker1 = Holding(usd=1_000.0), Holding(units={1: 10.0})
    before, after = {"writer": writer0, "attacker": attacker0}, {"writer": writer1, "attacker": attacker1}
    assert economics.unexplained_gains(before, after, mk, 0.0, {}, {"writer"}) == []
    problems = economics.unexplained_gains(before, after, mk, 0.0, {}, set())
    assert len(problems) == 1 and problems[0].startswith("attacker gained 1,000.00 USD")


def test_a_liquidator_may_take_only_from_fairly_liquidatable_accounts():
    """The liquidator's discount comes out of the victim: allowed when the victim was below
    maintenance at the market price, flagged when only a push made it liquidatable."""
    mk = Marks(price=3_000.0, fair={}, calls=set())
    before = {"keeper": Holding(usd=0.0), "writer": Holding(accounts=[Account(10_000.0, 0.0, {}, 0.0)])}
    after = {"keeper": Holding(usd=500.0), "writer": Holding(accounts=[Account(9_500.0, 0.0, {}, 0.0)])}
    assert economics.unexplained_gains(before, after, mk, 0.0, {"keeper": {"writer"}}, set()) == []
    flagged = economics.unexplained_gains(before, after, mk, 0.0, {"keeper": set()}, set())
    assert len(flagged) == 1 and flagged[0].startswith("keeper gained 500.00")
    # The fund's subsidy is a designed incentive too: allowed up to what the fund paid.
    assert economics.unexplained_gains(before, after, mk, 500.0, {"keeper": set()}, set()) == []


def test_an_account_is_worth_nothing_below_zero():
    """Limited liability: an insolvent account counts 0 to its owner, so its default is not a
    gain, and neither is its collateral being taken."""
    mk = Marks(price=3_000.0, fair={7: 500.0}, calls={7})
    h = Holding(usd=100.0, accounts=[Account(1_000.0, 0.0, {7: -10.0}, 0.0)])  # 1,000 - 5,000
    assert economics.value(h, mk)[0] == pytest.approx(100.0)


@pytest.mark.parametrize("up", [True, False], ids=["push_up_for_longs", "push_down_for_shorts"])
def test_the_attackers_settlement_push_earns_nothing(machine, up):
    """The attacker buys calls (up) or writes puts it keeps short (down), pushes the pool 100x
    over the last 10 blocks up to expiry, tries to settle and redeem inside the push and settles
    every account first; the settlement price is the market's and the attacker ends with no
    gain beyond dust (every invariant of the machine holds after the step)."""
    p = machine.p
    attacker = machine.w.actors["attacker"]
    if up:
        sid = _call_series(machine)
        machine.open_short("writer", 0, machine.live.index(sid), 5 * WAD)
        machine.no_actor_gains_beyond_fair_pnl()
        machine.sell_longs("writer", "attacker", machine.live.index(sid), 1.0)
    else:
        t = machine.terms
        sid = next(i for i in machine.live if t[i][0] == 3_000 * WAD and not t[i][2] and not t[i][3])
        machine.open_short("attacker", 0, machine.live.index(sid), 5 * WAD)
        machine.no_actor_gains_beyond_fair_pnl()
        machine.sell_longs("attacker", "buyer", machine.live.index(sid), 1.0)
    machine.no_actor_gains_beyond_fair_pnl()
    expiry = machine.terms[sid][1]
    while min(e for e in machine.expiries if e > machine.chain.timestamp) != expiry:
        machine.steps_since_expiry = 15
        machine.expire_and_settle()
        machine.no_actor_gains_beyond_fair_pnl()
    machine.steps_since_expiry = 15
    tried = STATS.rules["push.oracle_settle"], STATS.rules["push.settle_first"]
    machine.attacker_pushes_settlement(k=10, factor=100.0, up=up, settle_first=True)
    assert STATS.rules["push.oracle_settle"] == tried[0] + 1 and STATS.rules["push.settle_first"] > tried[1]
    assert abs(p.oracle.settlement_price(expiry) - machine.mark) * 1_000 < machine.mark  # within 0.1%
    for name in dir(ProtocolMachine):
        method = getattr(machine, name)
        if getattr(method, "hypothesis_stateful_invariant", None) is not None or name in (
                "no_actor_gains_beyond_fair_pnl", "settlement_claims_reach_their_holders"):
            method()
    assert p.option_token.balanceOf(attacker, sid) == 0  # redeemed: its payoff is in the wallet
