# pragma version ~=0.4.3
"""
@title Gas probe for the pricing library
@custom:contract-name PricingGasProbe
@license GNU Affero General Public License v3.0 only
@notice Calls each `math/` routine internally and returns its result with
        the gas it used (msg.gas before minus after), so benchmarks measure
        the math itself, without call, calldata and ABI overhead.
"""

from ..math import black76
from ..math import normal
from ..math import svi


@external
@view
def price(spot: uint256, strike: uint256, tte: uint256, vol: uint256, rate: int256, is_call: bool) -> (uint256, uint256):
    g: uint256 = msg.gas
    r: uint256 = black76._price(spot, strike, tte, vol, rate, is_call, True)
    return r, g - msg.gas


@external
@view
def greeks(spot: uint256, strike: uint256, tte: uint256, vol: uint256, rate: int256, is_call: bool) -> (int256, uint256, uint256, int256, uint256):
    g: uint256 = msg.gas
    r: black76.Greeks = black76._greeks(spot, strike, tte, vol, rate, is_call)
    return r.delta, r.gamma, r.vega, r.theta, g - msg.gas


@external
@view
def implied_vol(option_price: uint256, spot: uint256, strike: uint256, tte: uint256, rate: int256, is_call: bool) -> (uint256, uint256):
    g: uint256 = msg.gas
    r: uint256 = black76._implied_vol(option_price, spot, strike, tte, rate, is_call)
    return r, g - msg.gas


@external
@view
def norm_cdf(x: int256) -> (uint256, uint256):
    g: uint256 = msg.gas
    r: uint256 = normal._cdf_e36(x)
    return r, g - msg.gas


@external
@view
def norm_pdf(x: int256) -> (uint256, uint256):
    g: uint256 = msg.gas
    r: uint256 = normal._pdf_e36(x)
    return r, g - msg.gas


@external
@view
def svi_vol(k: int256, tte: uint256, a: int256, b: int256, rho: int256, m: int256, sigma: int256) -> (uint256, uint256):
    p: svi.Params = svi.Params(a=a, b=b, rho=rho, m=m, sigma=sigma)
    g: uint256 = msg.gas
    svi._check(p)
    r: uint256 = svi._vol(p, k, tte)
    return r, g - msg.gas
