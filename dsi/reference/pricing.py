"""Float reference for `contracts/math/`: normal CDF/PDF, Black-76, greeks, implied vol, SVI.

Written from the formulas, not from the Vyper code: scipy's `ndtr` (Cody/Cephes, relative
accuracy ~1e-16 in both tails) for N(), the OTM side priced directly and the ITM side by
put-call parity, as the on-chain code does, because a float difference of two large numbers
is no more accurate than a fixed-point one. Inputs and outputs are floats in natural units
(USD, 0.8 for 80%, years); `wad()`/`from_wad()` convert.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.optimize import brentq
from scipy.special import ndtr

WAD = 10**18
YEAR = 31_536_000  # seconds in 365 days, as Deribit counts


def from_wad(x: int) -> float:
    return int(x) / WAD


def wad(x: float) -> int:
    return int(round(x * WAD))


def years(tte_seconds: int) -> float:
    return tte_seconds / YEAR


def norm_cdf(x):
    return ndtr(x)


def norm_pdf(x):
    return np.exp(-0.5 * np.square(x)) / math.sqrt(2.0 * math.pi)


def _d1_d2(spot: float, strike: float, tau: float, vol: float, rate: float) -> tuple[float, float, float]:
    s = vol * math.sqrt(tau)
    x = math.log(spot / strike) + rate * tau  # ln(F / K)
    d1 = x / s + 0.5 * s
    return d1, d1 - s, x


def price(spot: float, strike: float, tau: float, vol: float, rate: float, is_call: bool) -> float:
    """Black-76 on the forward F = S e^{rT}, discounted at e^{-rT}; tau in years."""
    if tau == 0:
        return max(spot - strike, 0.0) if is_call else max(strike - spot, 0.0)
    d1, d2, x = _d1_d2(spot, strike, tau, vol, rate)
    kdf = strike * math.exp(-rate * tau)
    if x < 0:  # call is OTM
        otm = spot * ndtr(d1) - kdf * ndtr(d2)
        return otm if is_call else otm + (kdf - spot)
    otm = kdf * ndtr(-d2) - spot * ndtr(-d1)
    return otm if not is_call else otm + (spot - kdf)


def greeks(spot: float, strike: float, tau: float, vol: float, rate: float, is_call: bool) -> dict:
    """delta (per unit spot), gamma (per USD), vega (per 1.00 vol), theta (per year)."""
    d1, d2, _ = _d1_d2(spot, strike, tau, vol, rate)
    kdf = strike * math.exp(-rate * tau)
    pdf1 = float(norm_pdf(d1))
    sqrt_tau = math.sqrt(tau)
    decay = -spot * pdf1 * vol / (2.0 * sqrt_tau)
    if is_call:
        delta = float(ndtr(d1))
        theta = decay - rate * kdf * float(ndtr(d2))
    else:
        delta = -float(ndtr(-d1))
        theta = decay + rate * kdf * float(ndtr(-d2))
    return {
        "delta": delta,
        "gamma": pdf1 / (spot * vol * sqrt_tau),
        "vega": spot * pdf1 * sqrt_tau,
        "theta": theta,
    }


def implied_vol(option_price: float, spot: float, strike: float, tau: float, rate: float, is_call: bool) -> float:
    """Brent's method on the price; raises ValueError outside the no-arbitrage band."""
    lo, hi = 1e-9, 10.0
    f = lambda v: price(spot, strike, tau, v, rate, is_call) - option_price  # noqa: E731
    if f(lo) >= 0 or f(hi) <= 0:
        raise ValueError("price outside the attainable band")
    return brentq(f, lo, hi, xtol=1e-16, rtol=4 * np.finfo(float).eps, maxiter=500)


def svi_total_variance(k: float, a: float, b: float, rho: float, m: float, sigma: float) -> float:
    return a + b * (rho * (k - m) + math.sqrt((k - m) ** 2 + sigma**2))


def svi_valid(a: float, b: float, rho: float, m: float, sigma: float) -> bool:
    return b >= 0 and abs(rho) < 1 and sigma > 0 and a + b * sigma * math.sqrt(1 - rho * rho) >= 0


def svi_vol(spot: float, strike: float, tau: float, rate: float, a, b, rho, m, sigma) -> float:
    k = math.log(strike / spot) - rate * tau
    return math.sqrt(svi_total_variance(k, a, b, rho, m, sigma) / tau)
