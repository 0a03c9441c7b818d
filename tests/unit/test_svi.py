"""Raw-SVI total variance and implied vol of OptionPricer (contracts/math/svi.vy).

w(k) = a + b (rho (k - m) + sqrt((k - m)^2 + sigma^2)), vol = sqrt(w(k) / T) at k = ln(K / F),
F = S exp(rT). All parameters are signed WAD. The contract rounds w and vol up (more variance is
the conservative side for margin), so besides the float twin (`ref.svi_total_variance`,
`ref.svi_vol`) the tests check the direction of the rounding against the exact decimal value.

Calls expected to revert pass `skip_trace=True` (see test_pricer_reverts.py): same revert reason,
without ape's slow source traceback.
"""

from __future__ import annotations

import decimal
import math
from decimal import Decimal

import ape
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from pricer_support import TEN_YEARS, WAD, YEAR, d, exact_svi_w, fuzz

from dsi.reference import pricing as ref

K_MAX = 10 * WAD  # svi.K_MAX: |k| <= 10
A_MAX = 100 * WAD
B_MAX = 100 * WAD
M_MAX = 10 * WAD
SIGMA_MAX = 10 * WAD


def _wad(lo: float, hi: float, **kw):
    return st.floats(lo, hi, **kw).map(lambda v: int(v * WAD))


@st.composite
def svi_slices(draw):
    """(a, b, rho, m, sigma) WAD ints of a valid slice, kept 1e-12 clear of a zero minimum so the
    float validity test (ref.svi_valid) and the contract's integer test agree."""
    a = draw(_wad(-0.05, 0.2))
    b = draw(_wad(0.0, 1.0))
    rho = draw(_wad(-0.95, 0.95, exclude_min=True, exclude_max=True))
    m = draw(_wad(-0.5, 0.5))
    sigma = draw(_wad(0.01, 1.0, exclude_min=True))
    params = [x / WAD for x in (a, b, rho, m, sigma)]
    assume(ref.svi_valid(*params))
    assume(params[0] + params[1] * params[4] * math.sqrt(1 - params[2] ** 2) >= 1e-12)
    return a, b, rho, m, sigma


LOG_MONEYNESS = st.integers(-K_MAX, K_MAX)


# --------------------------------------------------------------------------- total variance


@fuzz(120)
@given(slice_=svi_slices(), k=LOG_MONEYNESS)
def test_total_variance_matches_reference(pricer, slice_, k):
    got = pricer.svi_total_variance(k, *slice_) / WAD
    expected = ref.svi_total_variance(k / WAD, *(x / WAD for x in slice_))
    # w is a sum of terms up to |b rho (k - m)| + b sqrt(...) <= ~21: float error ~1e-14 absolute.
    assert abs(got - expected) <= 1e-12 * max(expected, 1.0), (slice_, k, got, expected)


@fuzz(100)
@given(slice_=svi_slices(), k=LOG_MONEYNESS)
def test_total_variance_rounds_up_by_less_than_b_plus_one_wei(pricer, slice_, k):
    """The contract is exact up to two ceilings: sqrt((k-m)^2 + sigma^2) rounded up to a wei
    (scaled by b <= 1: < b/1e18 wei of w) and the final division rounded up (< 1 wei). So
    0 <= w_chain - w_exact < b/1e18 + 1 wei, checked against a 110-digit decimal evaluation."""
    a, b, rho, m, sigma = slice_
    got = pricer.svi_total_variance(k, *slice_)
    exact = exact_svi_w(d(k), *slice_) * WAD
    assert got >= exact, (slice_, k, got, exact)
    assert got - exact < Decimal(b) / WAD + 1, (slice_, k, got, exact)


@fuzz(30)
@given(slice_=svi_slices(), k=LOG_MONEYNESS)
def test_total_variance_with_zero_b_is_exactly_a(pricer, slice_, k):
    a, _, rho, m, sigma = slice_
    assume(a >= 0)  # b = 0 needs a >= 0 to be a valid slice
    assert pricer.svi_total_variance(k, a, 0, rho, m, sigma) == a


@pytest.mark.parametrize("rho", [-9 * 10**17, 0, 5 * 10**17])
def test_total_variance_at_k_equal_m_is_a_plus_b_sigma(pricer, rho):
    # At k = m the skew term vanishes and the root is exactly sigma: w = a + ceil(b sigma / 1e18).
    a, b, m, sigma = 4 * 10**16, 3 * 10**17 + 7, 10**17, 2 * 10**17 + 3
    expected = a + -(-b * sigma // WAD)
    assert pricer.svi_total_variance(m, a, b, rho, m, sigma) == expected


@st.composite
def chord(draw):
    """(k - step, k, k + step) inside |k| <= 10."""
    step = draw(st.integers(10**12, 10**18))
    k = draw(st.integers(-K_MAX + step, K_MAX - step))
    return k - step, k, k + step


@fuzz(40)
@given(slice_=svi_slices(), points=chord())
def test_total_variance_is_convex_in_k(pricer, slice_, points):
    # w''(k) = b sigma^2 / ((k-m)^2 + sigma^2)^(3/2) >= 0: the midpoint is never above the chord,
    # up to the rounding of each value (in [0, b/1e18 + 1) wei, so < 2 wei for b <= 1).
    lo, mid, hi = (pricer.svi_total_variance(k, *slice_) for k in points)
    assert 2 * mid <= lo + hi + 4, (slice_, points, lo, mid, hi)


# --------------------------------------------------------------------------- implied vol


@st.composite
def market(draw):
    spot = draw(_wad(100.0, 100_000.0))
    strike = int(spot * draw(st.floats(0.2, 5.0)))
    tte = draw(st.integers(3600, 2 * YEAR))
    rate = draw(_wad(-0.05, 0.2))
    return spot, strike, tte, rate


def _exact_vol(spot, strike, tte, rate, slice_) -> Decimal:
    with decimal.localcontext(decimal.Context(prec=80)):
        T = Decimal(tte) / YEAR
        k = (d(strike) / d(spot)).ln() - d(rate) * T
        return (exact_svi_w(k, *slice_) / T).sqrt()


@fuzz(80)
@given(mkt=market(), slice_=svi_slices())
def test_svi_vol_matches_reference(pricer, mkt, slice_):
    spot, strike, tte, rate = mkt
    got = pricer.svi_vol(spot, strike, tte, rate, *slice_) / WAD
    T = tte / YEAR
    expected = ref.svi_vol(spot / WAD, strike / WAD, T, rate / WAD, *(x / WAD for x in slice_))
    # 1e-12 relative, except where w is near the slice's zero minimum: the float twin's w is a
    # cancelling sum of O(1) terms, off by ~1e-15 absolute, which moves vol = sqrt(w / T) by
    # 1e-15 / (2 vol T).
    tol = 1e-12 * expected + 1e-15 / (2 * expected * T) + 2 / WAD
    assert abs(got - expected) <= tol, (mkt, slice_, got, expected)


@fuzz(60)
@given(mkt=market(), slice_=svi_slices())
def test_svi_vol_rounds_up_up_to_log_moneyness_quantisation(pricer, mkt, slice_):
    """vol_chain >= vol_exact, except for the WAD quantisation of k = ln(K/S) - rT on chain.

    k is computed from floor(K * 1e18 / S) and a WAD ln, so it is off by |dk| <= 7e-18 for
    K/S >= 0.2; w moves by <= |dw/dk| |dk| <= 2 b |dk| and vol by dw / (2 vol T). Beyond that
    slack the chain's vol must not be below the exact one, and it is above by at most the two
    ceilings (w and sqrt) plus the same slack.
    """
    spot, strike, tte, rate = mkt
    b = slice_[1]
    got = pricer.svi_vol(spot, strike, tte, rate, *slice_)
    exact = _exact_vol(spot, strike, tte, rate, slice_) * WAD
    T = Decimal(tte) / YEAR
    dw = 2 * (Decimal(b) / WAD) * Decimal("7e-18")
    slack = dw / (2 * (exact / WAD) * T) * WAD + 1 if exact > 0 else Decimal(WAD)
    assert got >= exact - slack, (mkt, slice_, got, exact, slack)
    # Rounding w up by < b/1e18 + 1 wei moves vol by < that / (2 vol T); sqrt rounds up < 1 wei.
    w_round = (Decimal(b) / WAD + 1) / WAD
    up = w_round / (2 * (exact / WAD) * T) * WAD + 1 if exact > 0 else Decimal(WAD)
    assert got <= exact + slack + up, (mkt, slice_, got, exact)


def test_svi_vol_uses_forward_log_moneyness(pricer):
    # A flat-in-k slice is not enough to see F: use a pure-skew slice, w = a + b (rho (k - m) + |k - m|)
    # smoothed by a tiny sigma, and compare the vol at the strike with the vol at the forward.
    spot, tte, rate = 2_000 * WAD, YEAR, 10**17  # F = S e^0.1
    slice_ = (4 * 10**16, 2 * 10**17, -5 * 10**17, 0, 10**17)
    forward = int(Decimal(spot) * Decimal("0.1").exp())
    at_forward = pricer.svi_vol(spot, forward, tte, rate, *slice_)
    # k = 0 at the forward (to the WAD quantisation of k): w = a + b sigma.
    w0 = Decimal("0.04") + Decimal("0.2") * Decimal("0.1")
    assert abs(Decimal(at_forward) / WAD - w0.sqrt()) <= Decimal("1e-15")
    at_spot = pricer.svi_vol(spot, spot, tte, rate, *slice_)
    # k = -rT = -0.1 exactly here; w rounds up by < 1.2 wei (~2 wei of vol), sqrt by < 1 wei.
    assert abs(Decimal(at_spot) - _exact_vol(spot, spot, tte, rate, slice_) * WAD) <= 3
    assert at_spot > at_forward  # k = -0.1 < 0 with negative rho: more variance below the forward


@pytest.mark.parametrize("tte", [1, YEAR, TEN_YEARS])
def test_svi_vol_scales_with_inverse_root_of_time(pricer, tte):
    # At k = m = 0 (strike = forward with zero rate), w = a + b sigma: vol = sqrt(w / T).
    spot = 500 * WAD
    slice_ = (10**16, 10**17, 0, 0, 10**17)  # w = 0.01 + 0.01 = 0.02
    got = pricer.svi_vol(spot, spot, tte, 0, *slice_)
    exact = (Decimal("0.02") * YEAR / tte).sqrt() * WAD
    assert exact <= got <= exact + 2


# --------------------------------------------------------------------------- validation and bounds

VALID = dict(a=4 * 10**16, b=2 * 10**17, rho=-3 * 10**17, m=0, sigma=10**17)


def _slice(**overrides):
    p = {**VALID, **overrides}
    return p["a"], p["b"], p["rho"], p["m"], p["sigma"]


@pytest.mark.parametrize(
    "overrides, reason",
    [
        (dict(b=-1), "svi: negative b"),
        (dict(rho=WAD), "svi: |rho| >= 1"),
        (dict(rho=-WAD), "svi: |rho| >= 1"),
        (dict(rho=2 * WAD), "svi: |rho| >= 1"),
        (dict(sigma=0), "svi: sigma not positive"),
        (dict(sigma=-1), "svi: sigma not positive"),
        (dict(a=-(10**16), b=10**17, rho=0, sigma=10**16 * 9), "svi: negative minimum variance"),
        (dict(a=A_MAX + 1), "svi: a out of bounds"),
        (dict(a=-A_MAX - 1), "svi: a out of bounds"),
        (dict(b=B_MAX + 1), "svi: b out of bounds"),
        (dict(m=M_MAX + 1), "svi: m out of bounds"),
        (dict(m=-M_MAX - 1), "svi: m out of bounds"),
        (dict(sigma=SIGMA_MAX + 1), "svi: sigma out of bounds"),
    ],
)
def test_invalid_slice_reverts_in_both_entry_points(pricer, overrides, reason):
    with ape.reverts(reason):
        pricer.svi_total_variance(0, *_slice(**overrides), skip_trace=True)
    with ape.reverts(reason):
        pricer.svi_vol(1_000 * WAD, 1_000 * WAD, YEAR, 0, *_slice(**overrides), skip_trace=True)


@pytest.mark.parametrize("k", [K_MAX + 1, -K_MAX - 1, 2**200])
def test_total_variance_rejects_log_moneyness_beyond_ten(pricer, k):
    with ape.reverts("svi: log-moneyness out of bounds"):
        pricer.svi_total_variance(k, *_slice(), skip_trace=True)


@pytest.mark.parametrize("k", [K_MAX, -K_MAX])
def test_total_variance_accepts_log_moneyness_of_ten(pricer, k):
    a, b, rho, m, sigma = _slice()
    got = pricer.svi_total_variance(k, a, b, rho, m, sigma)
    exact = exact_svi_w(d(k), a, b, rho, m, sigma) * WAD
    assert exact <= got <= exact + 2


@pytest.mark.parametrize(
    "strike_per_spot, rate",
    [
        # k = ln(1000) - (-1)(10) = 16.9 and ln(1/1000) - (1)(10) = -16.9: both inside the pricer's
        # domain, outside SVI's |k| <= 10.
        (1000, -WAD),
        (Decimal("0.001"), WAD),
    ],
)
def test_svi_vol_rejects_log_moneyness_beyond_ten(pricer, strike_per_spot, rate):
    spot = 1_000 * WAD
    strike = int(spot * Decimal(strike_per_spot))
    with ape.reverts("svi: log-moneyness out of bounds"):
        pricer.svi_vol(spot, strike, TEN_YEARS, rate, *_slice(), skip_trace=True)


def test_svi_vol_rejects_zero_time_to_expiry(pricer):
    with ape.reverts("svi: zero time to expiry"):
        pricer.svi_vol(1_000 * WAD, 1_100 * WAD, 0, 0, *_slice(), skip_trace=True)


def test_svi_vol_checks_the_pricer_domain_first(pricer):
    # Market inputs are validated by the Black-76 domain check before the slice.
    with ape.reverts("pricer: zero spot"):
        pricer.svi_vol(0, 1_000 * WAD, YEAR, 0, *_slice(b=-1), skip_trace=True)
    with ape.reverts("pricer: expiry too far"):
        pricer.svi_vol(1_000 * WAD, 1_000 * WAD, TEN_YEARS + 1, 0, *_slice(), skip_trace=True)
    with ape.reverts("pricer: rate out of range"):
        pricer.svi_vol(1_000 * WAD, 1_000 * WAD, YEAR, WAD + 1, *_slice(), skip_trace=True)
    with ape.reverts("pricer: strike/spot out of band"):
        pricer.svi_vol(1_000 * WAD, 1_000_001 * WAD, YEAR, 0, *_slice(), skip_trace=True)


def test_slice_with_exactly_zero_minimum_variance_is_accepted(pricer):
    # rho = 0: min w = a + b sigma = 0 exactly, attained at k = m.
    a, b, rho, m, sigma = -(10**16), 10**17, 0, 2 * 10**17, 10**17
    assert pricer.svi_total_variance(m, a, b, rho, m, sigma) == 0
    assert pricer.svi_total_variance(m + WAD, a, b, rho, m, sigma) > 0
    with ape.reverts("svi: negative minimum variance"):
        pricer.svi_total_variance(m, a - 1, b, rho, m, sigma, skip_trace=True)


def test_parameter_bounds_are_inclusive(pricer):
    # Every bound at its limit at once: |a| = 100, b = 100, |m| = 10, sigma = 10, |k| = 10.
    for a, m, k in ((A_MAX, M_MAX, -K_MAX), (-A_MAX, -M_MAX, K_MAX)):
        b, rho, sigma = B_MAX, 9 * 10**17, SIGMA_MAX
        got = pricer.svi_total_variance(k, a, b, rho, m, sigma)
        exact = exact_svi_w(d(k), a, b, rho, m, sigma) * WAD
        assert exact <= got < exact + Decimal(b) / WAD + 1
