# pragma version ~=0.4.3
"""
@title DSI option pricer
@custom:contract-name OptionPricer
@license GNU Affero General Public License v3.0 only
@notice The deployable face of the `math/` modules for off-chain users,
        tests and gas benchmarks. Stateless; every function is a pure view.

        Units: spot and strike in WAD USD; vol and rate in WAD (0.8e18 = 80%);
        time to expiry `tte` in seconds (a year is 31,536,000 s); prices
        and greeks in WAD. Probabilities from `norm_cdf`/`norm_pdf` are WAD;
        `*_e36` variants give 1e36 fixed point for tail precision.

        Domain (reverts outside it with a `pricer:` reason): 0 < spot <= 1e33,
        0.001 <= strike/spot <= 1000, tte <= 10 years, 0 < vol <= 1000%,
        |rate| <= 100%. tte == 0 prices at intrinsic value.

        Rounding: `price` rounds up (it marks what a short owes: the
        protocol-favourable side); `price_floor` rounds down (what a long is
        credited). Greeks truncate toward zero.
"""

from .math import black76
from .math import normal
from .math import svi
from .math import constants as c


@external
@pure
def price(spot: uint256, strike: uint256, tte: uint256, vol: uint256, rate: int256, is_call: bool) -> uint256:
    """
    @notice Black-76 price of a European option, rounded up.
    """
    return black76._price(spot, strike, tte, vol, rate, is_call, True)


@external
@pure
def price_floor(spot: uint256, strike: uint256, tte: uint256, vol: uint256, rate: int256, is_call: bool) -> uint256:
    """
    @notice Black-76 price of a European option, rounded down.
    """
    return black76._price(spot, strike, tte, vol, rate, is_call, False)


@external
@pure
def greeks(spot: uint256, strike: uint256, tte: uint256, vol: uint256, rate: int256, is_call: bool) -> (int256, uint256, uint256, int256):
    """
    @notice (delta, gamma, vega, theta): delta in WAD, gamma in WAD per USD
            of spot, vega in WAD USD per 1.00 (100 points) of vol, theta in
            WAD USD per year of calendar time.
    """
    g: black76.Greeks = black76._greeks(spot, strike, tte, vol, rate, is_call)
    return g.delta, g.gamma, g.vega, g.theta


@external
@pure
def implied_vol(option_price: uint256, spot: uint256, strike: uint256, tte: uint256, rate: int256, is_call: bool) -> uint256:
    """
    @notice Black-76 implied volatility (WAD) of a WAD option price.
    """
    return black76._implied_vol(option_price, spot, strike, tte, rate, is_call)


@external
@pure
def svi_vol(spot: uint256, strike: uint256, tte: uint256, rate: int256, a: int256, b: int256, rho: int256, m: int256, sigma: int256) -> uint256:
    """
    @notice Implied vol (WAD, rounded up) on a raw-SVI slice at the strike's
            log-moneyness ln(K / F), F = spot * exp(rate * tte).
    """
    black76._check(spot, strike, tte, 10 ** 18, rate)
    p: svi.Params = svi.Params(a=a, b=b, rho=rho, m=m, sigma=sigma)
    svi._check(p)
    return svi._vol(p, svi._log_moneyness(spot, strike, tte, rate), tte)


@external
@pure
def svi_total_variance(k: int256, a: int256, b: int256, rho: int256, m: int256, sigma: int256) -> uint256:
    """
    @notice Raw-SVI total variance w(k) (WAD, rounded up) at log-moneyness k.
    """
    p: svi.Params = svi.Params(a=a, b=b, rho=rho, m=m, sigma=sigma)
    svi._check(p)
    return svi._total_variance(p, k)


@external
@pure
def norm_cdf(x: int256) -> uint256:
    """
    @notice Standard normal CDF of a WAD argument, WAD, rounded to nearest.
    """
    return (normal._cdf_e36(x) + c.WAD // 2) // c.WAD


@external
@pure
def norm_cdf_e36(x: int256) -> uint256:
    """
    @notice Standard normal CDF of a WAD argument in 1e36 fixed point.
    """
    return normal._cdf_e36(x)


@external
@pure
def norm_pdf(x: int256) -> uint256:
    """
    @notice Standard normal density of a WAD argument, WAD, rounded to nearest.
    """
    return (normal._pdf_e36(x) + c.WAD // 2) // c.WAD


@external
@pure
def norm_pdf_e36(x: int256) -> uint256:
    """
    @notice Standard normal density of a WAD argument in 1e36 fixed point.
    """
    return normal._pdf_e36(x)
