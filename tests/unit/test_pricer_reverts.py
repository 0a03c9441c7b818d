"""The pricer's input domain: every `pricer:` revert reason, and the inclusive edges of the domain.

Domain (black76._check): 0 < spot <= 1e33, 0.001 <= strike/spot <= 1000, tte <= 10 years,
0 < vol <= 1000%, |rate| <= 100%. Accepted edges are checked for a correct value, not only for
the absence of a revert.

Calls expected to revert pass `skip_trace=True`: the revert reason still reaches `ape.reverts`,
but ape does not rebuild a source traceback from the struct-log trace, which costs ~0.4 s per
revert and ~12 s for a reverted implied-vol search.
"""

from __future__ import annotations

from decimal import Decimal

import ape
import pytest
from pricer_support import SPOT_MAX, TEN_YEARS, VOL_MAX, WAD, YEAR, exact_discounted_strike, exact_price

S = 1_000 * WAD  # a round spot: strike/spot = 0.001 and 1000 are whole wei
K = 1_100 * WAD
T = YEAR // 2
V = 8 * 10**17
R = 5 * 10**16


def _close_to_exact(pricer, spot, strike, tte, vol, rate, is_call):
    got = pricer.price(spot, strike, tte, vol, rate, is_call)
    exact = exact_price(spot, strike, tte, vol, rate, is_call) * WAD
    # 2e-17 (S + K) + 2 wei: the WAD quantisation of ln(S/K) and exp(-rT) (see test_black76.py).
    tol = (spot + strike) * 2 // 10**17 + 2
    assert abs(got - exact) <= tol, (spot, strike, tte, vol, rate, is_call, got, exact)
    return got


# --------------------------------------------------------------------------- every reason, every entry point

BAD_INPUTS = [
    # (spot, strike, tte, vol, rate), reason
    ((0, K, T, V, R), "pricer: zero spot"),
    ((0, 0, T, V, R), "pricer: zero spot"),  # spot is checked first
    ((S, 0, T, V, R), "pricer: zero strike"),
    ((SPOT_MAX + 1, SPOT_MAX + 1, T, V, R), "pricer: spot too large"),
    ((S, S // 1000 - 1, T, V, R), "pricer: strike/spot out of band"),
    ((S, S * 1000 + 1, T, V, R), "pricer: strike/spot out of band"),
    ((1, 2**255, T, V, R), "pricer: strike/spot out of band"),  # a huge strike must not overflow the check
    ((S, K, TEN_YEARS + 1, V, R), "pricer: expiry too far"),
    ((S, K, 2**256 - 1, V, R), "pricer: expiry too far"),
    ((S, K, T, 0, R), "pricer: zero vol"),
    ((S, K, T, VOL_MAX + 1, R), "pricer: vol above cap"),
    ((S, K, T, V, WAD + 1), "pricer: rate out of range"),
    ((S, K, T, V, -WAD - 1), "pricer: rate out of range"),
    ((S, K, T, V, -(2**255)), "pricer: rate out of range"),
]


BAD_IDS = [f"{reason[len('pricer: '):].replace(' ', '_')}-{i}" for i, (_, reason) in enumerate(BAD_INPUTS)]


@pytest.mark.parametrize("args, reason", BAD_INPUTS, ids=BAD_IDS)
def test_price_reverts_outside_the_domain(pricer, args, reason):
    with ape.reverts(reason):
        pricer.price(*args, True, skip_trace=True)
    with ape.reverts(reason):
        pricer.price_floor(*args, False, skip_trace=True)


@pytest.mark.parametrize("args, reason", BAD_INPUTS, ids=BAD_IDS)
def test_greeks_revert_outside_the_domain(pricer, args, reason):
    with ape.reverts(reason):
        pricer.greeks(*args, True, skip_trace=True)


@pytest.mark.parametrize(
    "spot, strike, tte, rate, reason",
    [
        (0, K, T, R, "pricer: zero spot"),
        (S, 0, T, R, "pricer: zero strike"),
        (SPOT_MAX + 1, SPOT_MAX + 1, T, R, "pricer: spot too large"),
        (S, S * 1000 + 1, T, R, "pricer: strike/spot out of band"),
        (S, K, TEN_YEARS + 1, R, "pricer: expiry too far"),
        (S, K, T, WAD + 1, "pricer: rate out of range"),
        (S, K, 0, R, "pricer: zero time to expiry"),
    ],
)
def test_implied_vol_reverts_outside_the_domain(pricer, spot, strike, tte, rate, reason):
    with ape.reverts(reason):
        pricer.implied_vol(WAD, spot, strike, tte, rate, True, skip_trace=True)


# --------------------------------------------------------------------------- inclusive edges


@pytest.mark.parametrize("strike", [S // 1000, S * 1000], ids=["strike_0.001_spot", "strike_1000_spot"])
@pytest.mark.parametrize("is_call", [True, False])
def test_strike_spot_band_is_inclusive(pricer, strike, is_call):
    _close_to_exact(pricer, S, strike, T, V, R, is_call)
    delta = pricer.greeks(S, strike, T, V, R, is_call)[0]
    deep_itm = (strike < S) == is_call
    # 1000x in or out of the money at 80% vol for half a year (|d1| > 11): delta is saturated, to
    # the wei that truncating N(d1) = 1 - 1e-35 to WAD costs.
    assert abs(abs(delta) - (WAD if deep_itm else 0)) <= 1, delta


def test_band_edges_are_exact_for_a_spot_not_divisible_by_1000(pricer):
    spot = 1_234_567 * 10**12 + 1  # strike/spot = 0.001 needs strike >= spot / 1000 = 1234567000000.001
    low = spot // 1000 + 1  # the least strike in the band
    _close_to_exact(pricer, spot, low, T, V, 0, False)
    with ape.reverts("pricer: strike/spot out of band"):
        pricer.price(spot, low - 1, T, V, 0, False, skip_trace=True)
    _close_to_exact(pricer, spot, spot * 1000, T, V, 0, True)


@pytest.mark.parametrize("is_call", [True, False])
def test_ten_year_expiry_is_accepted(pricer, is_call):
    _close_to_exact(pricer, S, K, TEN_YEARS, V, R, is_call)


@pytest.mark.parametrize("is_call", [True, False])
def test_vol_of_one_thousand_percent_is_accepted(pricer, is_call):
    got = _close_to_exact(pricer, S, K, T, VOL_MAX, R, is_call)
    # s = 10 sqrt(0.5) = 7.07: the call is worth nearly the spot, the put nearly the strike.
    if is_call:
        assert S * 99 // 100 < got < S
    else:
        assert exact_discounted_strike(K, T, R) * WAD * Decimal("0.99") < got


@pytest.mark.parametrize("rate", [WAD, -WAD], ids=["rate_+100%", "rate_-100%"])
@pytest.mark.parametrize("is_call", [True, False])
def test_rate_of_plus_minus_one_hundred_percent_is_accepted(pricer, rate, is_call):
    _close_to_exact(pricer, S, K, YEAR, V, rate, is_call)


@pytest.mark.parametrize("is_call", [True, False])
def test_spot_max_is_accepted(pricer, is_call):
    _close_to_exact(pricer, SPOT_MAX, SPOT_MAX, YEAR, V, R, is_call)


def test_smallest_inputs_are_accepted(pricer):
    # One wei of spot and strike, one second, one wei of vol: worth nothing but the intrinsic.
    assert pricer.price(1, 1, 1, 1, 0, True) in (0, 1)  # ceil of a time value of ~1e-22 wei
    assert pricer.price_floor(1, 1, 1, 1, 0, True) == 0
    assert pricer.price(1000, 1, 1, 1, 0, True) == 999  # intrinsic: 1000 - 1 wei


# --------------------------------------------------------------------------- implied vol: prices off the band


def test_implied_vol_rejects_a_call_price_at_or_above_spot(pricer):
    with ape.reverts("pricer: price above no-arbitrage bound"):
        pricer.implied_vol(S, S, K, T, R, True, skip_trace=True)
    with ape.reverts("pricer: price above no-arbitrage bound"):
        pricer.implied_vol(S + 1, S, K, T, R, True, skip_trace=True)
    pricer.implied_vol(pricer.price(S, K, T, V, R, True), S, K, T, R, True)  # a fair price passes


def test_implied_vol_rejects_a_put_price_at_or_above_discounted_strike(pricer):
    # K exp(-rT); the chain's K*DF is within 2e-18 K of it (the discount factor's WAD precision).
    kdf = int(exact_discounted_strike(K, T, R) * WAD)
    margin = K * 2 // WAD + 2
    with ape.reverts("pricer: price above no-arbitrage bound"):
        pricer.implied_vol(kdf + margin, S, K, T, R, False, skip_trace=True)
    with ape.reverts("pricer: price above no-arbitrage bound"):
        pricer.implied_vol(K, S, K, T, R, False, skip_trace=True)


def test_implied_vol_rejects_a_price_at_or_below_intrinsic(pricer):
    # In the money on the forward: call struck at 800 with S = 1000, r = 0 (intrinsic 200 USD).
    strike = 800 * WAD
    with ape.reverts("pricer: price at or below intrinsic"):
        pricer.implied_vol(S - strike, S, strike, T, 0, True, skip_trace=True)
    with ape.reverts("pricer: price at or below intrinsic"):
        pricer.implied_vol(S - strike - 1, S, strike, T, 0, True, skip_trace=True)
    # The put struck at 1250 is in the money by 250 USD.
    strike = 1_250 * WAD
    with ape.reverts("pricer: price at or below intrinsic"):
        pricer.implied_vol(strike - S, S, strike, T, 0, False, skip_trace=True)
    # Out of the money the intrinsic is 0, so only a zero price is at it.
    with ape.reverts("pricer: price at or below intrinsic"):
        pricer.implied_vol(0, S, K, T, R, True, skip_trace=True)
    # A millionth of a dollar above the intrinsic is a (tiny) valid price.
    assert pricer.implied_vol(S - 800 * WAD + 10**12, S, 800 * WAD, T, 0, True) > 0


def test_implied_vol_rejects_a_price_needing_more_than_one_thousand_percent(pricer):
    at_cap = pricer.price(S, S, YEAR, VOL_MAX, 0, True)  # ~ S (2 N(5) - 1)
    too_rich = (at_cap + S) // 2
    assert at_cap < too_rich < S  # inside the no-arbitrage band, above the cap's price
    with ape.reverts("pricer: price implies vol above cap"):
        pricer.implied_vol(too_rich, S, S, YEAR, 0, True, skip_trace=True)
    with ape.reverts("pricer: price implies vol above cap"):
        pricer.implied_vol(S - 1, S, S, YEAR, 0, True, skip_trace=True)
