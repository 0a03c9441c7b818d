# pragma version ~=0.4.3
"""
@title SVI volatility skew (raw parametrisation), WAD fixed point
@custom:contract-name svi
@license GNU Affero General Public License v3.0 only
@notice Gatheral's raw SVI gives the total implied variance of one expiry
        at log-moneyness k = ln(K / F):
            w(k) = a + b * (rho * (k - m) + sqrt((k - m)^2 + sigma^2))
        and the implied vol at expiry T (in years) is sqrt(w(k) / T).
        Parameters are WAD integers. A slice must satisfy b >= 0, |rho| < 1,
        sigma > 0 and a + b * sigma * sqrt(1 - rho^2) >= 0 (the minimum of w
        is non-negative); anything else reverts with an `svi:` reason.
        Size bounds keep every product far from overflow: |a| <= 100,
        b <= 100, |m| <= 10, sigma <= 10, |k| <= 10.

        Rounding: total variance and vol round up (more variance means more
        margin on shorts, the conservative side for a margin engine); the
        arithmetic is exact up to those two roundings.
"""

from snekmate.utils import math
# @dev `_wad_ln` for the log-moneyness, `_ceil_div` for rounding up.
from . import constants as c

A_MAX: constant(int256) = 100 * 10 ** 18
B_MAX: constant(int256) = 100 * 10 ** 18
M_MAX: constant(int256) = 10 * 10 ** 18
SIGMA_MAX: constant(int256) = 10 * 10 ** 18
K_MAX: constant(int256) = 10 * 10 ** 18


struct Params:
    a: int256
    b: int256
    rho: int256
    m: int256
    sigma: int256


@internal
@pure
def _check(p: Params):
    """
    @dev Reverts unless the slice is a valid raw-SVI slice within bounds.
    """
    assert p.b >= 0, "svi: negative b"
    assert p.rho > -c.IWAD and p.rho < c.IWAD, "svi: |rho| >= 1"
    assert p.sigma > 0, "svi: sigma not positive"
    assert p.a >= -A_MAX and p.a <= A_MAX, "svi: a out of bounds"
    assert p.b <= B_MAX, "svi: b out of bounds"
    assert p.m >= -M_MAX and p.m <= M_MAX, "svi: m out of bounds"
    assert p.sigma <= SIGMA_MAX, "svi: sigma out of bounds"
    # min_k w(k) = a + b sigma sqrt(1 - rho^2), evaluated in E54 without
    # rounding sqrt(1 - rho^2) up (so a slice that passes really is >= 0).
    root: uint256 = isqrt(convert(c.IWAD * c.IWAD - p.rho * p.rho, uint256))  # WAD, floor
    minimum: int256 = p.a * c.IWAD * c.IWAD + p.b * p.sigma * convert(root, int256)
    assert minimum >= 0, "svi: negative minimum variance"


@internal
@pure
def _total_variance(p: Params, k: int256) -> uint256:
    """
    @dev w(k) in WAD, rounded up. Assumes `_check(p)` passed. Gas: ~700.
    @param k Log-moneyness ln(K / F), WAD, |k| <= 10.
    """
    assert k >= -K_MAX and k <= K_MAX, "svi: log-moneyness out of bounds"
    km: int256 = k - p.m  # |km| <= 20e18
    arg: uint256 = convert(km * km + p.sigma * p.sigma, uint256)  # E36
    root: uint256 = isqrt(arg)
    if root * root < arg:
        root += 1  # ceil: WAD
    # rho * km + root in E36, exact; >= 0 because |rho| < 1 and root >= |km|.
    inner: int256 = p.rho * km + convert(root, int256) * c.IWAD
    # b * inner / 1e36, rounded up; b >= 0 and inner >= 0.
    wb: uint256 = math._ceil_div(convert(p.b, uint256) * convert(inner, uint256), c.E36)
    w: int256 = p.a + convert(wb, int256)
    if w < 0:
        return 0  # only reachable within rounding of a zero minimum
    return convert(w, uint256)


@internal
@pure
def _vol(p: Params, k: int256, tte: uint256) -> uint256:
    """
    @dev Implied vol sqrt(w(k) / T) in WAD, rounded up. Reverts at tte == 0
         (no vol is defined at expiry). Gas: ~1,000.
    """
    assert tte != 0, "svi: zero time to expiry"
    assert tte <= c.TTE_MAX, "svi: expiry too far"
    w: uint256 = self._total_variance(p, k)
    # w / T in E36: w (WAD) * YEAR * 1e18 / tte; w <= 2e21 -> < 1e48.
    v: uint256 = math._ceil_div(w * c.YEAR * c.WAD, tte)
    vol: uint256 = isqrt(v)
    if vol * vol < v:
        vol += 1
    return vol


@internal
@pure
def _log_moneyness(spot: uint256, strike: uint256, tte: uint256, rate: int256) -> int256:
    """
    @dev k = ln(K / F) = ln(K / S) - r T in WAD (spot and strike in WAD USD,
         already checked by the caller).
    """
    rt: int256 = rate * convert(tte, int256) // convert(c.YEAR, int256)
    return math._wad_ln(convert(strike * c.WAD // spot, int256)) - rt
