"""The options reference itself (no chain): the integer layer agrees with the natural-units
formulas, rounds the documented way, and the assignment model conserves options and collateral."""

from fractions import Fraction

import random
import pytest

from dsi.reference import options as ref

WAD = 10**18


@pytest.mark.parametrize("spot", [600.0, 2_999.5, 3_000.0, 3_000.25, 14_999.0])
@pytest.mark.parametrize("strike", [600.0, 3_000.0, 4_500.75])
def test_integer_layer_matches_natural_units(spot, strike):
    S, Kw, amount = int(spot * WAD), int(strike * WAD), 1_234_567_891_234_567_891
    n = amount / WAD
    assert ref.payoff(spot, strike, True) - ref.payoff(spot, strike, False) == pytest.approx(spot - strike)
    for is_call in (True, False):
        p = ref.payoff_units(S, Kw, is_call)
        assert p / WAD == pytest.approx(ref.payoff(spot, strike, is_call), abs=1e-12)
        owed = ref.owed_units(S, Kw, is_call, amount)
        scale = 1e18 if is_call else 1e6
        # rounded up to the asset unit: within one unit (1e-18 WETH, 1e-6 USD)
        natural = ref.settlement_owed(spot, strike, is_call, n)
        assert owed / scale == pytest.approx(natural, rel=1e-12, abs=1.01 / scale)
        paid = ref.exercise_payout_units(S, Kw, is_call, amount)
        assert paid <= owed <= paid + 1  # same amount, rounded down vs up
    assert ref.lock_units(Kw, True, amount) == amount and ref.call_collateral(n) == n
    put_lock = ref.lock_units(Kw, False, amount) / 1e6
    assert put_lock == pytest.approx(ref.put_collateral(strike, n), rel=1e-12, abs=1.01e-6)


def test_split_never_pays_more_than_the_value():
    rng = random.Random(7)
    for _ in range(200):
        usd, weth = rng.randrange(0, 10**12), rng.randrange(0, 10**21)
        price = rng.randrange(10**20, 10**22)
        pool = ref.value_units(usd, weth, price)
        value = int(pool * Fraction(rng.randrange(0, 1001), 1000))
        u, w = ref.split_units(usd, weth, price, value)
        assert u <= usd and w <= weth
        assert ref.value_units(u, w, price) <= value


def test_assignment_model_conserves_options_and_collateral():
    m = ref.AssignmentModel(strike=3_000 * WAD, is_call=False)
    locked = m.write("a", 3 * WAD) + m.write("b", WAD)
    paid = m.exercise(2_500 * WAD, 2 * WAD)
    assert m.outstanding == 2 * WAD
    assert (m.book("a").outstanding, m.book("b").outstanding) == (Fraction(3, 2) * WAD, Fraction(1, 2) * WAD)
    total = sum(b.locked + b.free for b in m.writers.values()) + paid
    assert total == locked
    assert paid == 500 * 2 * 10**6
    # Freed per exercised put: K - (K - P) = P = 2,500 USD, split 3:1.
    assert m.book("a").free == Fraction(3, 4) * 2 * 2_500 * 10**6


def test_pool_model_keyed_claims_are_order_independent_and_never_overpay():
    """`SettlementPoolModel`: the same claims, redeemed in any order and under any labels, end
    with the same entitlement each; the pool never pays more than was funded; a label's claim is
    paid only to its holder; fully funded, every claim is paid in full."""
    S, payoff = 3_300 * WAD, 300 * WAD
    keys = [("h1", ref.WALLET), ("h1", ref.engine_account("0x" + "11" * 20, 0)),
            ("h2", ref.engine_account("0x" + "11" * 20, 0)), ("h3", ref.engine_account("0x" + "11" * 20, 1))]
    units = [WAD, 2 * WAD, WAD // 3, 5 * WAD]
    owed = ref.claim_units(payoff, sum(units))
    rng = random.Random(3)
    finals = []
    for _ in range(20):
        pool = ref.SettlementPoolModel(price=S, payoff=payoff, owed=owed)
        pool.pay_in(500 * 10**6, 10**17)
        order = list(range(len(keys)))
        rng.shuffle(order)
        received = dict.fromkeys(keys, 0)
        for i in order:
            received[keys[i]] += pool.redeem(*keys[i], units[i])[0]
            assert pool.paid <= pool.funded
        finals.append(tuple(received[k] for k in keys))
        # Nobody else's key can claim: a holder's claim under another holder's label is zero.
        assert pool.claimable("h2", ref.WALLET) == 0 and pool.pending("h3", keys[1][1]) == 0
        pool.pay_in(-(-(owed - pool.funded) // 10**12), 0)  # funded in full
        for i, k in enumerate(keys):
            received[k] += pool.claim(*k)[0]
            assert received[k] == ref.claim_units(payoff, units[i]) and pool.pending(*k) == 0
        with pytest.raises(ValueError, match="series: nothing to claim"):
            pool.claim(*keys[0])
        assert pool.paid <= pool.funded
    assert len(set(finals)) == 1
