"""Shared constants, hypothesis strategies and an exact (decimal) reference for the pricer tests.

The float twin `dsi.reference.pricing` is the reference the brief names; it carries ~1e-16
relative error of its own (scipy's ndtr, float logs), which is more than the on-chain
fixed-point code loses. Where a test needs to see below that floor (rounding direction,
tail probabilities, SVI ceilings) it uses the 60-digit `decimal` reference below instead.
"""

from __future__ import annotations

import decimal
import sys
from decimal import Decimal
from pathlib import Path

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

WAD = 10**18
E36 = 10**36
YEAR = 31_536_000
TEN_YEARS = 10 * YEAR
SPOT_MAX = 10**33
VOL_MAX = 10 * WAD
RATE_MAX = WAD
# black76.IV_VOL_TOL: implied vol stops once a step is <= 1e5 wei of vol (1e-13).
IV_VOL_TOL = 10**5


def fuzz(max_examples: int) -> settings:
    """Hypothesis settings for on-chain properties (~10 ms per RPC call)."""
    return settings(
        max_examples=max_examples,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
        print_blob=True,
    )


# --------------------------------------------------------------------------- strategies


@st.composite
def b76_inputs(draw, spot_usd=(100.0, 100_000.0), moneyness=(0.2, 5.0), tte=(3600, 2 * YEAR),
               vol=(0.01, 5.0), rate=(-0.05, 0.2)):
    """(spot, strike, tte, vol, rate, is_call) in contract units (WAD, seconds)."""
    spot = int(draw(st.floats(*spot_usd)) * WAD)
    m = draw(st.floats(*moneyness))
    strike = int(spot * m)
    t = draw(st.integers(*tte))
    v = int(draw(st.floats(*vol)) * WAD)
    r = int(draw(st.floats(*rate)) * WAD)
    is_call = draw(st.booleans())
    return spot, strike, t, v, r, is_call


def as_floats(spot: int, strike: int, tte: int, vol: int, rate: int):
    """Exact-as-possible floats of the integer inputs (the on-chain values, not the draws)."""
    return spot / WAD, strike / WAD, tte / YEAR, vol / WAD, rate / WAD


# --------------------------------------------------------------------------- exact reference

_CTX = decimal.Context(prec=110)
_PI = None


def _pi() -> Decimal:
    global _PI
    if _PI is None:
        with decimal.localcontext(_CTX):
            def arctan_inv(n: int) -> Decimal:
                x = Decimal(1) / n
                x2, term, total, k = x * x, x, x, 1
                while True:
                    term *= -x2
                    k += 2
                    if abs(term) < Decimal(10) ** -108:
                        return total
                    total += term / k

            _PI = 4 * (4 * arctan_inv(5) - arctan_inv(239))
    return _PI


def d(x_wad: int) -> Decimal:
    return Decimal(x_wad) / WAD


def exact_pdf(x: Decimal) -> Decimal:
    with decimal.localcontext(_CTX):
        return (-(x * x) / 2).exp() / (2 * _pi()).sqrt()


def exact_cdf(x: Decimal) -> Decimal:
    """Phi(x) to ~60 significant digits for |x| <= 13 (Taylor series of the error function;
    the terms peak near exp(x^2/2) <= 1e37, inside the 110-digit working precision)."""
    if abs(x) > 13:
        raise ValueError("exact_cdf is for |x| <= 13")
    with decimal.localcontext(_CTX):
        x2 = x * x
        term = total = x
        n = 0
        while True:
            n += 1
            term = term * x2 / (2 * n + 1)
            total += term
            if n > x2 and abs(term) < Decimal(10) ** -100 * abs(total):
                break
        return Decimal(1) / 2 + exact_pdf(x) * total


def exact_price(spot: int, strike: int, tte: int, vol: int, rate: int, is_call: bool) -> Decimal:
    """Black-76 price in USD of the exact integer inputs, OTM side direct and ITM by parity."""
    with decimal.localcontext(_CTX):
        S, K, v, r = d(spot), d(strike), d(vol), d(rate)
        T = Decimal(tte) / YEAR
        if tte == 0:
            return max(S - K, Decimal(0)) if is_call else max(K - S, Decimal(0))
        s = v * T.sqrt()
        x = (S / K).ln() + r * T
        d1 = x / s + s / 2
        d2 = d1 - s
        kdf = K * (-r * T).exp()
        if x < 0:
            call = S * _cdf_clamped(d1) - kdf * _cdf_clamped(d2)
            return call if is_call else call + kdf - S
        put = kdf * _cdf_clamped(-d2) - S * _cdf_clamped(-d1)
        return put if not is_call else put + S - kdf


def _cdf_clamped(x: Decimal) -> Decimal:
    """Phi(x), with the tails beyond 13 (mass < 7e-39) taken as 0 and 1."""
    if x < -13:
        return Decimal(0)
    if x > 13:
        return Decimal(1)
    return exact_cdf(x)


def exact_discounted_strike(strike: int, tte: int, rate: int) -> Decimal:
    with decimal.localcontext(_CTX):
        return d(strike) * (-d(rate) * Decimal(tte) / YEAR).exp()


def exact_svi_w(k: Decimal, a: int, b: int, rho: int, m: int, sigma: int) -> Decimal:
    with decimal.localcontext(_CTX):
        km = k - d(m)
        return d(a) + d(b) * (d(rho) * km + (km * km + d(sigma) ** 2).sqrt())
