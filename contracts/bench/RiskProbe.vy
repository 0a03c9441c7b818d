# pragma version ~=0.4.3
"""
@title Probe for the risk module (tests and gas benchmarks)
@custom:contract-name RiskProbe
@license GNU Affero General Public License v3.0 only
@notice Exposes `math/risk.vy` with the gas each routine uses.
"""

from ..math import risk
from ..math import svi


@external
@view
def mark(spot: uint256, strike: uint256, tte: uint256, p: svi.Params, is_call: bool, roundup: bool) -> (uint256, uint256):
    g: uint256 = msg.gas
    r: uint256 = risk._mark(spot, strike, tte, p, is_call, roundup)
    return r, g - msg.gas


@external
@view
def standard_requirement(spot: uint256, strike: uint256, mark: uint256, is_call: bool, sp: risk.StandardParams) -> uint256:
    return risk._standard_requirement(spot, strike, mark, is_call, sp)


@external
@view
def scenario_values(spot: uint256, strike: uint256, tte: uint256, p: svi.Params, is_call: bool, pp: risk.PortfolioParams) -> (uint256[33], uint256):
    g: uint256 = msg.gas
    r: uint256[33] = risk._scenario_values(spot, strike, tte, p, is_call, pp)
    return r, g - msg.gas


@external
@view
def vol_scale(tte: uint256, pp: risk.PortfolioParams) -> uint256:
    return risk._vol_scale(tte, pp)
